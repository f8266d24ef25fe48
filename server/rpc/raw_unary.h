// Unary methods registered raw (the generated WithRawCallbackMethod_<Method>):
// the handler gets the request's bytes and fills gRPC's response buffer, so
// it parses and serializes the messages itself.
//
// Why raw:
//  - gRPC 1.51's typed callback handler never runs for a request that does
//    not parse: it answers UNIMPLEMENTED with an empty message, as if the
//    method did not exist. Parsing here answers INVALID_ARGUMENT naming the
//    RPC and the message type (UnparsableRequestError).
//  - The other way to fix that status, a server interceptor (what the
//    methods that are not raw get, unparsable_request.h), costs every call
//    it runs on: with one, ModelInfer on the tiny model fell from 0.84 to
//    0.70 of ServerLive's throughput (benchmark a). So the data path
//    (ModelInfer) and benchmark a's baseline (ServerLive) are raw, and the
//    interceptor factory skips them (gRPC still allocates its per-call
//    ServerRpcInfo for them: not measurable, 0.807 -> 0.787 and 1.000 ->
//    1.017 in 12 paired rounds).
#ifndef MLPSERVE_SERVER_RPC_RAW_UNARY_H_
#define MLPSERVE_SERVER_RPC_RAW_UNARY_H_

#include <cstddef>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/arena.h"
#include "google/protobuf/message.h"
#include "grpcpp/support/byte_buffer.h"
#include "grpcpp/support/server_callback.h"

namespace mlpserve {

// Parses `bytes` (gRPC's request buffer of the call) into `request` and
// then empties `bytes`, as gRPC's typed handlers do. OK, or INVALID_ARGUMENT
// naming `rpc` and the request's type when the call carried no message or
// one that does not parse as that type.
absl::Status ParseRawRequest(const grpc::ByteBuffer& bytes, absl::string_view rpc,
                             google::protobuf::Message* request);

// Finishes `reactor` with `status`; when it is OK, `response` is first
// serialized into `out`, gRPC's response buffer of the call.
void FinishRaw(grpc::ServerUnaryReactor* reactor, const absl::Status& status,
               const google::protobuf::Message& response, grpc::ByteBuffer* out);

// A reactor carrying the call's request and response on one protobuf Arena:
// one allocation per call (this reactor, with the arena's first block
// inline) holds both messages and every nested tensor, string and repeated
// field; messages larger than the first block spill into blocks the arena
// frees with the call. (Typed messages on gRPC's default allocator cost a
// malloc and free each.)
//
// Lifetime: allocate with new in the handler and return it; it deletes
// itself in OnDone, after gRPC is done with the call. request() and
// response() live as long as the reactor.
template <typename Request, typename Response, size_t kFirstBlockBytes = 2048>
class ArenaUnaryReactor : public grpc::ServerUnaryReactor {
 public:
  ArenaUnaryReactor()
      : arena_(FirstBlock(first_block_)),
        request_(google::protobuf::Arena::CreateMessage<Request>(&arena_)),
        response_(google::protobuf::Arena::CreateMessage<Response>(&arena_)) {}

  Request* request() { return request_; }
  Response* response() { return response_; }

  // ParseRawRequest into request().
  absl::Status ParseRequest(const grpc::ByteBuffer& bytes, absl::string_view rpc) {
    return ParseRawRequest(bytes, rpc, request_);
  }

  // FinishRaw with response().
  void FinishWith(const absl::Status& status, grpc::ByteBuffer* out) {
    FinishRaw(this, status, *response_, out);
  }

  void OnDone() override { delete this; }

 private:
  static google::protobuf::ArenaOptions FirstBlock(char* block) {
    google::protobuf::ArenaOptions options;
    options.initial_block = block;
    options.initial_block_size = kFirstBlockBytes;
    return options;
  }

  // Declared before arena_: it must exist when the arena is constructed and
  // outlive it.
  alignas(std::max_align_t) char first_block_[kFirstBlockBytes];
  google::protobuf::Arena arena_;
  Request* const request_;
  Response* const response_;
};

}  // namespace mlpserve

#endif  // MLPSERVE_SERVER_RPC_RAW_UNARY_H_
