// Calls by method name with raw request bytes, for tests that reach every
// RPC of a service alike or send bytes no generated stub would.
#ifndef MLPSERVE_TESTS_SUPPORT_GENERIC_CALL_H_
#define MLPSERVE_TESTS_SUPPORT_GENERIC_CALL_H_

#include <string>

#include "grpcpp/client_context.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/support/status.h"

namespace mlpserve::testing {

// A unary call of `method` ("/package.Service/Method") whose request message
// is `bytes` as they are, through `stub`; `context` carries the caller's
// deadline (which bounds the wait) and metadata. The call's status.
grpc::Status GenericUnaryCall(grpc::GenericStub& stub, grpc::ClientContext& context,
                              const std::string& method, const std::string& bytes);

}  // namespace mlpserve::testing

#endif  // MLPSERVE_TESTS_SUPPORT_GENERIC_CALL_H_
