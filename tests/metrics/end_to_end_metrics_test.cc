// End to end: the probe model (known weights, known dead units) served by the
// whole in-process stack; real ModelInfer calls over loopback gRPC (several
// batch sizes, some concurrent, some refused), then /metrics and
// /v1/activations scraped over HTTP and every activation and request figure
// compared with a naive reference over the rows that were sent.
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/generic/generic_stub.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/metrics/metrics_test_util.h"
#include "tests/metrics/probe_mlp.h"
#include "tests/metrics/scrape_until.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_server.h"

namespace mlpserve::testing {
namespace {

namespace fs = std::filesystem;

constexpr char kProbe[] = "probe";            // dynamic batching, window below
constexpr char kWindowed[] = "probe_window";  // no batching, window of 8 rows
constexpr char kHeld[] = "probe_held";        // a 10 minute queue delay
// kProbe's window: exactly the rows ActivationAndRequestMetricsMatchTheRequestsSent
// sends, so the window fills with its last request and holds every row.
constexpr int64_t kProbeWindowRows = 203;
constexpr int64_t kWindowRows = 8;
// The dead units the probe's weights were chosen for (probe_mlp.h).
const std::vector<bool> kDesignDead[2] = {{false, true, false, true, false, false},
                                          {false, true, false, true, true}};

std::string ModelLabels(const std::string& model) {
  return "model=\"" + model + "\",version=\"1\"";
}
std::string Series(const std::string& name, const std::string& labels) {
  return name + "{" + labels + "}";
}
std::string LayerSeries(const std::string& name, const std::string& model, int layer) {
  return Series(name, ModelLabels(model) + ",layer=\"" + std::to_string(layer) + "\"");
}

inference::ModelInferRequest MakeRequest(const std::string& model, const std::string& version,
                                         const float* values, int64_t rows, int64_t features) {
  inference::ModelInferRequest request;
  request.set_model_name(model);
  request.set_model_version(version);
  auto* input = request.add_inputs();
  input->set_name("input");
  input->set_datatype("FP32");
  input->add_shape(rows);
  input->add_shape(features);
  request.add_raw_input_contents(
      std::string(reinterpret_cast<const char*>(values), rows * features * sizeof(float)));
  return request;
}

grpc::Status Infer(inference::GRPCInferenceService::Stub& stub,
                   const inference::ModelInferRequest& request,
                   inference::ModelInferResponse* response) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  return stub.ModelInfer(&context, request, response);
}

// One ModelInfer of rows [first, first + rows) of `pool` on version 1 of
// `model`; the status code and, when OK, the outputs.
grpc::StatusCode InferRows(inference::GRPCInferenceService::Stub& stub, const std::string& model,
                           const std::vector<float>& pool, int64_t first, int64_t rows,
                           std::vector<float>* outputs = nullptr) {
  inference::ModelInferResponse response;
  const grpc::Status status = Infer(
      stub, MakeRequest(model, "1", pool.data() + first * kProbeFeatures, rows, kProbeFeatures),
      &response);
  if (status.ok() && outputs != nullptr && response.raw_output_contents_size() == 1) {
    const std::string& raw = response.raw_output_contents(0);
    outputs->resize(raw.size() / sizeof(float));
    std::memcpy(outputs->data(), raw.data(), raw.size());
  }
  return status.error_code();
}

// Whether the scrape shows `rows` rows of `model` counted everywhere they
// are counted (the batch observer runs after the responses are sent).
bool RowsCounted(const Samples& s, const std::string& model, int64_t rows) {
  return ValueOr(s, Series("mlpserve_inferences_total", ModelLabels(model))) >= rows &&
         ValueOr(s, LayerSeries("mlpserve_activation_values_total", model, 0)) >=
             rows * kProbeUnits[0] &&
         ValueOr(s, LayerSeries("mlpserve_activation_values_total", model, 1)) >=
             rows * kProbeUnits[1];
}

// mlpserve_requests_total series with a non-zero count.
std::map<std::string, double> RequestCounts(const Samples& s) {
  std::map<std::string, double> counts;
  for (const auto& [series, value] : s) {
    if (series.rfind("mlpserve_requests_total{", 0) == 0 && value != 0) counts[series] = value;
  }
  return counts;
}

class EndToEndMetricsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = MakeTempDir("e2e_metrics");
    ASSERT_FALSE(root_.empty());
    AddModel(kProbe,
             "max_batch_size: 16\n"
             "dynamic_batching { max_queue_delay_microseconds: 500 }\n"
             "activation_stats { enabled: true sample_every: 1 dead_window_rows: " +
                 std::to_string(kProbeWindowRows) + " }\n");
    AddModel(kWindowed,
             "max_batch_size: 8\n"
             "activation_stats { enabled: true sample_every: 1 dead_window_rows: " +
                 std::to_string(kWindowRows) + " }\n");
    AddModel(kHeld,
             "max_batch_size: 8\n"
             "dynamic_batching { max_queue_delay_microseconds: 600000000 }\n");
    absl::StatusOr<std::unique_ptr<TestServer>> server = TestServer::Start(root_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    ASSERT_THAT(server_->repository().ReadyVersions(kProbe), ::testing::ElementsAre(1));
    ASSERT_THAT(server_->repository().ReadyVersions(kHeld), ::testing::ElementsAre(1));
    ASSERT_THAT(server_->repository().ReadyVersions(kWindowed), ::testing::ElementsAre(1));
  }
  void TearDown() override {
    server_.reset();
    fs::remove_all(root_);
  }

  void AddModel(const std::string& name, const std::string& config) {
    fs::create_directories(fs::path(root_) / name / "1");
    std::ofstream(fs::path(root_) / name / "1" / "model.onnx", std::ios::binary) << ProbeMlpOnnx();
    std::ofstream(fs::path(root_) / name / "config.pbtxt") << config;
  }

  nlohmann::json ActivationsJson(const std::string& model) {
    HttpResponse r = HttpGet(server_->metrics_port(), "/v1/activations/" + model);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.status == 200 ? nlohmann::json::parse(r.body) : nlohmann::json();
  }

  // The activation series and JSON of `model` against `all` (every row
  // observed) and `window` (the rows of the current window), whose dead
  // units are reported only once it holds `dead_window_rows` rows.
  void ExpectActivations(const std::string& model, const Samples& s, const ProbeSigns& all,
                         const ProbeSigns& window, int64_t dead_window_rows) {
    const bool full = window.rows >= dead_window_rows;
    const nlohmann::json json = ActivationsJson(model);
    ASSERT_EQ(json["versions"].size(), 1u) << json.dump();
    const nlohmann::json& version = json["versions"][0];
    EXPECT_EQ(version["rows_seen"], all.rows);
    ASSERT_EQ(version["layers"].size(), 2u);
    for (int l = 0; l < 2; ++l) {
      SCOPED_TRACE("layer " + std::to_string(l));
      const int64_t units = kProbeUnits[l];
      EXPECT_EQ(ValueOr(s, LayerSeries("mlpserve_activation_values_total", model, l)),
                all.rows * units);
      EXPECT_EQ(ValueOr(s, LayerSeries("mlpserve_activation_negative_total", model, l)),
                all.negative[l]);
      EXPECT_DOUBLE_EQ(ValueOr(s, LayerSeries("mlpserve_activation_negative_ratio", model, l)),
                       static_cast<double>(window.negative[l]) / (window.rows * units));
      if (full) {
        EXPECT_EQ(ValueOr(s, LayerSeries("mlpserve_dead_neurons", model, l)), window.DeadCount(l));
      } else {
        EXPECT_EQ(s.count(LayerSeries("mlpserve_dead_neurons", model, l)), 0u)
            << "dead units reported from " << window.rows << " of " << dead_window_rows << " rows";
      }

      const nlohmann::json& layer = version["layers"][l];
      EXPECT_EQ(layer["units"], units);
      EXPECT_EQ(layer["window_rows"], window.rows);
      EXPECT_EQ(layer["window_full"], full);
      EXPECT_EQ(layer["dead_units"], full ? window.DeadCount(l) : 0);
      EXPECT_EQ(layer["dead"].get<std::vector<bool>>(),
                full ? window.Dead(l) : std::vector<bool>(units, false));
      std::vector<double> rate;
      for (int64_t p : window.positive_rows[l])
        rate.push_back(static_cast<double>(p) / window.rows);
      EXPECT_EQ(layer["positive_rate"].get<std::vector<double>>(), rate);
    }
  }

  std::string root_;
  std::unique_ptr<TestServer> server_;
};

TEST_F(EndToEndMetricsTest, ActivationAndRequestMetricsMatchTheRequestsSent) {
  // Rows are handed out in order: 4 sequential requests, then 4 clients
  // sending 5 requests each at once.
  const std::vector<int64_t> sequential = {1, 3, 7, 16};
  const std::vector<int64_t> per_client = {2, 5, 9, 12, 16};
  constexpr int kClients = 4;
  int64_t total_rows = 0;
  for (int64_t rows : sequential) total_rows += rows;
  for (int64_t rows : per_client) total_rows += kClients * rows;
  const std::vector<float> pool = ProbeRows(total_rows, 20240613);
  const int ok_requests = static_cast<int>(sequential.size() + kClients * per_client.size());

  const ProbeSigns reference = ReferenceSigns(pool.data(), total_rows);
  ASSERT_GT(reference.min_abs, 0.02);  // float and double agree on every sign
  for (int l = 0; l < 2; ++l) ASSERT_EQ(reference.Dead(l), kDesignDead[l]) << "layer " << l;
  const int64_t k[2] = {reference.DeadCount(0), reference.DeadCount(1)};
  ASSERT_EQ(k[0], 2);
  ASSERT_EQ(k[1], 3);
  ASSERT_EQ(total_rows, kProbeWindowRows);  // the window fills with the last request
  RecordProperty("rows", std::to_string(total_rows));
  RecordProperty("dead_units", std::to_string(k[0]) + "," + std::to_string(k[1]));
  RecordProperty("negative", std::to_string(reference.negative[0]) + "," +
                                 std::to_string(reference.negative[1]));

  auto stub = server_->NewStub();
  int64_t next = 0;
  for (int64_t rows : sequential) {
    std::vector<float> outputs;
    ASSERT_EQ(InferRows(*stub, kProbe, pool, next, rows, &outputs), grpc::StatusCode::OK);
    const std::vector<double> want = ReferenceOutputs(pool.data() + next * kProbeFeatures, rows);
    ASSERT_EQ(outputs.size(), want.size());
    for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(outputs[i], want[i], 1e-5) << i;
    next += rows;
  }
  // 27 rows of a 203-row window: the signs are counted, no unit is judged
  // dead yet although units of both layers have never been positive.
  {
    const Samples s = ScrapeUntil(server_->metrics_port(), [&](const Samples& samples) {
      return RowsCounted(samples, kProbe, next);
    });
    const ProbeSigns sent = ReferenceSigns(pool.data(), next);
    ASSERT_GT(sent.DeadCount(0) + sent.DeadCount(1), 0);
    ExpectActivations(kProbe, s, sent, sent, kProbeWindowRows);
  }
  std::vector<std::vector<grpc::StatusCode>> codes(kClients);
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    const int64_t first = next;
    for (int64_t rows : per_client) next += rows;
    clients.emplace_back([&, c, first] {
      auto client_stub = server_->NewStub();
      int64_t row = first;
      for (int64_t rows : per_client) {
        codes[c].push_back(InferRows(*client_stub, kProbe, pool, row, rows));
        row += rows;
      }
    });
  }
  for (std::thread& t : clients) t.join();
  ASSERT_EQ(next, total_rows);
  for (int c = 0; c < kClients; ++c) {
    EXPECT_THAT(codes[c], ::testing::Each(grpc::StatusCode::OK)) << "client " << c;
  }

  // Refused requests: 3 with 3 features instead of 4, 2 naming version 7.
  constexpr int kInvalid = 3;
  constexpr int kNotFound = 2;
  for (int i = 0; i < kInvalid; ++i) {
    inference::ModelInferResponse response;
    EXPECT_EQ(Infer(*stub, MakeRequest(kProbe, "1", pool.data(), 2, 3), &response).error_code(),
              grpc::StatusCode::INVALID_ARGUMENT);
  }
  for (int i = 0; i < kNotFound; ++i) {
    inference::ModelInferResponse response;
    EXPECT_EQ(Infer(*stub, MakeRequest(kProbe, "7", pool.data(), 1, 4), &response).error_code(),
              grpc::StatusCode::NOT_FOUND);
  }

  // And 2 whose bytes are not a ModelInferRequest at all: no model to count
  // them under.
  constexpr int kUnparsable = 2;
  grpc::GenericStub generic(
      grpc::CreateChannel(server_->grpc_target(), grpc::InsecureChannelCredentials()));
  for (int i = 0; i < kUnparsable; ++i) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    grpc::Slice garbage(std::string("\x0a\xff\xff\xff\x07xyz"));
    grpc::ByteBuffer request(&garbage, 1);
    grpc::ByteBuffer response;
    absl::Notification done;
    grpc::Status status;
    generic.UnaryCall(&context, "/inference.GRPCInferenceService/ModelInfer", grpc::StubOptions(),
                      &request, &response, [&](grpc::Status s) {
                        status = std::move(s);
                        done.Notify();
                      });
    done.WaitForNotification();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  }

  const Samples s = ScrapeUntil(server_->metrics_port(), [&](const Samples& samples) {
    return RowsCounted(samples, kProbe, total_rows);
  });
  const std::string probe = ModelLabels(kProbe);
  EXPECT_EQ(
      RequestCounts(s),
      (std::map<std::string, double>{
          {Series("mlpserve_requests_total", "code=\"OK\"," + probe),
           static_cast<double>(ok_requests)},
          {Series("mlpserve_requests_total", "code=\"INVALID_ARGUMENT\"," + probe), kInvalid},
          {Series("mlpserve_requests_total", "code=\"NOT_FOUND\",model=\"\",version=\"\""),
           kNotFound},
          {Series("mlpserve_requests_total", "code=\"INVALID_ARGUMENT\",model=\"\",version=\"\""),
           kUnparsable},
      }));
  EXPECT_EQ(ValueOr(s, Series("mlpserve_inferences_total", probe)), total_rows);
  EXPECT_EQ(ValueOr(s, Series("mlpserve_batch_size_sum", probe)), total_rows);
  EXPECT_EQ(ValueOr(s, Series("mlpserve_request_duration_seconds_count", probe)), ok_requests);
  EXPECT_EQ(ValueOr(s, Series("mlpserve_model_ready", probe)), 1);
  EXPECT_EQ(ValueOr(s, Series("mlpserve_layer_info",
                              probe + ",layer=\"0\",node=\"act0\",activation=\"leaky_relu\","
                                      "units=\"6\"")),
            1);
  EXPECT_EQ(
      ValueOr(s, Series("mlpserve_layer_info",
                        probe + ",layer=\"1\",node=\"act1\",activation=\"prelu\",units=\"5\"")),
      1);
  ExpectActivations(kProbe, s, reference, reference, kProbeWindowRows);
  EXPECT_EQ(ValueOr(s, LayerSeries("mlpserve_dead_neurons", kProbe, 0)), k[0]);
  EXPECT_EQ(ValueOr(s, LayerSeries("mlpserve_dead_neurons", kProbe, 1)), k[1]);
}

// A request dropped from the queue at its deadline waited there longest of
// all: its wait is in the queue histogram, not only the computed requests'.
TEST_F(EndToEndMetricsTest, QueueDurationIncludesRequestsDroppedFromTheQueue) {
  const std::vector<float> row(kProbeFeatures, 0.5f);
  // kHeld waits 10 minutes to fill a batch: the request's 1 ms queue
  // timeout (the "timeout" parameter) ends it in the queue.
  inference::ModelInferRequest request = MakeRequest(kHeld, "1", row.data(), 1, kProbeFeatures);
  (*request.mutable_parameters())["timeout"].set_int64_param(1000);
  auto stub = server_->NewStub();
  inference::ModelInferResponse response;
  const grpc::Status status = Infer(*stub, request, &response);
  ASSERT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << status.error_message();

  const std::string held = ModelLabels(kHeld);
  // Recorded before the answer was sent; the scrape needs no retry, but a
  // bounded one costs nothing.
  const Samples s = ScrapeUntil(server_->metrics_port(), [&](const Samples& samples) {
    return ValueOr(samples, Series("mlpserve_queue_duration_seconds_count", held)) >= 1;
  });
  EXPECT_EQ(ValueOr(s, Series("mlpserve_queue_duration_seconds_count", held)), 1);
  EXPECT_GT(ValueOr(s, Series("mlpserve_queue_duration_seconds_sum", held)), 0);
  EXPECT_EQ(ValueOr(s, Series("mlpserve_request_duration_seconds_count", held)), 1);
  EXPECT_EQ(ValueOr(s, Series("mlpserve_requests_total", "code=\"DEADLINE_EXCEEDED\"," + held)), 1);
  EXPECT_EQ(ValueOr(s, Series("mlpserve_inferences_total", held)), 0);
}

// Where the window starts (rows before it) after `batches` were observed in
// order, by the contract of activation_tracker.h: the shortest run of most
// recent batches holding at least `window` rows, or every batch while they
// hold fewer.
int64_t WindowStart(const std::vector<int64_t>& batches, int64_t window) {
  int64_t total = 0;
  for (int64_t rows : batches) total += rows;
  int64_t in_window = 0;
  for (auto it = batches.rbegin(); it != batches.rend() && in_window < window; ++it) {
    in_window += *it;
  }
  return total - in_window;
}

TEST_F(EndToEndMetricsTest, NegativeRatioAndDeadUnitsFollowTheWindow) {
  // Batches A, B, C, D of 4, 4, 4 and 3 rows, one at a time, on a window of
  // 8 rows. Feature 0, the sign of layer 0's unit 0, is positive in every
  // row of A, negative in B and C, and positive in the first row of D.
  const std::vector<int64_t> batches = {4, 4, 4, 3};
  constexpr int64_t kTotal = 15;
  std::vector<float> pool = ProbeRows(kTotal, 7);
  for (int64_t r = 0; r < kTotal; ++r) {
    float& x0 = pool[r * kProbeFeatures];
    x0 = (r < 4 || r == 12) ? std::fabs(x0) : -std::fabs(x0);
  }
  ASSERT_GT(ReferenceSigns(pool.data(), kTotal).min_abs, 0.02);

  auto stub = server_->NewStub();
  std::vector<int64_t> sent_batches;
  std::vector<ProbeSigns> windows;
  int64_t sent = 0;
  for (int64_t rows : batches) {
    ASSERT_EQ(InferRows(*stub, kWindowed, pool, sent, rows), grpc::StatusCode::OK);
    sent += rows;
    sent_batches.push_back(rows);
    // The next batch goes out once this one is counted: the window sees
    // them in the order sent.
    const Samples s = ScrapeUntil(server_->metrics_port(), [&](const Samples& samples) {
      return RowsCounted(samples, kWindowed, sent);
    });
    const int64_t first = WindowStart(sent_batches, kWindowRows);
    windows.push_back(ReferenceSigns(pool.data() + first * kProbeFeatures, sent - first));
    SCOPED_TRACE("after " + std::to_string(sent_batches.size()) + " batches");
    ExpectActivations(kWindowed, s, ReferenceSigns(pool.data(), sent), windows.back(), kWindowRows);
  }
  // What the batches were chosen for: after A the window (4 rows) is not
  // full, so nothing is judged; after C the window is B and C, where
  // unit 0 of layer 0 is dead although it was positive in A; after D (window
  // B, C, D: 11 rows) it is alive again.
  ASSERT_EQ(windows.size(), 4u);
  EXPECT_EQ(windows[0].rows, 4);
  EXPECT_EQ(windows[1].rows, 8);
  EXPECT_FALSE(windows[1].Dead(0)[0]);
  EXPECT_EQ(windows[2].rows, 8);
  EXPECT_TRUE(windows[2].Dead(0)[0]);
  EXPECT_EQ(windows[3].rows, 11);
  EXPECT_FALSE(windows[3].Dead(0)[0]);
}

}  // namespace
}  // namespace mlpserve::testing
