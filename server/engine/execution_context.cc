// ExecutionContext: runs a CompiledMlp's primitives for one executor thread.
//
// Everything Run touches is prepared in Create: the bucket input buffer, one
// plain row-major output buffer per layer (sized for the largest bucket and
// shared by every bucket), one scratchpad, and for every (bucket, layer) the
// oneDNN memory objects and argument arrays. Run then only copies the input,
// calls dnnl_primitive_execute (the C entry point, which takes a prebuilt
// argument array instead of a std::unordered_map) and counts signs.
#include <omp.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "oneapi/dnnl/dnnl.hpp"
#include "oneapi/dnnl/dnnl_debug.h"
#include "server/engine/compiled_mlp.h"
#include "server/engine/compiled_mlp_impl.h"
#include "server/engine/sign_counter.h"

namespace mlpserve {
namespace {

using dnnl::memory;
using engine_internal::LayerPlan;

constexpr size_t kAlignment = 64;

struct FreeDeleter {
  void operator()(void* p) const { std::free(p); }
};
using Buffer = std::unique_ptr<void, FreeDeleter>;

// A 64-byte aligned buffer of at least `bytes` bytes (never null on success).
Buffer AllocateAligned(size_t bytes) {
  const size_t rounded =
      std::max<size_t>(kAlignment, (bytes + kAlignment - 1) / kAlignment * kAlignment);
  return Buffer(std::aligned_alloc(kAlignment, rounded));
}

// One primitive execution with its arguments bound.
struct Step {
  const_dnnl_primitive_t primitive = nullptr;
  std::array<dnnl_exec_arg_t, 5> args{};
  int nargs = 0;

  void Add(int arg, const memory& m) { args[nargs++] = dnnl_exec_arg_t{arg, m.get()}; }
  dnnl_status_t Execute(dnnl_stream_t stream) const {
    return dnnl_primitive_execute(primitive, stream, nargs, args.data());
  }
};

struct PreparedLayer {
  Step matmul;
  Step post;  // prelu or softmax; primitive == nullptr when none
  // Slopes to apply in place to the matmul output of one row, or null
  // (LayerPrimitives::prelu_by_hand).
  const float* slopes_by_hand = nullptr;
};

// x >= 0 ? x : slope[c] * x over one row of `units` values, in place.
void ApplyPRelu(float* row, const float* slopes, int64_t units) {
  for (int64_t c = 0; c < units; ++c) row[c] = row[c] >= 0.0f ? row[c] : slopes[c] * row[c];
}

struct PreparedBucket {
  int64_t rows = 0;
  std::vector<PreparedLayer> layers;
};

}  // namespace

struct ExecutionContext::State {
  int threads = 1;
  dnnl::stream stream;
  Buffer input;                 // [max_batch_size, in]
  std::vector<Buffer> outputs;  // per layer [max_batch_size, out]
  Buffer scratchpad;
  std::vector<memory> memories;  // keeps the memory objects in the Steps alive
  std::vector<int64_t> bucket_rows;
  std::vector<PreparedBucket> buckets;

  float* output(size_t layer) const { return static_cast<float*>(outputs[layer].get()); }
  const memory& Wrap(const dnnl::engine& engine, const memory::desc& md, void* handle) {
    memories.emplace_back(md, engine, handle);
    return memories.back();
  }
  // Binds the scratchpad when the primitive asks for one.
  void AddScratchpad(const dnnl::engine& engine, const memory::desc& md, Step& step) {
    if (md.get_size() > 0) step.Add(DNNL_ARG_SCRATCHPAD, Wrap(engine, md, scratchpad.get()));
  }
};

namespace {

// Binds every (bucket, layer) of `impl` to the buffers of `s`; throws dnnl::error.
void BindOrThrow(const CompiledMlp::Impl& impl, ExecutionContext::State& s) {
  const dnnl::engine& engine = impl.engine;
  for (const engine_internal::Bucket& bucket : impl.buckets) {
    PreparedBucket& prepared = s.buckets.emplace_back();
    prepared.rows = bucket.rows;
    s.bucket_rows.push_back(bucket.rows);
    for (size_t l = 0; l < bucket.layers.size(); ++l) {
      const engine_internal::LayerPrimitives& p = bucket.layers[l];
      const engine_internal::LayerTensors& t = impl.tensors[l];
      const memory& weights = t.weights[p.weights_copy];
      void* src_handle = l == 0 ? s.input.get() : s.outputs[l - 1].get();
      const memory src = s.Wrap(engine, p.src, src_handle);
      const memory dst = s.Wrap(engine, p.dst, s.outputs[l].get());
      PreparedLayer& layer = prepared.layers.emplace_back();
      Step& mm = layer.matmul;
      mm.primitive = p.matmul.get();
      mm.Add(DNNL_ARG_SRC, src);
      mm.Add(DNNL_ARG_WEIGHTS, s.Wrap(engine, weights.get_desc(), weights.get_data_handle()));
      mm.Add(DNNL_ARG_BIAS, s.Wrap(engine, t.bias.get_desc(), t.bias.get_data_handle()));
      mm.Add(DNNL_ARG_DST, dst);
      s.AddScratchpad(engine, p.matmul_scratchpad, mm);
      if (p.prelu_by_hand) layer.slopes_by_hand = t.slope_values.data();
      if (!p.post) continue;
      Step& post = layer.post;  // in place on the matmul output
      post.primitive = p.post.get();
      post.Add(DNNL_ARG_SRC, dst);
      if (impl.plans[l].prelu) {
        post.Add(DNNL_ARG_WEIGHTS, s.Wrap(engine, t.slopes.get_desc(), t.slopes.get_data_handle()));
      }
      post.Add(DNNL_ARG_DST, dst);
      s.AddScratchpad(engine, p.post_scratchpad, post);
    }
  }
}

absl::Status ExecuteError(const Mlp& mlp, size_t layer, const char* what, int64_t bucket,
                          dnnl_status_t status) {
  return absl::InternalError(absl::StrCat("layer ", layer, " (node '", mlp.layers[layer].node,
                                          "'): oneDNN ", what, " failed at batch size ", bucket,
                                          ": ", dnnl_status2str(status)));
}

}  // namespace

absl::StatusOr<std::unique_ptr<ExecutionContext>> ExecutionContext::Create(
    std::shared_ptr<const CompiledMlp> model, const Options& options) {
  if (model == nullptr) return absl::InvalidArgumentError("ExecutionContext needs a model");
  const CompiledMlp::Impl& impl = *model->impl_;
  if (options.threads != 0 && options.threads != impl.threads) {
    return absl::InvalidArgumentError(absl::StrCat(
        "threads is ", options.threads, " but the model's primitives were created for ",
        impl.threads, " (CompiledMlp::Options::threads)"));
  }
  const Mlp& mlp = impl.mlp;
  auto state = std::make_unique<State>();
  state->threads = impl.threads;
  const size_t max_rows = static_cast<size_t>(impl.max_batch_size);
  state->input = AllocateAligned(max_rows * mlp.input_features() * sizeof(float));
  bool allocated = state->input != nullptr;
  for (const DenseLayer& layer : mlp.layers) {
    state->outputs.push_back(AllocateAligned(max_rows * layer.out * sizeof(float)));
    allocated = allocated && state->outputs.back() != nullptr;
  }
  state->scratchpad = AllocateAligned(impl.scratchpad_bytes);
  if (!allocated || state->scratchpad == nullptr) {
    return absl::ResourceExhaustedError("could not allocate the execution context's buffers");
  }
  try {
    state->stream = dnnl::stream(impl.engine);
    BindOrThrow(impl, *state);
  } catch (const dnnl::error& e) {
    return absl::InternalError(
        absl::StrCat("oneDNN could not prepare an execution context: ", e.what()));
  }
  return std::unique_ptr<ExecutionContext>(
      new ExecutionContext(std::move(model), std::move(state)));
}

ExecutionContext::ExecutionContext(std::shared_ptr<const CompiledMlp> model,
                                   std::unique_ptr<State> state)
    : model_(std::move(model)), state_(std::move(state)) {}

ExecutionContext::~ExecutionContext() = default;

namespace {

// Copies the input pieces into the bucket input buffer and zeroes the padding
// rows up to bucket_rows.
void GatherInput(absl::Span<const absl::string_view> inputs, int64_t rows, int64_t bucket_rows,
                 size_t row_bytes, void* buffer) {
  char* dst = static_cast<char*>(buffer);
  for (absl::string_view piece : inputs) {
    if (!piece.empty()) std::memcpy(dst, piece.data(), piece.size());
    dst += piece.size();
  }
  std::memset(dst, 0, static_cast<size_t>(bucket_rows - rows) * row_bytes);
}

}  // namespace

// Counts layer l's signs from its output buffer (first `rows` rows).
void ExecutionContext::CountLayer(size_t l, int64_t rows, BatchActivationCounts& counts) {
  const CompiledMlp::Impl& impl = *model_->impl_;
  const LayerPlan& plan = impl.plans[l];
  const int64_t units = impl.mlp.layers[l].out;
  LayerSignCounts& c = counts.layers[static_cast<size_t>(plan.count_slot)];
  c.layer_index = static_cast<int>(l);
  c.values = rows * units;
  c.positive_rows.resize(static_cast<size_t>(units));  // allocates on first use only
  c.negative = engine_internal::CountSigns(state_->output(l), rows, units, plan.rule(),
                                           c.positive_rows.data());
}

absl::StatusOr<absl::Span<const float>> ExecutionContext::Run(
    absl::Span<const absl::string_view> inputs, int64_t rows, BatchActivationCounts* counts) {
  const CompiledMlp::Impl& impl = *model_->impl_;
  const Mlp& mlp = impl.mlp;
  State& s = *state_;
  if (rows < 1 || rows > impl.max_batch_size) {
    return absl::InvalidArgumentError(
        absl::StrCat("batch of ", rows, " rows is outside [1, ", impl.max_batch_size, "]"));
  }
  const size_t row_bytes = static_cast<size_t>(mlp.input_features()) * sizeof(float);
  size_t total_bytes = 0;
  for (absl::string_view piece : inputs) total_bytes += piece.size();
  if (total_bytes != static_cast<size_t>(rows) * row_bytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "input '", mlp.input_name, "' holds ", total_bytes, " bytes; ", rows, " rows of ",
        mlp.input_features(), " FP32 features need ", static_cast<size_t>(rows) * row_bytes));
  }
  if (omp_get_max_threads() != s.threads) omp_set_num_threads(s.threads);
  const size_t b = static_cast<size_t>(
      std::lower_bound(s.bucket_rows.begin(), s.bucket_rows.end(), rows) - s.bucket_rows.begin());
  GatherInput(inputs, rows, s.buckets[b].rows, row_bytes, s.input.get());
  if (counts != nullptr) {
    counts->rows = rows;
    counts->layers.resize(static_cast<size_t>(impl.observed_layers));
  }
  if (absl::Status run = Forward(b, rows, counts); !run.ok()) return run;
  return absl::Span<const float>(s.output(mlp.layers.size() - 1),
                                 static_cast<size_t>(rows * mlp.output_features()));
}

absl::Status ExecutionContext::Forward(size_t bucket_index, int64_t rows,
                                       BatchActivationCounts* counts) {
  const CompiledMlp::Impl& impl = *model_->impl_;
  const Mlp& mlp = impl.mlp;
  const PreparedBucket& bucket = state_->buckets[bucket_index];
  const size_t num_layers = mlp.layers.size();
  dnnl_stream_t stream = state_->stream.get();
  for (size_t l = 0; l < num_layers; ++l) {
    const PreparedLayer& layer = bucket.layers[l];
    const LayerPlan& plan = impl.plans[l];
    if (dnnl_status_t st = layer.matmul.Execute(stream); st != dnnl_success) {
      return ExecuteError(mlp, l, "matmul", bucket.rows, st);
    }
    if (counts != nullptr && plan.count_slot >= 0 && plan.count_pre_activation) {
      if (dnnl_status_t st = dnnl_stream_wait(stream); st != dnnl_success) {
        return ExecuteError(mlp, l, "stream wait", bucket.rows, st);
      }
      CountLayer(l, rows, *counts);  // before the in-place prelu overwrites it
    }
    if (layer.slopes_by_hand != nullptr) {
      if (dnnl_status_t st = dnnl_stream_wait(stream); st != dnnl_success) {
        return ExecuteError(mlp, l, "stream wait", bucket.rows, st);
      }
      ApplyPRelu(state_->output(l), layer.slopes_by_hand, mlp.layers[l].out);
      continue;
    }
    if (layer.post.primitive == nullptr) continue;
    if (dnnl_status_t st = layer.post.Execute(stream); st != dnnl_success) {
      return ExecuteError(mlp, l, plan.prelu ? "prelu" : "softmax", bucket.rows, st);
    }
  }
  if (dnnl_status_t st = dnnl_stream_wait(stream); st != dnnl_success) {
    return ExecuteError(mlp, num_layers - 1, "stream wait", bucket.rows, st);
  }
  if (counts == nullptr) return absl::OkStatus();
  for (size_t l = 0; l < num_layers; ++l) {
    if (impl.plans[l].count_slot >= 0 && !impl.plans[l].count_pre_activation) {
      CountLayer(l, rows, *counts);
    }
  }
  return absl::OkStatus();
}

}  // namespace mlpserve
