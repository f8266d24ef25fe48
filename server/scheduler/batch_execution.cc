#include "server/scheduler/batch_execution.h"

#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/types/span.h"

namespace mlpserve {

BatchReport ExecuteBatch(absl::string_view model_name, BatchRunner& runner, Clock& clock,
                         std::vector<std::unique_ptr<InferRequest>> batch, int64_t rows,
                         BatchActivationCounts* counts) {
  std::vector<absl::string_view> pieces;
  pieces.reserve(batch.size());
  for (const auto& request : batch) pieces.push_back(request->input);

  const absl::Time start = clock.Now();
  absl::StatusOr<absl::Span<const float>> output = runner.Run(pieces, rows, counts);
  const absl::Duration compute = Elapsed(start, clock.Now());
  if (!output.ok()) {  // the engine names the layer; the client also needs the model
    output = absl::Status(output.status().code(),
                          absl::StrCat("model '", model_name, "': ", output.status().message()));
  }

  const int64_t features = runner.output_features();
  if (output.ok() && static_cast<int64_t>(output->size()) != rows * features) {
    output = absl::InternalError(absl::StrCat("model '", model_name, "': engine returned ",
                                              output->size(), " values for ", rows, " rows of ",
                                              features, " outputs"));
  }

  BatchReport report;
  report.rows = rows;
  report.requests = static_cast<int>(batch.size());
  report.compute = compute;
  report.status = output.status();
  report.activations = output.ok() ? counts : nullptr;

  size_t offset = 0;
  for (auto& request : batch) {
    InferTiming timing;
    timing.queue = Elapsed(request->enqueue_time, start);
    timing.compute = compute;
    timing.batch_rows = rows;
    if (output.ok()) {
      const size_t values = static_cast<size_t>(request->rows * features);
      request->done(output->subspan(offset, values), timing);
      offset += values;
    } else {
      request->done(output.status(), timing);
    }
  }
  return report;
}

void AnswerDropped(std::vector<DroppedRequest> dropped, absl::Time now) {
  for (auto& entry : dropped) {
    InferTiming timing;
    timing.queue = Elapsed(entry.request->enqueue_time, now);
    entry.request->done(std::move(entry.status), timing);
  }
}

}  // namespace mlpserve
