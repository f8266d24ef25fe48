// GracefulShutdown (server/rpc/graceful_shutdown.h) in-process over real
// loopback gRPC, with calls in flight. They wait on a model whose queue delay
// (10 minutes) only the drain can cut short, so each one completes because
// of the shutdown sequence, not because time passed. Part of make tsan (the
// e2e SIGTERM test runs the binary as a child process, which TSan skips).
#include "server/rpc/graceful_shutdown.h"

#include <atomic>
#include <cmath>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "proto/health.grpc.pb.h"
#include "server/model/onnx_import.h"
#include "tests/support/infer_messages.h"
#include "tests/support/reference_mlp.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_server.h"

namespace mlpserve::testing {
namespace {

namespace fs = std::filesystem;

constexpr int kFeatures = 64;  // the bundled leaky_mlp's
constexpr int kThreads = 4;
constexpr int kCallsPerThread = 4;
constexpr int kCalls = kThreads * kCallsPerThread;
// Rows of call `i`: 1 to 3, 31 in all, below max_batch_size 64, so the
// batch is never full and nothing starts before the drain.
int64_t RowsOf(int i) { return 1 + i % 3; }

// Whether `response` holds exactly the reference's answer to `input`.
bool MatchesReference(const Mlp& mlp, const std::vector<float>& input, int64_t rows,
                      const inference::ModelInferResponse& response) {
  if (response.raw_output_contents_size() != 1) return false;
  const std::vector<float> got = RawOutput(response);
  const std::vector<float> want = ReferenceForward(mlp, input, rows);
  if (got.size() != want.size()) return false;
  for (size_t i = 0; i < got.size(); ++i) {
    if (std::fabs(got[i] - want[i]) > 1e-5 * std::max(1.f, std::fabs(want[i]))) return false;
  }
  return true;
}

// One asynchronous ModelInfer; its members live until the callback ran.
struct Call {
  std::vector<float> input;
  int64_t rows = 0;
  grpc::ClientContext context;
  inference::ModelInferRequest request;
  inference::ModelInferResponse response;
  grpc::Status status;
};

class InferenceServiceShutdownTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = MakeTempDir("shutdown_repo");
    AddModelWithBundledWeights(
        root_, "held", "leaky_mlp",
        "max_batch_size: 64\ndynamic_batching { max_queue_delay_microseconds: 600000000 }\n");
    absl::StatusOr<Mlp> mlp = ImportOnnxFile(root_ + "/held/1/model.onnx");
    ASSERT_TRUE(mlp.ok()) << mlp.status();
    mlp_ = std::make_unique<Mlp>(*std::move(mlp));

    absl::StatusOr<std::unique_ptr<TestServer>> server = TestServer::Start(root_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    ASSERT_TRUE(server_->repository().Get("held", "").ok());
  }
  void TearDown() override {
    server_.reset();  // shuts down (within 5 s) if the test did not
    fs::remove_all(root_);
  }

  // Requests waiting in the model's queue.
  size_t QueueDepth() const {
    absl::StatusOr<std::shared_ptr<const ServableModel>> model =
        server_->repository().Get("held", "");
    return model.ok() ? (*model)->scheduler().queue_depth() : 0;
  }

  std::string root_;
  std::unique_ptr<Mlp> mlp_;
  std::unique_ptr<TestServer> server_;
};

TEST_F(InferenceServiceShutdownTest, AnswersEveryQueuedCallThenRefusesNewOnes) {
  std::vector<std::unique_ptr<Call>> calls;
  for (int i = 0; i < kCalls; ++i) {
    auto call = std::make_unique<Call>();
    call->rows = RowsOf(i);
    call->input.resize(call->rows * kFeatures);
    for (size_t k = 0; k < call->input.size(); ++k) call->input[k] = std::sin(float(i * 131 + k));
    call->request = MakeInferRequest("held", call->input, call->rows);
    call->context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(120));
    calls.push_back(std::move(call));
  }
  absl::Mutex mu;
  int answered = 0;  // guarded by mu
  // Several threads, each with its own channel, put their calls in flight.
  std::vector<std::unique_ptr<inference::GRPCInferenceService::Stub>> stubs;
  for (int t = 0; t < kThreads; ++t) stubs.push_back(server_->NewStub());
  std::vector<std::thread> senders;
  for (int t = 0; t < kThreads; ++t) {
    senders.emplace_back([&, t] {
      for (int i = t * kCallsPerThread; i < (t + 1) * kCallsPerThread; ++i) {
        Call& call = *calls[i];
        stubs[t]->async()->ModelInfer(&call.context, &call.request, &call.response,
                                      [&mu, &answered, &call](grpc::Status status) {
                                        absl::MutexLock lock(&mu);
                                        call.status = std::move(status);
                                        ++answered;
                                      });
      }
    });
  }
  for (std::thread& t : senders) t.join();
  // On every way out of this test (a failed ASSERT too) the calls end
  // before what they point to: without a drain the queued ones would wait
  // out their 10 minute delay.
  bool (*all_answered)(int*) = [](int* n) { return *n == kCalls; };
  absl::Cleanup end_calls = [&] {
    server_->repository().Drain();
    server_->grpc_server().Shutdown(absl::ZeroDuration());
    absl::MutexLock lock(&mu);
    mu.AwaitWithTimeout(absl::Condition(all_answered, &answered), absl::Seconds(60));
  };

  // Bounded wait until the server holds all of them in the queue.
  const absl::Time give_up = absl::Now() + absl::Seconds(60);
  while (QueueDepth() < static_cast<size_t>(kCalls) && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  ASSERT_EQ(QueueDepth(), static_cast<size_t>(kCalls));
  {
    absl::MutexLock lock(&mu);
    ASSERT_EQ(answered, 0) << "a batch started before the shutdown";
  }

  // Meanwhile a client on a connected channel keeps calling: each of its
  // calls must be answered correctly or refused (UNAVAILABLE, or CANCELLED
  // by gRPC when it races the start of the shutdown), never computed and
  // its answer lost. How many land on each side is up to timing.
  absl::StatusOr<std::shared_ptr<const ServableModel>> held = server_->repository().Get("held", "");
  ASSERT_TRUE(held.ok()) << held.status();
  const std::unique_ptr<inference::GRPCInferenceService::Stub> probe_stub = server_->NewStub();
  {
    grpc::ClientContext context;
    inference::ServerLiveResponse live;
    ASSERT_TRUE(probe_stub->ServerLive(&context, {}, &live).ok());
  }
  std::atomic<bool> shut_down{false};
  int probes_ok = 0;
  std::vector<std::string> probe_failures;
  std::thread prober([&] {
    const std::vector<float> input(kFeatures, 0.25f);
    while (!shut_down.load()) {
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
      inference::ModelInferResponse response;
      const grpc::Status status =
          probe_stub->ModelInfer(&context, MakeInferRequest("held", input, 1), &response);
      if (status.ok() && MatchesReference(*mlp_, input, 1, response)) {
        ++probes_ok;
      } else if (status.error_code() == grpc::StatusCode::UNAVAILABLE ||
                 status.error_code() == grpc::StatusCode::CANCELLED) {
        continue;
      } else {
        probe_failures.push_back(std::to_string(status.error_code()) + " " +
                                 status.error_message());
      }
    }
  });

  EXPECT_TRUE(GracefulShutdown(server_->service(), server_->repository(), /*controller=*/nullptr,
                               server_->grpc_server(), absl::Seconds(60)));
  shut_down = true;
  prober.join();
  EXPECT_THAT(probe_failures, ::testing::IsEmpty());
  // The server computed exactly the calls whose clients got their answer.
  const ModelStatsSnapshot stats = (*held)->stats().Snapshot();
  EXPECT_EQ(stats.success_count, static_cast<uint64_t>(kCalls + probes_ok));
  EXPECT_EQ(stats.fail_count, 0u);
  held->reset();

  // The server answered every call before it returned; the clients'
  // callbacks may still be on their way.
  {
    absl::MutexLock lock(&mu);
    ASSERT_TRUE(mu.AwaitWithTimeout(absl::Condition(all_answered, &answered), absl::Seconds(60)))
        << answered << " of " << kCalls << " calls answered";
  }
  for (int i = 0; i < kCalls; ++i) {
    SCOPED_TRACE("call " + std::to_string(i));
    const Call& call = *calls[i];
    ASSERT_TRUE(call.status.ok()) << call.status.error_code() << " " << call.status.error_message();
    EXPECT_EQ(call.response.model_version(), "1");
    EXPECT_TRUE(MatchesReference(*mlp_, call.input, call.rows, call.response));
  }

  // After the shutdown a call on a channel that was connected is refused.
  std::vector<float> input(kFeatures, 0.5f);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  inference::ModelInferResponse response;
  EXPECT_EQ(
      stubs[0]->ModelInfer(&context, MakeInferRequest("held", input, 1), &response).error_code(),
      grpc::StatusCode::UNAVAILABLE);
}

// An open grpc.health.v1.Health/Watch stream (a client-side health check, a
// load balancer's probe) never ends by itself. The shutdown ends it (its
// client sees NOT_SERVING, then UNAVAILABLE) instead of waiting for it: with
// gRPC 1.51's built-in health service it held grpc::Server::Shutdown until
// the grace deadline and GracefulShutdown reported calls as cancelled.
TEST_F(InferenceServiceShutdownTest, OpenHealthWatchEndsAndCancelsNothing) {
  using grpc::health::v1::HealthCheckResponse;
  auto health = grpc::health::v1::Health::NewStub(
      grpc::CreateChannel(server_->grpc_target(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(120));
  std::unique_ptr<grpc::ClientReader<HealthCheckResponse>> watch =
      health->Watch(&context, grpc::health::v1::HealthCheckRequest());
  HealthCheckResponse response;
  ASSERT_TRUE(watch->Read(&response));
  EXPECT_EQ(response.status(), HealthCheckResponse::SERVING);
  // A Watch of a name the server does not know stays open too until then.
  grpc::ClientContext unknown_context;
  unknown_context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(120));
  grpc::health::v1::HealthCheckRequest unknown_request;
  unknown_request.set_service("no.such.Service");
  std::unique_ptr<grpc::ClientReader<HealthCheckResponse>> unknown =
      health->Watch(&unknown_context, unknown_request);
  ASSERT_TRUE(unknown->Read(&response));
  EXPECT_EQ(response.status(), HealthCheckResponse::SERVICE_UNKNOWN);

  // Far longer than the test may take: only the return value tells whether
  // a call was still running when it ended.
  EXPECT_TRUE(GracefulShutdown(server_->service(), server_->repository(), /*controller=*/nullptr,
                               server_->grpc_server(), absl::Seconds(30)));
  ASSERT_TRUE(watch->Read(&response));
  EXPECT_EQ(response.status(), HealthCheckResponse::NOT_SERVING);
  EXPECT_FALSE(watch->Read(&response));
  const grpc::Status ended = watch->Finish();
  EXPECT_EQ(ended.error_code(), grpc::StatusCode::UNAVAILABLE) << ended.error_message();
  EXPECT_EQ(ended.error_message(), "server is shutting down");
  EXPECT_FALSE(unknown->Read(&response));
  EXPECT_EQ(unknown->Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
}

}  // namespace
}  // namespace mlpserve::testing
