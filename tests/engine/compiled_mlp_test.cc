// Numerics and contract tests of CompiledMlp / ExecutionContext against the
// naive double reference in tests/support.
#include "server/engine/compiled_mlp.h"

#include <cmath>
#include <limits>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "oneapi/dnnl/dnnl.hpp"
#include "tests/engine/engine_test_util.h"
#include "tests/support/reference_mlp.h"

namespace mlpserve {
namespace {

using engine_test::MakeActivation;
using engine_test::MakePRelu;
using engine_test::MustCompile;
using engine_test::MustContext;
using engine_test::NearReference;
using engine_test::PieceInput;
using engine_test::RandomInput;
using engine_test::RandomMlp;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(BatchBucketsTest, PowersOfTwoAndOneAndAHalf) {
  EXPECT_THAT(BatchBuckets(64), ElementsAre(1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64));
  EXPECT_THAT(BatchBuckets(100), ElementsAre(1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 100));
  EXPECT_THAT(BatchBuckets(1), ElementsAre(1));
  EXPECT_THAT(BatchBuckets(2), ElementsAre(1, 2));
  EXPECT_THAT(BatchBuckets(5), ElementsAre(1, 2, 3, 4, 5));
  EXPECT_THAT(BatchBuckets(7), ElementsAre(1, 2, 3, 4, 6, 7));
  EXPECT_TRUE(BatchBuckets(0).empty());
  const std::vector<int64_t> big = BatchBuckets(512);
  ASSERT_EQ(big.size(), 18u);
  EXPECT_EQ(big[big.size() - 2], 384);
  EXPECT_EQ(big.back(), 512);
}

// Runs `rows` rows of a seeded input through a fresh context, in 3 unaligned
// pieces, and compares with the reference.
void ExpectMatchesReference(const std::shared_ptr<const CompiledMlp>& model,
                            ExecutionContext& context, int64_t rows, uint32_t seed) {
  const std::vector<float> input = RandomInput(rows, model->input_features(), seed);
  PieceInput pieces(input, model->input_features(), 3);
  auto out = context.Run(pieces.pieces(), rows, nullptr);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_TRUE(NearReference(*out, testing::ReferenceForward(model->mlp(), input, rows)))
      << "rows " << rows;
}

struct ActivationCase {
  std::string name;
  Activation activation;
};

std::vector<ActivationCase> ActivationCases() {
  std::vector<float> slopes(40);
  for (size_t c = 0; c < slopes.size(); ++c) {
    const float kinds[] = {0.25f, 0.0f, -0.5f, 0.01f, 1.0f};
    slopes[c] = kinds[c % 5];
  }
  return {
      {"None", MakeActivation(ActivationKind::kNone)},
      {"Relu", MakeActivation(ActivationKind::kRelu)},
      {"LeakyReluZero", MakeActivation(ActivationKind::kLeakyRelu, 0.0f)},
      {"LeakyRelu001", MakeActivation(ActivationKind::kLeakyRelu, 0.01f)},
      {"LeakyRelu0001", MakeActivation(ActivationKind::kLeakyRelu, 0.001f)},
      {"LeakyReluNegative", MakeActivation(ActivationKind::kLeakyRelu, -0.2f)},
      {"PRelu", MakePRelu(slopes)},
      {"Sigmoid", MakeActivation(ActivationKind::kSigmoid)},
      {"Tanh", MakeActivation(ActivationKind::kTanh)},
      {"Softmax", MakeActivation(ActivationKind::kSoftmax)},
  };
}

// gtest prints parameters with this instead of a byte dump.
void PrintTo(const ActivationCase& c, std::ostream* os) { *os << c.name; }

class SingleLayerTest : public ::testing::TestWithParam<ActivationCase> {};

TEST_P(SingleLayerTest, MatchesReferenceAtEveryBatchSize) {
  for (int64_t max : {int64_t{128}, int64_t{100}}) {
    auto model =
        MustCompile(RandomMlp(48, {40}, GetParam().activation, GetParam().activation, 7), max);
    ASSERT_NE(model, nullptr);
    auto context = MustContext(model);
    ASSERT_NE(context, nullptr);
    for (int64_t rows : {int64_t{1}, int64_t{7}, int64_t{64}, max}) {
      ExpectMatchesReference(model, *context, rows, static_cast<uint32_t>(rows + max));
    }
  }
}

// oneDNN splits a layer across its threads by units: every activation at
// widths that do not divide evenly, with 1 row (where a PReLU's data and
// slopes have the same shape: oneDNN 2.6's jit PReLU took its no-broadcast
// path there and, on 2 or more threads, applied some units' slopes to
// others) and with a few rows.
TEST_P(SingleLayerTest, MatchesReferenceOnSeveralThreads) {
  for (int threads : {2, 4}) {
    for (int64_t width : {int64_t{33}, int64_t{100}}) {
      Activation activation = GetParam().activation;
      if (activation.kind == ActivationKind::kPRelu) {
        std::vector<float> slopes(static_cast<size_t>(width));
        for (size_t c = 0; c < slopes.size(); ++c) slopes[c] = 0.01f * static_cast<float>(c % 50);
        activation = MakePRelu(slopes);
      }
      auto model = MustCompile(RandomMlp(37, {width}, activation, activation, 5), 16, threads);
      ASSERT_NE(model, nullptr);
      auto context = MustContext(model);
      ASSERT_NE(context, nullptr);
      for (int64_t rows : {int64_t{1}, int64_t{2}, int64_t{3}, int64_t{16}}) {
        SCOPED_TRACE(absl::StrCat(threads, " threads, width ", width, ", rows ", rows));
        ExpectMatchesReference(model, *context, rows, static_cast<uint32_t>(rows + width));
      }
    }
  }
}

// NaN in one row of the input: that row's outputs are NaN, as onnxruntime's
// and torch's are, and the other rows are computed as usual; or the model
// says why it cannot give NaN back (CompiledMlp::non_finite_refusal), which
// the ReLU kinds must.
TEST_P(SingleLayerTest, NanInARowComesOutAsNanOrTheModelSaysWhyNot) {
  const Activation& activation = GetParam().activation;
  const Activation hidden = activation.kind == ActivationKind::kSoftmax  // last layer only
                                ? MakeActivation(ActivationKind::kNone)
                                : activation;
  auto model = MustCompile(RandomMlp(48, {40, 10}, hidden, activation, 7), 8);
  ASSERT_NE(model, nullptr);
  const bool relu = activation.kind == ActivationKind::kRelu ||
                    (activation.kind == ActivationKind::kLeakyRelu && activation.alpha == 0.0f);
  if (relu) {
    EXPECT_THAT(model->non_finite_refusal(), ::testing::HasSubstr("layer 0's activation (node '"));
    return;
  }
  if (!model->non_finite_refusal().empty()) {
    // Allowed (a CPU whose kernels clamp NaN), as long as it says so.
    EXPECT_THAT(model->non_finite_refusal(), ::testing::HasSubstr("NaN"));
    return;
  }
  auto context = MustContext(model);
  ASSERT_NE(context, nullptr);
  std::vector<float> input = RandomInput(3, 48, 11);
  input[48 + 5] = std::numeric_limits<float>::quiet_NaN();
  PieceInput pieces(input, 48, 1);
  auto out = context->Run(pieces.pieces(), 3, nullptr);
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_EQ(out->size(), 30u);
  for (size_t i = 10; i < 20; ++i) EXPECT_TRUE(std::isnan((*out)[i])) << "output " << i;
  for (int64_t row : {0, 2}) {
    const std::vector<float> one(input.begin() + row * 48, input.begin() + (row + 1) * 48);
    EXPECT_TRUE(NearReference(out->subspan(static_cast<size_t>(row) * 10, 10),
                              testing::ReferenceForward(model->mlp(), one, 1)))
        << "row " << row;
  }
}

INSTANTIATE_TEST_SUITE_P(Activations, SingleLayerTest, ::testing::ValuesIn(ActivationCases()),
                         [](const auto& info) { return info.param.name; });

TEST(CompiledMlpTest, MultiLayerModels) {
  struct Case {
    Activation hidden, last;
  };
  const Case cases[] = {
      {MakeActivation(ActivationKind::kLeakyRelu, 0.01f), MakeActivation(ActivationKind::kNone)},
      {MakeActivation(ActivationKind::kLeakyRelu, 0.001f),
       MakeActivation(ActivationKind::kSoftmax)},
      {MakePRelu(std::vector<float>(128, -0.1f)), MakeActivation(ActivationKind::kSigmoid)},
      {MakeActivation(ActivationKind::kTanh), MakeActivation(ActivationKind::kLeakyRelu)},
  };
  for (const Case& c : cases) {
    for (int64_t max : {int64_t{128}, int64_t{100}}) {
      auto model = MustCompile(RandomMlp(64, {128, 128, 10}, c.hidden, c.last, 11), max);
      ASSERT_NE(model, nullptr);
      auto context = MustContext(model);
      for (int64_t rows : {int64_t{1}, int64_t{7}, int64_t{64}, max}) {
        SCOPED_TRACE(std::string(ActivationName(c.hidden.kind)) + " max " + std::to_string(max));
        ExpectMatchesReference(model, *context, rows, static_cast<uint32_t>(rows));
      }
    }
  }
}

TEST(CompiledMlpTest, WideModelStaysWithinTolerance) {
  // K = 512: the benchmark model.
  auto model =
      MustCompile(RandomMlp(256, {512, 512, 10}, MakeActivation(ActivationKind::kLeakyRelu, 0.01f),
                            MakeActivation(ActivationKind::kNone), 3),
                  512);
  ASSERT_NE(model, nullptr);
  auto context = MustContext(model);
  for (int64_t rows : {int64_t{1}, int64_t{64}, int64_t{300}, int64_t{512}}) {
    ExpectMatchesReference(model, *context, rows, 99);
  }
}

TEST(CompiledMlpTest, SmallerBatchAfterLargerReusesBuffersCorrectly) {
  auto model = MustCompile(RandomMlp(16, {32, 4}, MakeActivation(ActivationKind::kRelu),
                                     MakeActivation(ActivationKind::kSoftmax), 5),
                           64);
  auto context = MustContext(model);
  for (int64_t rows : {64, 5, 64, 1, 3, 2, 63}) {
    ExpectMatchesReference(model, *context, rows, static_cast<uint32_t>(rows * 3));
  }
}

TEST(CompiledMlpTest, InputAsOnePieceOrOneRowPerPiece) {
  auto model = MustCompile(RandomMlp(8, {6}, MakeActivation(ActivationKind::kTanh),
                                     MakeActivation(ActivationKind::kTanh), 9),
                           16);
  auto context = MustContext(model);
  const int64_t rows = 9;
  const std::vector<float> input = RandomInput(rows, 8, 1);
  const std::vector<float> want = testing::ReferenceForward(model->mlp(), input, rows);
  for (int max_pieces : {1, 9, 20}) {
    PieceInput pieces(input, 8, max_pieces);
    auto out = context->Run(pieces.pieces(), rows, nullptr);
    ASSERT_TRUE(out.ok()) << out.status();
    EXPECT_TRUE(NearReference(*out, want)) << max_pieces << " pieces";
  }
}

TEST(CompiledMlpTest, Accessors) {
  auto model = MustCompile(RandomMlp(16, {32, 4}, MakeActivation(ActivationKind::kRelu),
                                     MakeActivation(ActivationKind::kNone), 5),
                           10);
  ASSERT_NE(model, nullptr);
  EXPECT_EQ(model->max_batch_size(), 10);
  EXPECT_EQ(model->input_features(), 16);
  EXPECT_EQ(model->output_features(), 4);
  EXPECT_GE(model->weight_bytes(), static_cast<int64_t>((16 * 32 + 32 + 32 * 4 + 4) * 4));
  auto context = MustContext(model);
  EXPECT_EQ(context->input_features(), 16);
  EXPECT_EQ(context->output_features(), 4);
  EXPECT_EQ(&context->model(), model.get());
}

// The batch-1 matmul's implementation as oneDNN itself picks it for the same
// shapes and post-op: the reference for implementations().
std::string DirectMatmulImplementation(int64_t in, int64_t out, float alpha) {
  using dnnl::memory;
  const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  dnnl::post_ops ops;
  ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, alpha, 0.0f);
  dnnl::primitive_attr attr;
  attr.set_post_ops(ops);
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  const auto f32 = memory::data_type::f32;
  dnnl::matmul::primitive_desc pd(
      dnnl::matmul::desc(memory::desc({1, in}, f32, memory::format_tag::ab),
                         memory::desc({in, out}, f32, memory::format_tag::any),
                         memory::desc({1, out}, f32, memory::format_tag::ab),
                         memory::desc({1, out}, f32, memory::format_tag::ab)),
      attr, engine);
  return pd.impl_info_str();
}

TEST(CompiledMlpTest, ImplementationsNameWhatOneDnnChose) {
  auto leaky = MustCompile(RandomMlp(16, {32, 4}, MakeActivation(ActivationKind::kLeakyRelu, 0.01f),
                                     MakeActivation(ActivationKind::kLeakyRelu, 0.01f), 5),
                           1);  // one bucket: batch 1
  ASSERT_NE(leaky, nullptr);
  const std::string direct = DirectMatmulImplementation(16, 32, 0.01f);
  EXPECT_EQ(leaky->implementations(), "matmul " + direct);
  EXPECT_FALSE(leaky->uses_reference_implementation()) << leaky->implementations();

  auto prelu = MustCompile(RandomMlp(16, {32, 4}, MakePRelu(std::vector<float>(32, 0.25f)),
                                     MakeActivation(ActivationKind::kSoftmax), 5),
                           64);
  ASSERT_NE(prelu, nullptr);
  EXPECT_THAT(
      prelu->implementations(),
      ::testing::MatchesRegex("matmul [^ ,]+, prelu_forward [^ ,]+, softmax_forward [^ ,]+"));
}

TEST(CompiledMlpTest, TwoContextsOnTwoThreads) {
  auto model =
      MustCompile(RandomMlp(64, {128, 128, 10}, MakeActivation(ActivationKind::kLeakyRelu, 0.01f),
                            MakeActivation(ActivationKind::kSoftmax), 21),
                  64);
  ASSERT_NE(model, nullptr);
  // Inputs and expected outputs computed up front; each thread checks its own.
  struct Job {
    int64_t rows;
    std::vector<float> input, want;
  };
  std::vector<Job> jobs[2];
  for (int t = 0; t < 2; ++t) {
    for (int i = 0; i < 8; ++i) {
      const int64_t rows = 1 + (i * 17 + t * 5) % 64;
      Job job{rows, RandomInput(rows, 64, static_cast<uint32_t>(100 * t + i)), {}};
      job.want = testing::ReferenceForward(model->mlp(), job.input, rows);
      jobs[t].push_back(std::move(job));
    }
  }
  int failures[2] = {0, 0};
  auto worker = [&](int t) {
    auto context = MustContext(model);
    for (int repeat = 0; repeat < 25; ++repeat) {
      for (const Job& job : jobs[t]) {
        PieceInput pieces(job.input, 64, 2);
        auto out = context->Run(pieces.pieces(), job.rows, nullptr);
        if (!out.ok() || !NearReference(*out, job.want)) ++failures[t];
      }
    }
  };
  std::thread a(worker, 0), b(worker, 1);
  a.join();
  b.join();
  EXPECT_EQ(failures[0], 0);
  EXPECT_EQ(failures[1], 0);
}

TEST(CompiledMlpErrorsTest, InvalidModelIsInvalidArgument) {
  CompiledMlp::Options options;
  EXPECT_EQ(CompiledMlp::Create(Mlp{}, options).status().code(),
            absl::StatusCode::kInvalidArgument);

  Mlp mismatched = RandomMlp(8, {6, 4}, MakeActivation(ActivationKind::kRelu),
                             MakeActivation(ActivationKind::kNone), 1);
  mismatched.layers[1].in = 5;
  auto status = CompiledMlp::Create(mismatched, options).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("layer 1"));

  Mlp bad_prelu = RandomMlp(8, {6}, MakePRelu({0.1f, 0.2f}), MakePRelu({0.1f, 0.2f}), 1);
  bad_prelu.layers[0].activation.slope = {0.1f, 0.2f};
  EXPECT_EQ(CompiledMlp::Create(bad_prelu, options).status().code(),
            absl::StatusCode::kInvalidArgument);

  options.max_batch_size = 0;
  EXPECT_EQ(CompiledMlp::Create(RandomMlp(8, {6}, MakeActivation(ActivationKind::kRelu),
                                          MakeActivation(ActivationKind::kRelu), 1),
                                options)
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(CompiledMlpErrorsTest, BadContextOptions) {
  EXPECT_EQ(ExecutionContext::Create(nullptr, {}).status().code(),
            absl::StatusCode::kInvalidArgument);
  auto model = MustCompile(RandomMlp(8, {6}, MakeActivation(ActivationKind::kRelu),
                                     MakeActivation(ActivationKind::kRelu), 1),
                           4);
  ExecutionContext::Options options;
  options.threads = 2;  // the model was compiled for 1
  EXPECT_EQ(ExecutionContext::Create(model, options).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(CompiledMlpErrorsTest, BadRunArguments) {
  auto model = MustCompile(RandomMlp(8, {6}, MakeActivation(ActivationKind::kRelu),
                                     MakeActivation(ActivationKind::kRelu), 1),
                           4);
  auto context = MustContext(model);
  const std::vector<float> input = RandomInput(5, 8, 1);
  const absl::string_view all(reinterpret_cast<const char*>(input.data()), 5 * 8 * 4);
  const absl::string_view two_rows = all.substr(0, 2 * 8 * 4);
  BatchActivationCounts counts;
  auto code = [&](absl::Span<const absl::string_view> in, int64_t rows) {
    return context->Run(in, rows, &counts).status().code();
  };
  const absl::string_view pieces[] = {two_rows};
  EXPECT_EQ(code(pieces, 0), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code(pieces, -1), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code({all}, 5), absl::StatusCode::kInvalidArgument);   // > max 4
  EXPECT_EQ(code(pieces, 3), absl::StatusCode::kInvalidArgument);  // too few bytes
  EXPECT_EQ(code(pieces, 1), absl::StatusCode::kInvalidArgument);  // too many bytes
  EXPECT_EQ(code({two_rows.substr(1)}, 2), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code({}, 1), absl::StatusCode::kInvalidArgument);
  // Still usable afterwards.
  EXPECT_EQ(code(pieces, 2), absl::StatusCode::kOk);
}

}  // namespace
}  // namespace mlpserve
