#include "tests/model/onnx_test_graph.h"

#include <cstring>
#include <random>

namespace mlpserve::testing {
namespace {

void SetShape(onnx::ValueInfoProto* value, int64_t fixed_batch, int64_t features) {
  auto* tensor = value->mutable_type()->mutable_tensor_type();
  tensor->set_elem_type(onnx::TensorProto::FLOAT);
  auto* shape = tensor->mutable_shape();
  auto* batch = shape->add_dim();
  if (fixed_batch > 0) {
    batch->set_dim_value(fixed_batch);
  } else {
    batch->set_dim_param("batch");
  }
  auto* feat = shape->add_dim();
  if (features > 0) {
    feat->set_dim_value(features);
  } else {
    feat->set_dim_param("features");
  }
}

void FillTensor(onnx::TensorProto* t, const std::string& name, const std::vector<int64_t>& dims,
                const std::vector<float>& values, bool raw) {
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::FLOAT);
  for (int64_t d : dims) t->add_dims(d);
  if (raw) {
    std::string bytes(values.size() * sizeof(float), '\0');
    std::memcpy(bytes.data(), values.data(), bytes.size());  // tests run little-endian
    t->set_raw_data(bytes);
  } else {
    for (float v : values) t->add_float_data(v);
  }
}

}  // namespace

OnnxTestGraph::OnnxTestGraph(const Options& options) : options_(options) {
  model_.set_ir_version(7);
  model_.set_producer_name("mlpserve-tests");
  auto* opset = model_.add_opset_import();
  opset->set_domain("");
  opset->set_version(options_.opset);
  auto* graph = model_.mutable_graph();
  graph->set_name("test_mlp");
  auto* input = graph->add_input();
  input->set_name("input");
  SetShape(input, options_.fixed_batch, options_.in_features);
}

std::string OnnxTestGraph::Initializer(const std::string& name, const std::vector<int64_t>& dims,
                                       const std::vector<float>& values) {
  FillTensor(graph()->add_initializer(), name, dims, values, options_.raw_data);
  return name;
}

std::string OnnxTestGraph::ConstantNode(const std::string& name, const std::vector<int64_t>& dims,
                                        const std::vector<float>& values) {
  onnx::NodeProto* node = graph()->add_node();
  node->set_name(name);
  node->set_op_type("Constant");
  node->add_output(name + "_output_0");
  onnx::AttributeProto* attr = node->add_attribute();
  attr->set_name("value");
  attr->set_type(onnx::AttributeProto::TENSOR);
  FillTensor(attr->mutable_t(), "", dims, values, options_.raw_data);
  return node->output(0);
}

onnx::NodeProto* OnnxTestGraph::Append(const std::string& op, const std::string& name,
                                       const std::vector<std::string>& extra_inputs) {
  onnx::NodeProto* node = graph()->add_node();
  node->set_name(name);
  node->set_op_type(op);
  node->add_input(current_);
  for (const std::string& in : extra_inputs) node->add_input(in);
  current_ = "t" + std::to_string(next_tensor_++);
  node->add_output(current_);
  return node;
}

onnx::NodeProto* OnnxTestGraph::AppendGemm(const std::string& name,
                                           const std::vector<int64_t>& b_dims,
                                           const std::vector<float>& b,
                                           const std::vector<int64_t>& c_dims,
                                           const std::vector<float>& c, int64_t trans_b) {
  std::vector<std::string> inputs = {Initializer(name + ".B", b_dims, b)};
  if (!c.empty()) inputs.push_back(Initializer(name + ".C", c_dims, c));
  onnx::NodeProto* node = Append("Gemm", name, inputs);
  if (trans_b != 0) SetIntAttr(node, "transB", trans_b);
  return node;
}

onnx::NodeProto* OnnxTestGraph::AppendMatMulAdd(const std::string& name, int64_t in, int64_t out,
                                                const std::vector<float>& w,
                                                const std::vector<float>& bias, bool bias_first) {
  Append("MatMul", name, {Initializer(name + ".W", {in, out}, w)});
  const std::string b = Initializer(name + ".bias", {out}, bias);
  onnx::NodeProto* add = Append("Add", name + "_add", {b});
  if (bias_first) add->mutable_input()->SwapElements(0, 1);
  return add;
}

onnx::ModelProto OnnxTestGraph::Build(int64_t out_features) const {
  onnx::ModelProto model = model_;
  auto* graph = model.mutable_graph();
  // Rename the chain's last tensor to "output" wherever it appears.
  for (auto& node : *graph->mutable_node()) {
    for (auto& out : *node.mutable_output()) {
      if (out == current_) out = "output";
    }
  }
  auto* output = graph->add_output();
  output->set_name(current_ == "input" ? "input" : "output");
  if (out_features > 0) SetShape(output, options_.fixed_batch, out_features);
  return model;
}

std::string OnnxTestGraph::Serialized(int64_t out_features) const {
  return Build(out_features).SerializeAsString();
}

void SetFloatAttr(onnx::NodeProto* node, const std::string& name, float value) {
  onnx::AttributeProto* attr = node->add_attribute();
  attr->set_name(name);
  attr->set_type(onnx::AttributeProto::FLOAT);
  attr->set_f(value);
}

void SetIntAttr(onnx::NodeProto* node, const std::string& name, int64_t value) {
  onnx::AttributeProto* attr = node->add_attribute();
  attr->set_name(name);
  attr->set_type(onnx::AttributeProto::INT);
  attr->set_i(value);
}

std::string RandomMlpOnnx(const std::vector<int64_t>& dims, uint32_t seed) {
  OnnxTestGraph::Options options;
  options.in_features = dims.front();
  OnnxTestGraph graph(options);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-0.1f, 0.1f);
  for (size_t l = 0; l + 1 < dims.size(); ++l) {
    std::vector<float> w(dims[l] * dims[l + 1]), b(dims[l + 1]);
    for (float& v : w) v = dist(rng);
    for (float& v : b) v = dist(rng);
    const std::string name = "fc" + std::to_string(l);
    graph.AppendGemm(name, {dims[l + 1], dims[l]}, w, {dims[l + 1]}, b);
    if (l + 2 < dims.size()) graph.Append("LeakyRelu", "act" + std::to_string(l));
  }
  return graph.Serialized(dims.back());
}

}  // namespace mlpserve::testing
