// Test helper: builds small ONNX ModelProtos in C++, one node at a time,
// the way torch.onnx.export lays out an nn.Sequential MLP.
//
// Each Append* call consumes the current chain tensor and makes its output
// the new current tensor; Build() names the last one the graph output.
// Weights are added as initializers (raw_data or float_data, per
// `raw_data()`). Not thread-safe; a value type.
#ifndef MLPSERVE_TESTS_MODEL_ONNX_TEST_GRAPH_H_
#define MLPSERVE_TESTS_MODEL_ONNX_TEST_GRAPH_H_

#include <cstdint>
#include <string>
#include <vector>

#include "onnx/onnx_pb.h"

namespace mlpserve::testing {

class OnnxTestGraph {
 public:
  struct Options {
    int64_t in_features = 3;  // input's feature dim; <= 0 leaves it symbolic
    int64_t opset = 13;
    int64_t fixed_batch = 0;  // 0: symbolic "batch" dim; else that fixed value
    bool raw_data = true;     // initializers as raw_data, else float_data
  };

  explicit OnnxTestGraph(const Options& options);

  // Adds an initializer and returns its name.
  std::string Initializer(const std::string& name, const std::vector<int64_t>& dims,
                          const std::vector<float>& values);
  // Adds a Constant node producing `values` (attribute `value`).
  std::string ConstantNode(const std::string& name, const std::vector<int64_t>& dims,
                           const std::vector<float>& values);

  // Appends `op` with inputs {current, extra_inputs...}; returns the node so
  // the test can add attributes or break it.
  onnx::NodeProto* Append(const std::string& op, const std::string& name,
                          const std::vector<std::string>& extra_inputs = {});

  // Gemm with B (an initializer "<name>.B" of `b_dims`) and optional C.
  onnx::NodeProto* AppendGemm(const std::string& name, const std::vector<int64_t>& b_dims,
                              const std::vector<float>& b, const std::vector<int64_t>& c_dims,
                              const std::vector<float>& c, int64_t trans_b = 1);
  // MatMul by W [in, out] then Add of bias [out] (bias first when
  // `bias_first`).
  onnx::NodeProto* AppendMatMulAdd(const std::string& name, int64_t in, int64_t out,
                                   const std::vector<float>& w, const std::vector<float>& bias,
                                   bool bias_first = false);

  // The finished model; the current tensor becomes the output "output" with
  // shape [batch, out_features] (out_features <= 0: no shape).
  onnx::ModelProto Build(int64_t out_features) const;
  std::string Serialized(int64_t out_features) const;

  onnx::GraphProto* graph() { return model_.mutable_graph(); }

 private:
  Options options_;
  onnx::ModelProto model_;
  std::string current_ = "input";
  int next_tensor_ = 0;
};

// A serialized MLP of Gemm layers with sizes `dims` (input first) and
// LeakyRelu between them, weights uniform in [-0.1, 0.1] from `seed`.
std::string RandomMlpOnnx(const std::vector<int64_t>& dims, uint32_t seed);

void SetFloatAttr(onnx::NodeProto* node, const std::string& name, float value);
void SetIntAttr(onnx::NodeProto* node, const std::string& name, int64_t value);

}  // namespace mlpserve::testing

#endif  // MLPSERVE_TESTS_MODEL_ONNX_TEST_GRAPH_H_
