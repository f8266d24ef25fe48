// ModelInfer: decode, hand to the scheduler, finish from the executor.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <memory>
#include <string>

#include "server/common/clock.h"
#include "server/model/model_config.h"
#include "server/rpc/infer_decode.h"
#include "server/rpc/inference_service.h"
#include "server/rpc/raw_unary.h"

namespace mlpserve {
namespace {

TensorContract ContractOf(const ServableModel& model) {
  const ModelConfig& config = model.config();
  TensorContract contract;
  contract.model = model.name();
  contract.version = model.version_string();
  contract.input_name = config.input(0).name();
  contract.output_name = config.output(0).name();
  contract.input_features = model.compiled().input_features();
  contract.max_batch_size = config.max_batch_size();
  contract.reject_non_finite = config.reject_non_finite();  // set at load for ReLU models too
  if (!model.compiled().non_finite_refusal().empty()) {
    contract.non_finite_reason = model.compiled().non_finite_refusal();
  }
  return contract;
}

// ModelInfer's reactor: the call's messages on its arena (ArenaUnaryReactor),
// and OnCancel: a client that gives up on a queued request gets its request
// taken out of the queue and answered at once (ModelScheduler::CancelQueued
// with the request's id; no other queued request is looked at),
// instead of holding its place and its request message (up to the message
// size limit) until the queue delay ends. FinishWith is called exactly once,
// by the handler or by whoever answers the request; gRPC calls OnCancel (if
// at all) before OnDone, which frees it.
class InferReactor final
    : public ArenaUnaryReactor<inference::ModelInferRequest, inference::ModelInferResponse> {
 public:
  // The model whose scheduler holds the request, and the request's
  // InferRequest::id; set by the handler before it submits the request,
  // never after it returned the reactor.
  void set_queued(std::shared_ptr<const ServableModel> model, uint64_t request_id) {
    model_ = std::move(model);
    request_id_ = request_id;
  }
  bool cancelled() const { return cancelled_.load(std::memory_order_acquire); }

  void OnCancel() override {
    cancelled_.store(true, std::memory_order_release);
    if (model_ != nullptr) model_->scheduler().CancelQueued(request_id_);
  }
  // OnCancel (a short lock, answering requests that cannot be computed any
  // more) and OnDone never block, so gRPC may run them on the thread that
  // saw the event, as it runs its own DefaultReactor's. Otherwise each
  // OnDone is handed to gRPC's executor thread: a thread switch per call
  // (0.5 -> 1.2-1.3 context switches per tiny request at c=16).
  bool InternalInlineable() override { return true; }

 private:
  std::shared_ptr<const ServableModel> model_;
  uint64_t request_id_ = 0;
  std::atomic<bool> cancelled_{false};
};

// What the executor needs to answer one call; owned by the request's `done`.
// Holding the model keeps its names, metrics and stats alive until the
// answer is sent, whichever thread sends it.
struct PendingCall {
  InferReactor* reactor;
  grpc::ByteBuffer* response_bytes;  // gRPC's, for the serialized response
  std::shared_ptr<const ServableModel> model;
  Clock* clock;
  absl::Time start;
  absl::Duration input_time;  // receipt -> input decoded (ModelStatistics compute_input)
  int64_t rows;

  // `admission`: whether the scheduler took the request (see ModelMetrics).
  void Answer(absl::StatusOr<absl::Span<const float>> output, const InferTiming& timing,
              ModelMetrics::Admission admission) {
    RequestRecord record;
    record.code = output.status().code();
    if (output.ok()) {
      const absl::Time encode_start = clock->Now();
      Encode(*output);
      record.now = clock->Now();
      record.timing = &timing;
      record.input = input_time;
      record.output = Elapsed(encode_start, record.now);
      record.rows = rows;
    } else {
      record.now = clock->Now();
    }
    record.total = Elapsed(start, record.now);
    // The queue histogram takes every admitted request's wait, also of those
    // dropped from the queue (at their deadline, cancelled): the longest.
    const InferTiming* queued = admission == ModelMetrics::Admission::kAdmitted ? &timing : nullptr;
    model->metrics().RecordRequest(record.code, record.total, queued, admission);
    model->stats().RecordRequest(record);
    reactor->FinishWith(output.status(), response_bytes);
  }

  void Encode(absl::Span<const float> output) {
    const int64_t output_features = model->compiled().output_features();
    const int64_t output_rows = static_cast<int64_t>(output.size()) / output_features;
    inference::ModelInferResponse* response = reactor->response();
    response->set_model_name(model->name());
    response->set_model_version(model->version_string());
    response->set_id(reactor->request()->id());
    auto* tensor = response->add_outputs();
    tensor->set_name(model->config().output(0).name());
    tensor->set_datatype("FP32");
    tensor->add_shape(output_rows);
    tensor->add_shape(output_features);
    response->add_raw_output_contents()->assign(reinterpret_cast<const char*>(output.data()),
                                                output.size() * sizeof(float));
  }
};

}  // namespace

grpc::ServerUnaryReactor* InferenceService::ModelInfer(grpc::CallbackServerContext* context,
                                                       const grpc::ByteBuffer* request_bytes,
                                                       grpc::ByteBuffer* response_bytes) {
  auto* reactor = new InferReactor();
  const absl::Time start = options_.clock->Now();
  if (absl::Status auth = CheckInferenceAuth(*context, "ModelInfer"); !auth.ok()) {
    options_.metrics->RecordUnroutedRequest(auth.code());
    reactor->FinishWith(auth, response_bytes);
    return reactor;
  }
  if (absl::Status parsed = reactor->ParseRequest(*request_bytes, "ModelInfer"); !parsed.ok()) {
    options_.metrics->RecordUnroutedRequest(parsed.code());
    reactor->FinishWith(parsed, response_bytes);
    return reactor;
  }
  const inference::ModelInferRequest* request = reactor->request();
  absl::StatusOr<std::shared_ptr<const ServableModel>> model =
      options_.repository->Get(request->model_name(), request->model_version());
  if (!model.ok()) {
    options_.metrics->RecordUnroutedRequest(model.status().code());
    reactor->FinishWith(model.status(), response_bytes);
    return reactor;
  }
  const ServableModel& servable = **model;
  absl::StatusOr<DecodedInput> input = DecodeInferRequest(*request, ContractOf(servable));
  if (!input.ok()) {
    const absl::Time now = options_.clock->Now();
    servable.metrics().RecordRequest(input.status().code(), Elapsed(start, now), nullptr,
                                     ModelMetrics::Admission::kRefused);
    servable.stats().RecordRequest(
        RequestRecord{input.status().code(), Elapsed(start, now), nullptr, {}, {}, 0, now});
    reactor->FinishWith(input.status(), response_bytes);
    return reactor;
  }

  // gRPC's deadline is a wall time; the scheduler's clock is monotonic.
  const absl::Time deadline =
      FromWallDeadline(context->deadline(), start, std::chrono::system_clock::now());
  auto call = std::make_shared<PendingCall>(
      PendingCall{reactor, response_bytes, *model, options_.clock, start,
                  Elapsed(start, options_.clock->Now()), input->rows});
  auto infer = std::make_unique<InferRequest>();
  infer->rows = input->rows;
  infer->input = input->bytes;
  infer->deadline = std::min(deadline, start + QueueTimeout(servable.config(), input->timeout));
  // The reactor lives until OnDone, after the request is answered.
  infer->is_cancelled = [reactor, context] {
    return reactor->cancelled() || context->IsCancelled();
  };
  infer->done = [call](absl::StatusOr<absl::Span<const float>> output, const InferTiming& timing) {
    call->Answer(std::move(output), timing, ModelMetrics::Admission::kAdmitted);
  };
  // The reactor's address: no other request can have it while this one is
  // queued (the reactor lives until after the request is answered), and
  // OnCancel, which names the request by it, runs before OnDone frees it.
  infer->id = reinterpret_cast<uintptr_t>(reactor);
  reactor->set_queued(*model, infer->id);
  // After a successful Submit the call may already be finished: touch nothing
  // of it here (OnDone waits until this handler has returned, though).
  if (absl::Status status = servable.scheduler().Submit(std::move(infer)); !status.ok()) {
    call->Answer(status, InferTiming{}, ModelMetrics::Admission::kRefused);
  }
  return reactor;
}

}  // namespace mlpserve
