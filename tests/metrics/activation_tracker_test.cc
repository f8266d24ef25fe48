#include "server/metrics/activation_tracker.h"

#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/model/model_config.h"
#include "tests/metrics/metrics_test_util.h"

namespace mlpserve {
namespace {

using ::testing::DoubleEq;
using ::testing::ElementsAre;
using testing::SmallCounts;
using testing::SmallMlp;

TEST(ActivationTrackerTest, DescribesObservedLayersOnly) {
  ActivationTracker tracker(SmallMlp(), 8);
  ActivationView view = tracker.Snapshot();
  ASSERT_EQ(view.layers.size(), 2u);
  EXPECT_EQ(view.layers[0].layer, 0);
  EXPECT_EQ(view.layers[0].layer_index, 0);
  EXPECT_EQ(view.layers[0].activation, "leaky_relu");
  EXPECT_EQ(view.layers[0].node, "act0");
  EXPECT_EQ(view.layers[0].units, 3);
  EXPECT_EQ(view.layers[1].layer, 1);
  EXPECT_EQ(view.layers[1].activation, "prelu");
  EXPECT_EQ(view.layers[1].units, 5);
  EXPECT_EQ(view.dead_window_rows, 8);
  // No evidence yet: nothing is dead.
  EXPECT_EQ(view.rows_seen, 0);
  EXPECT_EQ(view.layers[0].dead_units, 0);
  EXPECT_DOUBLE_EQ(view.layers[0].negative_ratio, 0.0);
}

TEST(ActivationTrackerTest, CountsNegativesExactly) {
  ActivationTracker tracker(SmallMlp(), 100);
  ASSERT_TRUE(tracker.Ingest(SmallCounts(4, {{4, 0, 1}, {0, 0, 0, 0, 4}})).ok());
  ASSERT_TRUE(tracker.Ingest(SmallCounts(2, {{2, 2, 0}, {1, 0, 0, 0, 2}})).ok());
  ActivationView view = tracker.Snapshot();
  EXPECT_EQ(view.rows_seen, 6);
  EXPECT_EQ(view.batches_seen, 2);
  const LayerActivationView& l0 = view.layers[0];
  EXPECT_EQ(l0.values_total, 18);
  EXPECT_EQ(l0.negative_total, 18 - 9);
  EXPECT_EQ(l0.window_rows, 6);
  EXPECT_DOUBLE_EQ(l0.negative_ratio, 9.0 / 18.0);
  EXPECT_THAT(l0.positive_rate, ElementsAre(DoubleEq(1.0), DoubleEq(2.0 / 6), DoubleEq(1.0 / 6)));
  EXPECT_EQ(l0.dead_units, 0);
  const LayerActivationView& l1 = view.layers[1];
  EXPECT_EQ(l1.values_total, 30);
  EXPECT_EQ(l1.negative_total, 30 - 7);
  // Six rows of a 100-row window are no evidence: nothing is dead yet, even
  // units 1-3 that were never positive.
  EXPECT_FALSE(l1.window_full);
  EXPECT_EQ(l1.dead_units, 0);
  EXPECT_THAT(l1.dead, ElementsAre(false, false, false, false, false));
  EXPECT_THAT(l1.positive_rate, ElementsAre(DoubleEq(1.0 / 6), DoubleEq(0.0), DoubleEq(0.0),
                                            DoubleEq(0.0), DoubleEq(1.0)));
}

TEST(ActivationTrackerTest, DeadIsJudgedOnlyOnceTheWindowIsFull) {
  ActivationTracker tracker(SmallMlp(), 8);
  ASSERT_TRUE(tracker.Ingest(SmallCounts(7, {{7, 0, 7}, {7, 0, 7, 7, 7}})).ok());
  ActivationView partial = tracker.Snapshot();
  EXPECT_EQ(partial.layers[1].window_rows, 7);
  EXPECT_FALSE(partial.layers[1].window_full);
  EXPECT_EQ(partial.layers[1].dead_units, 0);
  // The eighth row fills the window: unit 1 of either layer never fired.
  ASSERT_TRUE(tracker.Ingest(SmallCounts(1, {{1, 0, 1}, {1, 0, 1, 1, 1}})).ok());
  ActivationView full = tracker.Snapshot();
  EXPECT_TRUE(full.layers[1].window_full);
  EXPECT_EQ(full.layers[0].dead_units, 1);
  EXPECT_EQ(full.layers[1].dead_units, 1);
  EXPECT_THAT(full.layers[1].dead, ElementsAre(false, true, false, false, false));
}

TEST(ActivationTrackerTest, DeadUnitsOverFullWindowAndRollover) {
  ActivationTracker tracker(SmallMlp(), 8);  // block_rows 1: exact per batch
  // Unit 2 of layer 0 is positive only in the first batch.
  ASSERT_TRUE(tracker.Ingest(SmallCounts(4, {{4, 0, 4}, {4, 4, 4, 4, 4}})).ok());
  ASSERT_TRUE(tracker.Ingest(SmallCounts(4, {{4, 0, 0}, {4, 4, 4, 4, 4}})).ok());
  ActivationView full = tracker.Snapshot();  // exactly one full window
  EXPECT_EQ(full.layers[0].window_rows, 8);
  EXPECT_THAT(full.layers[0].dead, ElementsAre(false, true, false));
  EXPECT_EQ(full.layers[0].dead_units, 1);
  EXPECT_DOUBLE_EQ(full.layers[0].negative_ratio, 12.0 / 24.0);

  // The first batch leaves the window: unit 2 is dead now.
  ASSERT_TRUE(tracker.Ingest(SmallCounts(4, {{4, 0, 0}, {4, 4, 4, 4, 4}})).ok());
  ActivationView rolled = tracker.Snapshot();
  EXPECT_EQ(rolled.layers[0].window_rows, 8);
  EXPECT_THAT(rolled.layers[0].dead, ElementsAre(false, true, true));
  EXPECT_EQ(rolled.layers[0].dead_units, 2);
  EXPECT_DOUBLE_EQ(rolled.layers[0].negative_ratio, 16.0 / 24.0);
  EXPECT_THAT(rolled.layers[0].positive_rate,
              ElementsAre(DoubleEq(1.0), DoubleEq(0.0), DoubleEq(0.0)));
  // Cumulative totals keep every row.
  EXPECT_EQ(rolled.layers[0].values_total, 36);
  EXPECT_EQ(rolled.layers[0].negative_total, 36 - 12 - 4);

  // A unit revives as soon as it is positive once.
  ASSERT_TRUE(tracker.Ingest(SmallCounts(4, {{4, 1, 0}, {4, 4, 4, 4, 4}})).ok());
  EXPECT_THAT(tracker.Snapshot().layers[0].dead, ElementsAre(false, false, true));
}

TEST(ActivationTrackerTest, WindowKeepsWholeBatches) {
  ActivationTracker tracker(SmallMlp(), 8);
  ASSERT_TRUE(tracker.Ingest(SmallCounts(6, {{6, 6, 6}, {0, 0, 0, 0, 0}})).ok());
  ASSERT_TRUE(tracker.Ingest(SmallCounts(6, {{0, 0, 0}, {0, 0, 0, 0, 0}})).ok());
  // 12 rows seen; dropping the first batch would leave 6 < 8 rows, so the
  // window still holds both batches.
  ActivationView view = tracker.Snapshot();
  EXPECT_EQ(view.layers[0].window_rows, 12);
  EXPECT_EQ(view.layers[0].dead_units, 0);
  ASSERT_TRUE(tracker.Ingest(SmallCounts(2, {{0, 0, 0}, {0, 0, 0, 0, 0}})).ok());
  view = tracker.Snapshot();
  EXPECT_EQ(view.layers[0].window_rows, 8);
  EXPECT_EQ(view.layers[0].dead_units, 3);
}

TEST(ActivationTrackerTest, SmallBatchesMergeIntoBlocks) {
  ActivationTracker tracker(SmallMlp(), 640);  // block_rows 10
  for (int i = 0; i < 640; ++i) {
    ASSERT_TRUE(tracker.Ingest(SmallCounts(1, {{1, 0, 0}, {0, 0, 0, 0, 0}})).ok());
  }
  ActivationView view = tracker.Snapshot();
  EXPECT_EQ(view.layers[0].window_rows, 640);
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(tracker.Ingest(SmallCounts(1, {{0, 0, 0}, {0, 0, 0, 0, 0}})).ok());
  }
  view = tracker.Snapshot();
  EXPECT_EQ(view.layers[0].window_rows, 640);
  EXPECT_DOUBLE_EQ(view.layers[0].positive_rate[0], 630.0 / 640.0);
}

// At the largest window config.pbtxt accepts, a block holds 2^31 rows: a
// unit positive in every row of one window and negative in every row of the
// next must end dead (per-block counts that wrapped at 2^32 left it alive).
TEST(ActivationTrackerTest, LargestWindowCountsWithoutOverflow) {
  Mlp mlp = SmallMlp();
  mlp.layers[1].activation.kind = ActivationKind::kNone;  // one observed layer
  ActivationTracker tracker(mlp, kMaxDeadWindowRows);
  constexpr int64_t kRows = kMaxMaxBatchSize;
  auto batch = [&](bool positive) {
    BatchActivationCounts counts;
    counts.rows = kRows;
    LayerSignCounts& layer = counts.layers.emplace_back();
    layer.layer_index = 0;
    layer.values = kRows * 3;
    layer.positive_rows = {positive ? static_cast<uint32_t>(kRows) : 0u, 0u, 0u};
    layer.negative = positive ? kRows * 2 : kRows * 3;
    return counts;
  };
  const BatchActivationCounts positive = batch(true), negative = batch(false);
  const int64_t batches_per_window = static_cast<int64_t>(kMaxDeadWindowRows) / kRows;
  for (int64_t i = 0; i < batches_per_window; ++i) ASSERT_TRUE(tracker.Ingest(positive).ok());
  ActivationView view = tracker.Snapshot();
  EXPECT_EQ(view.layers[0].window_rows, static_cast<int64_t>(kMaxDeadWindowRows));
  EXPECT_THAT(view.layers[0].dead, ElementsAre(false, true, true));
  for (int64_t i = 0; i < batches_per_window; ++i) ASSERT_TRUE(tracker.Ingest(negative).ok());
  view = tracker.Snapshot();
  EXPECT_EQ(view.layers[0].window_rows, static_cast<int64_t>(kMaxDeadWindowRows));
  EXPECT_THAT(view.layers[0].dead, ElementsAre(true, true, true));
  EXPECT_DOUBLE_EQ(view.layers[0].positive_rate[0], 0.0);
  // A larger window is taken as the largest; a batch beyond
  // max_batch_size's bound is refused.
  EXPECT_EQ(ActivationTracker(mlp, ~uint64_t{0}).Snapshot().dead_window_rows,
            static_cast<int64_t>(kMaxDeadWindowRows));
  BatchActivationCounts huge = batch(false);
  huge.rows = kRows + 1;
  huge.layers[0].values = huge.rows * 3;
  huge.layers[0].negative = huge.rows * 3;
  EXPECT_FALSE(tracker.Ingest(huge).ok());
}

TEST(ActivationTrackerTest, RejectsCountsThatDoNotMatchTheModel) {
  ActivationTracker tracker(SmallMlp(), 8);
  EXPECT_FALSE(tracker.Ingest(SmallCounts(4, {{4, 0, 4}})).ok());  // one layer
  EXPECT_FALSE(tracker.Ingest(SmallCounts(4, {{4, 0}, {4, 4, 4, 4, 4}})).ok());
  EXPECT_FALSE(tracker.Ingest(SmallCounts(4, {{5, 0, 0}, {4, 4, 4, 4, 4}})).ok());
  BatchActivationCounts wrong_index = SmallCounts(4, {{4, 0, 4}, {4, 4, 4, 4, 4}});
  wrong_index.layers[1].layer_index = 2;
  EXPECT_FALSE(tracker.Ingest(wrong_index).ok());
  EXPECT_FALSE(tracker.Ingest(SmallCounts(0, {{0, 0, 0}, {0, 0, 0, 0, 0}})).ok());
  EXPECT_EQ(tracker.Snapshot().rows_seen, 0);
}

TEST(ActivationTrackerTest, NoObservedLayers) {
  Mlp mlp = SmallMlp();
  for (DenseLayer& layer : mlp.layers) layer.activation.kind = ActivationKind::kNone;
  ActivationTracker tracker(mlp, 8);
  EXPECT_EQ(tracker.num_layers(), 0);
  BatchActivationCounts counts;
  counts.rows = 3;
  EXPECT_TRUE(tracker.Ingest(counts).ok());
  EXPECT_EQ(tracker.Snapshot().rows_seen, 3);
}

TEST(ActivationTrackerTest, ConcurrentIngestIsExact) {
  ActivationTracker tracker(SmallMlp(), 1000);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 500; ++i) {
        ASSERT_TRUE(tracker.Ingest(SmallCounts(2, {{1, 0, 2}, {0, 0, 0, 0, 0}})).ok());
        (void)tracker.Snapshot();
      }
    });
  }
  for (std::thread& t : threads) t.join();
  ActivationView view = tracker.Snapshot();
  EXPECT_EQ(view.rows_seen, 4000);
  EXPECT_EQ(view.layers[0].values_total, 12000);
  EXPECT_EQ(view.layers[0].negative_total, 12000 - 2000 * 3);
}

}  // namespace
}  // namespace mlpserve
