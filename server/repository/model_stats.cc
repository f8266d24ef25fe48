#include "server/repository/model_stats.h"

namespace mlpserve {
namespace {

constexpr auto kRelaxed = std::memory_order_relaxed;

uint64_t Ns(absl::Duration d) {
  return d <= absl::ZeroDuration() ? 0 : static_cast<uint64_t>(absl::ToInt64Nanoseconds(d));
}

void AddIfNonZero(std::atomic<uint64_t>& counter, uint64_t value) {
  if (value != 0) counter.fetch_add(value, kRelaxed);
}

}  // namespace

void ModelStats::RecordRequest(const RequestRecord& record) {
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
  computed_count_.fetch_add(1, kRelaxed);
  queue_ns_.fetch_add(Ns(timing->queue), kRelaxed);
  compute_ns_.fetch_add(Ns(timing->compute), kRelaxed);
  input_ns_.fetch_add(Ns(record.input), kRelaxed);
  output_ns_.fetch_add(Ns(record.output), kRelaxed);
  AddToBatchSize(timing->batch_rows, 0, Ns(record.input), 0, Ns(record.output));
}

void ModelStats::OnBatch(const BatchReport& report) {
  if (report.status.ok()) {
    execution_count_.fetch_add(1, kRelaxed);
    AddToBatchSize(report.rows, 1, 0, Ns(report.compute), 0);
  }
  if (next_ != nullptr) next_->OnBatch(report);
}

void ModelStats::OnQueueDepth(size_t depth) {
  if (next_ != nullptr) next_->OnQueueDepth(depth);
}

void ModelStats::AddToBatchSize(int64_t rows, uint64_t count, uint64_t input_ns, uint64_t infer_ns,
                                uint64_t output_ns) {
  if (rows >= 1 && rows <= kDenseBatchSizes) {
    BatchSlot& slot = dense_batches_[static_cast<size_t>(rows)];
    AddIfNonZero(slot.count, count);
    AddIfNonZero(slot.input_ns, input_ns);
    AddIfNonZero(slot.infer_ns, infer_ns);
    AddIfNonZero(slot.output_ns, output_ns);
    return;
  }
  absl::MutexLock lock(&sparse_mu_);
  BatchSizeStats& batch = sparse_batches_[rows];
  batch.count += count;
  batch.input_ns += input_ns;
  batch.infer_ns += infer_ns;
  batch.output_ns += output_ns;
}

ModelStatsSnapshot ModelStats::Snapshot() const {
  ModelStatsSnapshot s;
  s.last_inference_ms = last_inference_ms_.load(kRelaxed);
  s.inference_count = inference_count_.load(kRelaxed);
  s.execution_count = execution_count_.load(kRelaxed);
  s.success_count = success_count_.load(kRelaxed);
  s.success_ns = success_ns_.load(kRelaxed);
  s.fail_count = fail_count_.load(kRelaxed);
  s.fail_ns = fail_ns_.load(kRelaxed);
  const uint64_t computed = computed_count_.load(kRelaxed);
  s.queue_count = s.compute_count = s.input_count = s.output_count = computed;
  s.queue_ns = queue_ns_.load(kRelaxed);
  s.compute_ns = compute_ns_.load(kRelaxed);
  s.input_ns = input_ns_.load(kRelaxed);
  s.output_ns = output_ns_.load(kRelaxed);
  // A request is answered before its batch is reported: until then its size
  // has input and output time but no execution, and is left out.
  for (int64_t rows = 1; rows <= kDenseBatchSizes; ++rows) {
    const BatchSlot& slot = dense_batches_[static_cast<size_t>(rows)];
    const uint64_t count = slot.count.load(kRelaxed);
    if (count == 0) continue;
    s.batches.push_back({rows, count, slot.input_ns.load(kRelaxed), slot.infer_ns.load(kRelaxed),
                         slot.output_ns.load(kRelaxed)});
  }
  absl::MutexLock lock(&sparse_mu_);
  for (const auto& [rows, batch] : sparse_batches_) {
    if (batch.count == 0) continue;
    BatchSizeStats out = batch;
    out.batch_size = rows;
    s.batches.push_back(out);
  }
  return s;
}

}  // namespace mlpserve
