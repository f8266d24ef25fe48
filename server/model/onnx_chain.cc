// The graph walk behind ImportOnnxModel (declared in onnx_import.h): follows
// the chain of nodes from the graph input to the graph output, folding each
// Gemm / MatMul(+Add) into a DenseLayer and attaching activations.
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "onnx/onnx_pb.h"
#include "server/common/utf8.h"
#include "server/model/onnx_import.h"
#include "server/model/onnx_tensors.h"

namespace mlpserve {
namespace {

constexpr int64_t kMinOpset = 9;
// Opsets 18-21 changed none of the imported operators for float tensors
// (Identity, Reshape, Flatten, Constant gained types; nothing else here).
constexpr int64_t kMaxOpset = 21;

// Walks the chain of nodes from the graph input to the graph output, building
// the Mlp layer by layer. One instance per import.
class Importer {
 public:
  Importer(const onnx::ModelProto& model, absl::string_view source)
      : graph_(model.graph()), model_(model), source_(source) {}

  absl::StatusOr<Mlp> Run() {
    if (absl::Status s = CheckOpset(); !s.ok()) return s;
    IndexGraph();
    if (absl::Status s = FindInput(); !s.ok()) return s;
    if (absl::Status s = FindOutput(); !s.ok()) return s;
    if (absl::Status s = Walk(); !s.ok()) return s;
    if (absl::Status s = CheckOutputShape(); !s.ok()) return s;
    if (absl::Status s = mlp_.Validate(); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(source_, ": ", s.message()));
    }
    return std::move(mlp_);
  }

 private:
  absl::Status Error(absl::string_view problem) const {
    return absl::InvalidArgumentError(absl::StrCat(source_, ": ", problem));
  }
  std::string NodeLabel(const onnx::NodeProto& node) const {
    return absl::StrCat("node '", PrintableName(node.name()), "' (op ",
                        PrintableName(node.op_type()), ")");
  }
  absl::Status NodeError(const onnx::NodeProto& node, absl::string_view problem) const {
    return Error(absl::StrCat(NodeLabel(node), ": ", problem));
  }
  // The node's attribute `name` (`fallback` when unset) into `value`; an
  // attribute of the wrong type is an error naming the node.
  template <typename T>
  absl::Status GetAttribute(const onnx::NodeProto& node, absl::string_view name, T fallback,
                            T& value) const {
    absl::StatusOr<T> read;
    if constexpr (std::is_same_v<T, float>) {
      read = FloatAttribute(node, name, fallback);
    } else {
      read = IntAttribute(node, name, fallback);
    }
    if (!read.ok()) return NodeError(node, read.status().message());
    value = *read;
    return absl::OkStatus();
  }

  absl::Status CheckOpset() {
    bool found = false;
    for (const onnx::OperatorSetIdProto& id : model_.opset_import()) {
      if (!id.domain().empty() && id.domain() != "ai.onnx") continue;
      found = true;
      opset_ = id.version();
    }
    if (!found) return Error("no opset_import for the default ONNX domain");
    if (opset_ < kMinOpset || opset_ > kMaxOpset) {
      return Error(
          absl::StrCat("opset ", opset_, " is not supported (", kMinOpset, " to ", kMaxOpset, ")"));
    }
    return absl::OkStatus();
  }

  // Indexes initializers, Constant nodes, Identity nodes of a constant
  // (exporters emit them for shared weights) and who consumes and produces
  // each tensor. Nodes are in topological order, as ONNX requires.
  void IndexGraph() {
    for (const onnx::TensorProto& t : graph_.initializer()) initializers_[t.name()] = &t;
    off_chain_.assign(graph_.node_size(), false);
    for (int i = 0; i < graph_.node_size(); ++i) {
      const onnx::NodeProto& node = graph_.node(i);
      if (node.op_type() == "Constant" && IsDefaultDomain(node)) {
        for (const std::string& out : node.output()) constant_nodes_[out] = &node;
        off_chain_[i] = true;
        continue;
      }
      if (node.op_type() == "Identity" && IsDefaultDomain(node) && node.input_size() == 1 &&
          node.output_size() == 1 && IsConstant(node.input(0)) && !IsConstant(node.output(0))) {
        // A new name only (SSA): aliases can never form a cycle.
        constant_aliases_[node.output(0)] = node.input(0);
        off_chain_[i] = true;
        continue;
      }
      for (const std::string& in : node.input()) {
        if (in.empty()) continue;
        // A node that reads a tensor twice (Add(h, h)) is one consumer; the
        // import then names what it does with it.
        std::vector<int>& consumers = consumers_[in];
        if (consumers.empty() || consumers.back() != i) consumers.push_back(i);
      }
      for (const std::string& out : node.output()) {
        if (!out.empty()) producers_[out] = i;
      }
    }
  }

  bool IsConstant(const std::string& name) const {
    return initializers_.count(name) != 0 || constant_nodes_.count(name) != 0 ||
           constant_aliases_.count(name) != 0;
  }

  // The initializer or Constant output `name` stands for, through Identity
  // nodes.
  std::string ResolveConstant(std::string name) const {
    for (auto it = constant_aliases_.find(name); it != constant_aliases_.end();
         it = constant_aliases_.find(name)) {
      name = it->second;
    }
    return name;
  }

  static bool IsDefaultDomain(const onnx::NodeProto& node) {
    return node.domain().empty() || node.domain() == "ai.onnx";
  }

  absl::Status FindInput() {
    const onnx::ValueInfoProto* input = nullptr;
    for (const onnx::ValueInfoProto& v : graph_.input()) {
      if (initializers_.count(v.name()) != 0) continue;
      if (input != nullptr) {
        return Error(absl::StrCat("graph has more than one input ('", input->name(), "', '",
                                  v.name(), "'); an MLP takes one"));
      }
      input = &v;
    }
    if (input == nullptr) return Error("graph has no input that is not an initializer");
    mlp_.input_name = input->name();
    current_ = input->name();
    absl::StatusOr<int64_t> features = RowFeatures(*input, "input");
    if (!features.ok()) return features.status();
    features_ = *features;
    features_from_ = absl::StrCat("graph input '", input->name(), "'");
    return absl::OkStatus();
  }

  absl::Status FindOutput() {
    if (graph_.output_size() != 1) {
      return Error(absl::StrCat("graph has ", graph_.output_size(), " outputs; an MLP has one"));
    }
    mlp_.output_name = graph_.output(0).name();
    return absl::OkStatus();
  }

  // Features of a [batch, features] graph input/output: -1 when not given.
  absl::StatusOr<int64_t> RowFeatures(const onnx::ValueInfoProto& v, absl::string_view what) {
    const std::string label = absl::StrCat("graph ", what, " '", v.name(), "'");
    if (!v.has_type()) return int64_t{-1};
    if (!v.type().has_tensor_type()) return Error(absl::StrCat(label, " is not a tensor"));
    const onnx::TypeProto::Tensor& type = v.type().tensor_type();
    if (type.elem_type() != onnx::TensorProto::FLOAT) {
      return Error(absl::StrCat(label, " has element type ", type.elem_type(),
                                "; only FLOAT (1) is served"));
    }
    if (!type.has_shape()) return int64_t{-1};
    const onnx::TensorShapeProto& shape = type.shape();
    if (shape.dim_size() != 2) {
      return Error(absl::StrCat(label, " has rank ", shape.dim_size(),
                                "; expected rank 2 [batch, features]"));
    }
    if (shape.dim(0).has_dim_value() && shape.dim(0).dim_value() <= 0) {
      return Error(absl::StrCat(label, " has batch dimension ", shape.dim(0).dim_value(),
                                "; a batch of any size is a dim_param (e.g. 'batch') or no "
                                "dim_value (torch.onnx.export dynamic_axes={'",
                                v.name(), "': {0: 'batch'}})"));
    }
    if (!shape.dim(1).has_dim_value()) return int64_t{-1};
    if (shape.dim(1).dim_value() <= 0) {
      return Error(absl::StrCat(label, " has ", shape.dim(1).dim_value(), " features"));
    }
    return shape.dim(1).dim_value();
  }

  absl::Status CheckOutputShape() {
    absl::StatusOr<int64_t> features = RowFeatures(graph_.output(0), "output");
    if (!features.ok()) return features.status();
    if (*features >= 0 && !mlp_.layers.empty() && *features != mlp_.output_features()) {
      return Error(absl::StrCat("graph output '", mlp_.output_name, "' declares ", *features,
                                " features but the last layer gives ", mlp_.output_features()));
    }
    return absl::OkStatus();
  }

  // The constant (initializer or Constant node output) feeding input `index`.
  absl::StatusOr<FloatTensor> ConstantInput(const onnx::NodeProto& node, int index) {
    if (index >= node.input_size() || node.input(index).empty()) {
      return NodeError(node, absl::StrCat("input ", index, " is missing"));
    }
    const std::string name = ResolveConstant(node.input(index));
    absl::StatusOr<FloatTensor> t;
    if (auto it = initializers_.find(name); it != initializers_.end()) {
      t = DecodeFloatTensor(*it->second, name);
    } else if (auto c = constant_nodes_.find(name); c != constant_nodes_.end()) {
      t = DecodeConstantNode(*c->second);
    } else {
      return NodeError(node, NotConstant(name, index));
    }
    if (!t.ok()) return NodeError(node, t.status().message());
    return t;
  }

  // Why input `index`, tensor `name`, is not a constant.
  std::string NotConstant(const std::string& name, int index) const {
    std::string what = absl::StrCat("input ", index, " '", name, "' ");
    if (auto p = producers_.find(name); p != producers_.end()) {
      absl::StrAppend(&what, "is computed by ", NodeLabel(graph_.node(p->second)));
    } else if (name == mlp_.input_name) {
      absl::StrAppend(&what, "is the graph input");
    } else {
      absl::StrAppend(&what, "is neither an initializer nor a Constant node's output");
    }
    absl::StrAppend(&what, "; weights, biases and slopes must be constants");
    return what;
  }

  absl::Status Walk() {
    std::vector<bool> used(graph_.node_size(), false);
    while (current_ != mlp_.output_name) {
      auto it = consumers_.find(current_);
      if (it == consumers_.end() || it->second.empty()) {
        return Error(absl::StrCat("tensor '", current_, "' feeds no node and is not the graph ",
                                  "output '", mlp_.output_name, "'"));
      }
      if (it->second.size() > 1) {
        std::vector<std::string> names;
        bool shape = false;
        for (int i : it->second) {
          names.push_back(
              absl::StrCat("'", graph_.node(i).name(), "' (op ", graph_.node(i).op_type(), ")"));
          shape = shape || graph_.node(i).op_type() == "Shape";
        }
        return Error(absl::StrCat(
            "tensor '", current_, "' feeds several nodes: ", absl::StrJoin(names, ", "),
            "; only a chain of layers is supported",
            shape ? " (a Shape node comes from x.view(x.size(0), -1) or x.reshape(x.shape[0], "
                    "-1): export torch.flatten(x, 1) instead)"
                  : ""));
      }
      const int index = it->second.front();
      if (used[index]) return Error(absl::StrCat("graph has a cycle at tensor '", current_, "'"));
      used[index] = true;
      if (absl::Status s = ImportNode(graph_.node(index)); !s.ok()) return s;
    }
    for (int i = 0; i < graph_.node_size(); ++i) {
      const onnx::NodeProto& node = graph_.node(i);
      if (!used[i] && !off_chain_[i]) {
        return NodeError(node, "is not on the chain from the graph input to the graph output");
      }
    }
    return absl::OkStatus();
  }

  absl::Status ImportNode(const onnx::NodeProto& node) {
    int uses = 0;
    for (const std::string& in : node.input()) uses += in == current_ ? 1 : 0;
    if (uses != 1) return NodeError(node, absl::StrCat("uses '", current_, "' ", uses, " times"));
    if (node.output_size() < 1 || node.output(0).empty()) {
      return NodeError(node, "has no output");
    }
    const std::string& op = node.op_type();
    absl::Status status = absl::OkStatus();
    if (!IsDefaultDomain(node)) {
      return Error(
          absl::StrCat(NodeLabel(node), " in domain '", node.domain(), "' is not supported"));
    } else if (op == "Gemm") {
      status = ImportGemm(node);
    } else if (op == "MatMul") {
      status = ImportMatMul(node);
    } else if (op == "Add") {
      status = ImportAdd(node);
    } else if (op == "Relu") {
      status = ImportActivation(node, ActivationKind::kRelu);
    } else if (op == "LeakyRelu") {
      status = ImportActivation(node, ActivationKind::kLeakyRelu);
    } else if (op == "PRelu") {
      status = ImportActivation(node, ActivationKind::kPRelu);
    } else if (op == "Sigmoid") {
      status = ImportActivation(node, ActivationKind::kSigmoid);
    } else if (op == "Tanh") {
      status = ImportActivation(node, ActivationKind::kTanh);
    } else if (op == "Softmax") {
      status = ImportActivation(node, ActivationKind::kSoftmax);
    } else if (op == "Identity" || op == "Dropout" || op == "Flatten") {
      status = ImportNoOp(node);
    } else if (op == "Reshape") {
      status = ImportReshape(node);
    } else {
      return Error(absl::StrCat(NodeLabel(node), " is not supported"));
    }
    if (!status.ok()) return status;
    current_ = node.output(0);
    return absl::OkStatus();
  }

  absl::Status ImportNoOp(const onnx::NodeProto& node) {
    if (node.input(0) != current_) return NodeError(node, "must take the chain as input 0");
    if (node.op_type() == "Flatten") {
      int64_t axis = 1;
      if (absl::Status s = GetAttribute<int64_t>(node, "axis", 1, axis); !s.ok()) return s;
      if (axis != 1 && axis != -1) {
        return NodeError(node, absl::StrCat("axis ", axis, " changes the [batch, features] shape"));
      }
    }
    if (node.op_type() == "Dropout" && node.input_size() > 2 && !node.input(2).empty()) {
      if (absl::Status s = CheckInferenceDropout(node); !s.ok()) return s;
    }
    for (int i = 1; i < node.output_size(); ++i) {  // Dropout's mask
      const std::string& extra = node.output(i);
      if (!extra.empty() && (consumers_.count(extra) != 0 || extra == mlp_.output_name)) {
        return NodeError(node, absl::StrCat("output '", extra, "' is used; only the data is"));
      }
    }
    return absl::OkStatus();
  }

  // Dropout (opset 12+) is served as the identity only when its
  // training_mode input is a constant false: in training mode it zeroes
  // random units, which no inference server should do.
  absl::Status CheckInferenceDropout(const onnx::NodeProto& node) {
    const std::string name = ResolveConstant(node.input(2));
    const onnx::TensorProto* tensor = ConstantProto(name);
    if (tensor == nullptr) {
      return NodeError(node, absl::StrCat("training_mode '", node.input(2),
                                          "' is not a constant; export with model.eval()"));
    }
    absl::StatusOr<bool> training = DecodeBoolScalar(*tensor, name);
    if (!training.ok()) return NodeError(node, training.status().message());
    if (*training) {
      return NodeError(node, absl::StrCat("training_mode '", node.input(2),
                                          "' is true: dropout would zero random units; export "
                                          "with model.eval()"));
    }
    return absl::OkStatus();
  }

  // The TensorProto of the initializer or Constant node (attribute `value`)
  // `resolved_name` names, or nullptr.
  const onnx::TensorProto* ConstantProto(const std::string& resolved_name) const {
    if (auto it = initializers_.find(resolved_name); it != initializers_.end()) return it->second;
    if (auto c = constant_nodes_.find(resolved_name); c != constant_nodes_.end()) {
      const onnx::AttributeProto* value = FindAttribute(*c->second, "value");
      if (value != nullptr && value->has_t()) return &value->t();
    }
    return nullptr;
  }

  // Reshape of the [batch, features] chain to a constant [batch, features]
  // (torch's x.view(-1, F) / x.reshape(-1, F) exports as Reshape with the
  // constant [-1, F]): the identity. The first dim must keep the batch (-1,
  // or 0 = copy), the second the features (F, or 0 = copy, or -1 after a
  // copied batch). Anything else would change what a row is.
  absl::Status ImportReshape(const onnx::NodeProto& node) {
    if (node.input(0) != current_) return NodeError(node, "must take the chain as input 0");
    if (node.input_size() < 2 || node.input(1).empty()) return NodeError(node, "has no shape");
    const std::string name = ResolveConstant(node.input(1));
    absl::StatusOr<std::vector<int64_t>> shape;
    const onnx::AttributeProto* ints = nullptr;
    if (auto c = constant_nodes_.find(name); c != constant_nodes_.end()) {
      ints = FindAttribute(*c->second, "value_ints");
    }
    if (ints != nullptr) {  // Constant(value_ints=[...]), as onnx.helper writes it
      if (ints->ints_size() > 8) return NodeError(node, "shape has more than 8 values");
      shape = std::vector<int64_t>(ints->ints().begin(), ints->ints().end());
    } else if (const onnx::TensorProto* tensor = ConstantProto(name); tensor != nullptr) {
      shape = DecodeInt64Vector(*tensor, name, 8);
    } else {
      return NodeError(node, absl::StrCat("shape '", node.input(1),
                                          "' is not a constant; a Reshape is served only as "
                                          "x.view(-1, features), with a constant shape"));
    }
    if (!shape.ok()) return NodeError(node, shape.status().message());
    int64_t allowzero = 0;
    if (absl::Status s = GetAttribute<int64_t>(node, "allowzero", 0, allowzero); !s.ok()) return s;
    const bool copies = allowzero == 0;  // 0 means "this dim of the input"
    const std::vector<int64_t>& dims = *shape;
    const bool batch_kept = dims.size() == 2 && (dims[0] == -1 || (dims[0] == 0 && copies));
    const bool features_kept =
        dims.size() == 2 && ((dims[1] > 0 && (features_ < 0 || dims[1] == features_)) ||
                             (dims[1] == 0 && copies) || (dims[1] == -1 && dims[0] == 0 && copies));
    if (!batch_kept || !features_kept) {
      return NodeError(
          node, absl::StrCat("shape ", ShapeString(dims), (copies ? "" : " with allowzero"),
                             " changes the [batch, ",
                             features_ >= 0 ? absl::StrCat(features_) : std::string("features"),
                             "] rows; only a reshape to [-1, features] is served"));
    }
    if (dims[1] > 0 && features_ < 0) {
      features_ = dims[1];
      features_from_ = NodeLabel(node);
    }
    return absl::OkStatus();
  }

  // Appends a dense layer whose weights are already [in, out].
  absl::Status AddLayer(const onnx::NodeProto& node, int64_t in, int64_t out,
                        std::vector<float> weights, std::vector<float> bias) {
    if (features_ >= 0 && features_ != in) {
      return NodeError(
          node, absl::StrCat("layer ", mlp_.layers.size(), " takes ", in, " input features but ",
                             features_from_, " gives ", features_));
    }
    DenseLayer layer;
    layer.in = in;
    layer.out = out;
    layer.weights = std::move(weights);
    layer.bias = std::move(bias);
    layer.node = node.name();
    mlp_.layers.push_back(std::move(layer));
    features_ = out;
    features_from_ = absl::StrCat("layer ", mlp_.layers.size() - 1, " ('", node.name(), "')");
    bias_open_ = true;
    return absl::OkStatus();
  }

  absl::Status ImportGemm(const onnx::NodeProto& node) {
    if (node.input(0) != current_) return NodeError(node, "must take the chain as input A");
    int64_t trans_a = 0;
    int64_t trans_b = 0;
    float alpha = 1.0f;
    float beta = 1.0f;
    for (const absl::Status& s :
         {GetAttribute<int64_t>(node, "transA", 0, trans_a),
          GetAttribute<int64_t>(node, "transB", 0, trans_b),
          GetAttribute(node, "alpha", 1.0f, alpha), GetAttribute(node, "beta", 1.0f, beta)}) {
      if (!s.ok()) return s;
    }
    if (trans_a != 0) return NodeError(node, "transA must be 0");
    if (trans_b != 0 && trans_b != 1) return NodeError(node, "transB must be 0 or 1");
    absl::StatusOr<FloatTensor> b = ConstantInput(node, 1);
    if (!b.ok()) return b.status();
    if (b->rank() != 2 || b->dims[0] <= 0 || b->dims[1] <= 0) {
      return NodeError(node, absl::StrCat("weights '", node.input(1), "' have shape ",
                                          ShapeString(b->dims), "; expected 2-D"));
    }
    const int64_t k = trans_b ? b->dims[1] : b->dims[0];
    const int64_t n = trans_b ? b->dims[0] : b->dims[1];
    std::vector<float> weights(k * n);
    for (int64_t i = 0; i < k; ++i) {
      for (int64_t j = 0; j < n; ++j) {
        weights[i * n + j] = alpha * (trans_b ? b->values[j * k + i] : b->values[i * n + j]);
      }
    }
    std::vector<float> bias(n, 0.0f);
    if (node.input_size() > 2 && !node.input(2).empty()) {
      absl::StatusOr<FloatTensor> c = ConstantInput(node, 2);
      if (!c.ok()) return c.status();
      bias = BroadcastRow(*c, n);
      if (bias.empty()) {
        return NodeError(node,
                         absl::StrCat("bias '", node.input(2), "' has shape ", ShapeString(c->dims),
                                      "; expected [", n, "] or [1, ", n, "]"));
      }
      for (float& v : bias) v *= beta;
    }
    return AddLayer(node, k, n, std::move(weights), std::move(bias));
  }

  absl::Status ImportMatMul(const onnx::NodeProto& node) {
    if (node.input_size() != 2 || node.input(0) != current_) {
      return NodeError(node, "must take the chain as input A and constant weights as input B");
    }
    absl::StatusOr<FloatTensor> b = ConstantInput(node, 1);
    if (!b.ok()) return b.status();
    if (b->rank() != 2 || b->dims[0] <= 0 || b->dims[1] <= 0) {
      return NodeError(node, absl::StrCat("weights '", node.input(1), "' have shape ",
                                          ShapeString(b->dims), "; expected 2-D [in, out]"));
    }
    const int64_t n = b->dims[1];
    return AddLayer(node, b->dims[0], n, std::move(b->values), std::vector<float>(n, 0.0f));
  }

  // An Add of a constant right after a dense layer is that layer's bias.
  absl::Status ImportAdd(const onnx::NodeProto& node) {
    if (node.input_size() != 2) return NodeError(node, "expects two inputs");
    if (!bias_open_) {
      return NodeError(node, "is only supported as the bias right after a MatMul or Gemm");
    }
    const int other = node.input(0) == current_ ? 1 : 0;
    absl::StatusOr<FloatTensor> c = ConstantInput(node, other);
    if (!c.ok()) return c.status();
    DenseLayer& layer = mlp_.layers.back();
    std::vector<float> bias = BroadcastRow(*c, layer.out);
    if (bias.empty()) {
      return NodeError(node, absl::StrCat("bias '", node.input(other), "' has shape ",
                                          ShapeString(c->dims), "; expected [", layer.out, "]"));
    }
    for (int64_t j = 0; j < layer.out; ++j) layer.bias[j] += bias[j];
    return absl::OkStatus();
  }

  absl::Status ImportActivation(const onnx::NodeProto& node, ActivationKind kind) {
    if (node.input(0) != current_) return NodeError(node, "must take the chain as input 0");
    if (mlp_.layers.empty()) return NodeError(node, "comes before any dense layer");
    DenseLayer& layer = mlp_.layers.back();
    if (layer.activation.kind != ActivationKind::kNone) {
      return NodeError(node, absl::StrCat("follows another activation ('", layer.activation.node,
                                          "'); each dense layer has at most one"));
    }
    Activation act;
    act.kind = kind;
    act.node = node.name();
    if (kind == ActivationKind::kLeakyRelu) {
      if (absl::Status s = GetAttribute(node, "alpha", 0.01f, act.alpha); !s.ok()) return s;
    }
    if (kind == ActivationKind::kPRelu) {
      absl::StatusOr<FloatTensor> slope = ConstantInput(node, 1);
      if (!slope.ok()) return slope.status();
      act.slope = BroadcastRow(*slope, layer.out);
      if (act.slope.empty()) {
        return NodeError(
            node, absl::StrCat("slope '", node.input(1), "' has shape ", ShapeString(slope->dims),
                               "; expected a scalar, [", layer.out, "] or [1, ", layer.out, "]"));
      }
    }
    if (kind == ActivationKind::kSoftmax) {
      int64_t axis = 0;
      if (absl::Status s = GetAttribute<int64_t>(node, "axis", opset_ < 13 ? 1 : -1, axis);
          !s.ok()) {
        return s;
      }
      if (axis != 1 && axis != -1) {
        return NodeError(node, absl::StrCat("axis ", axis, " is not the last axis"));
      }
    }
    layer.activation = std::move(act);
    bias_open_ = false;
    return absl::OkStatus();
  }

  const onnx::GraphProto& graph_;
  const onnx::ModelProto& model_;
  const std::string source_;
  int64_t opset_ = 0;
  std::unordered_map<std::string, const onnx::TensorProto*> initializers_;
  std::unordered_map<std::string, const onnx::NodeProto*> constant_nodes_;
  // Output of an Identity of a constant -> its input.
  std::unordered_map<std::string, std::string> constant_aliases_;
  std::vector<bool> off_chain_;  // per node: a Constant or an Identity of a constant
  std::unordered_map<std::string, std::vector<int>> consumers_;  // tensor -> node indices
  std::unordered_map<std::string, int> producers_;               // tensor -> node index
  std::string current_;        // the tensor flowing along the chain
  int64_t features_ = -1;      // features of current_, -1 while unknown
  std::string features_from_;  // what gave features_, for messages
  bool bias_open_ = false;     // last node was a dense layer (an Add is its bias)
  Mlp mlp_;
};

}  // namespace

absl::StatusOr<Mlp> ImportOnnxModel(const onnx::ModelProto& model, absl::string_view source) {
  return Importer(model, source).Run();
}

}  // namespace mlpserve
