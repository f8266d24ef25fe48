// The one place where absl::Status becomes grpc::Status.
#ifndef MLPSERVE_SERVER_RPC_STATUS_MAPPING_H_
#define MLPSERVE_SERVER_RPC_STATUS_MAPPING_H_

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace mlpserve {

// Same code (absl and gRPC share the canonical code numbers), same message.
grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace mlpserve

#endif  // MLPSERVE_SERVER_RPC_STATUS_MAPPING_H_
