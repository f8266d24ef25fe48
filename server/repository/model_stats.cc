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
  last_inference_ns_.store(absl::ToUnixNanos(record.now), kRelaxed);
  const InferTiming* timing = record.timing;
  if (timing == nullptr) return;
  computed_count_.fetch_add(1, kRelaxed);
  queue_ns_.fetch_add(Ns(timing->queue), kRelaxed);
  compute_ns_.fetch_add(Ns(timing->compute), kRelaxed);
  input_ns_.fetch_add(Ns(record.input), kRelaxed);
  output_ns_.fetch_add(Ns(record.output), kRelaxed);
  BatchSums add;
  add.requests = 1;
  add.input_ns = Ns(record.input);
  add.output_ns = Ns(record.output);
  AddToBatchSize(timing->batch_rows, add);
}

void ModelStats::OnBatch(const BatchReport& report) {
  if (report.status.ok()) {
    execution_count_.fetch_add(1, kRelaxed);
    BatchSums add;
    add.executions = 1;
    add.infer_ns = Ns(report.compute);
    AddToBatchSize(report.rows, add);
  }
  if (next_ != nullptr) next_->OnBatch(report);
}

void ModelStats::OnQueueDepth(size_t depth) {
  if (next_ != nullptr) next_->OnQueueDepth(depth);
}

void ModelStats::AddToBatchSize(int64_t rows, const BatchSums& add) {
  if (rows >= 1 && rows <= kDenseBatchSizes) {
    BatchSlot& slot = dense_batches_[static_cast<size_t>(rows)];
    AddIfNonZero(slot.executions, add.executions);
    AddIfNonZero(slot.infer_ns, add.infer_ns);
    AddIfNonZero(slot.requests, add.requests);
    AddIfNonZero(slot.input_ns, add.input_ns);
    AddIfNonZero(slot.output_ns, add.output_ns);
    return;
  }
  absl::MutexLock lock(&sparse_mu_);
  BatchSums& sums = sparse_batches_[rows];
  sums.executions += add.executions;
  sums.infer_ns += add.infer_ns;
  sums.requests += add.requests;
  sums.input_ns += add.input_ns;
  sums.output_ns += add.output_ns;
}

BatchSizeStats ModelStats::PerExecution(int64_t rows, const BatchSums& sums) {
  BatchSizeStats out;
  out.batch_size = rows;
  out.count = sums.executions;
  out.infer_ns = sums.infer_ns;
  out.output_ns = sums.output_ns;
  // The mean request's input time, once per execution (128-bit product:
  // exact, and no overflow before the division).
  if (sums.requests > 0) {
    out.input_ns = static_cast<uint64_t>(static_cast<unsigned __int128>(sums.input_ns) *
                                         sums.executions / sums.requests);
  }
  return out;
}

ModelStatsSnapshot ModelStats::Snapshot() const {
  ModelStatsSnapshot s;
  const int64_t last_ns = last_inference_ns_.load(kRelaxed);
  if (last_ns != kNever) s.last_inference = absl::FromUnixNanos(last_ns);
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
  // has requests but no execution, and is left out.
  for (int64_t rows = 1; rows <= kDenseBatchSizes; ++rows) {
    const BatchSlot& slot = dense_batches_[static_cast<size_t>(rows)];
    BatchSums sums;
    sums.executions = slot.executions.load(kRelaxed);
    if (sums.executions == 0) continue;
    sums.infer_ns = slot.infer_ns.load(kRelaxed);
    sums.requests = slot.requests.load(kRelaxed);
    sums.input_ns = slot.input_ns.load(kRelaxed);
    sums.output_ns = slot.output_ns.load(kRelaxed);
    s.batches.push_back(PerExecution(rows, sums));
  }
  absl::MutexLock lock(&sparse_mu_);
  for (const auto& [rows, sums] : sparse_batches_) {
    if (sums.executions > 0) s.batches.push_back(PerExecution(rows, sums));
  }
  return s;
}

}  // namespace mlpserve
