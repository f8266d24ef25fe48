// Independent naive reference for the numerics tests: evaluates an Mlp with
// plain loops and double accumulation, nothing shared with the engine.
#ifndef MLPSERVE_TESTS_SUPPORT_REFERENCE_MLP_H_
#define MLPSERVE_TESTS_SUPPORT_REFERENCE_MLP_H_

#include <cstdint>
#include <vector>

#include "server/model/mlp.h"

namespace mlpserve::testing {

// input: [rows, mlp.input_features()] row-major. Returns [rows, outputs].
std::vector<float> ReferenceForward(const Mlp& mlp, const std::vector<float>& input, int64_t rows);

// Pre-activation values of dense layer `layer` ([rows, out]), for checking
// activation statistics.
std::vector<double> ReferencePreActivation(const Mlp& mlp, const std::vector<float>& input,
                                           int64_t rows, int layer);

}  // namespace mlpserve::testing

#endif  // MLPSERVE_TESTS_SUPPORT_REFERENCE_MLP_H_
