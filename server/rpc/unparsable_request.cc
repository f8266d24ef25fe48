#include "server/rpc/unparsable_request.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "google/protobuf/descriptor.h"
#include "server/rpc/status_mapping.h"

namespace mlpserve {
namespace {

using grpc::experimental::InterceptionHookPoints;

// The answer for a request of `method` ("/package.Service/Method") that does
// not parse, with the request type from the generated descriptor pool.
grpc::Status StatusFor(absl::string_view method) {
  const size_t slash = method.rfind('/');
  const absl::string_view rpc =
      slash == absl::string_view::npos ? method : method.substr(slash + 1);
  // "/inference.GRPCInferenceService/ModelInfer" is the descriptor's
  // "inference.GRPCInferenceService.ModelInfer".
  const google::protobuf::MethodDescriptor* descriptor =
      google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(
          absl::StrReplaceAll(absl::StripPrefix(method, "/"), {{"/", "."}}));
  return ToGrpcStatus(UnparsableRequestError(
      rpc, descriptor != nullptr ? descriptor->input_type()->full_name() : "request"));
}

class UnparsableRequestInterceptor final : public grpc::experimental::Interceptor {
 public:
  explicit UnparsableRequestInterceptor(const char* method) : method_(method) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_MESSAGE) &&
        methods->GetRecvMessage() == nullptr) {
      unparsable_ = true;
    }
    if (unparsable_ &&
        methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS) &&
        methods->GetSendStatus().error_code() == grpc::StatusCode::UNIMPLEMENTED) {
      methods->ModifySendStatus(StatusFor(method_));
    }
    methods->Proceed();
  }

 private:
  const char* const method_;  // gRPC's, alive for the call
  bool unparsable_ = false;
};

}  // namespace

absl::Status UnparsableRequestError(absl::string_view rpc, absl::string_view request_type) {
  return absl::InvalidArgumentError(
      absl::StrCat(rpc, ": the request is not a valid ", request_type,
                   " message (missing, truncated or of another type)"));
}

grpc::experimental::Interceptor* UnparsableRequestInterceptorFactory::CreateServerInterceptor(
    grpc::experimental::ServerRpcInfo* info) {
  using Type = grpc::experimental::ServerRpcInfo::Type;
  if (info->type() != Type::UNARY && info->type() != Type::SERVER_STREAMING) return nullptr;
  if (skip_.count(absl::string_view(info->method())) > 0) return nullptr;
  return new UnparsableRequestInterceptor(info->method());
}

}  // namespace mlpserve
