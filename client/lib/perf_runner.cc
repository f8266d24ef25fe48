#include "client/lib/perf_runner.h"

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <optional>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "client/lib/status_util.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"

namespace mlpserve::client {

using Clock = std::chrono::steady_clock;

// An open-loop request sent more than this after its due time is late.
constexpr auto kLateSend = std::chrono::milliseconds(1);
// Only UNAVAILABLE completions for this long: the server is unreachable.
constexpr auto kUnreachableAfter = std::chrono::seconds(1);
// ... and at least this many calls in a row failed so: a slow open loop
// (--request-rate 1) must not give up on a server that restarts.
constexpr int64_t kUnreachableCalls = 20;

// One measured (or warm-up) run: the requests in flight and their outcomes.
// Shared by the calls it launched (each holds a shared_ptr), so it outlives
// the last completion callback.
class PerfRunner::Phase : public std::enable_shared_from_this<Phase> {
 public:
  enum class Issue { kSent, kStopped, kFull };

  struct Plan {
    bool closed_loop = true;
    int64_t max_requests = 0;  // Closed loop: stop after this many; 0: unbounded.
    Clock::time_point start;   // The window's start.
    // > 0: a fixed window [start, start + window_s]; completions after it are
    // the drain. 0: the window ends at the last completion (every one counts).
    double window_s = 0;
  };

  Phase(const PerfRunner* runner, const Plan& plan)
      : runner_(runner),
        closed_loop_(plan.closed_loop),
        max_requests_(plan.max_requests),
        start_(plan.start),
        window_s_(plan.window_s),
        window_end_(plan.window_s > 0
                        ? plan.start + std::chrono::duration_cast<Clock::duration>(
                                           std::chrono::duration<double>(plan.window_s))
                        : Clock::time_point::max()) {}

  Clock::time_point window_end() const { return window_end_; }

  // Starts one request unless the phase is stopped, out of requests, past
  // its window's end, or (cap > 0) already has cap requests in flight.
  // `due`: when the open loop's schedule wanted it sent; its latency counts
  // from then (not from the send), and a send more than kLateSend after it
  // is counted late. Closed loop: nullopt, the send itself.
  Issue TryIssue(int cap, std::optional<Clock::time_point> due = std::nullopt) {
    const Clock::time_point now = Clock::now();
    {
      absl::MutexLock lock(&mu_);
      if (!CanSendLocked(now)) return Issue::kStopped;
      if (cap > 0 && in_flight_ >= cap) return Issue::kFull;
      ++sent_;
      ++in_flight_;
      if (due.has_value()) {
        const Clock::duration lag = now - *due;
        if (lag > kLateSend) ++sent_late_;
        max_send_lag_ = std::max(max_send_lag_, lag);
      }
    }
    Launch(due.value_or(now));
    return Issue::kSent;
  }

  void Stop() {
    absl::MutexLock lock(&mu_);
    stopped_ = true;
  }

  // True once nothing is in flight and nothing more will be sent; waits up
  // to `timeout` for that.
  bool WaitFinished(absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    auto finished = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return in_flight_ == 0 && !CanSendLocked(Clock::now());
    };
    return mu_.AwaitWithTimeout(absl::Condition(&finished), timeout);
  }

  PerfProgress Progress() {
    absl::MutexLock lock(&mu_);
    PerfProgress p;
    p.elapsed_s = std::chrono::duration<double>(Clock::now() - start_).count();
    p.completed = window_.successes + window_.errors + drain_.successes + drain_.errors;
    p.errors = window_.errors + drain_.errors;
    p.in_flight = in_flight_;
    return p;
  }

  void FillResult(int64_t rows_per_request, LevelResult* r) {
    absl::MutexLock lock(&mu_);
    r->sent = sent_;
    r->successes = window_.successes;
    r->errors = window_.errors;
    r->errors_by_code = window_.errors_by_code;
    r->drain.successes = drain_.successes;
    r->drain.errors = drain_.errors;
    r->drain.errors_by_code = drain_.errors_by_code;
    r->drain.max_latency_ms = drain_max_nanos_ / 1e6;
    const Clock::time_point last = std::max(last_done_, start_);
    if (window_s_ > 0) {
      r->elapsed_s = window_s_;
      r->drain.seconds = std::max(0.0, std::chrono::duration<double>(last - window_end_).count());
    } else {
      r->elapsed_s = std::chrono::duration<double>(last - start_).count();
    }
    if (r->elapsed_s > 0) {
      r->requests_per_s = window_.successes / r->elapsed_s;
      r->rows_per_s = r->requests_per_s * rows_per_request;
    }
    r->latency = stats_.Summarize();
    r->sent_late = sent_late_;
    r->max_send_lag_ms = std::chrono::duration<double, std::milli>(max_send_lag_).count();
    r->unreachable = unreachable_;
  }

 private:
  struct Call {
    grpc::ClientContext context;
    inference::ModelInferResponse infer_response;
    inference::ServerLiveResponse live_response;
    Clock::time_point start;
  };
  struct Counts {
    int64_t successes = 0;
    int64_t errors = 0;
    std::map<std::string, int64_t> errors_by_code;
  };

  // Nothing is sent once the window is over, in either loop.
  bool CanSendLocked(Clock::time_point now) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (stopped_ || (max_requests_ > 0 && sent_ >= max_requests_)) return false;
    return now < window_end_;
  }

  // Starts one call; in_flight_ already counts it. Its latency counts from
  // `start`.
  void Launch(Clock::time_point start) {
    const Options& opt = runner_->options_;
    auto* call = new Call;
    call->start = start;
    call->context.set_deadline(std::chrono::system_clock::now() + opt.deadline);
    if (!opt.token.empty()) call->context.AddMetadata("authorization", "Bearer " + opt.token);
    const size_t index = next_stub_.fetch_add(1, std::memory_order_relaxed);
    auto* async = runner_->stubs_[index % runner_->stubs_.size()]->async();
    auto done = [self = shared_from_this(), call](grpc::Status status) {
      self->OnDone(call, status);
    };
    if (opt.rpc == PerfRpc::kLive) {
      static const inference::ServerLiveRequest kLiveRequest;
      async->ServerLive(&call->context, &kLiveRequest, &call->live_response, std::move(done));
    } else {
      async->ModelInfer(&call->context, &opt.request, &call->infer_response, std::move(done));
    }
  }

  // Runs on a gRPC callback thread; never blocks beyond the short lock.
  void OnDone(Call* call, const grpc::Status& status) {
    const Clock::time_point now = Clock::now();
    const int64_t nanos =
        std::chrono::duration_cast<std::chrono::nanoseconds>(now - call->start).count();
    delete call;
    bool again = false;
    {
      absl::MutexLock lock(&mu_);
      const bool in_window = now <= window_end_;
      Counts& counts = in_window ? window_ : drain_;
      if (status.ok()) {
        ++counts.successes;
        if (in_window) {
          stats_.Add(nanos);
        } else {
          drain_max_nanos_ = std::max(drain_max_nanos_, nanos);
        }
      } else {
        ++counts.errors;
        ++counts.errors_by_code[StatusCodeName(status.error_code())];
      }
      last_done_ = std::max(last_done_, now);
      NoteUnreachableLocked(status, now);
      again = closed_loop_ && CanSendLocked(now);
      if (again) {
        ++sent_;  // The slot stays in flight: in_flight_ unchanged.
      } else {
        --in_flight_;
      }
    }
    if (again) Launch(Clock::now());
  }

  // A server that is gone (shut down, crashed, unreachable) fails every call
  // at once with UNAVAILABLE: the closed loop would spin re-issuing them for
  // the rest of the level. Stops the phase once every call completing for
  // kUnreachableAfter, and at least kUnreachableCalls of them, was
  // UNAVAILABLE.
  void NoteUnreachableLocked(const grpc::Status& status, Clock::time_point now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (status.error_code() != grpc::StatusCode::UNAVAILABLE) {
      unavailable_since_.reset();
      unavailable_calls_ = 0;
      return;
    }
    if (!unavailable_since_.has_value()) unavailable_since_ = now;
    ++unavailable_calls_;
    if (now - *unavailable_since_ >= kUnreachableAfter && unavailable_calls_ >= kUnreachableCalls) {
      unreachable_ = true;
      stopped_ = true;
    }
  }

  const PerfRunner* const runner_;
  const bool closed_loop_;
  const int64_t max_requests_;  // 0: unbounded.
  const Clock::time_point start_;
  const double window_s_;
  const Clock::time_point window_end_;
  std::atomic<size_t> next_stub_{0};

  absl::Mutex mu_;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  int64_t sent_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  Counts window_ ABSL_GUARDED_BY(mu_);
  Counts drain_ ABSL_GUARDED_BY(mu_);
  LatencyStats stats_ ABSL_GUARDED_BY(mu_);  // Successes inside the window.
  int64_t drain_max_nanos_ ABSL_GUARDED_BY(mu_) = 0;
  Clock::time_point last_done_ ABSL_GUARDED_BY(mu_);
  int64_t sent_late_ ABSL_GUARDED_BY(mu_) = 0;
  Clock::duration max_send_lag_ ABSL_GUARDED_BY(mu_) = Clock::duration::zero();
  // Since when every completion was UNAVAILABLE; empty after any other.
  std::optional<Clock::time_point> unavailable_since_ ABSL_GUARDED_BY(mu_);
  int64_t unavailable_calls_ ABSL_GUARDED_BY(mu_) = 0;  // in a row
  bool unreachable_ ABSL_GUARDED_BY(mu_) = false;
};

namespace {

constexpr auto kTick = std::chrono::seconds(1);

// User + system CPU of the whole process (all threads), in seconds.
double ProcessCpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) { return t.tv_sec + t.tv_usec * 1e-6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// The fixed window of a level in seconds, or 0 when it ends at the last
// completion (closed loop, --requests).
double WindowSeconds(const LevelSpec& spec) {
  if (spec.requests == 0) return std::chrono::duration<double>(spec.duration).count();
  return spec.request_rate > 0 ? spec.requests / spec.request_rate : 0;
}

// Open loop: how many requests the schedule has. Request k is due at k / R;
// with --duration D those due in [0, D), ceil(D x R) of them (D x R within
// rounding of a whole number counts as that number).
int64_t ScheduledRequests(const LevelSpec& spec) {
  if (spec.requests > 0) return spec.requests;
  const double due = std::chrono::duration<double>(spec.duration).count() * spec.request_rate;
  const double whole = std::round(due);
  if (std::abs(due - whole) <= 1e-9 * std::max(1.0, due)) return static_cast<int64_t>(whole);
  return static_cast<int64_t>(std::ceil(due));
}

}  // namespace

absl::Status ValidateLevelSpec(const LevelSpec& spec) {
  auto error = [](auto&&... parts) {
    return absl::InvalidArgumentError(absl::StrCat("perf: ", parts...));
  };
  const double rate = spec.request_rate;
  if (!(rate >= 0 && rate <= kMaxRequestRate)) {
    return error("--request-rate must be a positive number of requests/s up to ", kMaxRequestRate,
                 ", got ", rate);
  }
  if (rate == 0 && spec.concurrency < 1) return error("--concurrency must be >= 1");
  if (rate > 0 && spec.max_in_flight < 1) return error("--max-inflight must be >= 1");
  if (spec.requests < 0) return error("--requests must be >= 0");
  const double duration_s = std::chrono::duration<double>(spec.duration).count();
  const double warmup_s = std::chrono::duration<double>(spec.warmup).count();
  if (spec.requests == 0 && duration_s <= 0) {
    return error("--duration must be positive (or give --requests)");
  }
  if (duration_s > kMaxLevelSeconds) return error("--duration is longer than a year");
  if (warmup_s < 0) return error("--warmup must not be negative");
  if (warmup_s > kMaxLevelSeconds) return error("--warmup is longer than a year");
  if (rate > 0 && spec.requests > 0 && spec.requests / rate > kMaxLevelSeconds) {
    return error("--requests / --request-rate is longer than a year");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<PerfRunner>> PerfRunner::Create(Options options) {
  absl::StatusOr<ChannelSecurity> security = MakeChannelSecurity(options.tls);
  if (!security.ok()) return security.status();
  return Create(std::move(options), *security);
}

absl::StatusOr<std::unique_ptr<PerfRunner>> PerfRunner::Create(Options options,
                                                               const ChannelSecurity& security) {
  if (options.target.empty()) return absl::InvalidArgumentError("perf: empty target");
  if (options.connections < 1) return absl::InvalidArgumentError("perf: connections < 1");
  if (options.deadline.count() <= 0) {
    return absl::InvalidArgumentError("perf: deadline must be positive");
  }
  if (options.rpc == PerfRpc::kInfer && options.request.model_name().empty()) {
    return absl::InvalidArgumentError("perf: infer request has no model name");
  }
  return std::unique_ptr<PerfRunner>(new PerfRunner(std::move(options), security));
}

PerfRunner::PerfRunner(Options options, const ChannelSecurity& security)
    : options_(std::move(options)) {
  for (int i = 0; i < options_.connections; ++i) {
    grpc::ChannelArguments args;
    // Each channel gets its own subchannel, hence its own TCP connection.
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    args.SetInt("mlpserve.perf_channel", i);
    stubs_.push_back(
        inference::GRPCInferenceService::NewStub(CreateChannel(options_.target, security, args)));
  }
}

absl::StatusOr<LevelResult> PerfRunner::RunLevel(const LevelSpec& spec, const ProgressFn& progress,
                                                 const WindowHooks& hooks) {
  if (absl::Status s = ValidateLevelSpec(spec); !s.ok()) return s;
  const bool open_loop = spec.request_rate > 0;
  // Runs one phase to completion; `measured` phases report progress.
  auto run = [&](const LevelSpec& s, bool measured, LevelResult* result) {
    if (measured && hooks.start) hooks.start();
    Phase::Plan plan;
    plan.closed_loop = !open_loop;
    plan.max_requests = open_loop ? 0 : s.requests;
    plan.start = Clock::now();
    plan.window_s = WindowSeconds(s);
    auto phase = std::make_shared<Phase>(this, plan);
    const Clock::time_point start = plan.start;
    const Clock::time_point end = phase->window_end();
    Clock::time_point next_tick = start + kTick;
    auto tick = [&](Clock::time_point now) {
      if (now < next_tick) return;
      next_tick = now + kTick;
      if (measured && progress) progress(phase->Progress());
    };
    // The window's end hook, once, at the first look past the window.
    bool window_closed = false;
    auto close_window = [&](Clock::time_point now) {
      if (!measured || window_closed || now < end) return;
      window_closed = true;
      if (hooks.end) hooks.end();
    };
    if (!open_loop) {
      for (int i = 0; i < s.concurrency; ++i) phase->TryIssue(0);
    } else {
      // Pace: request k is due at start + k / rate, k < total; each one is
      // sent, or counted as not sent: max-in-flight when that many were out
      // at its turn, late when the window ended before the pacer reached it
      // (it fell behind). Nothing is sent after the window: sent late in one
      // burst, requests would land in the drain and make the offered rate
      // look met.
      const int64_t total = ScheduledRequests(s);
      int64_t scheduled = 0;
      while (scheduled < total) {
        const Clock::time_point now = Clock::now();
        if (now >= end) break;
        const double since = std::chrono::duration<double>(now - start).count();
        const int64_t due = std::min(total, static_cast<int64_t>(since * s.request_rate) + 1);
        bool window_over = false;
        for (; scheduled < due; ++scheduled) {
          const Clock::time_point due_at =
              start + std::chrono::duration_cast<Clock::duration>(
                          std::chrono::duration<double>(scheduled / s.request_rate));
          const Phase::Issue issue = phase->TryIssue(s.max_in_flight, due_at);
          if (issue == Phase::Issue::kStopped) {
            window_over = true;
            break;
          }
          if (issue == Phase::Issue::kFull) ++result->not_sent_max_in_flight;
        }
        if (window_over) break;
        tick(now);
        if (scheduled >= total) break;
        const auto next_due = start + std::chrono::duration_cast<Clock::duration>(
                                          std::chrono::duration<double>(due / s.request_rate));
        std::this_thread::sleep_until(std::min({next_due, next_tick, end}));
      }
      result->not_sent_late += total - scheduled;
      result->not_sent = result->not_sent_max_in_flight + result->not_sent_late;
      phase->Stop();
    }
    // Wakes at the window's end (for its hook) and every 50 ms (progress).
    for (;;) {
      const Clock::time_point now = Clock::now();
      close_window(now);
      tick(now);
      const absl::Duration wait = measured && !window_closed
                                      ? std::clamp(absl::FromChrono(end - now),
                                                   absl::Milliseconds(1), absl::Milliseconds(50))
                                      : absl::Milliseconds(50);
      if (phase->WaitFinished(wait)) break;
    }
    if (measured && !window_closed) {  // --requests: the window is the whole run
      window_closed = true;
      if (hooks.end) hooks.end();
    }
    phase->FillResult(options_.rows_per_request, result);
  };

  LevelResult result;
  result.spec = spec;
  if (spec.warmup.count() > 0) {
    LevelSpec warm = spec;
    warm.requests = 0;
    warm.duration = spec.warmup;
    LevelResult warm_result;
    run(warm, /*measured=*/false, &warm_result);
    result.warmup_requests = warm_result.successes + warm_result.errors +
                             warm_result.drain.successes + warm_result.drain.errors;
    if (warm_result.unreachable) {  // No measured run against a server gone.
      result.unreachable = true;
      return result;
    }
  }
  const double cpu_before = ProcessCpuSeconds();
  run(spec, /*measured=*/true, &result);
  result.client_cpu_s = ProcessCpuSeconds() - cpu_before;
  return result;
}

}  // namespace mlpserve::client
