#include "client/lib/tensor_json.h"

#include <cmath>
#include <limits>
#include <utility>
#include <vector>

#include "client/lib/infer_codec.h"
#include "client/lib/perf_report.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mlpserve::client {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string ErrorOf(absl::string_view text) {
  absl::StatusOr<Tensor> t = ParseInputJson(text, "in.json");
  EXPECT_FALSE(t.ok()) << text;
  if (t.ok()) return "";
  EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(t.status().message());
}

TEST(TensorJsonTest, ParsesRows) {
  absl::StatusOr<Tensor> t = ParseInputJson(R"({"inputs": [[1, 2.5, -3], [4, 5, 6e-1]]})");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_THAT(t->shape, ElementsAre(2, 3));
  EXPECT_THAT(t->data, ElementsAre(1, 2.5, -3, 4, 5, 0.6f));
  EXPECT_EQ(t->datatype, "FP32");
}

TEST(TensorJsonTest, ParsesFlat) {
  absl::StatusOr<Tensor> t = ParseInputJson(R"({"data": [1, 2, 3, 4, 5, 6], "shape": [3, 2]})");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_THAT(t->shape, ElementsAre(3, 2));
  EXPECT_THAT(t->data, ElementsAre(1, 2, 3, 4, 5, 6));
}

TEST(TensorJsonTest, BadInputsGiveClearErrors) {
  EXPECT_THAT(ErrorOf("{"), HasSubstr("in.json: not valid JSON"));
  EXPECT_THAT(ErrorOf("[1, 2]"), HasSubstr("top level must be a JSON object"));
  EXPECT_THAT(ErrorOf("{}"), HasSubstr("expected {\"inputs\""));
  EXPECT_THAT(ErrorOf(R"({"inputs": []})"), HasSubstr("non-empty array of rows"));
  EXPECT_THAT(ErrorOf(R"({"inputs": [1, 2]})"), HasSubstr("row 0 must be a non-empty array"));
  EXPECT_THAT(ErrorOf(R"({"inputs": [[1, 2], [3]]})"),
              HasSubstr("row 1 has 1 values, row 0 has 2"));
  EXPECT_THAT(ErrorOf(R"({"inputs": [[1, 2], [3, "x"]]})"),
              HasSubstr("row 1, column 1 is not a number"));
  EXPECT_THAT(ErrorOf(R"({"inputs": [[1]], "data": [1], "shape": [1, 1]})"), HasSubstr("not both"));
  EXPECT_THAT(ErrorOf(R"({"data": [1, 2, 3], "shape": [2, 2]})"),
              HasSubstr("\"data\" has 3 values, shape [2, 2] needs 4"));
  EXPECT_THAT(ErrorOf(R"({"data": [1, 2, 3], "shape": [2, 1]})"),
              HasSubstr("\"data\" has 3 values, shape [2, 1] needs 2"));
  // Dimensions whose product overflows int64.
  EXPECT_THAT(
      ErrorOf(R"({"data": [1], "shape": [4611686018427387904, 4]})"),
      HasSubstr("\"shape\" [4611686018427387904, 4] has more elements than an int64 counts"));
  EXPECT_THAT(ErrorOf(R"({"data": [1, 2], "shape": [2]})"), HasSubstr("\"shape\" must be [N, F]"));
  EXPECT_THAT(ErrorOf(R"({"data": [1, null], "shape": [1, 2]})"),
              HasSubstr("\"data\"[1] is not a number"));
  EXPECT_THAT(ErrorOf(R"({"data": [1]})"), HasSubstr("expected"));
  // Beyond FP32's range: an error, not a silent Inf.
  EXPECT_THAT(ErrorOf(R"({"inputs": [[1, -1e39]]})"),
              HasSubstr("row 0, column 1 (-1e+39) is beyond FP32's range"));
  EXPECT_THAT(ErrorOf(R"({"data": [1, 3.5e38], "shape": [1, 2]})"),
              HasSubstr("\"data\"[1] (3.5e+38) is beyond FP32's range"));
}

TEST(TensorJsonTest, LargestFiniteFloatsAreAccepted) {
  // 3.4028235e38 is how FLT_MAX prints (and exceeds it as a double); up to
  // half an ulp above, a value rounds to FLT_MAX.
  absl::StatusOr<Tensor> t =
      ParseInputJson(R"({"inputs": [[3.4028234e38, -3.4028235e38, 3.40282356e38]]})");
  ASSERT_TRUE(t.ok()) << t.status();
  const float max = std::numeric_limits<float>::max();
  EXPECT_THAT(t->data, ElementsAre(max, -max, max));
  EXPECT_THAT(ErrorOf(R"({"inputs": [[3.4028236e38]]})"), HasSubstr("beyond FP32's range"));
}

TEST(TensorJsonTest, MissingFileIsNotFound) {
  absl::StatusOr<Tensor> t = ReadInputJsonFile("/nonexistent/in.json");
  EXPECT_EQ(t.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(t.status().message()), HasSubstr("/nonexistent/in.json"));
}

TEST(TensorJsonTest, ResultJsonUsesShortestFloats) {
  InferResult r{"m", "1", "id7", {Tensor{"y", "FP32", {1, 2}, {0.1f, -2.0f}}}};
  EXPECT_EQ(InferResultToJson(r).dump(),
            R"({"id":"id7","model_name":"m","model_version":"1","outputs":[{"data":[0.1,-2.0],)"
            R"("datatype":"FP32","name":"y","shape":[1,2]}]})");
}

TEST(TensorJsonTest, ResultJsonNamesNanAndInfinities) {
  const float inf = std::numeric_limits<float>::infinity();
  InferResult r{"m", "1", "", {Tensor{"y", "FP32", {1, 4}, {std::nanf(""), inf, -inf, 1.5f}}}};
  EXPECT_EQ(InferResultToJson(r)["outputs"][0]["data"].dump(),
            R"(["NaN","Infinity","-Infinity",1.5])");
}

TEST(InferCodecTest, RawAndTypedRoundTrip) {
  Tensor in{"x", "FP32", {2, 2}, {1, 2, 3, 4}};
  for (bool typed : {false, true}) {
    absl::StatusOr<inference::ModelInferRequest> req = BuildInferRequest({"m", "", "", typed}, in);
    ASSERT_TRUE(req.ok()) << req.status();
    EXPECT_EQ(req->raw_input_contents_size(), typed ? 0 : 1);
    // Echo the input as an output, in the same encoding.
    inference::ModelInferResponse resp;
    auto* out = resp.add_outputs();
    out->set_name("y");
    out->set_datatype("FP32");
    *out->mutable_shape() = req->inputs(0).shape();
    *out->mutable_contents() = req->inputs(0).contents();
    if (!typed) resp.add_raw_output_contents(req->raw_input_contents(0));
    absl::StatusOr<InferResult> result = ParseInferResponse(resp);
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_THAT(result->outputs[0].data, ElementsAre(1, 2, 3, 4));
  }
}

TEST(InferCodecTest, RejectsMismatches) {
  EXPECT_FALSE(
      BuildInferRequest({"m", "", "", false}, Tensor{"x", "FP32", {2, 2}, {1, 2, 3}}).ok());
  EXPECT_FALSE(BuildInferRequest({"m", "", "", false}, Tensor{"x", "INT8", {1}, {1}}).ok());
  inference::ModelInferResponse resp;
  auto* out = resp.add_outputs();
  out->set_name("y");
  out->set_datatype("FP32");
  out->add_shape(3);
  resp.add_raw_output_contents(std::string(8, '\0'));
  absl::StatusOr<InferResult> r = ParseInferResponse(resp);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("output 'y'"));

  // A hostile shape whose element count wraps to 0 (signed overflow, UB)
  // must not pass for an empty tensor of that shape.
  inference::ModelInferResponse huge;
  auto* big = huge.add_outputs();
  big->set_name("y");
  big->set_datatype("FP32");
  big->add_shape(int64_t{1} << 62);
  big->add_shape(4);
  huge.add_raw_output_contents("");
  absl::StatusOr<InferResult> h = ParseInferResponse(huge);
  EXPECT_EQ(h.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(h.status().message()),
              HasSubstr("output 'y': shape [4611686018427387904, 4] has more than"));
}

// rows x features is bounded before allocating, without overflow (a huge
// --batch used to end in bad_alloc or length_error).
TEST(InferCodecTest, RandomInputRefusesTooManyValues) {
  absl::StatusOr<Tensor> small = RandomInput("x", 3, 4, 1);
  ASSERT_TRUE(small.ok()) << small.status();
  EXPECT_EQ(small->data.size(), 12u);
  EXPECT_THAT(small->shape, ElementsAre(3, 4));
  for (const auto& [rows, features] : {std::pair<int64_t, int64_t>{100000000000, 4},
                                       {kMaxElements / 4 + 1, 4},
                                       {int64_t{1} << 62, int64_t{1} << 62},
                                       {0, 4},
                                       {3, -1}}) {
    absl::StatusOr<Tensor> t = RandomInput("x", rows, features, 1);
    EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument) << rows << " x " << features;
    EXPECT_THAT(std::string(t.status().message()), HasSubstr("random input 'x'"));
  }
}

TEST(PerfReportTest, ParsesDurations) {
  using std::chrono::nanoseconds;
  EXPECT_EQ(*ParseDurationFlag("10s", "--duration"), std::chrono::seconds(10));
  EXPECT_EQ(*ParseDurationFlag("250ms", "--duration"), std::chrono::milliseconds(250));
  EXPECT_EQ(*ParseDurationFlag("2", "--duration"), std::chrono::seconds(2));
  EXPECT_EQ(*ParseDurationFlag("1m", "--duration"), std::chrono::minutes(1));
  // Below a millisecond is kept, not truncated (1.5ms used to become 1 ms,
  // 500us 0 ms and then "not positive").
  EXPECT_EQ(*ParseDurationFlag("1.5ms", "--duration"), std::chrono::microseconds(1500));
  EXPECT_EQ(*ParseDurationFlag("500us", "--duration"), std::chrono::microseconds(500));
  absl::StatusOr<nanoseconds> bad = ParseDurationFlag("ten", "--warmup");
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("--warmup: 'ten'"));
  EXPECT_FALSE(ParseDurationFlag("-1s", "--duration").ok());
  // Beyond int64 nanoseconds: refused, not saturated.
  absl::StatusOr<nanoseconds> huge = ParseDurationFlag("3000000000000s", "--duration");
  EXPECT_THAT(std::string(huge.status().message()),
              HasSubstr("--duration: '3000000000000s' is out of range"));
}

TEST(PerfReportTest, ValidateLevelSpecBoundsEveryFlag) {
  LevelSpec ok;
  EXPECT_TRUE(ValidateLevelSpec(ok).ok());
  ok.duration = std::chrono::microseconds(500);
  EXPECT_TRUE(ValidateLevelSpec(ok).ok());
  struct Case {
    LevelSpec spec;
    const char* flag;
  };
  std::vector<Case> cases;
  auto with = [&](const char* flag, auto&& change) {
    LevelSpec s;
    change(s);
    cases.push_back({s, flag});
  };
  with("--duration", [](LevelSpec& s) { s.duration = std::chrono::nanoseconds(0); });
  with("--duration", [](LevelSpec& s) { s.duration = std::chrono::hours(24 * 400); });
  with("--warmup", [](LevelSpec& s) { s.warmup = std::chrono::hours(24 * 400); });
  with("--warmup", [](LevelSpec& s) { s.warmup = std::chrono::seconds(-1); });
  with("--request-rate", [](LevelSpec& s) { s.request_rate = 1e300; });
  with("--request-rate", [](LevelSpec& s) { s.request_rate = kMaxRequestRate * 2; });
  with("--request-rate", [](LevelSpec& s) { s.request_rate = std::nan(""); });
  with("--concurrency", [](LevelSpec& s) { s.concurrency = 0; });
  with("--max-inflight", [](LevelSpec& s) {
    s.request_rate = 10;
    s.max_in_flight = 0;
  });
  with("--requests / --request-rate", [](LevelSpec& s) {
    s.request_rate = 1e-3;
    s.requests = 1'000'000;
  });
  for (const Case& c : cases) {
    absl::Status status = ValidateLevelSpec(c.spec);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << c.flag;
    EXPECT_THAT(std::string(status.message()), HasSubstr(c.flag));
  }
}

TEST(PerfReportTest, JsonAndTableNameErrorsByCode) {
  LevelResult r;
  r.spec.concurrency = 4;
  r.successes = 150;
  r.errors = 50;
  r.errors_by_code = {{"UNAVAILABLE", 50}};
  r.warmup_requests = 12;
  r.client_cpu_s = 0.25;
  PerfContext context{"127.0.0.1:1", "infer", "m", 8};
  nlohmann::json j = PerfReportJson(context, {r});
  EXPECT_EQ(j["levels"][0]["concurrency"], 4);
  EXPECT_EQ(j["levels"][0]["errors_by_code"]["UNAVAILABLE"], 50);
  EXPECT_TRUE(j["levels"][0]["latency_ms"].contains("p99.9"));
  EXPECT_EQ(j["levels"][0]["warmup_requests"], 12);
  EXPECT_EQ(j["levels"][0]["client_cpu_s"], 0.25);
  EXPECT_THAT(FormatPerfTable(context, {r}), HasSubstr("errors at 4: UNAVAILABLE=50"));
}

}  // namespace
}  // namespace mlpserve::client
