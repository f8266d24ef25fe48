#include "server/rpc/raw_unary.h"

#include "grpcpp/impl/codegen/proto_utils.h"  // grpc::SerializationTraits of protobuf messages
#include "grpcpp/support/proto_buffer_reader.h"
#include "server/rpc/status_mapping.h"
#include "server/rpc/unparsable_request.h"

namespace mlpserve {

absl::Status ParseRawRequest(const grpc::ByteBuffer& bytes, absl::string_view rpc,
                             google::protobuf::Message* request) {
  // gRPC hands a raw handler its own (non-const) buffer as const.
  auto* buffer = const_cast<grpc::ByteBuffer*>(&bytes);
  if (buffer->Valid()) {  // not a call without a message
    bool parsed = false;
    {
      grpc::ProtoBufferReader reader(buffer);
      parsed = reader.status().ok() && request->ParseFromZeroCopyStream(&reader);
    }
    if (parsed) {
      // As gRPC's typed path does: a request that waits in a queue holds
      // its parsed copy only, not its wire bytes too.
      buffer->Clear();
      return absl::OkStatus();
    }
  }
  return UnparsableRequestError(rpc, request->GetDescriptor()->full_name());
}

void FinishRaw(grpc::ServerUnaryReactor* reactor, const absl::Status& status,
               const google::protobuf::Message& response, grpc::ByteBuffer* out) {
  if (!status.ok()) {
    reactor->Finish(ToGrpcStatus(status));
    return;
  }
  bool own_buffer = false;
  reactor->Finish(
      grpc::SerializationTraits<google::protobuf::Message>::Serialize(response, out, &own_buffer));
}

}  // namespace mlpserve
