#include "tests/client/fake_inference_server.h"

#include <cstdlib>
#include <cstring>
#include <iostream>
#include <thread>
#include <vector>

#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"

namespace mlpserve::client::testing {

FakeInferenceServer::FakeInferenceServer() {
  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(this);
  server_ = builder.BuildAndStart();
  if (!server_ || port == 0) {
    std::cerr << "FakeInferenceServer: cannot listen on 127.0.0.1:0\n";
    std::abort();
  }
  address_ = "127.0.0.1:" + std::to_string(port);
}

FakeInferenceServer::~FakeInferenceServer() { server_->Shutdown(); }

grpc::Status FakeInferenceServer::ServerLive(grpc::ServerContext*,
                                             const inference::ServerLiveRequest*,
                                             inference::ServerLiveResponse* response) {
  std::this_thread::sleep_for(std::chrono::milliseconds(live_hold_ms_.load()));
  {
    absl::MutexLock lock(&mu_);
    if (!live_error_.empty()) return {grpc::StatusCode::INTERNAL, live_error_};
  }
  response->set_live(true);
  return grpc::Status::OK;
}

grpc::Status FakeInferenceServer::ServerReady(grpc::ServerContext*,
                                              const inference::ServerReadyRequest*,
                                              inference::ServerReadyResponse* response) {
  response->set_ready(true);
  return grpc::Status::OK;
}

grpc::Status FakeInferenceServer::ModelMetadata(grpc::ServerContext*,
                                                const inference::ModelMetadataRequest* request,
                                                inference::ModelMetadataResponse* response) {
  if (request->name() != "double") {
    return {grpc::StatusCode::NOT_FOUND, "no model '" + request->name() + "'"};
  }
  response->set_name("double");
  response->add_versions("1");
  response->set_platform("fake");
  for (auto* t : {response->add_inputs(), response->add_outputs()}) {
    t->set_datatype("FP32");
    t->add_shape(-1);
    t->add_shape(kFeatures);
  }
  response->mutable_inputs(0)->set_name("x");
  response->mutable_outputs(0)->set_name("y");
  return grpc::Status::OK;
}

grpc::Status FakeInferenceServer::ModelInfer(grpc::ServerContext*,
                                             const inference::ModelInferRequest* request,
                                             inference::ModelInferResponse* response) {
  const int64_t call = ++infer_calls_;
  if (call == hold_call_.load()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(hold_ms_.load()));
    held_done_.store(true);
  }
  const int every = fail_every_.load();
  if (every > 0 && call % every == 0) return {fail_code_.load(), "injected failure"};
  if (request->model_name() != "double") {
    return {grpc::StatusCode::NOT_FOUND, "no model '" + request->model_name() + "'"};
  }
  if (request->inputs_size() != 1) return {grpc::StatusCode::INVALID_ARGUMENT, "need 1 input"};
  const auto& in = request->inputs(0);
  if (in.name() != "x" || in.datatype() != "FP32" || in.shape_size() != 2 ||
      in.shape(1) != kFeatures) {
    return {grpc::StatusCode::INVALID_ARGUMENT, "input must be x FP32 [N, 4]"};
  }
  const bool raw = request->raw_input_contents_size() > 0;
  std::vector<float> x;
  if (raw) {
    const std::string& bytes = request->raw_input_contents(0);
    x.resize(bytes.size() / sizeof(float));
    std::memcpy(x.data(), bytes.data(), x.size() * sizeof(float));
  } else {
    x.assign(in.contents().fp32_contents().begin(), in.contents().fp32_contents().end());
  }
  if (static_cast<int64_t>(x.size()) != in.shape(0) * kFeatures) {
    return {grpc::StatusCode::INVALID_ARGUMENT, "input size does not match shape"};
  }
  for (float& v : x) v *= 2;
  response->set_model_name("double");
  response->set_model_version("1");
  response->set_id(request->id());
  auto* out = response->add_outputs();
  out->set_name("y");
  out->set_datatype("FP32");
  out->add_shape(in.shape(0));
  out->add_shape(kFeatures);
  if (raw) {
    response->add_raw_output_contents(reinterpret_cast<const char*>(x.data()),
                                      x.size() * sizeof(float));
  } else {
    out->mutable_contents()->mutable_fp32_contents()->Add(x.begin(), x.end());
  }
  return grpc::Status::OK;
}

}  // namespace mlpserve::client::testing
