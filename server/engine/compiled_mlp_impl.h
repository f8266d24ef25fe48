// Internal to the engine: what CompiledMlp holds (its Impl) and what
// ExecutionContext reads from it. Not a public header; include only from
// server/engine/*.cc.
//
// Everything here is built once by CompiledMlp::Create and read-only after:
// oneDNN primitives may be executed concurrently from several threads because
// they all use scratchpad_mode::user (each ExecutionContext brings its own
// scratchpad) and never own mutable state.
#ifndef MLPSERVE_SERVER_ENGINE_COMPILED_MLP_IMPL_H_
#define MLPSERVE_SERVER_ENGINE_COMPILED_MLP_IMPL_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "oneapi/dnnl/dnnl.hpp"
#include "server/engine/compiled_mlp.h"
#include "server/engine/sign_counter.h"
#include "server/model/mlp.h"

namespace mlpserve {
namespace engine_internal {

// Bucket-independent facts about one dense layer.
struct LayerPlan {
  // Post-op fused into the matmul, or algorithm::undef when none.
  dnnl::algorithm fused = dnnl::algorithm::undef;
  float fused_alpha = 0.0f;
  // A prelu_forward runs in place on the matmul output (PReLU, and Leaky ReLU
  // with a negative slope, which runs as PReLU with every slope == alpha).
  bool prelu = false;
  // A softmax_forward on axis 1 runs in place on the matmul output.
  bool softmax = false;

  // Activation statistics. count_slot is the index into
  // BatchActivationCounts::layers, or -1 when the layer is not observed.
  int count_slot = -1;
  // True: signs are read from the matmul output (the pre-activation itself)
  // before the prelu runs. False: from the layer output after the fused
  // post-op (the sign of x is recoverable from f(x) for the fused kinds).
  bool count_pre_activation = false;
  float threshold = 0.0f;
  std::vector<uint32_t> zero_is_negative;  // per unit, 0 or 1

  SignRule rule() const { return SignRule{threshold, zero_is_negative.data()}; }
};

// The read-only tensors of one layer, shared by every bucket and context.
struct LayerTensors {
  // The weights in each distinct layout the buckets' matmuls chose (usually
  // one); each reordered once at load. A layout equal to the user's "ab"
  // wraps DenseLayer::weights without a copy.
  std::vector<dnnl::memory> weights;
  dnnl::memory bias;    // [1, out] "ab", over DenseLayer::bias
  dnnl::memory slopes;  // [1, out] "ab" PReLU slopes (prelu only)
  std::vector<float> slope_values;
};

// The primitives of one layer for one batch-size bucket.
struct LayerPrimitives {
  dnnl::memory::desc src;  // [bucket, in] "ab"
  dnnl::memory::desc dst;  // [bucket, out] "ab"
  dnnl::matmul matmul;
  dnnl::memory::desc matmul_scratchpad;
  int weights_copy = 0;  // index into LayerTensors::weights
  dnnl::primitive post;  // prelu_forward or softmax_forward; empty if none
  dnnl::memory::desc post_scratchpad;
  // The 1-row bucket of a prelu layer has no prelu_forward: with data and
  // slopes both [1, out], oneDNN 2.6's jit PReLU takes its no-broadcast path,
  // which on 2 or more threads applies some units' slopes to other units.
  // The context applies the slopes itself there (ApplyPRelu).
  bool prelu_by_hand = false;
};

struct Bucket {
  int64_t rows = 0;
  std::vector<LayerPrimitives> layers;
};

}  // namespace engine_internal

struct CompiledMlp::Impl {
  Mlp mlp;
  int64_t max_batch_size = 0;
  int threads = 1;  // OpenMP threads the primitives were created for
  dnnl::engine engine;
  std::vector<engine_internal::LayerPlan> plans;       // per layer
  std::vector<engine_internal::LayerTensors> tensors;  // per layer
  std::vector<engine_internal::Bucket> buckets;        // ascending rows
  int observed_layers = 0;
  size_t scratchpad_bytes = 0;  // max over all primitives
  int64_t weight_bytes = 0;
  std::string non_finite_refusal;  // see CompiledMlp::non_finite_refusal
  // Distinct (primitive kind, oneDNN implementation) pairs, in creation order.
  std::vector<std::pair<std::string, std::string>> implementations;
};

}  // namespace mlpserve

#endif  // MLPSERVE_SERVER_ENGINE_COMPILED_MLP_IMPL_H_
