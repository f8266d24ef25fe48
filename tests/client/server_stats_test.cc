// ServerSideDelta against hand-built ModelStatistics answers.
#include "client/lib/server_stats.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mlpserve::client {
namespace {

using ::testing::HasSubstr;

// One version's statistics: `requests` OK requests of `request_ns` in all,
// with the parts given in ns.
void AddVersion(inference::ModelStatisticsResponse& response, const std::string& model,
                const std::string& version, uint64_t requests, uint64_t rows, uint64_t batches,
                uint64_t request_ns, uint64_t queue_ns, uint64_t input_ns, uint64_t infer_ns,
                uint64_t output_ns) {
  inference::ModelStatistics* m = response.add_model_stats();
  m->set_name(model);
  m->set_version(version);
  m->set_inference_count(rows);
  m->set_execution_count(batches);
  inference::InferStatistics* s = m->mutable_inference_stats();
  s->mutable_success()->set_count(requests);
  s->mutable_success()->set_ns(request_ns);
  for (auto* part : {s->mutable_queue(), s->mutable_compute_input(), s->mutable_compute_infer(),
                     s->mutable_compute_output()}) {
    part->set_count(requests);
  }
  s->mutable_queue()->set_ns(queue_ns);
  s->mutable_compute_input()->set_ns(input_ns);
  s->mutable_compute_infer()->set_ns(infer_ns);
  s->mutable_compute_output()->set_ns(output_ns);
}

TEST(ServerSideDeltaTest, MeansPerRequestOverEveryVersionOfTheModel) {
  inference::ModelStatisticsResponse before, after;
  AddVersion(before, "m", "1", 10, 10, 10, 1'000'000, 100'000, 10'000, 500'000, 20'000);
  AddVersion(before, "other", "1", 5, 5, 5, 5, 5, 5, 5, 5);
  // Version 1: 90 more requests, 180 rows in 30 batches; version 2 is new
  // with 100 requests. Another model's figures are left out.
  AddVersion(after, "m", "1", 100, 190, 40, 10'000'000, 1'000'000, 100'000, 5'000'000, 200'000);
  AddVersion(after, "m", "2", 100, 100, 100, 11'000'000, 1'100'000, 110'000, 5'100'000, 210'000);
  AddVersion(after, "other", "1", 500, 500, 500, 500, 500, 500, 500, 500);

  absl::StatusOr<ServerSideStats> s = ServerSideDelta(before, after, "m");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->requests, 190u);
  EXPECT_EQ(s->inferences, 280u);
  EXPECT_EQ(s->executions, 130u);
  EXPECT_DOUBLE_EQ(s->request_us, (9'000'000 + 11'000'000) / 190.0 / 1000);
  EXPECT_DOUBLE_EQ(s->queue_us, (900'000 + 1'100'000) / 190.0 / 1000);
  EXPECT_DOUBLE_EQ(s->compute_input_us, (90'000 + 110'000) / 190.0 / 1000);
  EXPECT_DOUBLE_EQ(s->compute_infer_us, (4'500'000 + 5'100'000) / 190.0 / 1000);
  EXPECT_DOUBLE_EQ(s->compute_output_us, (180'000 + 210'000) / 190.0 / 1000);
  EXPECT_NEAR(s->other_us,
              s->request_us - s->queue_us - s->compute_input_us - s->compute_infer_us -
                  s->compute_output_us,
              1e-9);
  EXPECT_GT(s->other_us, 0);
}

TEST(ServerSideDeltaTest, NoRequestsIsAllZeros) {
  inference::ModelStatisticsResponse both;
  AddVersion(both, "m", "1", 10, 10, 10, 1'000, 100, 10, 500, 20);
  absl::StatusOr<ServerSideStats> s = ServerSideDelta(both, both, "m");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->requests, 0u);
  EXPECT_EQ(s->request_us, 0);
  EXPECT_EQ(s->other_us, 0);
}

TEST(ServerSideDeltaTest, ARestartedVersionIsRefusedByName) {
  inference::ModelStatisticsResponse before, after;
  AddVersion(before, "m", "3", 100, 100, 100, 1'000, 100, 10, 500, 20);
  AddVersion(after, "m", "3", 4, 4, 4, 40, 4, 4, 4, 4);  // reloaded: counters restarted
  absl::StatusOr<ServerSideStats> s = ServerSideDelta(before, after, "m");
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.status().message(), HasSubstr("model 'm' version 3"));
}

TEST(ServerSideDeltaTest, PartsAboveTheTotalLeaveNoNegativeRest) {
  // The parts come from different clocks in the server; rounding must not
  // show as a negative remainder.
  inference::ModelStatisticsResponse before, after;
  AddVersion(after, "m", "1", 1, 1, 1, 1'000, 400, 100, 500, 100);  // parts 1,100 > 1,000
  absl::StatusOr<ServerSideStats> s = ServerSideDelta(before, after, "m");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->other_us, 0);
}

}  // namespace
}  // namespace mlpserve::client
