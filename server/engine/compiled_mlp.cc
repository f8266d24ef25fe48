#include "server/engine/compiled_mlp.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "oneapi/dnnl/dnnl.hpp"
#include "server/common/utf8.h"
#include "server/engine/compiled_mlp_impl.h"

namespace mlpserve {
namespace {

// Sets the calling thread's OpenMP thread count for its lifetime.
class ScopedOmpThreads {
 public:
  explicit ScopedOmpThreads(int threads) : saved_(omp_get_max_threads()) {
    omp_set_num_threads(threads);
  }
  ~ScopedOmpThreads() { omp_set_num_threads(saved_); }

 private:
  const int saved_;
};

using dnnl::memory;
using engine_internal::LayerPlan;
using engine_internal::LayerPrimitives;
using engine_internal::LayerTensors;
using dt = memory::data_type;
using tag = memory::format_tag;

std::string Where(const Mlp& mlp, int index) {
  return absl::StrCat("layer ", index, " (node '", mlp.layers[index].node, "')");
}

// Decides how layer `index` of `mlp` runs and how its signs are counted.
LayerPlan MakePlan(const Mlp& mlp, size_t index, int* observed) {
  LayerPlan plan;
  const DenseLayer& layer = mlp.layers[index];
  const Activation& act = layer.activation;
  const size_t units = static_cast<size_t>(layer.out);
  plan.zero_is_negative.assign(units, 0);
  switch (act.kind) {
    case ActivationKind::kNone:
      break;
    case ActivationKind::kRelu:
      plan.fused = dnnl::algorithm::eltwise_relu;
      plan.zero_is_negative.assign(units, 1);  // out == 0 for every x <= 0
      break;
    case ActivationKind::kLeakyRelu:
      if (act.alpha >= 0.0f) {
        plan.fused = dnnl::algorithm::eltwise_relu;
        plan.fused_alpha = act.alpha;
        plan.zero_is_negative.assign(units, act.alpha == 0.0f ? 1 : 0);
      } else {
        // f(x) >= 0 for every x: the output cannot tell the sign, so run it
        // as a PReLU and count the matmul output before it.
        plan.prelu = true;
        plan.count_pre_activation = true;
      }
      break;
    case ActivationKind::kPRelu:
      plan.prelu = true;
      plan.count_pre_activation = true;
      // Same result as reading the output where the slope is >= 0 (a zero
      // slope cannot tell x == 0 from x < 0); exact where it is negative.
      for (size_t c = 0; c < units; ++c) plan.zero_is_negative[c] = act.slope[c] == 0.0f ? 1 : 0;
      break;
    case ActivationKind::kSigmoid:
      plan.fused = dnnl::algorithm::eltwise_logistic;
      plan.threshold = 0.5f;
      break;
    case ActivationKind::kTanh:
      plan.fused = dnnl::algorithm::eltwise_tanh;
      break;
    case ActivationKind::kSoftmax:
      plan.softmax = true;
      break;
  }
  if (IsObservedLayer(mlp, index)) plan.count_slot = (*observed)++;
  return plan;
}

// Whether a row of NaN comes out of `model` as NaN in every output, as it
// does from onnxruntime and torch: decided by running it, since it depends
// on oneDNN's kernels (a fused ReLU is max(x, 0), which gives 0).
absl::StatusOr<bool> CarriesNan(const std::shared_ptr<const CompiledMlp>& model) {
  absl::StatusOr<std::unique_ptr<ExecutionContext>> context =
      ExecutionContext::Create(model, ExecutionContext::Options());
  if (!context.ok()) return context.status();
  const std::vector<float> row(static_cast<size_t>(model->input_features()),
                               std::numeric_limits<float>::quiet_NaN());
  const absl::string_view bytes(reinterpret_cast<const char*>(row.data()),
                                row.size() * sizeof(float));
  absl::StatusOr<absl::Span<const float>> out = (*context)->Run({&bytes, 1}, 1, nullptr);
  if (!out.ok()) return out.status();
  return std::all_of(out->begin(), out->end(), [](float v) { return std::isnan(v); });
}

// CompiledMlp::non_finite_refusal of a model that does not carry NaN: the
// first ReLU layer (the known cause), or the kernels in general.
std::string NanRefusal(const CompiledMlp::Impl& impl) {
  for (size_t i = 0; i < impl.plans.size(); ++i) {
    const LayerPlan& plan = impl.plans[i];
    if (plan.fused == dnnl::algorithm::eltwise_relu && plan.fused_alpha == 0.0f) {
      return absl::StrCat("layer ", i, "'s activation (node '",
                          PrintableText(impl.mlp.layers[i].activation.node, 128),
                          "') is a ReLU, which this engine computes as max(x, 0): NaN would come "
                          "out as 0, not NaN");
    }
  }
  return "this engine's kernels turn a row of NaN into numbers on this CPU, not NaN";
}

dnnl::primitive_attr MakeAttr(const LayerPlan* plan) {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  if (plan != nullptr && plan->fused != dnnl::algorithm::undef) {
    dnnl::post_ops ops;
    ops.append_eltwise(1.0f, plan->fused, plan->fused_alpha, 0.0f);
    attr.set_post_ops(ops);
  }
  return attr;
}

// Index of the weights in layout `want`, reordering the user's "ab" weights
// into a new copy the first time a blocked layout is asked for (gemm-based
// matmuls on AVX2 keep "ab": then the DenseLayer's own buffer is used).
int WeightsCopy(const memory::desc& want, memory& user_weights, LayerTensors& tensors,
                const dnnl::engine& engine, dnnl::stream& stream) {
  for (size_t k = 0; k < tensors.weights.size(); ++k) {
    if (tensors.weights[k].get_desc() == want) return static_cast<int>(k);
  }
  if (want == user_weights.get_desc()) {
    tensors.weights.push_back(user_weights);  // already "ab": use DenseLayer::weights in place
  } else {
    memory copy(want, engine);
    dnnl::reorder(user_weights, copy).execute(stream, user_weights, copy);
    stream.wait();
    tensors.weights.push_back(copy);
  }
  return static_cast<int>(tensors.weights.size()) - 1;
}

// Remembers which oneDNN implementation serves a primitive of `kind`.
void NoteImplementation(CompiledMlp::Impl& impl, const char* kind, const char* name) {
  std::pair<std::string, std::string> entry(kind, name == nullptr ? "?" : name);
  auto& seen = impl.implementations;
  if (std::find(seen.begin(), seen.end(), entry) == seen.end()) seen.push_back(std::move(entry));
}

// Creates layer `index`'s primitives for every bucket; throws dnnl::error.
// `stage` names what is being built, for the error message.
void BuildLayerOrThrow(CompiledMlp::Impl& impl, int index, dnnl::stream& stream,
                       std::string* stage) {
  const DenseLayer& layer = impl.mlp.layers[index];
  const LayerPlan& plan = impl.plans[index];
  LayerTensors& tensors = impl.tensors[index];
  const dnnl::engine& engine = impl.engine;
  const memory::dims weight_dims = {layer.in, layer.out};
  const memory::desc unit_row({1, layer.out}, dt::f32, tag::ab);

  *stage = "weights and bias";
  memory user_weights({weight_dims, dt::f32, tag::ab}, engine,
                      const_cast<float*>(layer.weights.data()));
  tensors.bias = memory(unit_row, engine, const_cast<float*>(layer.bias.data()));
  if (plan.prelu) {
    const Activation& act = layer.activation;
    tensors.slope_values = act.kind == ActivationKind::kPRelu
                               ? act.slope
                               : std::vector<float>(static_cast<size_t>(layer.out), act.alpha);
    tensors.slopes = memory(unit_row, engine, tensors.slope_values.data());
  }
  const dnnl::primitive_attr matmul_attr = MakeAttr(&plan);
  const dnnl::primitive_attr plain_attr = MakeAttr(nullptr);
  const auto inference = dnnl::prop_kind::forward_inference;

  for (engine_internal::Bucket& bucket : impl.buckets) {
    *stage = absl::StrCat("matmul for batch size ", bucket.rows);
    LayerPrimitives p;
    p.src = memory::desc({bucket.rows, layer.in}, dt::f32, tag::ab);
    p.dst = memory::desc({bucket.rows, layer.out}, dt::f32, tag::ab);
    const memory::desc any_weights(weight_dims, dt::f32, tag::any);
    dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(p.src, any_weights, unit_row, p.dst),
                                    matmul_attr, engine);
    p.weights_copy = WeightsCopy(pd.weights_desc(), user_weights, tensors, engine, stream);
    p.matmul = dnnl::matmul(pd);
    NoteImplementation(impl, "matmul", pd.impl_info_str());
    p.matmul_scratchpad = pd.scratchpad_desc();
    if (plan.prelu && bucket.rows == 1) {
      p.prelu_by_hand = true;  // see LayerPrimitives::prelu_by_hand
    } else if (plan.prelu) {
      *stage = absl::StrCat("prelu_forward for batch size ", bucket.rows);
      dnnl::prelu_forward::primitive_desc post_pd(
          dnnl::prelu_forward::desc(inference, p.dst, unit_row), plain_attr, engine);
      p.post = dnnl::prelu_forward(post_pd);
      NoteImplementation(impl, "prelu_forward", post_pd.impl_info_str());
      p.post_scratchpad = post_pd.scratchpad_desc();
    } else if (plan.softmax) {
      *stage = absl::StrCat("softmax_forward for batch size ", bucket.rows);
      dnnl::softmax_forward::primitive_desc post_pd(
          dnnl::softmax_forward::desc(inference, p.dst, /*softmax_axis=*/1), plain_attr, engine);
      p.post = dnnl::softmax_forward(post_pd);
      NoteImplementation(impl, "softmax_forward", post_pd.impl_info_str());
      p.post_scratchpad = post_pd.scratchpad_desc();
    }
    impl.scratchpad_bytes = std::max(
        {impl.scratchpad_bytes, p.matmul_scratchpad.get_size(), p.post_scratchpad.get_size()});
    bucket.layers.push_back(std::move(p));
  }
}

absl::Status BuildLayer(CompiledMlp::Impl& impl, int index, dnnl::stream& stream) {
  std::string stage;
  try {
    BuildLayerOrThrow(impl, index, stream, &stage);
  } catch (const dnnl::error& e) {
    return absl::InternalError(absl::StrCat(Where(impl.mlp, index), ": oneDNN could not create ",
                                            stage, ": ", e.what(), " (status ", e.status, ")"));
  }
  return absl::OkStatus();
}

}  // namespace

std::vector<int64_t> BatchBuckets(int64_t max_batch_size) {
  std::vector<int64_t> buckets;
  if (max_batch_size < 1) return buckets;
  buckets.push_back(1);
  for (int64_t p = 2; p <= max_batch_size; p *= 2) {
    buckets.push_back(p);
    if (p / 2 <= max_batch_size - p) buckets.push_back(p + p / 2);
    if (p > max_batch_size / 2) break;  // p * 2 > max (and no overflow)
  }
  if (buckets.back() != max_batch_size) buckets.push_back(max_batch_size);
  return buckets;
}

absl::StatusOr<std::shared_ptr<const CompiledMlp>> CompiledMlp::Create(Mlp mlp,
                                                                       const Options& options) {
  if (absl::Status valid = mlp.Validate(); !valid.ok()) {
    return absl::InvalidArgumentError(valid.message());
  }
  if (options.max_batch_size < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_batch_size must be >= 1, got ", options.max_batch_size));
  }
  if (options.threads < 1) {
    return absl::InvalidArgumentError(absl::StrCat("threads must be >= 1, got ", options.threads));
  }
  // Primitives take the creating thread's OpenMP thread count (see Options).
  const ScopedOmpThreads scoped_threads(options.threads);
  auto impl = std::make_unique<Impl>();
  impl->threads = options.threads;
  impl->mlp = std::move(mlp);
  impl->max_batch_size = options.max_batch_size;
  const int num_layers = static_cast<int>(impl->mlp.layers.size());
  for (size_t i = 0; i < impl->mlp.layers.size(); ++i) {
    impl->plans.push_back(MakePlan(impl->mlp, i, &impl->observed_layers));
  }
  impl->tensors.resize(num_layers);
  for (int64_t rows : BatchBuckets(options.max_batch_size)) {
    impl->buckets.emplace_back().rows = rows;
  }
  dnnl::stream stream;
  try {
    impl->engine = dnnl::engine(dnnl::engine::kind::cpu, 0);
    stream = dnnl::stream(impl->engine);
  } catch (const dnnl::error& e) {
    return absl::InternalError(absl::StrCat("oneDNN could not create a CPU engine: ", e.what()));
  }
  for (int i = 0; i < num_layers; ++i) {
    if (absl::Status built = BuildLayer(*impl, i, stream); !built.ok()) return built;
  }
  for (const LayerTensors& tensors : impl->tensors) {
    for (const memory& copy : tensors.weights) impl->weight_bytes += copy.get_desc().get_size();
    impl->weight_bytes += tensors.bias.get_desc().get_size();
    impl->weight_bytes += static_cast<int64_t>(tensors.slope_values.size() * sizeof(float));
  }
  std::shared_ptr<CompiledMlp> compiled(new CompiledMlp(std::move(impl)));
  absl::StatusOr<bool> carries = CarriesNan(compiled);
  if (!carries.ok()) {
    return absl::InternalError(
        absl::StrCat("a first run (one row of NaN) failed: ", carries.status().message()));
  }
  if (!*carries) compiled->impl_->non_finite_refusal = NanRefusal(*compiled->impl_);
  return std::shared_ptr<const CompiledMlp>(std::move(compiled));
}

CompiledMlp::CompiledMlp(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CompiledMlp::~CompiledMlp() = default;

const Mlp& CompiledMlp::mlp() const { return impl_->mlp; }
int64_t CompiledMlp::max_batch_size() const { return impl_->max_batch_size; }
int CompiledMlp::threads() const { return impl_->threads; }
const std::string& CompiledMlp::non_finite_refusal() const { return impl_->non_finite_refusal; }
int64_t CompiledMlp::weight_bytes() const { return impl_->weight_bytes; }

std::string CompiledMlp::implementations() const {
  // Kinds in first-seen order, each with its implementations joined by '/':
  // "matmul gemm:jit/brg:avx512_core" when buckets chose differently.
  std::vector<std::pair<std::string, std::string>> by_kind;
  for (const auto& [kind, name] : impl_->implementations) {
    auto it = std::find_if(by_kind.begin(), by_kind.end(),
                           [&kind = kind](const auto& entry) { return entry.first == kind; });
    if (it == by_kind.end()) {
      by_kind.emplace_back(kind, name);
    } else {
      absl::StrAppend(&it->second, "/", name);
    }
  }
  return absl::StrJoin(by_kind, ", ", absl::PairFormatter(" "));
}

bool CompiledMlp::uses_reference_implementation() const {
  for (const auto& [kind, name] : impl_->implementations) {
    if (absl::StartsWith(name, "ref")) return true;
  }
  return false;
}

}  // namespace mlpserve
