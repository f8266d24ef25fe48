#include "client/lib/perf_runner.h"

#include "client/lib/infer_codec.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/client/fake_inference_server.h"

namespace mlpserve::client {
namespace {

using ::testing::ElementsAre;
using testing::FakeInferenceServer;
using ::testing::Pair;

std::unique_ptr<PerfRunner> MakeRunner(const std::string& target, PerfRpc rpc,
                                       int connections = 1) {
  PerfRunner::Options options;
  options.target = target;
  options.rpc = rpc;
  options.request = *BuildInferRequest({"double", "", "perf", false},
                                       RandomInput("x", 8, FakeInferenceServer::kFeatures, 3));
  options.rows_per_request = 8;
  options.deadline = std::chrono::seconds(10);
  options.connections = connections;
  absl::StatusOr<std::unique_ptr<PerfRunner>> runner = PerfRunner::Create(std::move(options));
  EXPECT_TRUE(runner.ok()) << runner.status();
  return runner.ok() ? std::move(*runner) : nullptr;
}

TEST(PerfRunnerTest, ExactRequestCountAtConcurrency4) {
  FakeInferenceServer server;
  auto runner = MakeRunner(server.address(), PerfRpc::kInfer, /*connections=*/2);
  LevelSpec spec;
  spec.concurrency = 4;
  spec.requests = 200;
  absl::StatusOr<LevelResult> r = runner->RunLevel(spec);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->successes, 200);
  EXPECT_EQ(r->errors, 0);
  EXPECT_EQ(r->latency.count, 200);
  EXPECT_EQ(server.infer_calls(), 200);
  EXPECT_GT(r->requests_per_s, 0);
  EXPECT_DOUBLE_EQ(r->rows_per_s, r->requests_per_s * 8);
  EXPECT_LE(r->latency.p50_ms, r->latency.p99_ms);
  EXPECT_LE(r->latency.p99_ms, r->latency.max_ms);
  EXPECT_EQ(r->warmup_requests, 0);
  EXPECT_GT(r->client_cpu_s, 0);
}

TEST(PerfRunnerTest, CountsErrorsByCode) {
  FakeInferenceServer server;
  server.FailEvery(4, grpc::StatusCode::UNAVAILABLE);
  auto runner = MakeRunner(server.address(), PerfRpc::kInfer);
  LevelSpec spec;
  spec.concurrency = 4;
  spec.requests = 200;
  absl::StatusOr<LevelResult> r = runner->RunLevel(spec);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->successes, 150);
  EXPECT_EQ(r->errors, 50);
  EXPECT_THAT(r->errors_by_code, ElementsAre(Pair("UNAVAILABLE", 50)));
  EXPECT_EQ(r->latency.count, 150);
}

TEST(PerfRunnerTest, LiveRpcWithWarmupAndProgress) {
  FakeInferenceServer server;
  auto runner = MakeRunner(server.address(), PerfRpc::kLive);
  LevelSpec spec;
  spec.concurrency = 2;
  spec.requests = 50;
  spec.warmup = std::chrono::milliseconds(100);
  absl::StatusOr<LevelResult> r = runner->RunLevel(spec, [](const PerfProgress&) {});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->successes, 50);
  EXPECT_EQ(server.infer_calls(), 0);
}

TEST(PerfRunnerTest, WarmupRequestsAreCountedApart) {
  FakeInferenceServer server;
  auto runner = MakeRunner(server.address(), PerfRpc::kInfer);
  LevelSpec spec;
  spec.concurrency = 2;
  spec.requests = 40;
  spec.warmup = std::chrono::milliseconds(100);
  absl::StatusOr<LevelResult> r = runner->RunLevel(spec);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->successes, 40);
  EXPECT_GT(r->warmup_requests, 0);
  EXPECT_EQ(server.infer_calls(), 40 + r->warmup_requests);
}

TEST(PerfRunnerTest, DurationBoundedClosedLoopEnds) {
  FakeInferenceServer server;
  auto runner = MakeRunner(server.address(), PerfRpc::kInfer);
  LevelSpec spec;
  spec.concurrency = 3;
  spec.duration = std::chrono::milliseconds(300);
  absl::StatusOr<LevelResult> r = runner->RunLevel(spec);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_GT(r->successes, 0);
  EXPECT_EQ(r->successes + r->errors, server.infer_calls());
}

TEST(PerfRunnerTest, OpenLoopSendsScheduledCount) {
  FakeInferenceServer server;
  auto runner = MakeRunner(server.address(), PerfRpc::kInfer);
  LevelSpec spec;
  spec.request_rate = 500;
  spec.requests = 60;
  absl::StatusOr<LevelResult> r = runner->RunLevel(spec);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->successes + r->not_sent, 60);
  EXPECT_EQ(r->successes, server.infer_calls());
}

TEST(PerfRunnerTest, RejectsBadSpecs) {
  FakeInferenceServer server;
  auto runner = MakeRunner(server.address(), PerfRpc::kInfer);
  LevelSpec spec;
  spec.concurrency = 0;
  EXPECT_EQ(runner->RunLevel(spec).status().code(), absl::StatusCode::kInvalidArgument);
  spec.concurrency = 1;
  spec.duration = std::chrono::milliseconds(0);
  EXPECT_EQ(runner->RunLevel(spec).status().code(), absl::StatusCode::kInvalidArgument);
  PerfRunner::Options no_model;
  EXPECT_FALSE(PerfRunner::Create(no_model).ok());
}

}  // namespace
}  // namespace mlpserve::client
