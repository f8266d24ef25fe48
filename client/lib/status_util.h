// Conversions between gRPC and absl statuses for the client.
#ifndef MLPSERVE_CLIENT_LIB_STATUS_UTIL_H_
#define MLPSERVE_CLIENT_LIB_STATUS_UTIL_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "grpcpp/support/status.h"

namespace mlpserve::client {

// The canonical upper-case name of a gRPC status code ("OK",
// "DEADLINE_EXCEEDED", ...); "CODE_<n>" for a value outside the enum.
std::string StatusCodeName(grpc::StatusCode code);

// The absl::Status with the same code, its message prefixed with `what`
// (e.g. "ModelInfer(model 'mlp')"). OK stays OK.
absl::Status FromGrpcStatus(const grpc::Status& status, absl::string_view what);

}  // namespace mlpserve::client

#endif  // MLPSERVE_CLIENT_LIB_STATUS_UTIL_H_
