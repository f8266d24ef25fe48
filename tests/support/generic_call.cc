#include "tests/support/generic_call.h"

#include <utility>

#include "absl/synchronization/notification.h"
#include "grpcpp/support/byte_buffer.h"

namespace mlpserve::testing {

grpc::Status GenericUnaryCall(grpc::GenericStub& stub, grpc::ClientContext& context,
                              const std::string& method, const std::string& bytes) {
  grpc::Slice slice(bytes);
  grpc::ByteBuffer request(&slice, 1);
  grpc::ByteBuffer response;
  grpc::Status status;
  absl::Notification done;
  stub.UnaryCall(&context, method, grpc::StubOptions(), &request, &response, [&](grpc::Status s) {
    status = std::move(s);
    done.Notify();
  });
  done.WaitForNotification();
  return status;
}

}  // namespace mlpserve::testing
