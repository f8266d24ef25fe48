// ModelConfig (Triton's model configuration extension) over real loopback
// gRPC: the answer is the completed config each model version runs with,
// in Triton's ModelConfig with Triton's field numbers, and its lookup and
// errors are ModelMetadata's.
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "gmock/gmock.h"
#include "grpcpp/client_context.h"
#include "gtest/gtest.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_server.h"

namespace mlpserve::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// As Triton configs are written: a backend, preferred sizes in any order.
constexpr char kTunedConfig[] = R"pb(
  platform: "onnxruntime_onnx"
  backend: "onnxruntime"
  max_batch_size: 16
  input {
    name: "input"
    data_type: TYPE_FP32
    dims: [ 64 ]
  }
  version_policy { all {} }
  dynamic_batching {
    max_queue_delay_microseconds: 250
    preferred_batch_size: [ 8, 4, 8 ]
    max_queue_size: 9
    default_queue_policy { default_timeout_microseconds: 30000000 allow_timeout_override: true }
  }
  instance_count: 2
  threads_per_instance: 3
  reject_non_finite: true
  activation_stats { enabled: false sample_every: 5 dead_window_rows: 2000 }
)pb";

// leaky_mlp as bundled (its config.pbtxt), "bare" (its weights, no
// config.pbtxt), "tuned" (versions 1 and 2, kTunedConfig), "onnxruntime"
// and "custom" (a config naming only a backend) and "broken" (not an ONNX
// file).
class ModelConfigRpcTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = new std::string(MakeTempDir("model_config_rpc"));
    CopyBundledModel("leaky_mlp", *root_);
    const fs::path onnx = fs::path(*root_) / "leaky_mlp" / "1" / "model.onnx";
    fs::create_directories(fs::path(*root_) / "bare" / "1");
    fs::copy_file(onnx, fs::path(*root_) / "bare" / "1" / "model.onnx");
    AddModelWithBundledWeights(*root_, "tuned", "leaky_mlp", kTunedConfig);
    AddModelWithBundledWeights(*root_, "onnxruntime", "leaky_mlp", "backend: \"onnxruntime\"\n");
    AddModelWithBundledWeights(*root_, "custom", "leaky_mlp", "backend: \"custom\"\n");
    fs::create_directories(fs::path(*root_) / "tuned" / "2");
    fs::copy_file(onnx, fs::path(*root_) / "tuned" / "2" / "model.onnx");
    fs::create_directories(fs::path(*root_) / "broken" / "1");
    std::ofstream(fs::path(*root_) / "broken" / "1" / "model.onnx") << "not onnx";
    server_ = TestServer::Start(*root_)->release();
  }
  static void TearDownTestSuite() {
    delete server_;
    fs::remove_all(*root_);
    delete root_;
  }

  grpc::Status Config(const std::string& name, const std::string& version,
                      inference::ModelConfig* config) {
    grpc::ClientContext context;
    inference::ModelConfigRequest request;
    request.set_name(name);
    request.set_version(version);
    inference::ModelConfigResponse response;
    grpc::Status status = stub_->ModelConfig(&context, request, &response);
    *config = response.config();
    return status;
  }

  grpc::Status Metadata(const std::string& name, const std::string& version,
                        inference::ModelMetadataResponse* response = nullptr) {
    grpc::ClientContext context;
    inference::ModelMetadataRequest request;
    request.set_name(name);
    request.set_version(version);
    inference::ModelMetadataResponse ignored;
    return stub_->ModelMetadata(&context, request, response != nullptr ? response : &ignored);
  }

  static std::string* root_;
  static TestServer* server_;
  std::unique_ptr<inference::GRPCInferenceService::Stub> stub_ = server_->NewStub();
};

std::string* ModelConfigRpcTest::root_ = nullptr;
TestServer* ModelConfigRpcTest::server_ = nullptr;

std::map<std::string, std::string> Parameters(const inference::ModelConfig& config) {
  std::map<std::string, std::string> out;
  for (const auto& [key, value] : config.parameters()) out[key] = value.string_value();
  return out;
}

// The bundled leaky_mlp's signature: input [64] and output [10], FP32.
void ExpectLeakyMlpTensors(const inference::ModelConfig& config) {
  ASSERT_EQ(config.input_size(), 1);
  EXPECT_EQ(config.input(0).name(), "input");
  EXPECT_EQ(config.input(0).data_type(), inference::TYPE_FP32);
  EXPECT_THAT(config.input(0).dims(), ElementsAre(64));
  ASSERT_EQ(config.output_size(), 1);
  EXPECT_EQ(config.output(0).name(), "output");
  EXPECT_EQ(config.output(0).data_type(), inference::TYPE_FP32);
  EXPECT_THAT(config.output(0).dims(), ElementsAre(10));
}

TEST_F(ModelConfigRpcTest, BundledModelReportsItsConfigPbtxt) {
  inference::ModelConfig config;
  const grpc::Status status = Config("leaky_mlp", "", &config);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(config.name(), "leaky_mlp");
  EXPECT_EQ(config.platform(), "onnxruntime_onnx");
  EXPECT_EQ(config.max_batch_size(), 64);
  ExpectLeakyMlpTensors(config);
  ASSERT_TRUE(config.has_dynamic_batching());
  EXPECT_EQ(config.dynamic_batching().max_queue_delay_microseconds(), 100u);
  EXPECT_THAT(config.dynamic_batching().preferred_batch_size(), ElementsAre(16, 32));
  // Not in the file: the default queue bound the server applies.
  EXPECT_EQ(config.dynamic_batching().default_queue_policy().max_queue_size(), 1024u);
  EXPECT_EQ(config.version_policy().latest().num_versions(), 1u);
  ASSERT_EQ(config.instance_group_size(), 1);
  EXPECT_EQ(config.instance_group(0).kind(), inference::ModelInstanceGroup::KIND_CPU);
  EXPECT_EQ(config.instance_group(0).count(), 1);
  EXPECT_EQ(Parameters(config)["activation_stats.dead_window_rows"], "1000");
}

TEST_F(ModelConfigRpcTest, ModelWithoutConfigPbtxtReportsDerivedValues) {
  inference::ModelConfig config;
  const grpc::Status status = Config("bare", "1", &config);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(config.name(), "bare");
  EXPECT_EQ(config.platform(), "onnxruntime_onnx");  // as Triton's auto-complete
  EXPECT_EQ(config.backend(), "onnxruntime");
  EXPECT_EQ(config.max_batch_size(), 64);
  ExpectLeakyMlpTensors(config);
  EXPECT_FALSE(config.has_dynamic_batching());  // every request runs alone
  EXPECT_EQ(config.version_policy().latest().num_versions(), 1u);
  ASSERT_EQ(config.instance_group_size(), 1);
  EXPECT_EQ(config.instance_group(0).kind(), inference::ModelInstanceGroup::KIND_CPU);
  EXPECT_EQ(config.instance_group(0).count(), 1);
  EXPECT_EQ(Parameters(config), (std::map<std::string, std::string>{
                                    {"threads_per_instance", "1"},
                                    {"reject_non_finite", "false"},
                                    {"activation_stats.enabled", "true"},
                                    {"activation_stats.sample_every", "1"},
                                    {"activation_stats.dead_window_rows", "1000"},
                                }));
}

TEST_F(ModelConfigRpcTest, EveryConfiguredFieldOfEachVersion) {
  for (const char* version : {"", "1", "2"}) {
    SCOPED_TRACE(std::string("version '") + version + "'");
    inference::ModelConfig config;
    const grpc::Status status = Config("tuned", version, &config);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(config.name(), "tuned");
    EXPECT_EQ(config.platform(), "onnxruntime_onnx");
    EXPECT_EQ(config.backend(), "onnxruntime");
    EXPECT_EQ(config.max_batch_size(), 16);
    EXPECT_THAT(config.input(0).dims(), ElementsAre(64));
    EXPECT_EQ(config.output(0).name(), "output");  // derived from the graph
    EXPECT_TRUE(config.version_policy().has_all());
    EXPECT_EQ(config.dynamic_batching().max_queue_delay_microseconds(), 250u);
    // Sorted, without duplicates.
    EXPECT_THAT(config.dynamic_batching().preferred_batch_size(), ElementsAre(4, 8));
    EXPECT_EQ(config.dynamic_batching().default_queue_policy().max_queue_size(), 9u);
    EXPECT_EQ(config.dynamic_batching().default_queue_policy().default_timeout_microseconds(),
              30000000u);
    EXPECT_TRUE(config.dynamic_batching().default_queue_policy().allow_timeout_override());
    EXPECT_EQ(config.dynamic_batching().default_queue_policy().timeout_action(),
              inference::ModelQueuePolicy::REJECT);
    ASSERT_EQ(config.instance_group_size(), 1);
    EXPECT_EQ(config.instance_group(0).count(), 2);
    EXPECT_EQ(Parameters(config), (std::map<std::string, std::string>{
                                      {"threads_per_instance", "3"},
                                      {"reject_non_finite", "true"},
                                      {"activation_stats.enabled", "false"},
                                      {"activation_stats.sample_every", "5"},
                                      {"activation_stats.dead_window_rows", "2000"},
                                  }));
  }
}

// ModelMetadata and ModelConfig report the same platform: config.pbtxt's,
// or "onnxruntime_onnx" (every model is ONNX) when it names none or only
// backend "onnxruntime", or the backend's name for another backend.
TEST_F(ModelConfigRpcTest, MetadataAndConfigReportTheSamePlatform) {
  const std::pair<const char*, const char*> cases[] = {
      {"leaky_mlp", "onnxruntime_onnx"},
      {"bare", "onnxruntime_onnx"},
      {"onnxruntime", "onnxruntime_onnx"},
      {"custom", "custom"},
  };
  for (const auto& [name, platform] : cases) {
    SCOPED_TRACE(name);
    inference::ModelConfig config;
    ASSERT_TRUE(Config(name, "", &config).ok());
    inference::ModelMetadataResponse metadata;
    ASSERT_TRUE(Metadata(name, "", &metadata).ok());
    EXPECT_EQ(config.platform(), platform);
    EXPECT_EQ(metadata.platform(), platform);
  }
}

// As Triton: a request naming a version lists that version only; without
// one, every ready version.
TEST_F(ModelConfigRpcTest, MetadataListsTheRequestedVersionOnly) {
  inference::ModelMetadataResponse metadata;
  ASSERT_TRUE(Metadata("tuned", "", &metadata).ok());
  EXPECT_THAT(metadata.versions(), ElementsAre("1", "2"));
  for (const char* version : {"1", "2"}) {
    SCOPED_TRACE(version);
    metadata.Clear();
    ASSERT_TRUE(Metadata("tuned", version, &metadata).ok());
    EXPECT_THAT(metadata.versions(), ElementsAre(version));
  }
}

TEST_F(ModelConfigRpcTest, ErrorsAreModelMetadatas) {
  const std::pair<std::pair<const char*, const char*>, grpc::StatusCode> cases[] = {
      {{"no_such_model", ""}, grpc::StatusCode::NOT_FOUND},
      {{"", ""}, Metadata("", "").error_code()},
      {{"tuned", "7"}, grpc::StatusCode::NOT_FOUND},
      {{"tuned", "abc"}, grpc::StatusCode::INVALID_ARGUMENT},
      {{"tuned", "-1"}, grpc::StatusCode::INVALID_ARGUMENT},
      {{"broken", ""}, Metadata("broken", "").error_code()},
  };
  for (const auto& [request, code] : cases) {
    const auto& [name, version] = request;
    SCOPED_TRACE(std::string("model '") + name + "' version '" + version + "'");
    inference::ModelConfig config;
    const grpc::Status status = Config(name, version, &config);
    EXPECT_EQ(status.error_code(), code) << status.error_message();
    const grpc::Status metadata = Metadata(name, version);
    EXPECT_EQ(status.error_code(), metadata.error_code());
    EXPECT_EQ(status.error_message(), metadata.error_message());
  }
  inference::ModelConfig config;
  EXPECT_NE(Config("broken", "", &config).error_code(), grpc::StatusCode::OK);
  EXPECT_THAT(Config("tuned", "abc", &config).error_message(), HasSubstr("version 'abc'"));
}

// The bytes a Triton client sends and expects, encoded by hand from
// Triton's grpc_service.proto and model_config.proto field numbers, decode
// into the messages mlpserve declares.
TEST(TritonModelConfigWireTest, FieldNumbersAreTritons) {
  static_assert(inference::TYPE_INVALID == 0 && inference::TYPE_BOOL == 1 &&
                inference::TYPE_INT64 == 9 && inference::TYPE_FP16 == 10 &&
                inference::TYPE_FP32 == 11 && inference::TYPE_STRING == 13 &&
                inference::TYPE_BF16 == 14);
  static_assert(inference::ModelInstanceGroup::KIND_CPU == 2);

  // Each field: tag ((number << 3) | wire type), then its value.
  auto bytes = [](std::initializer_list<uint8_t> b) { return std::string(b.begin(), b.end()); };
  inference::ModelConfigRequest request;
  // name = 1 "m", version = 2 "2"
  ASSERT_TRUE(request.ParseFromString(bytes({0x0a, 1, 'm', 0x12, 1, '2'})));
  EXPECT_EQ(request.name(), "m");
  EXPECT_EQ(request.version(), "2");

  const std::string config_bytes =
      // name = 1 "m"; platform = 2 "p"; backend = 17 "b"
      bytes({0x0a, 1, 'm', 0x12, 1, 'p', 0x8a, 0x01, 1, 'b'}) +
      // version_policy = 3 { latest = 1 { num_versions = 1: 2 } }
      bytes({0x1a, 4, 0x0a, 2, 0x08, 2}) +
      // max_batch_size = 4: 8
      bytes({0x20, 8}) +
      // input = 5 { name = 1 "x", data_type = 2 TYPE_FP32 (11), dims = 4 packed [3] }
      bytes({0x2a, 8, 0x0a, 1, 'x', 0x10, 11, 0x22, 1, 3}) +
      // output = 6 { name = 1 "y", data_type = 2 TYPE_FP32, dims = 3 packed [2] }
      bytes({0x32, 8, 0x0a, 1, 'y', 0x10, 11, 0x1a, 1, 2}) +
      // instance_group = 7 { kind = 4 KIND_CPU (2), count = 2: 3 }
      bytes({0x3a, 4, 0x20, 2, 0x10, 3}) +
      // dynamic_batching = 11 { preferred_batch_size = 1 packed [4],
      //   max_queue_delay_microseconds = 2: 100,
      //   default_queue_policy = 6 { max_queue_size = 4: 9 } }
      bytes({0x5a, 9, 0x0a, 1, 4, 0x10, 100, 0x32, 2, 0x20, 9}) +
      // parameters = 14 { key = 1 "k", value = 2 { string_value = 1 "v" } }
      bytes({0x72, 8, 0x0a, 1, 'k', 0x12, 3, 0x0a, 1, 'v'});
  inference::ModelConfigResponse response;
  // config = 1
  ASSERT_TRUE(response.ParseFromString(bytes({0x0a, static_cast<uint8_t>(config_bytes.size())}) +
                                       config_bytes));
  const inference::ModelConfig& config = response.config();
  EXPECT_EQ(config.name(), "m");
  EXPECT_EQ(config.platform(), "p");
  EXPECT_EQ(config.backend(), "b");
  EXPECT_EQ(config.version_policy().latest().num_versions(), 2u);
  EXPECT_EQ(config.max_batch_size(), 8);
  ASSERT_EQ(config.input_size(), 1);
  EXPECT_EQ(config.input(0).name(), "x");
  EXPECT_EQ(config.input(0).data_type(), inference::TYPE_FP32);
  EXPECT_THAT(config.input(0).dims(), ElementsAre(3));
  ASSERT_EQ(config.output_size(), 1);
  EXPECT_EQ(config.output(0).name(), "y");
  EXPECT_EQ(config.output(0).data_type(), inference::TYPE_FP32);
  EXPECT_THAT(config.output(0).dims(), ElementsAre(2));
  ASSERT_EQ(config.instance_group_size(), 1);
  EXPECT_EQ(config.instance_group(0).kind(), inference::ModelInstanceGroup::KIND_CPU);
  EXPECT_EQ(config.instance_group(0).count(), 3);
  EXPECT_THAT(config.dynamic_batching().preferred_batch_size(), ElementsAre(4));
  EXPECT_EQ(config.dynamic_batching().max_queue_delay_microseconds(), 100u);
  EXPECT_EQ(config.dynamic_batching().default_queue_policy().max_queue_size(), 9u);
  EXPECT_EQ(config.parameters().at("k").string_value(), "v");
  // Every byte was a known field (proto3 packs repeated scalars, as above).
  EXPECT_EQ(config.SerializeAsString().size(), config_bytes.size());
}

}  // namespace
}  // namespace mlpserve::testing
