// The KServe v2 service over real loopback gRPC with the generated stub,
// checked against the naive reference on the bundled example models.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <random>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "grpcpp/client_context.h"
#include "gtest/gtest.h"
#include "server/model/onnx_import.h"
#include "tests/model/onnx_test_graph.h"
#include "tests/support/infer_messages.h"
#include "tests/support/reference_mlp.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_server.h"

namespace mlpserve::testing {
namespace {

using ::testing::HasSubstr;

constexpr int kFeatures = 64;
constexpr int kOutputs = 10;

std::vector<float> RandomRows(int64_t rows, int features, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.f, 1.f);
  std::vector<float> values(rows * features);
  for (float& v : values) v = dist(rng);
  return values;
}

void ExpectNear(const std::vector<float>& got, const std::vector<float>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    ASSERT_NEAR(got[i], want[i], 1e-5 * std::max(1.f, std::fabs(want[i]))) << "element " << i;
  }
}

class InferenceServiceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    repository_ = new std::string(MakeTempDir("rpc_repo"));
    CopyBundledModel("leaky_mlp", *repository_);
    CopyBundledModel("prelu_mlp", *repository_);
    // The same weights, refusing NaN and infinity.
    std::filesystem::create_directories(*repository_ + "/strict/1");
    std::filesystem::copy_file(*repository_ + "/leaky_mlp/1/model.onnx",
                               *repository_ + "/strict/1/model.onnx");
    std::ofstream(*repository_ + "/strict/config.pbtxt") << "reject_non_finite: true\n";
    // The same weights without dynamic batching: each request is its own batch.
    std::filesystem::create_directories(*repository_ + "/unbatched/1");
    std::filesystem::copy_file(*repository_ + "/leaky_mlp/1/model.onnx",
                               *repository_ + "/unbatched/1/model.onnx");
    std::ofstream(*repository_ + "/unbatched/config.pbtxt") << "max_batch_size: 8\n";
    // A model that cannot load must not keep the others from serving.
    std::filesystem::create_directories(*repository_ + "/broken/1");
    std::ofstream(*repository_ + "/broken/1/model.onnx") << "this is not an onnx file";
    server_ = TestServer::Start(*repository_)->release();
  }
  static void TearDownTestSuite() {
    delete server_;
    std::filesystem::remove_all(*repository_);
    delete repository_;
  }

  std::vector<float> Reference(const std::string& model, const std::vector<float>& input,
                               int64_t rows) {
    absl::StatusOr<Mlp> mlp = ImportOnnxFile(*repository_ + "/" + model + "/1/model.onnx");
    EXPECT_TRUE(mlp.ok()) << mlp.status();
    return ReferenceForward(*mlp, input, rows);
  }

  grpc::Status Infer(const inference::ModelInferRequest& request,
                     inference::ModelInferResponse* response) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    return stub_->ModelInfer(&context, request, response);
  }

  static std::string* repository_;
  static TestServer* server_;
  std::unique_ptr<inference::GRPCInferenceService::Stub> stub_ = server_->NewStub();
};

std::string* InferenceServiceTest::repository_ = nullptr;
TestServer* InferenceServiceTest::server_ = nullptr;

TEST_F(InferenceServiceTest, ServerLiveReadyAndMetadata) {
  grpc::ClientContext c1, c2, c3;
  inference::ServerLiveResponse live;
  ASSERT_TRUE(stub_->ServerLive(&c1, {}, &live).ok());
  EXPECT_TRUE(live.live());
  inference::ServerReadyResponse ready;
  ASSERT_TRUE(stub_->ServerReady(&c2, {}, &ready).ok());
  EXPECT_TRUE(ready.ready());
  inference::ServerMetadataResponse meta;
  ASSERT_TRUE(stub_->ServerMetadata(&c3, {}, &meta).ok());
  EXPECT_EQ(meta.name(), "mlpserve");
  EXPECT_EQ(meta.version(), MLPSERVE_VERSION);
  // Triton's names for the extensions served here.
  EXPECT_THAT(meta.extensions(),
              ::testing::ElementsAre("model_repository", "model_repository(unload_dependents)",
                                     "model_configuration", "statistics"));
}

TEST_F(InferenceServiceTest, ModelReadyPerModel) {
  auto ready = [&](const std::string& name, const std::string& version, bool* out) {
    grpc::ClientContext context;
    inference::ModelReadyRequest request;
    request.set_name(name);
    request.set_version(version);
    inference::ModelReadyResponse response;
    grpc::Status status = stub_->ModelReady(&context, request, &response);
    *out = response.ready();
    return status;
  };
  bool is_ready = false;
  ASSERT_TRUE(ready("leaky_mlp", "", &is_ready).ok());
  EXPECT_TRUE(is_ready);
  ASSERT_TRUE(ready("prelu_mlp", "1", &is_ready).ok());
  EXPECT_TRUE(is_ready);
  ASSERT_TRUE(ready("leaky_mlp", "2", &is_ready).ok());
  EXPECT_FALSE(is_ready);
  ASSERT_TRUE(ready("broken", "", &is_ready).ok());
  EXPECT_FALSE(is_ready);
  // An unknown model is not ready, not an error (Triton's answer).
  is_ready = true;
  ASSERT_TRUE(ready("no_such_model", "", &is_ready).ok());
  EXPECT_FALSE(is_ready);
  is_ready = true;
  ASSERT_TRUE(ready("no_such_model", "3", &is_ready).ok());
  EXPECT_FALSE(is_ready);
  // Not a version number: the same error as ModelInfer and ModelMetadata give.
  const grpc::Status bad_version = ready("leaky_mlp", "abc", &is_ready);
  EXPECT_EQ(bad_version.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(bad_version.error_message(), HasSubstr("model 'leaky_mlp': version 'abc'"));
}

TEST_F(InferenceServiceTest, ModelMetadataReportsBatchDimensionAsMinusOne) {
  grpc::ClientContext context;
  inference::ModelMetadataRequest request;
  request.set_name("leaky_mlp");
  inference::ModelMetadataResponse meta;
  ASSERT_TRUE(stub_->ModelMetadata(&context, request, &meta).ok());
  EXPECT_EQ(meta.name(), "leaky_mlp");
  ASSERT_EQ(meta.versions_size(), 1);
  EXPECT_EQ(meta.versions(0), "1");
  ASSERT_EQ(meta.inputs_size(), 1);
  EXPECT_EQ(meta.inputs(0).name(), "input");
  EXPECT_EQ(meta.inputs(0).datatype(), "FP32");
  EXPECT_THAT(meta.inputs(0).shape(), ::testing::ElementsAre(-1, kFeatures));
  ASSERT_EQ(meta.outputs_size(), 1);
  EXPECT_EQ(meta.outputs(0).name(), "output");
  EXPECT_THAT(meta.outputs(0).shape(), ::testing::ElementsAre(-1, kOutputs));

  grpc::ClientContext unknown_context;
  request.set_name("nope");
  EXPECT_EQ(stub_->ModelMetadata(&unknown_context, request, &meta).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(InferenceServiceTest, InferMatchesReferenceRawAndTyped) {
  for (const std::string model : {"leaky_mlp", "prelu_mlp"}) {
    for (int64_t rows : {1, 7, 64}) {
      for (bool raw : {true, false}) {
        SCOPED_TRACE(model + " rows " + std::to_string(rows) + (raw ? " raw" : " typed"));
        const std::vector<float> input = RandomRows(rows, kFeatures, rows * 31 + raw);
        inference::ModelInferResponse response;
        grpc::Status status = Infer(MakeInferRequest(model, input, rows, raw), &response);
        ASSERT_TRUE(status.ok()) << status.error_message();
        EXPECT_EQ(response.model_name(), model);
        EXPECT_EQ(response.model_version(), "1");
        EXPECT_EQ(response.id(), "req-" + std::to_string(rows));
        ASSERT_EQ(response.outputs_size(), 1);
        EXPECT_EQ(response.outputs(0).name(), "output");
        EXPECT_EQ(response.outputs(0).datatype(), "FP32");
        EXPECT_THAT(response.outputs(0).shape(), ::testing::ElementsAre(rows, kOutputs));
        ExpectNear(RawOutput(response), Reference(model, input, rows));
      }
    }
  }
}

TEST_F(InferenceServiceTest, HonoursRequestedOutputAndVersion) {
  const std::vector<float> input = RandomRows(2, kFeatures, 5);
  inference::ModelInferRequest request = MakeInferRequest("leaky_mlp", input, 2, true);
  request.set_model_version("1");
  request.add_outputs()->set_name("output");
  inference::ModelInferResponse response;
  ASSERT_TRUE(Infer(request, &response).ok());
  ExpectNear(RawOutput(response), Reference("leaky_mlp", input, 2));
}

struct BadRequestCase {
  std::string name;
  std::function<void(inference::ModelInferRequest&)> mutate;
  grpc::StatusCode code;
  std::string message;
};

TEST_F(InferenceServiceTest, BadRequestsGetClearErrors) {
  const std::vector<float> input = RandomRows(3, kFeatures, 9);
  const std::vector<BadRequestCase> cases = {
      {"unknown model", [](auto& r) { r.set_model_name("nope"); }, grpc::StatusCode::NOT_FOUND,
       "unknown model 'nope'"},
      {"unknown version", [](auto& r) { r.set_model_version("9"); }, grpc::StatusCode::NOT_FOUND,
       "model 'leaky_mlp' version 9 is not loaded"},
      {"model whose load failed", [](auto& r) { r.set_model_name("broken"); },
       grpc::StatusCode::NOT_FOUND, "model 'broken' has no ready version: its load failed"},
      {"version whose load failed",
       [](auto& r) {
         r.set_model_name("broken");
         r.set_model_version("1");
       },
       grpc::StatusCode::NOT_FOUND, "model 'broken' version 1 failed to load (RepositoryIndex"},
      {"bad version", [](auto& r) { r.set_model_version("x"); }, grpc::StatusCode::INVALID_ARGUMENT,
       "model 'leaky_mlp': version 'x' is not a positive"},
      {"version 0", [](auto& r) { r.set_model_version("0"); }, grpc::StatusCode::INVALID_ARGUMENT,
       "version '0' is not a positive integer"},
      {"datatype", [](auto& r) { r.mutable_inputs(0)->set_datatype("FP64"); },
       grpc::StatusCode::INVALID_ARGUMENT, "datatype must be FP32, got 'FP64'"},
      {"rank 1",
       [](auto& r) {
         r.mutable_inputs(0)->clear_shape();
         r.mutable_inputs(0)->add_shape(3 * kFeatures);
       },
       grpc::StatusCode::INVALID_ARGUMENT, "rank 2"},
      {"rank 3", [](auto& r) { r.mutable_inputs(0)->add_shape(1); },
       grpc::StatusCode::INVALID_ARGUMENT, "rank 2"},
      {"feature count", [](auto& r) { r.mutable_inputs(0)->set_shape(1, 63); },
       grpc::StatusCode::INVALID_ARGUMENT, "expected 64 features per row"},
      {"zero rows", [](auto& r) { r.mutable_inputs(0)->set_shape(0, 0); },
       grpc::StatusCode::INVALID_ARGUMENT, "dims must be positive"},
      {"negative dim", [](auto& r) { r.mutable_inputs(0)->set_shape(0, -3); },
       grpc::StatusCode::INVALID_ARGUMENT, "dims must be positive"},
      {"raw byte count", [](auto& r) { r.mutable_raw_input_contents(0)->pop_back(); },
       grpc::StatusCode::INVALID_ARGUMENT, "raw contents hold"},
      {"raw and typed",
       [](auto& r) { r.mutable_inputs(0)->mutable_contents()->add_fp32_contents(1); },
       grpc::StatusCode::INVALID_ARGUMENT, "both raw_input_contents and typed contents"},
      {"two raw entries", [](auto& r) { r.add_raw_input_contents("x"); },
       grpc::StatusCode::INVALID_ARGUMENT, "expected 1 raw_input_contents entry"},
      {"no input", [](auto& r) { r.clear_inputs(); }, grpc::StatusCode::INVALID_ARGUMENT,
       "takes 1 input ('input'), got 0"},
      {"unknown input", [](auto& r) { r.mutable_inputs(0)->set_name("x"); },
       grpc::StatusCode::INVALID_ARGUMENT, "has no input 'x'"},
      {"unknown output", [](auto& r) { r.add_outputs()->set_name("logits"); },
       grpc::StatusCode::INVALID_ARGUMENT, "has no output 'logits'"},
      {"output asked twice",
       [](auto& r) {
         r.add_outputs()->set_name("output");
         r.add_outputs()->set_name("output");
       },
       grpc::StatusCode::INVALID_ARGUMENT, "has 1 output ('output'); the request asks for 2"},
      {"padded id", [](auto& r) { r.set_id(std::string(65 * 1024, 'x')); },
       grpc::StatusCode::INVALID_ARGUMENT, "at most 65536 bytes of id, parameters"},
      {"padded parameters",
       [](auto& r) {
         (*r.mutable_parameters())["pad"].set_string_param(std::string(70 * 1024, 'p'));
       },
       grpc::StatusCode::INVALID_ARGUMENT, "at most 65536 bytes of id, parameters"},
      {"too many rows",
       [](auto& r) {
         r.mutable_inputs(0)->set_shape(0, 65);
         r.mutable_raw_input_contents(0)->resize(65 * kFeatures * sizeof(float));
       },
       grpc::StatusCode::INVALID_ARGUMENT, "65 rows exceed max_batch_size 64"},
      {"typed count",
       [](auto& r) {
         r.clear_raw_input_contents();
         r.mutable_inputs(0)->mutable_contents()->add_fp32_contents(1);
       },
       grpc::StatusCode::INVALID_ARGUMENT, "fp32_contents hold 1 values"},
      // What the client sent is quoted cut short: in full, the status
      // message would pass the client's 8 KiB metadata limit and arrive as
      // RESOURCE_EXHAUSTED instead of the error.
      {"long model name", [](auto& r) { r.set_model_name(std::string(100000, 'm')); },
       grpc::StatusCode::NOT_FOUND, "mmm... (100000 bytes)"},
      {"long version", [](auto& r) { r.set_model_version(std::string(100000, 'v')); },
       grpc::StatusCode::INVALID_ARGUMENT, "vvv... (100000 bytes)' is not a positive integer"},
      {"long input name", [](auto& r) { r.mutable_inputs(0)->set_name(std::string(20000, 'i')); },
       grpc::StatusCode::INVALID_ARGUMENT, "iii... (20000 bytes)'; expected 'input'"},
      {"long output name", [](auto& r) { r.add_outputs()->set_name(std::string(20000, 'o')); },
       grpc::StatusCode::INVALID_ARGUMENT, "ooo... (20000 bytes)'; it has 'output'"},
      {"long datatype", [](auto& r) { r.mutable_inputs(0)->set_datatype(std::string(20000, 'd')); },
       grpc::StatusCode::INVALID_ARGUMENT, "ddd... (20000 bytes)'"},
      {"rank 3000",
       [](auto& r) {
         for (int i = 0; i < 2998; ++i) r.mutable_inputs(0)->add_shape(1);
       },
       grpc::StatusCode::INVALID_ARGUMENT, "got [3, 64, 1, 1, 1, 1, 1, 1, ...] (rank 3000)"},
      // Parameters that would change the answer if ignored are refused.
      {"sequence batching",
       [](auto& r) { (*r.mutable_parameters())["sequence_id"].set_int64_param(7); },
       grpc::StatusCode::INVALID_ARGUMENT,
       "model 'leaky_mlp': parameter 'sequence_id' is not supported: mlpserve has no sequence"},
      {"sequence start",
       [](auto& r) { (*r.mutable_parameters())["sequence_start"].set_bool_param(true); },
       grpc::StatusCode::INVALID_ARGUMENT,
       "parameter 'sequence_start' is not supported: mlpserve has no sequence"},
      {"string sequence id",
       [](auto& r) { (*r.mutable_parameters())["sequence_id"].set_string_param("s1"); },
       grpc::StatusCode::INVALID_ARGUMENT, "parameter 'sequence_id' is not supported"},
      {"sequence end of another type",
       [](auto& r) { (*r.mutable_parameters())["sequence_end"].set_int64_param(0); },
       grpc::StatusCode::INVALID_ARGUMENT, "parameter 'sequence_end' must be a bool_param"},
      // As tritonclient sends a tensor in shared memory: no contents at all.
      // The parameter is named, not the missing contents.
      {"shared-memory input without contents",
       [](auto& r) {
         r.clear_raw_input_contents();
         auto& parameters = *r.mutable_inputs(0)->mutable_parameters();
         parameters["shared_memory_region"].set_string_param("input_data");
         parameters["shared_memory_byte_size"].set_int64_param(3 * kFeatures * sizeof(float));
         parameters["shared_memory_offset"].set_int64_param(0);
       },
       grpc::StatusCode::INVALID_ARGUMENT,
       "input 'input': parameter 'shared_memory_region' is not supported: mlpserve has no "
       "shared-memory extension"},
      {"shared-memory output, input without contents",
       [](auto& r) {
         r.clear_raw_input_contents();
         auto* output = r.add_outputs();
         output->set_name("output");
         (*output->mutable_parameters())["shared_memory_region"].set_string_param("output_data");
       },
       grpc::StatusCode::INVALID_ARGUMENT,
       "output 'output': parameter 'shared_memory_region' is not supported"},
      {"shared-memory input",
       [](auto& r) {
         (*r.mutable_inputs(0)->mutable_parameters())["shared_memory_region"].set_string_param(
             "r0");
       },
       grpc::StatusCode::INVALID_ARGUMENT,
       "input 'input': parameter 'shared_memory_region' is not supported: mlpserve has no "
       "shared-memory extension"},
      {"shared-memory output",
       [](auto& r) {
         auto* output = r.add_outputs();
         output->set_name("output");
         (*output->mutable_parameters())["shared_memory_byte_size"].set_int64_param(40);
       },
       grpc::StatusCode::INVALID_ARGUMENT,
       "output 'output': parameter 'shared_memory_byte_size' is not supported"},
      {"classification",
       [](auto& r) {
         auto* output = r.add_outputs();
         output->set_name("output");
         (*output->mutable_parameters())["classification"].set_int64_param(3);
       },
       grpc::StatusCode::INVALID_ARGUMENT,
       "output 'output': parameter 'classification' is not supported"},
      {"timeout of another type",
       [](auto& r) { (*r.mutable_parameters())["timeout"].set_string_param("1s"); },
       grpc::StatusCode::INVALID_ARGUMENT,
       "parameter 'timeout' must be an int64_param or uint64_param"},
      {"negative timeout",
       [](auto& r) { (*r.mutable_parameters())["timeout"].set_int64_param(-1); },
       grpc::StatusCode::INVALID_ARGUMENT,
       "parameter 'timeout' must be a number of microseconds (0: none), got -1"},
      {"negative priority",
       [](auto& r) { (*r.mutable_parameters())["priority"].set_int64_param(-1); },
       grpc::StatusCode::INVALID_ARGUMENT, "parameter 'priority' must not be negative, got -1"},
      {"typed wrong type",
       [](auto& r) {
         r.clear_raw_input_contents();
         r.mutable_inputs(0)->mutable_contents()->add_int_contents(1);
       },
       grpc::StatusCode::INVALID_ARGUMENT, "fp32_contents for FP32"},
  };
  for (const BadRequestCase& c : cases) {
    SCOPED_TRACE(c.name);
    inference::ModelInferRequest request = MakeInferRequest("leaky_mlp", input, 3, true);
    c.mutate(request);
    inference::ModelInferResponse response;
    grpc::Status status = Infer(request, &response);
    EXPECT_EQ(status.error_code(), c.code) << status.error_message();
    EXPECT_THAT(status.error_message(), HasSubstr(c.message));
  }
  // None of it disturbed the model.
  inference::ModelInferResponse response;
  ASSERT_TRUE(Infer(MakeInferRequest("leaky_mlp", input, 3, true), &response).ok());
  ExpectNear(RawOutput(response), Reference("leaky_mlp", input, 3));
}

TEST_F(InferenceServiceTest, TransportHintsAndCustomParametersAreAccepted) {
  const std::vector<float> input = RandomRows(2, kFeatures, 11);
  inference::ModelInferRequest request = MakeInferRequest("leaky_mlp", input, 2, true);
  auto& parameters = *request.mutable_parameters();
  parameters["binary_data_output"].set_bool_param(true);
  parameters["priority"].set_uint64_param(1);
  parameters["timeout"].set_uint64_param(30'000'000);  // 30 s: never reached here
  parameters["my_tag"].set_string_param("a/b test");
  (*request.mutable_inputs(0)->mutable_parameters())["binary_data_size"].set_int64_param(
      2 * kFeatures * sizeof(float));
  auto* output = request.add_outputs();
  output->set_name("output");
  (*output->mutable_parameters())["binary_data"].set_bool_param(true);
  inference::ModelInferResponse response;
  const grpc::Status status = Infer(request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ExpectNear(RawOutput(response), Reference("leaky_mlp", input, 2));
}

// Triton's "no sequence" and "no timeout": sequence_id 0 or "" with
// sequence_start and sequence_end false, timeout 0.
TEST_F(InferenceServiceTest, ZeroSequenceIdAndZeroTimeoutAreAccepted) {
  const std::vector<float> input = RandomRows(2, kFeatures, 12);
  using Set = void (*)(inference::InferParameter*);
  const std::pair<const char*, Set> ids[] = {
      {"int64 0", [](inference::InferParameter* p) { p->set_int64_param(0); }},
      {"uint64 0", [](inference::InferParameter* p) { p->set_uint64_param(0); }},
      {"empty string", [](inference::InferParameter* p) { p->set_string_param(""); }},
      {"absent", nullptr},
  };
  for (const auto& [name, set_id] : ids) {
    SCOPED_TRACE(name);
    inference::ModelInferRequest request = MakeInferRequest("leaky_mlp", input, 2, true);
    auto& parameters = *request.mutable_parameters();
    if (set_id != nullptr) set_id(&parameters["sequence_id"]);
    parameters["sequence_start"].set_bool_param(false);
    parameters["sequence_end"].set_bool_param(false);
    parameters["timeout"].set_int64_param(0);
    inference::ModelInferResponse response;
    const grpc::Status status = Infer(request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    ExpectNear(RawOutput(response), Reference("leaky_mlp", input, 2));
  }
  inference::ModelInferRequest request = MakeInferRequest("leaky_mlp", input, 2, true);
  (*request.mutable_parameters())["timeout"].set_uint64_param(0);
  inference::ModelInferResponse response;
  const grpc::Status status = Infer(request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
}

TEST_F(InferenceServiceTest, ModelStatisticsRefusesAVersionWithoutAModel) {
  auto statistics = [this](const std::string& name, const std::string& version) {
    grpc::ClientContext context;
    inference::ModelStatisticsRequest request;
    request.set_name(name);
    request.set_version(version);
    inference::ModelStatisticsResponse response;
    return stub_->ModelStatistics(&context, request, &response);
  };
  const grpc::Status no_name = statistics("", "1");
  EXPECT_EQ(no_name.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(no_name.error_message(), HasSubstr("version '1' given without a model name"));
  EXPECT_EQ(statistics("nope", "").error_code(), grpc::StatusCode::NOT_FOUND);
  // A model whose load failed has no statistics: the error ModelInfer gets.
  const grpc::Status broken = statistics("broken", "");
  EXPECT_EQ(broken.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(broken.error_message(),
              HasSubstr("model 'broken' has no ready version: its load failed (RepositoryIndex"));
  EXPECT_TRUE(statistics("leaky_mlp", "1").ok());
  EXPECT_TRUE(statistics("", "").ok());
}

TEST_F(InferenceServiceTest, ModelStatisticsSplitsRequestTimeAndCountsBatchesBySize) {
  // Sequential requests of 1, 3 and 3 rows on a model without batching.
  for (int64_t rows : {1, 3, 3}) {
    inference::ModelInferResponse response;
    const grpc::Status status =
        Infer(MakeInferRequest("unbatched", RandomRows(rows, kFeatures, 7), rows, true), &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }
  // A batch's execution is counted just after its answers are sent.
  inference::ModelStatisticsResponse response;
  for (int attempt = 0; attempt < 1000; ++attempt) {
    grpc::ClientContext context;
    inference::ModelStatisticsRequest request;
    request.set_name("unbatched");
    response.Clear();
    const grpc::Status status = stub_->ModelStatistics(&context, request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    ASSERT_EQ(response.model_stats_size(), 1);
    if (response.model_stats(0).execution_count() == 3) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const inference::ModelStatistics& m = response.model_stats(0);
  EXPECT_EQ(m.inference_count(), 7u);
  ASSERT_EQ(m.execution_count(), 3u);
  const inference::InferStatistics& s = m.inference_stats();
  EXPECT_EQ(s.success().count(), 3u);
  for (const inference::StatisticDuration* part :
       {&s.queue(), &s.compute_input(), &s.compute_infer(), &s.compute_output()}) {
    EXPECT_EQ(part->count(), 3u);
  }
  EXPECT_GT(s.compute_input().ns(), 0u);
  EXPECT_GT(s.compute_infer().ns(), 0u);
  EXPECT_GT(s.compute_output().ns(), 0u);
  // The four parts are disjoint stretches of each request's receipt-to-answer time.
  EXPECT_LE(
      s.queue().ns() + s.compute_input().ns() + s.compute_infer().ns() + s.compute_output().ns(),
      s.success().ns());

  ASSERT_EQ(m.batch_stats_size(), 2);
  const inference::InferBatchStatistics& one = m.batch_stats(0);
  const inference::InferBatchStatistics& three = m.batch_stats(1);
  EXPECT_EQ(one.batch_size(), 1u);
  EXPECT_EQ(three.batch_size(), 3u);
  EXPECT_EQ(one.compute_infer().count(), 1u);
  EXPECT_EQ(three.compute_infer().count(), 2u);
  EXPECT_EQ(three.compute_input().count(), 2u);
  EXPECT_EQ(three.compute_output().count(), 2u);
  // Without batching each request's engine time is its batch's.
  EXPECT_EQ(one.compute_infer().ns() + three.compute_infer().ns(), s.compute_infer().ns());
  EXPECT_EQ(one.compute_input().ns() + three.compute_input().ns(), s.compute_input().ns());
  EXPECT_EQ(one.compute_output().ns() + three.compute_output().ns(), s.compute_output().ns());
}

TEST(ModelStatisticsClockTest, LastInferenceIsShownAsAWallTimeWhateverTheRequestClockReads) {
  // The request clock reads 1970 plus an hour (as a monotonic clock drifts
  // from the wall clock after a step) and moves 5 s after the request:
  // ModelStatistics shows the request 5 s before the wall clock's now.
  FakeClock clock;
  const std::string repository = MakeTempDir("stats_clock_repo");
  AddModelWithBundledWeights(repository, "unbatched", "leaky_mlp", "max_batch_size: 8\n");
  TestServer::Options options;
  options.clock = &clock;
  absl::StatusOr<std::unique_ptr<TestServer>> server = TestServer::Start(repository, options);
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = (*server)->NewStub();
  {
    grpc::ClientContext context;
    inference::ModelInferResponse response;
    const grpc::Status status = stub->ModelInfer(
        &context, MakeInferRequest("unbatched", RandomRows(1, kFeatures, 1), 1, true), &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }
  clock.Advance(absl::Seconds(5));
  grpc::ClientContext context;
  inference::ModelStatisticsRequest request;
  request.set_name("unbatched");
  inference::ModelStatisticsResponse response;
  const absl::Time before = absl::Now();
  const grpc::Status status = stub->ModelStatistics(&context, request, &response);
  const absl::Time after = absl::Now();
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(response.model_stats_size(), 1);
  const absl::Time shown =
      absl::FromUnixMillis(static_cast<int64_t>(response.model_stats(0).last_inference()));
  EXPECT_GE(shown, before - absl::Seconds(5) - absl::Milliseconds(1));  // whole ms, rounded down
  EXPECT_LE(shown, after - absl::Seconds(5));
  server->reset();
  std::filesystem::remove_all(repository);
}

TEST(NonFiniteInputTest, AReluModelRefusesNanAndInfinitySayingWhy) {
  // 4 -> Relu(3) -> 2: oneDNN's fused ReLU would answer a NaN row with
  // ordinary numbers (max(NaN, 0) = 0), so the model refuses non-finite input
  // without reject_non_finite, naming the activation; finite rows compute.
  OnnxTestGraph::Options graph_options;
  graph_options.in_features = 4;
  OnnxTestGraph graph(graph_options);
  graph.AppendGemm("fc1", {3, 4}, std::vector<float>(12, 0.25f), {3}, {0.1f, -0.1f, 0.2f});
  graph.Append("Relu", "relu1");
  graph.AppendGemm("fc2", {2, 3}, {1.f, -1.f, 0.5f, 0.5f, 2.f, -2.f}, {2}, {0.f, 1.f});
  const std::string repository = MakeTempDir("relu_repo");
  std::filesystem::create_directories(repository + "/relu/1");
  std::ofstream(repository + "/relu/1/model.onnx", std::ios::binary) << graph.Serialized(2);
  std::ofstream(repository + "/relu/config.pbtxt") << "max_batch_size: 8\n";
  absl::StatusOr<std::unique_ptr<TestServer>> server = TestServer::Start(repository);
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = (*server)->NewStub();
  auto infer = [&](const std::vector<float>& input, inference::ModelInferResponse* response) {
    grpc::ClientContext context;
    return stub->ModelInfer(&context, MakeInferRequest("relu", input, 2, true), response);
  };
  inference::ModelInferResponse response;
  for (const float bad :
       {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()}) {
    const grpc::Status status = infer({1.f, 2.f, 3.f, 4.f, 1.f, bad, 1.f, 1.f}, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(status.error_message(),
                HasSubstr("model 'relu' version 1 input 'input': value 5 is not finite and layer "
                          "0's activation (node 'relu1') is a ReLU"));
  }
  {  // and its complete config says so, though config.pbtxt does not
    grpc::ClientContext context;
    inference::ModelConfigRequest request;
    request.set_name("relu");
    inference::ModelConfigResponse config;
    const grpc::Status status = stub->ModelConfig(&context, request, &config);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(config.config().parameters().at("reject_non_finite").string_value(), "true");
  }
  const std::vector<float> finite = {1.f, 2.f, 3.f, 4.f, -1.f, -2.f, -3.f, -4.f};
  const grpc::Status status = infer(finite, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  absl::StatusOr<Mlp> mlp = ImportOnnxFile(repository + "/relu/1/model.onnx");
  ASSERT_TRUE(mlp.ok()) << mlp.status();
  ExpectNear(RawOutput(response), ReferenceForward(*mlp, finite, 2));
  server->reset();
  std::filesystem::remove_all(repository);
}

TEST_F(InferenceServiceTest, NonFiniteInputsAreComputedUnlessTheModelRefusesThem) {
  std::vector<float> input = RandomRows(2, kFeatures, 3);
  input[5] = std::numeric_limits<float>::quiet_NaN();
  input[70] = std::numeric_limits<float>::infinity();
  inference::ModelInferResponse response;
  grpc::Status status = Infer(MakeInferRequest("leaky_mlp", input, 2, true), &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(RawOutput(response).size(), 2u * kOutputs);

  status = Infer(MakeInferRequest("strict", input, 2, true), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("value 5 is not finite"));
  input[5] = 0.5f;
  input[70] = 0.5f;
  EXPECT_TRUE(Infer(MakeInferRequest("strict", input, 2, true), &response).ok());
}

TEST_F(InferenceServiceTest, ConcurrentClientsEachGetTheirOwnRows) {
  // leaky_mlp batches dynamically: rows of different clients share batches.
  constexpr int kClients = 64;
  constexpr int kRequestsEach = 10;
  const std::vector<float> any_input = RandomRows(1, kFeatures, 1);
  absl::StatusOr<Mlp> mlp = ImportOnnxFile(*repository_ + "/leaky_mlp/1/model.onnx");
  ASSERT_TRUE(mlp.ok());
  std::vector<std::thread> clients;
  std::vector<int> failures(kClients, 0);
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      auto stub = server_->NewStub();
      for (int i = 0; i < kRequestsEach; ++i) {
        const int64_t rows = 1 + (c + i) % 5;
        const std::vector<float> input = RandomRows(rows, kFeatures, c * 1000 + i);
        const std::vector<float> want = ReferenceForward(*mlp, input, rows);
        grpc::ClientContext context;
        context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
        inference::ModelInferResponse response;
        if (!stub->ModelInfer(&context, MakeInferRequest("leaky_mlp", input, rows, c % 2),
                              &response)
                 .ok()) {
          ++failures[c];
          continue;
        }
        const std::vector<float> got = RawOutput(response);
        bool same = got.size() == want.size();
        for (size_t k = 0; same && k < got.size(); ++k) {
          same = std::fabs(got[k] - want[k]) <= 1e-5 * std::max(1.f, std::fabs(want[k]));
        }
        if (!same) ++failures[c];
      }
    });
  }
  for (std::thread& t : clients) t.join();
  for (int c = 0; c < kClients; ++c) EXPECT_EQ(failures[c], 0) << "client " << c;
}

}  // namespace
}  // namespace mlpserve::testing
