#include "server/repository/model_stats.h"

namespace mlpserve {
namespace {

uint64_t Ns(absl::Duration d) { return static_cast<uint64_t>(absl::ToInt64Nanoseconds(d)); }

}  // namespace

void ModelStats::RecordRequest(absl::StatusCode code, absl::Duration total,
                               const InferTiming* timing, int64_t rows, absl::Time now) {
  constexpr auto kRelaxed = std::memory_order_relaxed;
  if (code != absl::StatusCode::kOk) {
    fail_count_.fetch_add(1, kRelaxed);
    fail_ns_.fetch_add(Ns(total), kRelaxed);
    return;
  }
  success_count_.fetch_add(1, kRelaxed);
  success_ns_.fetch_add(Ns(total), kRelaxed);
  inference_count_.fetch_add(static_cast<uint64_t>(rows), kRelaxed);
  last_inference_ms_.store(static_cast<uint64_t>(absl::ToUnixMillis(now)), kRelaxed);
  if (timing != nullptr) {
    queue_count_.fetch_add(1, kRelaxed);
    queue_ns_.fetch_add(Ns(timing->queue), kRelaxed);
    compute_count_.fetch_add(1, kRelaxed);
    compute_ns_.fetch_add(Ns(timing->compute), kRelaxed);
  }
}

void ModelStats::OnBatch(const BatchReport& report) {
  if (report.status.ok()) execution_count_.fetch_add(1, std::memory_order_relaxed);
  if (next_ != nullptr) next_->OnBatch(report);
}

void ModelStats::OnQueueDepth(size_t depth) {
  if (next_ != nullptr) next_->OnQueueDepth(depth);
}

ModelStatsSnapshot ModelStats::Snapshot() const {
  constexpr auto kRelaxed = std::memory_order_relaxed;
  ModelStatsSnapshot s;
  s.last_inference_ms = last_inference_ms_.load(kRelaxed);
  s.inference_count = inference_count_.load(kRelaxed);
  s.execution_count = execution_count_.load(kRelaxed);
  s.success_count = success_count_.load(kRelaxed);
  s.success_ns = success_ns_.load(kRelaxed);
  s.fail_count = fail_count_.load(kRelaxed);
  s.fail_ns = fail_ns_.load(kRelaxed);
  s.queue_count = queue_count_.load(kRelaxed);
  s.queue_ns = queue_ns_.load(kRelaxed);
  s.compute_count = compute_count_.load(kRelaxed);
  s.compute_ns = compute_ns_.load(kRelaxed);
  return s;
}

}  // namespace mlpserve
