// ModelStats against hand-computed sums: request outcomes, the four
// durations of computed requests, and the per-batch-size table the
// ModelStatistics RPC reports as batch_stats.
#include "server/repository/model_stats.h"

#include <vector>

#include "gtest/gtest.h"

namespace mlpserve {
namespace {

class CountingObserver : public BatchObserver {
 public:
  void OnBatch(const BatchReport& report) override { rows += report.rows; }
  void OnQueueDepth(size_t depth) override { last_depth = depth; }
  int64_t rows = 0;
  size_t last_depth = 0;
};

BatchReport Batch(int64_t rows, absl::Duration compute, absl::Status status = absl::OkStatus()) {
  BatchReport report;
  report.rows = rows;
  report.requests = 1;
  report.compute = compute;
  report.status = std::move(status);
  return report;
}

RequestRecord Computed(const InferTiming& timing, int64_t rows, absl::Duration input,
                       absl::Duration output) {
  RequestRecord record;
  record.total = absl::Microseconds(100);
  record.timing = &timing;
  record.input = input;
  record.output = output;
  record.rows = rows;
  record.now = absl::FromUnixMillis(1'700'000'000'123);
  return record;
}

TEST(ModelStatsTest, SumsComputedRequestsAndTheirBatchesBySize) {
  CountingObserver next;
  ModelStats stats(&next);
  // A batch of 3 rows (requests of 1 and 2 rows), then one of 1 row.
  InferTiming three{absl::Microseconds(10), absl::Microseconds(40), 3};
  stats.RecordRequest(Computed(three, 1, absl::Microseconds(2), absl::Microseconds(3)));
  stats.RecordRequest(Computed(three, 2, absl::Microseconds(4), absl::Microseconds(5)));
  stats.OnBatch(Batch(3, absl::Microseconds(40)));
  InferTiming one{absl::Microseconds(1), absl::Microseconds(7), 1};
  stats.RecordRequest(Computed(one, 1, absl::Microseconds(6), absl::Microseconds(8)));
  stats.OnBatch(Batch(1, absl::Microseconds(7)));

  const ModelStatsSnapshot s = stats.Snapshot();
  EXPECT_EQ(s.success_count, 3u);
  EXPECT_EQ(s.success_ns, 300'000u);
  EXPECT_EQ(s.fail_count, 0u);
  EXPECT_EQ(s.inference_count, 4u);
  EXPECT_EQ(s.execution_count, 2u);
  EXPECT_EQ(s.last_inference, absl::FromUnixMillis(1'700'000'000'123));
  EXPECT_EQ(s.queue_count, 3u);
  EXPECT_EQ(s.queue_ns, 21'000u);
  EXPECT_EQ(s.compute_count, 3u);
  EXPECT_EQ(s.compute_ns, 87'000u);  // each request carries its batch's time
  EXPECT_EQ(s.input_count, 3u);
  EXPECT_EQ(s.input_ns, 12'000u);
  EXPECT_EQ(s.output_count, 3u);
  EXPECT_EQ(s.output_ns, 16'000u);
  ASSERT_EQ(s.batches.size(), 2u);
  EXPECT_EQ(s.batches[0].batch_size, 1);
  EXPECT_EQ(s.batches[0].count, 1u);
  EXPECT_EQ(s.batches[0].input_ns, 6'000u);
  EXPECT_EQ(s.batches[0].infer_ns, 7'000u);
  EXPECT_EQ(s.batches[0].output_ns, 8'000u);
  EXPECT_EQ(s.batches[1].batch_size, 3);
  EXPECT_EQ(s.batches[1].count, 1u);
  EXPECT_EQ(s.batches[1].input_ns, 3'000u);   // the mean request's input time, once
  EXPECT_EQ(s.batches[1].infer_ns, 40'000u);  // the batch's engine time once
  EXPECT_EQ(s.batches[1].output_ns, 8'000u);  // both requests' encodes, one after the other
  EXPECT_EQ(next.rows, 4);                    // every report reaches the next observer
}

TEST(ModelStatsTest, FailuresCountOnlyAsFailures) {
  ModelStats stats(nullptr);
  RequestRecord refused;
  refused.code = absl::StatusCode::kResourceExhausted;
  refused.total = absl::Microseconds(6);
  stats.RecordRequest(refused);
  stats.OnBatch(Batch(4, absl::Microseconds(50), absl::InternalError("engine")));
  stats.OnQueueDepth(3);  // no next observer: nothing to forward to

  const ModelStatsSnapshot s = stats.Snapshot();
  EXPECT_EQ(s.fail_count, 1u);
  EXPECT_EQ(s.fail_ns, 6'000u);
  EXPECT_EQ(s.success_count, 0u);
  EXPECT_EQ(s.execution_count, 0u);
  EXPECT_EQ(s.input_count, 0u);
  EXPECT_EQ(s.output_count, 0u);
  EXPECT_TRUE(s.batches.empty());                     // a failed batch is no execution
  EXPECT_EQ(s.last_inference, absl::InfinitePast());  // no success yet
}

TEST(ModelStatsTest, ABatchSizeAppearsOnlyOnceItsBatchIsReported) {
  // Requests are answered before their batch is reported: in between, the
  // size has input and output time but no execution yet.
  ModelStats stats(nullptr);
  InferTiming two{absl::ZeroDuration(), absl::Microseconds(9), 2};
  stats.RecordRequest(Computed(two, 2, absl::Microseconds(1), absl::Microseconds(1)));
  EXPECT_TRUE(stats.Snapshot().batches.empty());
  stats.OnBatch(Batch(2, absl::Microseconds(9)));
  ASSERT_EQ(stats.Snapshot().batches.size(), 1u);
  EXPECT_EQ(stats.Snapshot().batches[0].count, 1u);
}

TEST(ModelStatsTest, SizesOnBothSidesOfTheLockFreeRangeListInOrder) {
  ModelStats stats(nullptr);
  constexpr int64_t kDense = ModelStats::kDenseBatchSizes;
  for (int64_t rows : {kDense + 44, int64_t{2}, kDense + 1, kDense, kDense + 44}) {
    InferTiming timing{absl::ZeroDuration(), absl::Microseconds(rows), rows};
    stats.RecordRequest(Computed(timing, rows, absl::Microseconds(1), absl::Microseconds(2)));
    stats.OnBatch(Batch(rows, absl::Microseconds(rows)));
  }
  const ModelStatsSnapshot s = stats.Snapshot();
  ASSERT_EQ(s.batches.size(), 4u);
  const int64_t sizes[] = {2, kDense, kDense + 1, kDense + 44};
  for (size_t i = 0; i < 4; ++i) {
    const BatchSizeStats& b = s.batches[i];
    const uint64_t times = b.batch_size == kDense + 44 ? 2 : 1;
    EXPECT_EQ(b.batch_size, sizes[i]);
    EXPECT_EQ(b.count, times) << b.batch_size;
    EXPECT_EQ(b.input_ns, times * 1'000) << b.batch_size;
    EXPECT_EQ(b.infer_ns, times * static_cast<uint64_t>(b.batch_size) * 1'000) << b.batch_size;
    EXPECT_EQ(b.output_ns, times * 2'000) << b.batch_size;
  }
}

TEST(ModelStatsTest, NegativeDurationsCountAsZero) {
  // The rpc layer and the scheduler may read different clocks.
  ModelStats stats(nullptr);
  InferTiming timing{absl::Microseconds(-3), absl::Microseconds(5), 1};
  stats.RecordRequest(Computed(timing, 1, absl::Microseconds(-1), absl::Microseconds(2)));
  const ModelStatsSnapshot s = stats.Snapshot();
  EXPECT_EQ(s.queue_ns, 0u);
  EXPECT_EQ(s.input_ns, 0u);
  EXPECT_EQ(s.output_ns, 2'000u);
}

}  // namespace
}  // namespace mlpserve
