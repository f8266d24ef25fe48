#include "server/repository/model_stats.h"

namespace mlpserve {
namespace {

uint64_t Ns(absl::Duration d) {
  return d <= absl::ZeroDuration() ? 0 : static_cast<uint64_t>(absl::ToInt64Nanoseconds(d));
}

}  // namespace

void ModelStats::RecordRequest(const RequestRecord& record) {
  constexpr auto kRelaxed = std::memory_order_relaxed;
  if (record.code != absl::StatusCode::kOk) {
    fail_count_.fetch_add(1, kRelaxed);
    fail_ns_.fetch_add(Ns(record.total), kRelaxed);
    return;
  }
  success_count_.fetch_add(1, kRelaxed);
  success_ns_.fetch_add(Ns(record.total), kRelaxed);
  inference_count_.fetch_add(static_cast<uint64_t>(record.rows), kRelaxed);
  last_inference_ms_.store(static_cast<uint64_t>(absl::ToUnixMillis(record.now)), kRelaxed);
  const InferTiming* timing = record.timing;
  if (timing == nullptr) return;
  queue_count_.fetch_add(1, kRelaxed);
  queue_ns_.fetch_add(Ns(timing->queue), kRelaxed);
  compute_count_.fetch_add(1, kRelaxed);
  compute_ns_.fetch_add(Ns(timing->compute), kRelaxed);
  input_count_.fetch_add(1, kRelaxed);
  input_ns_.fetch_add(Ns(record.input), kRelaxed);
  output_count_.fetch_add(1, kRelaxed);
  output_ns_.fetch_add(Ns(record.output), kRelaxed);
  absl::MutexLock lock(&batches_mu_);
  BatchSizeStats& batch = batches_[timing->batch_rows];
  batch.input_ns += Ns(record.input);
  batch.output_ns += Ns(record.output);
}

void ModelStats::OnBatch(const BatchReport& report) {
  if (report.status.ok()) {
    execution_count_.fetch_add(1, std::memory_order_relaxed);
    absl::MutexLock lock(&batches_mu_);
    BatchSizeStats& batch = batches_[report.rows];
    ++batch.count;
    batch.infer_ns += Ns(report.compute);
  }
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
  s.input_count = input_count_.load(kRelaxed);
  s.input_ns = input_ns_.load(kRelaxed);
  s.output_count = output_count_.load(kRelaxed);
  s.output_ns = output_ns_.load(kRelaxed);
  absl::MutexLock lock(&batches_mu_);
  s.batches.reserve(batches_.size());
  for (const auto& [rows, batch] : batches_) {
    // A request answered before its batch's report leaves a size with no
    // execution yet: not a batch until the report arrives.
    if (batch.count == 0) continue;
    BatchSizeStats out = batch;
    out.batch_size = rows;
    s.batches.push_back(out);
  }
  return s;
}

}  // namespace mlpserve
