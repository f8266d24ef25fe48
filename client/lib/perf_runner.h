// PerfRunner: a load generator in the style of Triton's perf_analyzer.
//
// It drives gRPC's callback API (stub->async()->ModelInfer/ServerLive), so
// completions arrive on gRPC's own small thread pool and one process can keep
// hundreds of requests in flight without a thread per request.
//
//  * Closed loop (LevelSpec::request_rate == 0): `concurrency` requests are
//    in flight at all times; each completion immediately issues the next.
//  * Open loop (request_rate > 0): requests leave on a fixed schedule of R/s
//    whatever the server does; at most max_in_flight are outstanding. A
//    request due while that many are out is counted in
//    `not_sent_max_in_flight`; every request the pacer has not sent by the
//    end of the window (it fell behind the schedule) in `not_sent_late`.
//    Nothing is sent once the window is over. A request's latency counts
//    from its due time, not from its send (sent_late, max_send_lag_ms).
//
// A level is bounded by `requests` or else by `duration`; every request
// carries Options::deadline, so a level always ends. Throughput and latency
// are measured over a window, as perf_analyzer does:
//
//  * --duration D: the window is [start, start + D], D exactly. Only requests
//    completing inside it count in successes/errors/latency, and req/s is
//    successes / D. The closed loop sends nothing after the window ends; the
//    open loop's schedule is every request due in [start, start + D)
//    (ceil(D x R) of them), each either sent or counted in `not_sent`. The
//    requests still in flight at the window's end are waited for and
//    reported apart, in LevelResult::drain, so one request stalled up to its
//    deadline at the end neither stretches the window nor enters the
//    percentiles.
//  * --requests N, closed loop: exactly N are sent and every one counts; the
//    window runs from the first send to the N-th (last) completion, so a slow
//    request among the N lengthens it: it is part of what was asked for.
//  * --requests N, open loop: N requests are due at k / R (k < N); the window
//    is [start, start + N / R], and completions after it are the drain, as
//    for --duration N / R.
//
// Warm-up requests are sent first and not counted.
//
// A phase (warm-up or measured run) stops early when every call completing
// for a second, and at least 20 calls in a row, failed UNAVAILABLE
// (LevelResult::unreachable): a server that
// is gone fails calls at once, and the closed loop would spin re-issuing
// them. An unreachable warm-up skips the measured run.
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
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "client/lib/channel_security.h"
#include "client/lib/latency_stats.h"
#include "client/lib/server_stats.h"
#include "proto/inference.grpc.pb.h"

namespace mlpserve::client {

enum class PerfRpc { kInfer, kLive };

struct LevelSpec {
  int concurrency = 1;       // Closed loop: requests kept in flight. >= 1.
  double request_rate = 0;   // > 0: open loop at this many requests/s.
  int max_in_flight = 1024;  // Open loop only: cap on outstanding requests.
  int64_t requests = 0;      // > 0: send exactly this many; duration unused.
  std::chrono::nanoseconds duration{std::chrono::seconds(10)};  // When requests == 0.
  std::chrono::nanoseconds warmup{0};                           // Uncounted warm-up first.
};

// Bounds on a LevelSpec. The open loop schedules one request per 1 / rate
// seconds on a nanosecond clock; a level (its duration, warm-up, or
// requests / rate) lasts at most a year, so every time and count computed
// from them fits the clock and int64.
inline constexpr double kMaxRequestRate = 1e9;
inline constexpr double kMaxLevelSeconds = 366.0 * 24 * 3600;

// OK, or INVALID_ARGUMENT naming the flag (--concurrency, --request-rate,
// --max-inflight, --requests, --duration, --warmup) for a spec RunLevel
// refuses: concurrency < 1; a request rate negative, not finite or above
// kMaxRequestRate; max_in_flight < 1 (open loop); requests < 0; duration
// <= 0 when requests == 0; warm-up < 0; duration, warm-up or requests /
// rate above kMaxLevelSeconds.
absl::Status ValidateLevelSpec(const LevelSpec& spec);

// Requests that completed after the measurement window ended (they were
// in flight at its end): not in LevelResult's successes, errors, req/s or
// latency. Empty for a closed-loop --requests level.
struct DrainResult {
  int64_t successes = 0;
  int64_t errors = 0;
  std::map<std::string, int64_t> errors_by_code;
  double seconds = 0;         // From the window's end to the last completion.
  double max_latency_ms = 0;  // Slowest successful request among them; 0 if none.
};

struct LevelResult {
  LevelSpec spec;
  int64_t sent = 0;       // Requests sent in the measured run (window and drain).
  int64_t successes = 0;  // Completed OK inside the window.
  int64_t errors = 0;     // Failed inside the window.
  std::map<std::string, int64_t> errors_by_code;  // "DEADLINE_EXCEEDED" -> n, inside the window.
  // Open loop only: scheduled requests that were not sent, for one of two
  // reasons. not_sent == not_sent_max_in_flight + not_sent_late, and always
  // sent + not_sent == the scheduled requests.
  int64_t not_sent = 0;
  int64_t not_sent_max_in_flight = 0;  // Due while max_in_flight were out.
  int64_t not_sent_late = 0;           // Not sent by the window's end: the pacer fell behind.
  // Open loop only: requests sent more than 1 ms after they were due (the
  // pacer fell behind, then sent them in a burst), and the largest such lag.
  // Their latency counts from the due time, as wrk2 does, so that the wait
  // is not hidden (coordinated omission).
  int64_t sent_late = 0;
  double max_send_lag_ms = 0;
  // The run was cut short: every call completing for a second failed
  // UNAVAILABLE (the server is gone or unreachable). The figures cover what
  // ran until then; the rest of an open loop's schedule is in not_sent_late.
  bool unreachable = false;
  double elapsed_s = 0;         // The window: D, N / R, or first send to last completion.
  double requests_per_s = 0;    // successes / elapsed_s.
  double rows_per_s = 0;        // Successes x rows_per_request per second.
  LatencySummary latency;       // Of successful requests inside the window only.
  DrainResult drain;            // Completed after the window.
  int64_t warmup_requests = 0;  // Completed in the uncounted warm-up before the level.
  // CPU time (user + system, every thread) this process spent during the
  // measured run, drain included: what the load generator itself costs per
  // request, which on a machine it shares with the server is taken from the
  // server. Divide by `sent` for a per-request figure. Includes what the
  // WindowHooks do (the perf command: two ModelStatistics calls).
  double client_cpu_s = 0;
  // The server's own figures over the window (ModelStatistics read by the
  // WindowHooks at its start and end; requests the server counted by then,
  // so a few answered in the window's last moments may be counted here and
  // in the client's drain); set by the perf command, not by the runner, and
  // absent for --rpc live or when the server's statistics could not be read.
  std::optional<ServerSideStats> server;
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
    // host:port or a gRPC target URI (InferenceClient::TargetFromUrl's output).
    std::string target = "localhost:8001";
    TlsFiles tls;       // plaintext unless set; unused by Create(options, security)
    std::string token;  // sent as `authorization: Bearer <token>` when non-empty
    PerfRpc rpc = PerfRpc::kInfer;
    // The request every kInfer call sends (built once, shared read-only).
    inference::ModelInferRequest request;
    int64_t rows_per_request = 1;               // For rows/s.
    std::chrono::milliseconds deadline{10000};  // Per request.
    int connections = 1;                        // Separate channels (TCP connections), round-robin.
  };
  using ProgressFn = std::function<void(const PerfProgress&)>;
  // Called on RunLevel's thread around the measured window, so that a
  // caller can bracket it with the server's own figures (perf_analyzer's
  // "Server:" section): `start` just before the measured run sends its first
  // request (the warm-up has drained by then); `end` once, at the first
  // wake-up past the window's end (--duration, --request-rate: about a
  // millisecond after it, later if the progress callback is slow), or as
  // soon as every request sent has completed and no more will be: the last
  // one of --requests in the closed loop, an open loop whose last request
  // completed before the window's end, a run stopped as unreachable.
  // Requests still in flight at the window's end (the drain) go on
  // completing while `end` runs. Either may be empty.
  struct WindowHooks {
    std::function<void()> start;
    std::function<void()> end;
  };

  // Validates the options and creates the channels (connected lazily),
  // reading options.tls (MakeChannelSecurity).
  static absl::StatusOr<std::unique_ptr<PerfRunner>> Create(Options options);
  // The same with `security` made already: no TLS file is read (one may be
  // a pipe another client has read already).
  static absl::StatusOr<std::unique_ptr<PerfRunner>> Create(Options options,
                                                            const ChannelSecurity& security);

  // Runs one level (warm-up, then the measured run) and blocks until every
  // request it sent has completed (the drain included). Errors only on an
  // invalid spec (ValidateLevelSpec); failed requests are counted in the
  // result, not returned, and an unreachable server cuts the level short
  // (LevelResult::unreachable).
  absl::StatusOr<LevelResult> RunLevel(const LevelSpec& spec, const ProgressFn& progress = nullptr,
                                       const WindowHooks& hooks = {});

 private:
  class Phase;
  PerfRunner(Options options, const ChannelSecurity& security);

  Options options_;
  std::vector<std::unique_ptr<inference::GRPCInferenceService::Stub>> stubs_;
};

}  // namespace mlpserve::client

#endif  // MLPSERVE_CLIENT_LIB_PERF_RUNNER_H_
