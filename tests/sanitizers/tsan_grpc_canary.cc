// make tsan's second self-check (run_tsan.sh): proves that ThreadSanitizer,
// with the TSAN_OPTIONS the tests run with, still sees memory accesses of
// code that gRPC's own (uninstrumented) threads call back into, as they call
// mlpserve's InferenceService handlers. An in-process callback server with a
// generic service answers unary calls from two client threads (waiting on a
// completion queue, as blocking stubs do); its handler bumps a counter that a
// third thread also bumps without a lock. run_tsan.sh requires a data race
// report on that counter (only the handler and that thread write it). The
// handler's other counter, under an absl::Mutex, only tallies the calls.
//
// Only the race is checked, not the absence of others: gRPC's bidi reactor
// code in <grpcpp/> (which this canary needs and mlpserve does not use) is
// compiled into the canary with TSan while libgrpc, which hands the reactor
// between threads, is not, and TSan may report that hand-off.
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "grpcpp/completion_queue.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/generic/async_generic_service.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "grpcpp/support/byte_buffer.h"

namespace {

absl::Mutex mu;
int guarded = 0;
int unguarded = 0;

// Reads one message, answers it with the same bytes, finishes.
class Echo : public grpc::ServerGenericBidiReactor {
 public:
  Echo() { StartRead(&message_); }
  void OnReadDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status::OK);
      return;
    }
    {
      absl::MutexLock lock(&mu);
      ++guarded;
    }
    ++unguarded;  // the race: also written by main()'s third thread
    StartWriteAndFinish(&message_, grpc::WriteOptions(), grpc::Status::OK);
  }
  void OnDone() override { delete this; }

 private:
  grpc::ByteBuffer message_;
};

class EchoService : public grpc::CallbackGenericService {
  grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext*) override {
    return new Echo;
  }
};

// One unary call the way generated blocking stubs make theirs: a completion
// queue the calling thread waits on.
bool Call(grpc::GenericStub& stub, int i) {
  const std::string text = "poke " + std::to_string(i);
  grpc::Slice slice(text);
  grpc::ByteBuffer request(&slice, 1);
  grpc::ByteBuffer response;
  grpc::ClientContext context;
  grpc::CompletionQueue cq;
  grpc::Status status;
  auto call = stub.PrepareUnaryCall(&context, "/canary.Canary/Echo", request, &cq);
  call->StartCall();
  call->Finish(&response, &status, reinterpret_cast<void*>(1));
  void* tag = nullptr;
  bool ok = false;
  const bool got = cq.Next(&tag, &ok);
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
  return got && status.ok();
}

}  // namespace

int main() {
  EchoService service;
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterCallbackGenericService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    std::fprintf(stderr, "cannot start the canary server\n");
    return 2;
  }
  auto channel =
      grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials());
  int failed = 0;
  absl::Mutex failed_mu;
  std::vector<std::thread> threads;
  for (int c = 0; c < 2; ++c) {
    threads.emplace_back([&, c] {
      grpc::GenericStub stub(channel);
      for (int i = 0; i < 50; ++i) {
        if (!Call(stub, c * 100 + i)) {
          absl::MutexLock lock(&failed_mu);
          ++failed;
        }
      }
    });
  }
  threads.emplace_back([] {
    for (int i = 0; i < 50; ++i) {
      ++unguarded;
      absl::SleepFor(absl::Milliseconds(2));
    }
  });
  for (std::thread& t : threads) t.join();
  server->Shutdown();
  server->Wait();
  std::printf("calls %d failed %d unguarded %d\n", guarded, failed, unguarded);
  return failed == 0 && guarded == 100 ? 0 : 1;
}
