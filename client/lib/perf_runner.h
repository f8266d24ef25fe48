// PerfRunner: a load generator in the style of Triton's perf_analyzer.
//
// It drives gRPC's callback API (stub->async()->ModelInfer/ServerLive), so
// completions arrive on gRPC's own small thread pool and one process can keep
// hundreds of requests in flight without a thread per request.
//
//  * Closed loop (LevelSpec::request_rate == 0): `concurrency` requests are
//    in flight at all times; each completion immediately issues the next.
//  * Open loop (request_rate > 0): requests leave on a fixed schedule of R/s
//    whatever the server does; at most max_in_flight are outstanding, and a
//    request due while that many are out is counted in `not_sent`.
//
// A level is bounded by `requests` (exactly that many are sent) or else by
// `duration`; every request carries Options::deadline, so a level always
// ends. Requests already in flight when time is up are waited for and
// counted. Warm-up requests are sent first and not counted.
//
// Thread-safety: RunLevel blocks the calling thread and may not be called
// concurrently on one runner. The progress callback runs on that thread.
#ifndef MLPSERVE_CLIENT_LIB_PERF_RUNNER_H_
#define MLPSERVE_CLIENT_LIB_PERF_RUNNER_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "client/lib/channel_security.h"
#include "client/lib/latency_stats.h"
#include "proto/inference.grpc.pb.h"

namespace mlpserve::client {

enum class PerfRpc { kInfer, kLive };

struct LevelSpec {
  int concurrency = 1;                        // Closed loop: requests kept in flight. >= 1.
  double request_rate = 0;                    // > 0: open loop at this many requests/s.
  int max_in_flight = 1024;                   // Open loop only: cap on outstanding requests.
  int64_t requests = 0;                       // > 0: send exactly this many; duration unused.
  std::chrono::milliseconds duration{10000};  // When requests == 0.
  std::chrono::milliseconds warmup{0};        // Uncounted warm-up first.
};

struct LevelResult {
  LevelSpec spec;
  int64_t successes = 0;
  int64_t errors = 0;
  std::map<std::string, int64_t> errors_by_code;  // "DEADLINE_EXCEEDED" -> n.
  int64_t not_sent = 0;                           // Open loop: due while max_in_flight were out.
  double elapsed_s = 0;                           // First send to last completion.
  double requests_per_s = 0;                      // Successes per second.
  double rows_per_s = 0;                          // Successes x rows_per_request per second.
  LatencySummary latency;                         // Of successful requests only.
  int64_t warmup_requests = 0;  // Completed in the uncounted warm-up before the level.
  // CPU time (user + system, every thread) this process spent during the
  // measured run: what the load generator itself costs per request, which on
  // a machine it shares with the server is taken from the server.
  double client_cpu_s = 0;
};

// Snapshot handed to the progress callback about once per second.
struct PerfProgress {
  double elapsed_s = 0;
  int64_t completed = 0;
  int64_t errors = 0;
  int64_t in_flight = 0;
};

class PerfRunner {
 public:
  struct Options {
    std::string target = "localhost:8001";  // host:port
    TlsFiles tls;                           // plaintext unless set
    std::string token;  // sent as `authorization: Bearer <token>` when non-empty
    PerfRpc rpc = PerfRpc::kInfer;
    // The request every kInfer call sends (built once, shared read-only).
    inference::ModelInferRequest request;
    int64_t rows_per_request = 1;               // For rows/s.
    std::chrono::milliseconds deadline{10000};  // Per request.
    int connections = 1;                        // Separate channels (TCP connections), round-robin.
  };
  using ProgressFn = std::function<void(const PerfProgress&)>;

  // Validates the options and creates the channels (connected lazily).
  static absl::StatusOr<std::unique_ptr<PerfRunner>> Create(Options options);

  // Runs one level (warm-up, then the measured run) and blocks until every
  // request it sent has completed. Errors only on an invalid spec; failed
  // requests are counted in the result, not returned.
  absl::StatusOr<LevelResult> RunLevel(const LevelSpec& spec, const ProgressFn& progress = nullptr);

 private:
  class Phase;
  PerfRunner(Options options, const ChannelSecurity& security);

  Options options_;
  std::vector<std::unique_ptr<inference::GRPCInferenceService::Stub>> stubs_;
};

}  // namespace mlpserve::client

#endif  // MLPSERVE_CLIENT_LIB_PERF_RUNNER_H_
