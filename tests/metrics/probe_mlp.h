// A model with hand-picked weights whose activation signs are known, for the
// end-to-end metrics tests, and a naive reference that counts those signs.
//
// The probe MLP: 4 inputs -> dense 6 + LeakyRelu (alpha 0.01) -> dense 5 +
// PRelu (slopes 0.25, -0.5, 0.25, 0.25, 0) -> dense 3 (no activation), as an
// ONNX graph of Gemm / LeakyRelu / Gemm / PRelu / Gemm. For inputs whose
// features are each one of -1, -0.5, 0.5, 1 (ProbeRows):
//   observed layer 0 (LeakyRelu): units 1 and 3 never have a positive
//     pre-activation (dead), unit 5 always has, units 0, 2, 4 depend on the
//     row (unit 0 is positive exactly when feature 0 is);
//   observed layer 1 (PRelu): units 1, 3 and 4 are dead (unit 1 has slope
//     -0.5, so its *output* is always positive; unit 4 has slope 0), units 0
//     and 2 depend on the row;
// and no pre-activation is within 0.02 of zero, so float and double agree on
// every sign. The reference below does not use the server's code: it is a
// plain double loop over the weights defined here.
//
// Everything here is a pure function; thread-safe.
#ifndef MLPSERVE_TESTS_METRICS_PROBE_MLP_H_
#define MLPSERVE_TESTS_METRICS_PROBE_MLP_H_

#include <cstdint>
#include <string>
#include <vector>

namespace mlpserve::testing {

inline constexpr int64_t kProbeFeatures = 4;
inline constexpr int64_t kProbeOutputs = 3;
// Units of observed layers 0 and 1.
inline constexpr int64_t kProbeUnits[2] = {6, 5};

// The serialized ONNX model (input "input" [batch, 4], output "output"
// [batch, 3]).
std::string ProbeMlpOnnx();

// `rows` rows of kProbeFeatures values, each drawn from {-1, -0.5, 0.5, 1}
// by std::mt19937(seed).
std::vector<float> ProbeRows(int64_t rows, uint32_t seed);

// Sign counts of the pre-activations of both observed layers over some rows.
struct ProbeSigns {
  int64_t rows = 0;
  std::vector<int64_t> negative;                    // per layer: values < 0
  std::vector<std::vector<int64_t>> positive_rows;  // per layer, per unit: rows > 0
  double min_abs = 0;                               // smallest |pre-activation| seen

  // Per layer: units with no positive row, and their number.
  std::vector<bool> Dead(int layer) const;
  int64_t DeadCount(int layer) const;
};

// Counts over rows [0, rows) of `input` ([rows, kProbeFeatures] row-major).
ProbeSigns ReferenceSigns(const float* input, int64_t rows);

// The model's outputs ([rows, kProbeOutputs]) for the same rows.
std::vector<double> ReferenceOutputs(const float* input, int64_t rows);

}  // namespace mlpserve::testing

#endif  // MLPSERVE_TESTS_METRICS_PROBE_MLP_H_
