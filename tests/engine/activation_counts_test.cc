// Activation sign counts of ExecutionContext::Run against counts derived from
// the reference pre-activations (activation_counts.h semantics).
#include "server/engine/activation_counts.h"

#include <cmath>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/engine/compiled_mlp.h"
#include "tests/engine/engine_test_util.h"
#include "tests/support/reference_mlp.h"

namespace mlpserve {
namespace {

using engine_test::MakeActivation;
using engine_test::MakePRelu;
using engine_test::MustCompile;
using engine_test::MustContext;
using engine_test::PieceInput;
using engine_test::RandomInput;
using engine_test::RandomMlp;
using ::testing::Each;
using ::testing::Le;

// Counts from pre-activations x. Values with |x| <= ambiguity could land on
// either side in FP32, so each layer gets [min, max] bounds for `negative`
// and per-unit positive_rows; with ambiguity 0 (exact data) min == max.
struct ExpectedLayer {
  int layer_index = 0;
  int64_t values = 0, negative_min = 0, negative_max = 0;
  std::vector<uint32_t> positive_min, positive_max;
};

bool ZeroIsNegative(const Activation& act, size_t unit) {
  switch (act.kind) {
    case ActivationKind::kRelu:
      return true;
    case ActivationKind::kLeakyRelu:
      return act.alpha == 0.0f;
    case ActivationKind::kPRelu:
      return act.slope[unit] == 0.0f;
    default:
      return false;
  }
}

std::vector<ExpectedLayer> Expected(const Mlp& mlp, const std::vector<float>& input, int64_t rows,
                                    double ambiguity) {
  std::vector<ExpectedLayer> expected;
  for (size_t l = 0; l < mlp.layers.size(); ++l) {
    const DenseLayer& layer = mlp.layers[l];
    // Observed: hidden layers with a nonlinearity that has a sign to count.
    const bool hidden = l + 1 < mlp.layers.size();
    const ActivationKind kind = layer.activation.kind;
    if (!hidden || kind == ActivationKind::kNone || kind == ActivationKind::kSoftmax) continue;
    const std::vector<double> x =
        testing::ReferencePreActivation(mlp, input, rows, static_cast<int>(l));
    ExpectedLayer e;
    e.layer_index = static_cast<int>(l);
    e.values = rows * layer.out;
    e.positive_min.assign(layer.out, 0);
    e.positive_max.assign(layer.out, 0);
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t c = 0; c < layer.out; ++c) {
        const double v = x[r * layer.out + c];
        const bool zero_negative = ZeroIsNegative(layer.activation, c);
        e.negative_min += v < -ambiguity || (ambiguity == 0 && v == 0 && zero_negative);
        e.negative_max += v < ambiguity || (v <= ambiguity && zero_negative);
        e.positive_min[c] += v > ambiguity;
        e.positive_max[c] += v > -ambiguity && !(ambiguity == 0 && v == 0);
      }
    }
    expected.push_back(std::move(e));
  }
  return expected;
}

void ExpectCounts(const BatchActivationCounts& got, const std::vector<ExpectedLayer>& want,
                  int64_t rows) {
  EXPECT_EQ(got.rows, rows);
  ASSERT_EQ(got.layers.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    SCOPED_TRACE("observed layer " + std::to_string(i));
    const LayerSignCounts& g = got.layers[i];
    const ExpectedLayer& w = want[i];
    EXPECT_EQ(g.layer_index, w.layer_index);
    EXPECT_EQ(g.values, w.values);
    EXPECT_GE(g.negative, w.negative_min);
    EXPECT_LE(g.negative, w.negative_max);
    ASSERT_EQ(g.positive_rows.size(), w.positive_min.size());
    for (size_t c = 0; c < w.positive_min.size(); ++c) {
      EXPECT_GE(g.positive_rows[c], w.positive_min[c]) << "unit " << c;
      EXPECT_LE(g.positive_rows[c], w.positive_max[c]) << "unit " << c;
    }
  }
}

// A model whose every value is exactly representable: integer weights and
// inputs, biases in halves, hidden slopes that are powers of two. Many pre-activations are
// exactly 0, exercising the x == 0 rules. Two hidden layers with `first` and
// `second`, then an output layer without activation.
Mlp ExactMlp(const Activation& first, const Activation& second, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> small(-2, 2);
  Mlp mlp;
  const int64_t widths[] = {6, 10, 8, 3};
  for (int l = 0; l < 3; ++l) {
    DenseLayer layer;
    layer.in = widths[l];
    layer.out = widths[l + 1];
    for (int64_t i = 0; i < layer.in * layer.out; ++i) layer.weights.push_back(small(rng));
    for (int64_t o = 0; o < layer.out; ++o)
      layer.bias.push_back(0.5f * static_cast<float>(small(rng)));  // halves: exact
    layer.activation = l == 0 ? first : l == 1 ? second : Activation{};
    mlp.layers.push_back(layer);
  }
  return mlp;
}

std::vector<float> ExactInput(int64_t rows, int64_t features, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> small(-2, 2);
  std::vector<float> input(rows * features);
  for (float& v : input) v = static_cast<float>(small(rng));
  return input;
}

struct ExactCase {
  std::string name;
  Activation first, second;
};

// gtest prints parameters with this instead of a byte dump.
void PrintTo(const ExactCase& c, std::ostream* os) { *os << c.name; }

class ExactCountsTest : public ::testing::TestWithParam<ExactCase> {};

TEST_P(ExactCountsTest, EqualReferenceCountsExactly) {
  const Mlp mlp = ExactMlp(GetParam().first, GetParam().second, 17);
  auto model = MustCompile(mlp, 64);
  ASSERT_NE(model, nullptr);
  auto context = MustContext(model);
  BatchActivationCounts counts;
  for (int64_t rows : {1, 7, 64, 3}) {
    const std::vector<float> input = ExactInput(rows, 6, static_cast<uint32_t>(rows));
    PieceInput pieces(input, 6, 3);
    ASSERT_TRUE(context->Run(pieces.pieces(), rows, &counts).ok());
    SCOPED_TRACE("rows " + std::to_string(rows));
    ExpectCounts(counts, Expected(mlp, input, rows, 0.0), rows);
  }
}

std::vector<ExactCase> ExactCases() {
  const std::vector<float> slopes10 = {0.5f,  0.0f, -0.5f, 0.25f, 0.0f,
                                       -1.0f, 2.0f, 0.5f,  0.0f,  -0.25f};
  const std::vector<float> slopes8 = {0.0f, -0.5f, 0.5f, 0.0f, -2.0f, 0.25f, 1.0f, 0.0f};
  return {
      {"Relu", MakeActivation(ActivationKind::kRelu), MakeActivation(ActivationKind::kRelu)},
      {"LeakyReluHalf", MakeActivation(ActivationKind::kLeakyRelu, 0.5f),
       MakeActivation(ActivationKind::kLeakyRelu, 0.25f)},
      {"LeakyReluZero", MakeActivation(ActivationKind::kLeakyRelu, 0.0f),
       MakeActivation(ActivationKind::kNone)},
      {"LeakyReluNegative", MakeActivation(ActivationKind::kLeakyRelu, -0.5f),
       MakeActivation(ActivationKind::kLeakyRelu, -2.0f)},
      {"PRelu", MakePRelu(slopes10), MakePRelu(slopes8)},
      {"ReluTanh", MakeActivation(ActivationKind::kRelu),  // tanh/sigmoid need exact inputs
       MakeActivation(ActivationKind::kTanh)},
      {"Sigmoid", MakeActivation(ActivationKind::kLeakyRelu, 0.5f),
       MakeActivation(ActivationKind::kSigmoid)},
  };
}

INSTANTIATE_TEST_SUITE_P(Kinds, ExactCountsTest, ::testing::ValuesIn(ExactCases()),
                         [](const auto& info) { return info.param.name; });

TEST(ActivationCountsTest, RandomMultiLayerModelsWithinFloatAmbiguity) {
  const Activation hiddens[] = {
      MakeActivation(ActivationKind::kLeakyRelu, 0.01f),
      MakeActivation(ActivationKind::kLeakyRelu, 0.001f),
      MakePRelu({}),  // RandomMlp fills 0.25
      MakeActivation(ActivationKind::kTanh),
      MakeActivation(ActivationKind::kSigmoid),
  };
  for (const Activation& hidden : hiddens) {
    SCOPED_TRACE(std::string(ActivationName(hidden.kind)));
    const Mlp mlp = RandomMlp(64, {128, 128, 10}, hidden, MakeActivation(ActivationKind::kNone), 4);
    auto model = MustCompile(mlp, 100);
    auto context = MustContext(model);
    BatchActivationCounts counts;
    for (int64_t rows : {1, 7, 64, 100}) {
      const std::vector<float> input = RandomInput(rows, 64, static_cast<uint32_t>(rows));
      PieceInput pieces(input, 64, 3);
      ASSERT_TRUE(context->Run(pieces.pieces(), rows, &counts).ok());
      const std::vector<ExpectedLayer> want = Expected(mlp, input, rows, 1e-5);
      ExpectCounts(counts, want, rows);
      // The ambiguity window is narrow: bounds differ by at most a handful.
      for (const ExpectedLayer& w : want) EXPECT_LE(w.negative_max - w.negative_min, 3);
    }
  }
}

TEST(ActivationCountsTest, PaddingRowsAreNeverCounted) {
  // Bias +1 on every unit: the zero padding rows would all count positive.
  Mlp mlp = RandomMlp(4, {8, 2}, MakeActivation(ActivationKind::kRelu),
                      MakeActivation(ActivationKind::kNone), 2);
  for (float& b : mlp.layers[0].bias) b = 1.0f;
  for (float& w : mlp.layers[0].weights) w = 0.0f;
  auto model = MustCompile(mlp, 64);
  auto context = MustContext(model);
  BatchActivationCounts counts;
  const std::vector<float> input = RandomInput(5, 4, 1);  // bucket 6: one padding row
  PieceInput pieces(input, 4, 1);
  ASSERT_TRUE(context->Run(pieces.pieces(), 5, &counts).ok());
  ASSERT_EQ(counts.layers.size(), 1u);
  EXPECT_EQ(counts.layers[0].values, 5 * 8);
  EXPECT_EQ(counts.layers[0].negative, 0);
  EXPECT_THAT(counts.layers[0].positive_rows, Each(5u));
}

TEST(ActivationCountsTest, ReusedCountsAreOverwrittenWithoutReallocation) {
  const Mlp mlp = RandomMlp(16, {32, 32, 4}, MakeActivation(ActivationKind::kLeakyRelu),
                            MakeActivation(ActivationKind::kSoftmax), 8);
  auto model = MustCompile(mlp, 64);
  auto context = MustContext(model);
  BatchActivationCounts counts;
  std::vector<float> input = RandomInput(64, 16, 3);
  PieceInput big(input, 16, 2);
  ASSERT_TRUE(context->Run(big.pieces(), 64, &counts).ok());
  ASSERT_EQ(counts.layers.size(), 2u);  // softmax is not observed
  EXPECT_EQ(counts.layers[0].layer_index, 0);
  EXPECT_EQ(counts.layers[1].layer_index, 1);
  const uint32_t* data = counts.layers[1].positive_rows.data();

  input.resize(3 * 16);
  PieceInput small(input, 16, 2);
  ASSERT_TRUE(context->Run(small.pieces(), 3, &counts).ok());
  EXPECT_EQ(counts.rows, 3);
  EXPECT_EQ(counts.layers[1].positive_rows.data(), data);
  EXPECT_THAT(counts.layers[1].positive_rows, Each(Le(3u)));
  ExpectCounts(counts, Expected(mlp, input, 3, 1e-5), 3);

  // nullptr counts: nothing counted, same outputs.
  EXPECT_TRUE(context->Run(small.pieces(), 3, nullptr).ok());
}

TEST(ActivationCountsTest, OutputLayerActivationIsNotObserved) {
  // A binary classifier: Leaky ReLU hidden layer, sigmoid output. The
  // output's sign is the prediction, not a unit that may be dead.
  for (ActivationKind last : {ActivationKind::kSigmoid, ActivationKind::kLeakyRelu,
                              ActivationKind::kPRelu, ActivationKind::kTanh}) {
    SCOPED_TRACE(std::string(ActivationName(last)));
    const Mlp mlp =
        RandomMlp(8, {16, 1}, MakeActivation(ActivationKind::kLeakyRelu),
                  last == ActivationKind::kPRelu ? MakePRelu({}) : MakeActivation(last), 5);
    auto model = MustCompile(mlp, 8);
    auto context = MustContext(model);
    BatchActivationCounts counts;
    const std::vector<float> input = RandomInput(8, 8, 2);
    PieceInput pieces(input, 8, 1);
    ASSERT_TRUE(context->Run(pieces.pieces(), 8, &counts).ok());
    ASSERT_EQ(counts.layers.size(), 1u);
    EXPECT_EQ(counts.layers[0].layer_index, 0);
    EXPECT_EQ(counts.layers[0].values, 8 * 16);
  }
}

TEST(ActivationCountsTest, ModelWithoutObservedLayersGivesNoLayers) {
  const Mlp mlp = RandomMlp(4, {3}, MakeActivation(ActivationKind::kSoftmax),
                            MakeActivation(ActivationKind::kSoftmax), 1);
  auto model = MustCompile(mlp, 4);
  auto context = MustContext(model);
  BatchActivationCounts counts;
  const std::vector<float> input = RandomInput(2, 4, 1);
  PieceInput pieces(input, 4, 1);
  ASSERT_TRUE(context->Run(pieces.pieces(), 2, &counts).ok());
  EXPECT_EQ(counts.rows, 2);
  EXPECT_TRUE(counts.layers.empty());
}

}  // namespace
}  // namespace mlpserve
