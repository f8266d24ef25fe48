#include "tests/metrics/probe_mlp.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

#include "tests/model/onnx_test_graph.h"

namespace mlpserve::testing {
namespace {

struct Dense {
  int64_t in = 0;
  int64_t out = 0;
  std::vector<float> w;  // [out][in], as a Gemm with transB = 1 holds it
  std::vector<float> b;  // [out]
};

constexpr float kLeakyAlpha = 0.01f;

struct ProbeWeights {
  Dense l0, l1, l2;
  std::vector<float> slopes;  // PRelu of layer 1
};

ProbeWeights Weights() {
  ProbeWeights p;
  // Layer 0: z = W x + b on x in {-1, -0.5, 0.5, 1}^4.
  p.l0.in = 4;
  p.l0.out = 6;
  p.l0.w = {
      1,    0,    0,   0,     // x0 + 0.25: the sign of x0
      0.25, 0.25, 0,   0,     // <= -0.5: dead
      0,    1,    -1,  0,     // x1 - x2 + 0.125
      -0.5, 0.5,  0.5, -0.5,  // <= -0.5: dead
      0,    0,    1,   1,     // x2 + x3 + 0.375
      0.25, 0,    0,   0,     // >= 0.75: always positive
  };
  p.l0.b = {0.25, -1, 0.125, -2.5, 0.375, 1};
  // Layer 1 on h = LeakyRelu(z0): h5 in [0.75, 1.25], h1 and h3 small
  // negative.
  p.l1.in = 6;
  p.l1.out = 5;
  p.l1.w = {
      1,    0,   0, 0,   -1, 0,   // h0 - h4 + 0.1
      0,    0,   0, 0,   0,  -1,  // -h5 - 0.5: dead (slope -0.5: output > 0)
      0,    0,   1, 0,   0,  0,   // h2 - 0.5
      0,    0.5, 0, 0.5, 0,  0,   // about -0.2: dead
      -0.5, 0,   0, 0,   0,  0,   // <= -0.375: dead (slope 0)
  };
  p.l1.b = {0.1, -0.5, -0.5, -0.2, -1};
  p.slopes = {0.25, -0.5, 0.25, 0.25, 0};
  p.l2.in = 5;
  p.l2.out = 3;
  p.l2.w = {
      0.5,  -0.25, 1,    0.125,  -1,    //
      -1,   0.5,   0.25, 0,      0.75,  //
      0.25, 1,     -0.5, -0.125, 0,     //
  };
  p.l2.b = {0.5, -0.25, 0};
  return p;
}

std::vector<double> Affine(const Dense& d, const std::vector<double>& x) {
  std::vector<double> z(d.out);
  for (int64_t o = 0; o < d.out; ++o) {
    double sum = d.b[o];
    for (int64_t i = 0; i < d.in; ++i) sum += static_cast<double>(d.w[o * d.in + i]) * x[i];
    z[o] = sum;
  }
  return z;
}

// Pre-activations of both observed layers and the outputs of one row.
struct RowValues {
  std::vector<double> z0, z1, out;
};

RowValues Evaluate(const ProbeWeights& p, const float* row) {
  RowValues v;
  v.z0 = Affine(p.l0, std::vector<double>(row, row + kProbeFeatures));
  std::vector<double> h0(v.z0.size());
  for (size_t u = 0; u < h0.size(); ++u) h0[u] = v.z0[u] > 0 ? v.z0[u] : kLeakyAlpha * v.z0[u];
  v.z1 = Affine(p.l1, h0);
  std::vector<double> h1(v.z1.size());
  for (size_t u = 0; u < h1.size(); ++u) {
    h1[u] = v.z1[u] > 0 ? v.z1[u] : p.slopes[u] * v.z1[u];
  }
  v.out = Affine(p.l2, h1);
  return v;
}

}  // namespace

std::string ProbeMlpOnnx() {
  OnnxTestGraph::Options options;
  options.in_features = kProbeFeatures;
  OnnxTestGraph graph(options);
  const ProbeWeights p = Weights();
  const Dense& l0 = p.l0;
  const Dense& l1 = p.l1;
  const Dense& l2 = p.l2;
  graph.AppendGemm("fc0", {l0.out, l0.in}, l0.w, {l0.out}, l0.b);
  SetFloatAttr(graph.Append("LeakyRelu", "act0"), "alpha", kLeakyAlpha);
  graph.AppendGemm("fc1", {l1.out, l1.in}, l1.w, {l1.out}, l1.b);
  graph.Append("PRelu", "act1", {graph.Initializer("act1.slope", {l1.out}, p.slopes)});
  graph.AppendGemm("fc2", {l2.out, l2.in}, l2.w, {l2.out}, l2.b);
  return graph.Serialized(kProbeOutputs);
}

std::vector<float> ProbeRows(int64_t rows, uint32_t seed) {
  static constexpr float kValues[] = {-1.0f, -0.5f, 0.5f, 1.0f};
  std::mt19937 rng(seed);
  std::vector<float> values(rows * kProbeFeatures);
  for (float& v : values) v = kValues[rng() % 4];
  return values;
}

std::vector<bool> ProbeSigns::Dead(int layer) const {
  std::vector<bool> dead;
  for (int64_t p : positive_rows[layer]) dead.push_back(p == 0);
  return dead;
}

int64_t ProbeSigns::DeadCount(int layer) const {
  const std::vector<bool> dead = Dead(layer);
  return std::count(dead.begin(), dead.end(), true);
}

ProbeSigns ReferenceSigns(const float* input, int64_t rows) {
  ProbeSigns signs;
  signs.rows = rows;
  signs.negative.assign(2, 0);
  signs.positive_rows = {std::vector<int64_t>(kProbeUnits[0], 0),
                         std::vector<int64_t>(kProbeUnits[1], 0)};
  signs.min_abs = std::numeric_limits<double>::infinity();
  const ProbeWeights p = Weights();
  for (int64_t r = 0; r < rows; ++r) {
    const RowValues v = Evaluate(p, input + r * kProbeFeatures);
    const std::vector<double>* layers[2] = {&v.z0, &v.z1};
    for (int l = 0; l < 2; ++l) {
      for (size_t u = 0; u < layers[l]->size(); ++u) {
        const double z = (*layers[l])[u];
        if (z < 0) ++signs.negative[l];
        if (z > 0) ++signs.positive_rows[l][u];
        signs.min_abs = std::min(signs.min_abs, std::fabs(z));
      }
    }
  }
  return signs;
}

std::vector<double> ReferenceOutputs(const float* input, int64_t rows) {
  std::vector<double> out;
  const ProbeWeights p = Weights();
  for (int64_t r = 0; r < rows; ++r) {
    const RowValues v = Evaluate(p, input + r * kProbeFeatures);
    out.insert(out.end(), v.out.begin(), v.out.end());
  }
  return out;
}

}  // namespace mlpserve::testing
