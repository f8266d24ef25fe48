// What a call whose request message does not parse is answered:
// INVALID_ARGUMENT naming the RPC and the message type, instead of what
// gRPC 1.51 sends.
//
// gRPC's callback API never runs the handler of such a call: it fails it
// with UNIMPLEMENTED and an empty message (grpcpp's CallbackUnaryHandler and
// its streaming siblings), which tells a client with a broken encoder, or a
// proxy that mangled the body, that the server lacks the method.
//  - Methods registered raw parse their own request and answer
//    UnparsableRequestError themselves (raw_unary.h: ModelInfer and
//    ServerLive, where an interceptor's cost shows).
//  - Every other method gets a server interceptor that sees the failed
//    parse (no message after POST_RECV_MESSAGE) and rewrites gRPC's
//    UNIMPLEMENTED on its way out. Calls whose request parsed are left
//    alone, whatever they answer; so are methods that are really unknown
//    (they never reach a handler).
#ifndef MLPSERVE_SERVER_RPC_UNPARSABLE_REQUEST_H_
#define MLPSERVE_SERVER_RPC_UNPARSABLE_REQUEST_H_

#include <set>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "grpcpp/support/server_interceptor.h"

namespace mlpserve {

// INVALID_ARGUMENT "<rpc>: the request is not a valid <request_type> message
// (missing, truncated or of another type)".
absl::Status UnparsableRequestError(absl::string_view rpc, absl::string_view request_type);

// Thread-safety: immutable after construction; gRPC creates one interceptor
// per call and runs its hooks in order.
class UnparsableRequestInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  // No interceptor for `skip` (full method names, "/package.Service/Method"):
  // the raw methods, which answer for themselves. On them an interceptor
  // would never fire, yet costs every call (see raw_unary.h). Nor for
  // client- or bidi-streaming methods (reflection), where no message after
  // POST_RECV_MESSAGE is the end of the stream, not a parse failure.
  explicit UnparsableRequestInterceptorFactory(std::set<std::string, std::less<>> skip)
      : skip_(std::move(skip)) {}

  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override;

 private:
  const std::set<std::string, std::less<>> skip_;
};

}  // namespace mlpserve

#endif  // MLPSERVE_SERVER_RPC_UNPARSABLE_REQUEST_H_
