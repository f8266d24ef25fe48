#include "server/metrics/model_metrics_impl.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace mlpserve::metrics_internal {
namespace {

// Log-spaced, three per decade (1, 2.5, 5): 1 us to 10 s, 22 buckets (a
// small model's compute takes a few microseconds).
// Parsed from decimal text so each bound is the double nearest its decimal
// value and prints as a short `le` label (0.00025, not 0.00025000000000000001;
// powers of two times 10 us would print as 8.000000000000001e-05).
const prometheus::Histogram::BucketBoundaries& DurationBuckets() {
  static const prometheus::Histogram::BucketBoundaries* const kBuckets = [] {
    auto* buckets = new prometheus::Histogram::BucketBoundaries();
    for (int exponent = -6; exponent <= 1; ++exponent) {
      for (const char* mantissa : {"1", "2.5", "5"}) {
        if (exponent == 1 && mantissa[0] != '1') break;
        double seconds = 0;
        if (absl::SimpleAtod(absl::StrCat(mantissa, "e", exponent), &seconds)) {
          buckets->push_back(seconds);
        }
      }
    }
    return buckets;
  }();
  return *kBuckets;
}

// 1, 2, 4, ..., 65536: rows per batch up to the largest max_batch_size.
const prometheus::Histogram::BucketBoundaries& BatchSizeBuckets() {
  static const prometheus::Histogram::BucketBoundaries* const kBuckets = [] {
    auto* buckets = new prometheus::Histogram::BucketBoundaries();
    for (int64_t rows = 1; rows <= 65536; rows *= 2) buckets->push_back(static_cast<double>(rows));
    return buckets;
  }();
  return *kBuckets;
}

}  // namespace

int StatusCodeIndex(absl::StatusCode code) {
  const int index = static_cast<int>(code);
  if (index < 0 || index >= kNumStatusCodes) return static_cast<int>(absl::StatusCode::kUnknown);
  return index;
}

prometheus::Counter& RequestCounter(prometheus::Family<prometheus::Counter>& family,
                                    const prometheus::Labels& labels,
                                    std::array<std::atomic<prometheus::Counter*>, 17>& cache,
                                    absl::StatusCode code) {
  const int index = StatusCodeIndex(code);
  prometheus::Counter* counter = cache[index].load(std::memory_order_acquire);
  if (counter != nullptr) return *counter;
  prometheus::Labels with_code = labels;
  with_code["code"] = absl::StatusCodeToString(static_cast<absl::StatusCode>(index));
  counter = &family.Add(with_code);
  cache[index].store(counter, std::memory_order_release);
  return *counter;
}

ModelSeries::ModelSeries(MetricsRegistry::Families& families_in,
                         const prometheus::Labels& labels_in)
    : families(families_in),
      labels(labels_in),
      inferences(families.inferences.Add(labels)),
      executions(families.executions.Add(labels)),
      request_duration(families.request_duration.Add(labels, DurationBuckets())),
      queue_duration(families.queue_duration.Add(labels, DurationBuckets())),
      compute_duration(families.compute_duration.Add(labels, DurationBuckets())),
      batch_size(families.batch_size.Add(labels, BatchSizeBuckets())),
      queue_depth(families.queue_depth.Add(labels)),
      model_ready(families.model_ready.Add(labels)) {
  RequestCounter(families.requests, labels, requests, absl::StatusCode::kOk);
}

void ModelSeries::Remove() {
  for (std::atomic<prometheus::Counter*>& counter : requests) {
    if (prometheus::Counter* c = counter.exchange(nullptr)) families.requests.Remove(c);
  }
  families.inferences.Remove(&inferences);
  families.executions.Remove(&executions);
  families.request_duration.Remove(&request_duration);
  families.queue_duration.Remove(&queue_duration);
  families.compute_duration.Remove(&compute_duration);
  families.batch_size.Remove(&batch_size);
  families.queue_depth.Remove(&queue_depth);
  families.model_ready.Remove(&model_ready);
}

ModelMetricsImpl::ModelMetricsImpl(MetricsRegistry* registry, std::string model, int64_t version,
                                   ModelSeries* series, const Mlp& mlp, bool activations_enabled,
                                   uint64_t dead_window_rows)
    : registry_(registry),
      key_(std::move(model), version),
      series_(series),
      activations_enabled_(activations_enabled),
      tracker_(activations_enabled ? mlp : Mlp(), dead_window_rows) {}

ModelMetricsImpl::~ModelMetricsImpl() {
  // Take this instance's queue out of the shared gauge before the series can go.
  OnQueueDepth(0);
  registry_->Release(this, key_);
}

void ModelMetricsImpl::OnBatch(const BatchReport& report) {
  if (report.status.ok()) {
    series_->executions.Increment();
    series_->inferences.Increment(static_cast<double>(report.rows));
  }
  series_->compute_duration.Observe(absl::ToDoubleSeconds(report.compute));
  series_->batch_size.Observe(static_cast<double>(report.rows));
  if (report.activations != nullptr && activations_enabled_) {
    // Counts that do not match the model are an engine bug; dropping them
    // keeps the statistics consistent.
    tracker_.Ingest(*report.activations).IgnoreError();
  }
}

void ModelMetricsImpl::OnQueueDepth(size_t depth) {
  // Concurrent reports telescope: the deltas sum to the last depth swapped in.
  const int64_t now = static_cast<int64_t>(depth);
  const int64_t before = queue_depth_.exchange(now, std::memory_order_relaxed);
  if (now != before) series_->queue_depth.Increment(static_cast<double>(now - before));
}

void ModelMetricsImpl::RecordRequest(absl::StatusCode code, absl::Duration total,
                                     const InferTiming* timing, Admission admission) {
  RequestCounter(series_->families.requests, series_->labels, series_->requests, code).Increment();
  if (admission == Admission::kRefused) return;
  series_->request_duration.Observe(absl::ToDoubleSeconds(total));
  if (timing != nullptr) series_->queue_duration.Observe(absl::ToDoubleSeconds(timing->queue));
}

void ModelMetricsImpl::SetReady(bool ready) { registry_->SetReady(this, key_, ready); }

}  // namespace mlpserve::metrics_internal
