// Writes the binary seed inputs of tests/fuzz/corpus/ (small valid ONNX
// models and serialized ModelInferRequests). The committed files were made
// with it; run it again to refresh them:
//   build-fuzz/bin/make_fuzz_seeds tests/fuzz/corpus
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "proto/inference.pb.h"
#include "server/model/onnx_import.h"
#include "server/rpc/infer_decode.h"
#include "tests/fuzz/fuzz_model.h"
#include "tests/model/onnx_test_graph.h"
#include "tests/support/infer_messages.h"

namespace mlpserve::fuzz {
namespace {

using ::mlpserve::testing::OnnxTestGraph;

bool Write(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
  return static_cast<bool>(out);
}

std::vector<float> Ramp(size_t n) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = 0.125f * static_cast<float>(i % 7) - 0.25f;
  return v;
}

std::vector<std::pair<std::string, std::string>> OnnxSeeds() {
  std::vector<std::pair<std::string, std::string>> seeds;
  {
    OnnxTestGraph g({4, 13, 0, true});
    g.AppendGemm("fc0", {3, 4}, Ramp(12), {3}, Ramp(3));
    testing::SetFloatAttr(g.Append("LeakyRelu", "act0"), "alpha", 0.01f);
    g.AppendGemm("fc1", {2, 3}, Ramp(6), {2}, Ramp(2));
    g.Append("Softmax", "softmax");
    seeds.emplace_back("gemm_leaky_softmax.onnx", g.Serialized(2));
  }
  {
    OnnxTestGraph g({4, 11, 0, false});  // float_data, MatMul + Add, PRelu
    g.Append("Flatten", "flatten");
    g.AppendMatMulAdd("fc0", 4, 3, Ramp(12), Ramp(3));
    g.Append("PRelu", "prelu0", {g.Initializer("slope", {3}, {0.25f, 0.1f, 0.01f})});
    g.AppendMatMulAdd("fc1", 3, 2, Ramp(6), Ramp(2), /*bias_first=*/true);
    seeds.emplace_back("matmul_add_prelu.onnx", g.Serialized(2));
  }
  {
    OnnxTestGraph g({4, 17, 2, true});  // Constant-node weights, fixed batch, no-ops
    const std::string w = g.ConstantNode("w0", {3, 4}, Ramp(12));
    testing::SetIntAttr(g.Append("Gemm", "fc0", {w}), "transB", 1);
    g.Append("Dropout", "dropout");
    g.Append("Relu", "relu");
    g.Append("Identity", "identity");
    g.AppendGemm("fc1", {3, 1}, Ramp(3), {1}, {0.5f}, /*trans_b=*/0);
    g.Append("Sigmoid", "sigmoid");
    seeds.emplace_back("constant_relu_sigmoid.onnx", g.Serialized(1));
  }
  {
    OnnxTestGraph g({-1, 9, 0, true});  // symbolic features, scalar PRelu, Tanh
    g.AppendGemm("fc0", {2, 4}, Ramp(8), {1, 2}, Ramp(2));
    g.Append("Tanh", "tanh");
    g.AppendGemm("fc1", {2, 2}, Ramp(4), {}, {});
    g.Append("PRelu", "prelu1", {g.Initializer("slope", {}, {0.2f})});
    seeds.emplace_back("symbolic_tanh_prelu.onnx", g.Serialized(-1));
  }
  return seeds;
}

inference::ModelInferRequest Request(int64_t rows, bool raw) {
  inference::ModelInferRequest request =
      ::mlpserve::testing::MakeInferRequest(kModelName, Ramp(rows * kInputFeatures), rows, raw);
  request.set_model_version("1");
  request.set_id("seed");
  return request;
}

std::vector<std::pair<std::string, std::string>> InferSeeds() {
  std::vector<std::pair<std::string, std::string>> seeds;
  seeds.emplace_back("raw_1row.pb", Request(1, true).SerializeAsString());
  seeds.emplace_back("typed_2rows.pb", Request(2, false).SerializeAsString());
  inference::ModelInferRequest with_output = Request(kMaxBatchSize, true);
  with_output.add_outputs()->set_name("output");
  (*with_output.mutable_parameters())["priority"].set_int64_param(1);
  seeds.emplace_back("raw_max_rows_output.pb", with_output.SerializeAsString());
  return seeds;
}

// Every seed must be valid: the fuzzer starts from inputs that get far.
absl::Status CheckOnnx(const std::string& bytes) { return ImportOnnxBytes(bytes, "seed").status(); }
absl::Status CheckRequest(const std::string& bytes) {
  inference::ModelInferRequest request;
  if (!request.ParseFromString(bytes)) return absl::InternalError("does not parse");
  return DecodeInferRequest(request, SmallContract(/*reject_non_finite=*/true)).status();
}

int WriteAll(const std::string& dir, const std::vector<std::pair<std::string, std::string>>& seeds,
             absl::Status (*check)(const std::string&)) {
  for (const auto& [name, bytes] : seeds) {
    if (absl::Status s = check(bytes); !s.ok()) {
      std::fprintf(stderr, "seed %s is not valid: %s\n", name.c_str(), s.ToString().c_str());
      return 1;
    }
    if (!Write(dir + "/" + name, bytes)) {
      std::fprintf(stderr, "cannot write %s/%s\n", dir.c_str(), name.c_str());
      return 1;
    }
  }
  return 0;
}

}  // namespace
}  // namespace mlpserve::fuzz

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR (tests/fuzz/corpus)\n", argv[0]);
    return 2;
  }
  const std::string root = argv[1];
  return mlpserve::fuzz::WriteAll(root + "/onnx_import_fuzz", mlpserve::fuzz::OnnxSeeds(),
                                  mlpserve::fuzz::CheckOnnx) |
         mlpserve::fuzz::WriteAll(root + "/infer_decode_fuzz", mlpserve::fuzz::InferSeeds(),
                                  mlpserve::fuzz::CheckRequest);
}
