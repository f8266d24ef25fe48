// A queued ModelInfer whose deadline passes, or whose call the client
// cancels, is answered without being computed, over real loopback gRPC.
// The model's queue delay (10 minutes) keeps both calls queued: only the
// deadline and the cancellation can end them, not time or another request.
// The scheduler-level rules (which request is dropped when) are unit-tested
// with an injected clock in tests/scheduler; this test checks the wiring:
// the client's deadline and cancellation reach the queue, and the server's
// statistics show the calls failed and nothing was computed.
#include <chrono>
#include <cmath>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/cleanup/cleanup.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "grpcpp/client_context.h"
#include "gtest/gtest.h"
#include "server/model/onnx_import.h"
#include "server/repository/model_stats.h"
#include "server/repository/servable_model.h"
#include "tests/support/infer_messages.h"
#include "tests/support/reference_mlp.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_server.h"

namespace mlpserve::testing {
namespace {

namespace fs = std::filesystem;

constexpr int kFeatures = 64;  // the bundled leaky_mlp's
constexpr int kMaxBatch = 64;

// One asynchronous ModelInfer; `done` is set by its callback.
struct Call {
  grpc::ClientContext context;
  inference::ModelInferRequest request;
  inference::ModelInferResponse response;
  absl::Mutex mu;
  bool done ABSL_GUARDED_BY(mu) = false;
  grpc::Status status ABSL_GUARDED_BY(mu);

  void Start(inference::GRPCInferenceService::Stub& stub) {
    stub.async()->ModelInfer(&context, &request, &response, [this](grpc::Status s) {
      absl::MutexLock lock(&mu);
      status = std::move(s);
      done = true;
    });
  }
  // The call's status once its callback ran (bounded wait).
  grpc::Status Wait() {
    absl::MutexLock lock(&mu);
    mu.AwaitWithTimeout(absl::Condition(&done), absl::Seconds(60));
    EXPECT_TRUE(done) << "the call never ended";
    return status;
  }
};

class QueuedCallTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = MakeTempDir("queued_repo");
    AddModelWithBundledWeights(
        root_, "held", "leaky_mlp",
        "max_batch_size: " + std::to_string(kMaxBatch) +
            "\ndynamic_batching { max_queue_delay_microseconds: 600000000 }\n");
    // Triton's queue policy: a 1 ms bound on every request's wait that a
    // request cannot change; and no bound that a request may not set.
    AddModelWithBundledWeights(root_, "policed", "leaky_mlp",
                               "dynamic_batching { max_queue_delay_microseconds: 600000000 "
                               "default_queue_policy { default_timeout_microseconds: 1000 } }\n");
    AddModelWithBundledWeights(root_, "unbounded", "leaky_mlp",
                               "dynamic_batching { max_queue_delay_microseconds: 600000000 "
                               "default_queue_policy { allow_timeout_override: false } }\n");
    absl::StatusOr<std::unique_ptr<TestServer>> server = TestServer::Start(root_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    stub_ = server_->NewStub();
  }
  void TearDown() override {
    server_.reset();
    fs::remove_all(root_);
  }

  ModelStatsSnapshot Stats(const std::string& name = "held") {
    absl::StatusOr<std::shared_ptr<const ServableModel>> model =
        server_->repository().Get(name, "");
    EXPECT_TRUE(model.ok()) << model.status();
    return model.ok() ? (*model)->stats().Snapshot() : ModelStatsSnapshot{};
  }
  size_t QueueDepth(const std::string& name = "held") {
    absl::StatusOr<std::shared_ptr<const ServableModel>> model =
        server_->repository().Get(name, "");
    return model.ok() ? (*model)->scheduler().queue_depth() : 0;
  }
  // Polls `condition` for up to 60 s; true once it holds.
  template <typename Condition>
  static bool Eventually(Condition condition) {
    const absl::Time give_up = absl::Now() + absl::Seconds(60);
    while (!condition()) {
      if (absl::Now() > give_up) return false;
      absl::SleepFor(absl::Milliseconds(1));
    }
    return true;
  }

  std::string root_;
  std::unique_ptr<TestServer> server_;
  std::unique_ptr<inference::GRPCInferenceService::Stub> stub_;
};

TEST_F(QueuedCallTest, ExpiredAndCancelledCallsAreAnsweredWithoutBeingComputed) {
  const std::vector<float> row(kFeatures, 0.5f);
  // `expiring` gives up after 300 ms; `cancelled` would wait a minute, but
  // its client cancels it once both are queued.
  Call expiring, cancelled;
  expiring.request = MakeInferRequest("held", row, 1);
  expiring.context.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(300));
  cancelled.request = MakeInferRequest("held", row, 1);
  cancelled.context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  expiring.Start(*stub_);
  cancelled.Start(*stub_);
  // On any way out, the calls end before the server and stub they use, and
  // a request left queued (a failure) is flushed rather than waiting out
  // the 10 minute delay in the server's shutdown.
  absl::Cleanup end_calls = [&] {
    cancelled.context.TryCancel();
    expiring.Wait();
    cancelled.Wait();
    server_->repository().Drain();
  };
  ASSERT_TRUE(Eventually([&] { return QueueDepth() == 2; })) << "queue depth " << QueueDepth();
  cancelled.context.TryCancel();

  EXPECT_EQ(cancelled.Wait().error_code(), grpc::StatusCode::CANCELLED);
  EXPECT_EQ(expiring.Wait().error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  // The server's side: at the expiring call's deadline its executor takes
  // both out of the queue and answers them as failed, computing nothing.
  ASSERT_TRUE(Eventually([&] { return Stats().fail_count == 2; }))
      << "server-side failures: " << Stats().fail_count;
  EXPECT_EQ(QueueDepth(), 0u);
  ModelStatsSnapshot dropped = Stats();
  EXPECT_EQ(dropped.success_count, 0u);
  EXPECT_EQ(dropped.execution_count, 0u);
  EXPECT_EQ(dropped.inference_count, 0u);
  EXPECT_EQ(dropped.compute_count, 0u);

  // The model still serves: a full batch starts at once, alone, and its
  // rows are the reference's.
  std::vector<float> full(kMaxBatch * kFeatures);
  for (size_t i = 0; i < full.size(); ++i) full[i] = std::sin(0.37f * static_cast<float>(i));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  inference::ModelInferResponse response;
  ASSERT_TRUE(
      stub_->ModelInfer(&context, MakeInferRequest("held", full, kMaxBatch), &response).ok());
  absl::StatusOr<Mlp> mlp = ImportOnnxFile(root_ + "/held/1/model.onnx");
  ASSERT_TRUE(mlp.ok()) << mlp.status();
  const std::vector<float> want = ReferenceForward(*mlp, full, kMaxBatch);
  const std::vector<float> got = RawOutput(response);
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    ASSERT_NEAR(got[i], want[i], 1e-5 * std::max(1.f, std::fabs(want[i]))) << "element " << i;
  }
  // The executor counts the execution once it has answered the batch
  // (BatchObserver::OnBatch runs after the answers), so the count can trail
  // the response by a moment.
  ASSERT_TRUE(Eventually([&] { return Stats().execution_count == 1; }))
      << "executions: " << Stats().execution_count;
  const ModelStatsSnapshot after = Stats();
  EXPECT_EQ(after.inference_count, static_cast<uint64_t>(kMaxBatch));
  EXPECT_EQ(after.fail_count, 2u);
}

// A cancelled call alone in the queue leaves it at once: nothing else (no
// deadline within the test's bounds, no other request, no full queue) makes
// the executor look at the queue before the 10 minute delay ends, so only
// the cancellation's own notice (the reactor's OnCancel) can take it out
// and free its request.
// The request's "timeout" parameter (Triton's queue timeout) bounds its wait
// like a deadline: it ends DEADLINE_EXCEEDED from the server, long before the
// client's own deadline, without being computed.
TEST_F(QueuedCallTest, TimeoutParameterEndsAQueuedCall) {
  Call call;
  call.context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(50));
  call.request = MakeInferRequest("held", std::vector<float>(kFeatures, 0.5f), 1);
  (*call.request.mutable_parameters())["timeout"].set_int64_param(1000);  // 1 ms
  call.Start(*stub_);
  const grpc::Status status = call.Wait();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << status.error_message();
  // The server's answer (it names the model), not the client's own deadline.
  EXPECT_THAT(status.error_message(), ::testing::HasSubstr("model 'held:1': deadline exceeded"));
  EXPECT_EQ(Stats().execution_count, 0u);
}

// dynamic_batching.default_queue_policy's default_timeout_microseconds
// bounds the wait of a request that asks for nothing, and of one that asks
// for longer without allow_timeout_override.
TEST_F(QueuedCallTest, QueuePolicyTimeoutEndsAQueuedCall) {
  for (const int64_t requested : {int64_t{0}, int64_t{30'000'000}}) {
    Call call;
    call.context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(50));
    call.request = MakeInferRequest("policed", std::vector<float>(kFeatures, 0.5f), 1);
    if (requested > 0) (*call.request.mutable_parameters())["timeout"].set_int64_param(requested);
    const absl::Time start = absl::Now();
    call.Start(*stub_);
    const grpc::Status status = call.Wait();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << status.error_message();
    EXPECT_THAT(status.error_message(),
                ::testing::HasSubstr("model 'policed:1': deadline exceeded"));
    // The policy's 1 ms, not the 30 s asked for (a bound far from both, not a
    // timing check).
    EXPECT_LT(absl::Now() - start, absl::Seconds(15)) << "requested " << requested << " us";
  }
  EXPECT_EQ(Stats("policed").execution_count, 0u);
}

// Without allow_timeout_override a request's own "timeout" does not apply:
// 200 ms after a 1 ms timeout the request still waits in the queue (where
// an applied timeout would have ended it within a millisecond or two), until
// its client cancels it.
TEST_F(QueuedCallTest, RequestTimeoutIsIgnoredWithoutOverride) {
  Call call;
  call.context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(50));
  call.request = MakeInferRequest("unbounded", std::vector<float>(kFeatures, 0.5f), 1);
  (*call.request.mutable_parameters())["timeout"].set_int64_param(1000);  // 1 ms
  call.Start(*stub_);
  absl::Cleanup end_call = [&] {
    call.context.TryCancel();
    call.Wait();
    server_->repository().Drain();
  };
  ASSERT_TRUE(Eventually([&] { return QueueDepth("unbounded") == 1; }));
  absl::SleepFor(absl::Milliseconds(200));
  EXPECT_EQ(QueueDepth("unbounded"), 1u);
  call.context.TryCancel();
  EXPECT_EQ(call.Wait().error_code(), grpc::StatusCode::CANCELLED);
}

TEST_F(QueuedCallTest, CancelledCallLeavesTheQueueAtOnce) {
  const std::vector<float> row(kFeatures, 0.5f);
  Call cancelled;
  cancelled.request = MakeInferRequest("held", row, 1);
  // Beyond Eventually's 60 s: the deadline must not be what ends the call.
  cancelled.context.set_deadline(std::chrono::system_clock::now() + std::chrono::minutes(5));
  cancelled.Start(*stub_);
  absl::Cleanup end_call = [&] {
    cancelled.context.TryCancel();
    cancelled.Wait();
    server_->repository().Drain();
  };
  ASSERT_TRUE(Eventually([&] { return QueueDepth() == 1; })) << "queue depth " << QueueDepth();
  cancelled.context.TryCancel();
  EXPECT_EQ(cancelled.Wait().error_code(), grpc::StatusCode::CANCELLED);
  // The server answered it (a failure, nothing computed) and the queue is
  // empty, long before the queue delay.
  ASSERT_TRUE(Eventually([&] { return Stats().fail_count == 1; }))
      << "server-side failures: " << Stats().fail_count;
  EXPECT_EQ(QueueDepth(), 0u);
  EXPECT_EQ(Stats().execution_count, 0u);
}

}  // namespace
}  // namespace mlpserve::testing
