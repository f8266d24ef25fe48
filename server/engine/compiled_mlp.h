// An Mlp compiled into oneDNN primitives, and the per-thread context that
// executes it.
//
// CompiledMlp is built once per model version at load: for every batch-size
// bucket (see BatchBuckets) one matmul primitive per dense layer is created
// (src [M,K] and dst [M,N] plain row-major, weights [K,N] format_tag::any,
// bias [1,N]) with, where oneDNN can, its activation fused as an eltwise
// post-op (Leaky ReLU = eltwise_relu with alpha >= 0, ReLU, tanh, logistic).
// The weights are reordered once per distinct layout the matmuls pick (when
// that layout is the model's own "ab" they are used in place). PReLU, and
// Leaky ReLU with a negative alpha, run as a prelu_forward primitive in place
// on the matmul output; Softmax as a softmax_forward on axis 1. All
// primitives use prop_kind::forward_inference and scratchpad_mode::user. A
// CompiledMlp is immutable after Create and shared by every ExecutionContext
// of the model (shared_ptr<const>); it is thread-safe.
//
// ExecutionContext (a BatchRunner) owns what one executor thread needs: a
// oneDNN stream, its scratchpad, the input and per-layer output buffers
// (sized for max_batch_size) and the bound primitive arguments of every
// bucket. It is NOT thread-safe: one context per executor thread. Nothing is
// allocated by the engine per request (the BatchActivationCounts vectors
// grow on first use and are then reused; oneDNN may allocate internally).
//
// Run picks the smallest bucket >= rows, copies the input pieces into the
// bucket buffer, zeroes the padding rows and executes. Activation counts
// (activation_counts.h) are taken over the first `rows` rows: from the layer
// output for the fused kinds (ReLU / Leaky ReLU alpha 0: out <= 0 is
// negative; Leaky ReLU alpha > 0 and tanh: sign of out; sigmoid: out vs 0.5),
// and from the matmul output, i.e. the pre-activation itself, for PReLU (the
// output of a negative-slope unit is >= 0 whatever the sign of x); there a
// zero-slope unit counts x == 0 as negative, like ReLU.
#ifndef MLPSERVE_SERVER_ENGINE_COMPILED_MLP_H_
#define MLPSERVE_SERVER_ENGINE_COMPILED_MLP_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "server/engine/activation_counts.h"
#include "server/engine/batch_runner.h"
#include "server/model/mlp.h"

namespace mlpserve {

// The batch sizes primitives are created for: 1, 2, 3, 4, 6, 8, 12, 16, ...
// (powers of two and 1.5x between them) up to and including max_batch_size.
std::vector<int64_t> BatchBuckets(int64_t max_batch_size);

class CompiledMlp {
 public:
  struct Options {
    // Largest batch (rows) that will ever be run; >= 1.
    int64_t max_batch_size = 64;
    // oneDNN (OpenMP) threads each run uses; >= 1. oneDNN fixes a
    // primitive's thread count when it is created, so primitives are created
    // with this count and every ExecutionContext runs with it. A primitive
    // created for more threads than it runs with would start an OpenMP team
    // of its own size on every run, whose spinning workers fight the gRPC
    // threads for the cores.
    int threads = 1;
  };

  // INVALID_ARGUMENT if mlp.Validate() fails; INTERNAL naming the layer if
  // oneDNN refuses a primitive (dnnl::error is caught here).
  static absl::StatusOr<std::shared_ptr<const CompiledMlp>> Create(Mlp mlp, const Options& options);

  ~CompiledMlp();
  CompiledMlp(const CompiledMlp&) = delete;
  CompiledMlp& operator=(const CompiledMlp&) = delete;

  const Mlp& mlp() const;
  int64_t max_batch_size() const;
  int threads() const;
  int64_t input_features() const { return mlp().input_features(); }
  int64_t output_features() const { return mlp().output_features(); }
  // Bytes of the weight, bias and PReLU slope tensors the primitives read.
  int64_t weight_bytes() const;
  // The oneDNN implementations the primitives got, as oneDNN names them
  // (ONEDNN_VERBOSE's impl column), by primitive kind in layer order, e.g.
  // "matmul brg:avx512_core, prelu_forward jit:avx512_core" (a kind whose
  // batch-size buckets got different ones lists them joined by '/'). They
  // follow the
  // CPU's ISA (gemm:jit on AVX2, brg:avx512_core with AVX-512), which sets
  // the speed: worth a line in a load log and a benchmark record.
  std::string implementations() const;
  // True if any primitive fell back to a reference ("ref:...") kernel,
  // correct but an order of magnitude slower than the JIT ones.
  bool uses_reference_implementation() const;
  // Why this model cannot compute NaN or infinity in its input as IEEE floats
  // would (onnxruntime and torch give NaN out for NaN in), or "" when it can.
  // Create runs one row of NaN through the model and looks: oneDNN's fused
  // ReLU (Relu, LeakyRelu with alpha 0) is max(x, 0), which is 0 for a NaN x,
  // so a row with NaN in it would get an ordinary-looking answer (the reason
  // names that layer); other kernels could clamp NaN on some CPU. Infinities
  // count too, since inf - inf and 0 * inf are NaN. The server refuses
  // non-finite inputs of such a model (INVALID_ARGUMENT, saying this).
  const std::string& non_finite_refusal() const;

  struct Impl;  // oneDNN objects; defined in compiled_mlp.cc

 private:
  explicit CompiledMlp(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  friend class ExecutionContext;
};

class ExecutionContext : public BatchRunner {
 public:
  struct Options {
    // oneDNN (OpenMP) threads used by Run on the calling thread: 0 (the
    // default) takes the model's CompiledMlp::Options::threads; any other
    // value must equal it.
    int threads = 0;
  };

  static absl::StatusOr<std::unique_ptr<ExecutionContext>> Create(
      std::shared_ptr<const CompiledMlp> model, const Options& options);
  ~ExecutionContext() override;

  // BatchRunner. Sets the calling thread's OpenMP thread count to the
  // model's thread count before running.
  absl::StatusOr<absl::Span<const float>> Run(absl::Span<const absl::string_view> inputs,
                                              int64_t rows, BatchActivationCounts* counts) override;
  int64_t input_features() const override { return model_->input_features(); }
  int64_t output_features() const override { return model_->output_features(); }

  const CompiledMlp& model() const { return *model_; }

  struct State;  // stream, scratchpad and buffers; defined in the .cc

 private:
  ExecutionContext(std::shared_ptr<const CompiledMlp> model, std::unique_ptr<State> state);
  absl::Status Forward(size_t bucket_index, int64_t rows, BatchActivationCounts* counts);
  void CountLayer(size_t layer, int64_t rows, BatchActivationCounts& counts);
  std::shared_ptr<const CompiledMlp> model_;
  std::unique_ptr<State> state_;
};

}  // namespace mlpserve

#endif  // MLPSERVE_SERVER_ENGINE_COMPILED_MLP_H_
