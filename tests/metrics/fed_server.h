// A MetricsRegistry with one model version ("tiny", version 1, SmallMlp,
// window 4 rows) fed a known sequence of batches and requests, served by a
// MetricsHttpServer on 127.0.0.1:0. Expected values are in Feed()'s comment.
#ifndef MLPSERVE_TESTS_METRICS_FED_SERVER_H_
#define MLPSERVE_TESTS_METRICS_FED_SERVER_H_

#include <memory>

#include "gtest/gtest.h"
#include "server/metrics/http_server.h"
#include "server/metrics/metrics_registry.h"
#include "tests/metrics/metrics_test_util.h"

namespace mlpserve::testing {

class FedServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<MetricsRegistry>> registry = MetricsRegistry::Create();
    ASSERT_TRUE(registry.ok()) << registry.status();
    registry_ = *std::move(registry);
    ActivationStats stats;
    stats.set_enabled(true);
    stats.set_dead_window_rows(4);  // the first batch fills it
    model_ = registry_->AddModel("tiny", 1, SmallMlp(), stats);
    absl::StatusOr<std::unique_ptr<MetricsHttpServer>> http =
        MetricsHttpServer::Create("127.0.0.1:0", registry_.get());
    ASSERT_TRUE(http.ok()) << http.status();
    http_ = *std::move(http);
    ASSERT_GT(http_->port(), 0);
    Feed();
  }

  // Two batches: 4 rows OK (2 ms, activation counts: layer 0 units positive
  // in 4/0/4 rows, layer 1 all positive), 2 rows failed (1 ms, unsampled).
  // Requests: 2 x OK (3 ms total, 0.5 ms queue), 1 x INVALID_ARGUMENT
  // (0.1 ms, refused); one unrouted NOT_FOUND. Queue depth 3, ready.
  void Feed() {
    BatchActivationCounts counts = SmallCounts(4, {{4, 0, 4}, {4, 4, 4, 4, 4}});
    BatchReport ok;
    ok.rows = 4;
    ok.requests = 2;
    ok.compute = absl::Milliseconds(2);
    ok.activations = &counts;
    model_->OnBatch(ok);
    BatchReport failed;
    failed.rows = 2;
    failed.requests = 1;
    failed.compute = absl::Milliseconds(1);
    failed.status = absl::InternalError("engine");
    model_->OnBatch(failed);
    InferTiming timing;
    timing.queue = absl::Microseconds(500);
    timing.compute = absl::Milliseconds(2);
    timing.batch_rows = 4;
    constexpr auto kAdmitted = ModelMetrics::Admission::kAdmitted;
    model_->RecordRequest(absl::StatusCode::kOk, absl::Milliseconds(3), &timing, kAdmitted);
    model_->RecordRequest(absl::StatusCode::kOk, absl::Milliseconds(3), &timing, kAdmitted);
    model_->RecordRequest(absl::StatusCode::kInvalidArgument, absl::Microseconds(100), nullptr,
                          ModelMetrics::Admission::kRefused);
    registry_->RecordUnroutedRequest(absl::StatusCode::kNotFound);
    model_->OnQueueDepth(3);
    model_->SetReady(true);
  }

  std::string Scrape() {
    HttpResponse r = HttpGet(http_->port(), "/metrics");
    EXPECT_EQ(r.status, 200);
    return r.body;
  }

  std::unique_ptr<MetricsRegistry> registry_;
  std::unique_ptr<ModelMetrics> model_;
  std::unique_ptr<MetricsHttpServer> http_;
};

}  // namespace mlpserve::testing

#endif  // MLPSERVE_TESTS_METRICS_FED_SERVER_H_
