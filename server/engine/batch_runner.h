// What an executor thread runs a batch with. The engine's ExecutionContext is
// the production implementation; scheduler tests inject their own.
//
// Not thread-safe: each executor thread owns one runner.
#ifndef MLPSERVE_SERVER_ENGINE_BATCH_RUNNER_H_
#define MLPSERVE_SERVER_ENGINE_BATCH_RUNNER_H_

#include <cstdint>
#include <functional>
#include <memory>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "server/engine/activation_counts.h"

namespace mlpserve {

class BatchRunner {
 public:
  virtual ~BatchRunner() = default;

  // Runs `rows` rows (1 <= rows <= the model's max batch size). The input rows
  // are the concatenation of `inputs`: each piece holds whole rows of raw
  // little-endian FP32 bytes (rows_i * input_features * 4 bytes; alignment not
  // required). Returns the [rows, output_features] result, valid until the
  // next Run. When `counts` is non-null it receives the sign counts of every
  // observed layer for these rows (padding rows are never counted), replacing
  // all it held: callers reuse one BatchActivationCounts across runs so that
  // its buffers are allocated once.
  virtual absl::StatusOr<absl::Span<const float>> Run(absl::Span<const absl::string_view> inputs,
                                                      int64_t rows,
                                                      BatchActivationCounts* counts) = 0;

  virtual int64_t input_features() const = 0;
  virtual int64_t output_features() const = 0;
};

// Makes one runner; called once on each executor thread as it starts.
using BatchRunnerFactory = std::function<absl::StatusOr<std::unique_ptr<BatchRunner>>()>;

}  // namespace mlpserve

#endif  // MLPSERVE_SERVER_ENGINE_BATCH_RUNNER_H_
