// ImportOnnx*: every supported op and storage form, and errors (never
// crashes) for everything else.
#include "server/model/onnx_import.h"

#include <sys/stat.h>

#include <optional>
#include <random>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/model/onnx_test_graph.h"
#include "tests/support/temp_dir.h"

namespace mlpserve {
namespace {

using ::testing::ElementsAre;
using ::testing::FloatEq;
using ::testing::HasSubstr;
using testing::OnnxTestGraph;
using ::testing::Pointwise;

constexpr char kSource[] = "models/x/1/model.onnx";

OnnxTestGraph::Options WithOpset(int64_t opset) {
  OnnxTestGraph::Options o;
  o.opset = opset;
  return o;
}
OnnxTestGraph::Options WithBatch(int64_t fixed_batch) {
  OnnxTestGraph::Options o;
  o.fixed_batch = fixed_batch;
  return o;
}
OnnxTestGraph::Options WithFeatures(int64_t in_features) {
  OnnxTestGraph::Options o;
  o.in_features = in_features;
  return o;
}
OnnxTestGraph::Options WithRawData(bool raw) {
  OnnxTestGraph::Options o;
  o.raw_data = raw;
  return o;
}

absl::StatusOr<Mlp> Import(const onnx::ModelProto& model) {
  return ImportOnnxModel(model, kSource);
}

// Expects INVALID_ARGUMENT naming the source and every fragment.
void ExpectError(const absl::StatusOr<Mlp>& result, const std::vector<std::string>& fragments) {
  ASSERT_FALSE(result.ok()) << "import unexpectedly succeeded";
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument) << result.status();
  EXPECT_THAT(std::string(result.status().message()), HasSubstr(kSource));
  for (const std::string& f : fragments) {
    EXPECT_THAT(std::string(result.status().message()), HasSubstr(f));
  }
}

// 3 -> 2 Gemm with B = [[1,2,3],[4,5,6]] stored [out, in] (transB = 1).
OnnxTestGraph GemmGraph(OnnxTestGraph::Options options = {}) {
  OnnxTestGraph g(options);
  g.AppendGemm("Gemm_0", {2, 3}, {1, 2, 3, 4, 5, 6}, {2}, {10, 20});
  return g;
}

TEST(OnnxImportTest, GemmTransBIsStoredInOut) {
  absl::StatusOr<Mlp> mlp = Import(GemmGraph().Build(2));
  ASSERT_TRUE(mlp.ok()) << mlp.status();
  ASSERT_EQ(mlp->layers.size(), 1u);
  const DenseLayer& l = mlp->layers[0];
  EXPECT_EQ(l.in, 3);
  EXPECT_EQ(l.out, 2);
  EXPECT_THAT(l.weights, ElementsAre(1, 4, 2, 5, 3, 6));
  EXPECT_THAT(l.bias, ElementsAre(10, 20));
  EXPECT_EQ(l.node, "Gemm_0");
  EXPECT_EQ(l.activation.kind, ActivationKind::kNone);
  EXPECT_EQ(mlp->input_name, "input");
  EXPECT_EQ(mlp->output_name, "output");
}

TEST(OnnxImportTest, GemmFoldsAlphaAndBeta) {
  OnnxTestGraph g({});
  onnx::NodeProto* gemm = g.AppendGemm("Gemm_0", {2, 3}, {1, 2, 3, 4, 5, 6}, {1, 2}, {10, 20});
  testing::SetFloatAttr(gemm, "alpha", 2.0f);
  testing::SetFloatAttr(gemm, "beta", 0.5f);
  absl::StatusOr<Mlp> mlp = Import(g.Build(2));
  ASSERT_TRUE(mlp.ok()) << mlp.status();
  EXPECT_THAT(mlp->layers[0].weights, ElementsAre(2, 8, 4, 10, 6, 12));
  EXPECT_THAT(mlp->layers[0].bias, ElementsAre(5, 10));
}

TEST(OnnxImportTest, GemmWithoutTransBAndWithoutBias) {
  OnnxTestGraph g({});
  g.AppendGemm("Gemm_0", {3, 2}, {1, 2, 3, 4, 5, 6}, {}, {}, /*trans_b=*/0);
  absl::StatusOr<Mlp> mlp = Import(g.Build(2));
  ASSERT_TRUE(mlp.ok()) << mlp.status();
  EXPECT_THAT(mlp->layers[0].weights, ElementsAre(1, 2, 3, 4, 5, 6));
  EXPECT_THAT(mlp->layers[0].bias, ElementsAre(0, 0));
}

TEST(OnnxImportTest, GemmTransARejected) {
  OnnxTestGraph g = GemmGraph();
  testing::SetIntAttr(g.graph()->mutable_node(0), "transA", 1);
  ExpectError(Import(g.Build(2)), {"node 'Gemm_0' (op Gemm)", "transA"});
}

// onnx.checker refuses these ("Mismatched attribute type"); read as the
// other type's field they would be 0: x·B instead of x·Bᵀ, a ReLU instead of
// a Leaky ReLU.
TEST(OnnxImportTest, AttributesOfTheWrongTypeAreRefused) {
  OnnxTestGraph float_trans_b({});
  float_trans_b.AppendGemm("Gemm_0", {3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9}, {3}, {0, 0, 0},
                           /*trans_b=*/0);
  testing::SetFloatAttr(float_trans_b.graph()->mutable_node(0), "transB", 1.0f);
  ExpectError(Import(float_trans_b.Build(3)),
              {"node 'Gemm_0' (op Gemm)", "attribute 'transB' has type FLOAT; expected INT"});

  OnnxTestGraph int_alpha = GemmGraph();
  testing::SetIntAttr(int_alpha.Append("LeakyRelu", "Leaky_1"), "alpha", 1);
  ExpectError(Import(int_alpha.Build(2)),
              {"node 'Leaky_1' (op LeakyRelu)", "attribute 'alpha' has type INT; expected FLOAT"});

  OnnxTestGraph float_axis = GemmGraph();
  testing::SetFloatAttr(float_axis.Append("Softmax", "Softmax_1"), "axis", 1.0f);
  ExpectError(Import(float_axis.Build(2)), {"node 'Softmax_1'", "attribute 'axis' has type FLOAT"});
}

// Prometheus refuses a whole scrape with one label value that is not UTF-8,
// and a client refuses a response with such a string.
TEST(OnnxImportTest, NamesThatAreNotUtf8AreRefused) {
  OnnxTestGraph node = GemmGraph();
  node.Append("LeakyRelu", "a\xffz");
  ExpectError(Import(node.Build(2)), {"layer 0: node name 'a\\xffz' is not valid UTF-8"});

  onnx::ModelProto output = GemmGraph().Build(2);
  output.mutable_graph()->mutable_output(0)->set_name("out\xfe");
  output.mutable_graph()->mutable_node(0)->set_output(0, "out\xfe");
  ExpectError(Import(output), {"output tensor name 'out\\xfe' is not valid UTF-8"});

  OnnxTestGraph accents = GemmGraph();
  accents.Append("LeakyRelu", "Fuite_\xc3\xa9t\xc3\xa9");  // "Fuite_été": UTF-8 is fine
  EXPECT_TRUE(Import(accents.Build(2)).ok());
}

TEST(OnnxImportTest, MatMulAddEitherOrder) {
  for (bool bias_first : {false, true}) {
    OnnxTestGraph g({});
    g.AppendMatMulAdd("MatMul_0", 3, 2, {1, 2, 3, 4, 5, 6}, {7, 8}, bias_first);
    absl::StatusOr<Mlp> mlp = Import(g.Build(2));
    ASSERT_TRUE(mlp.ok()) << mlp.status();
    EXPECT_THAT(mlp->layers[0].weights, ElementsAre(1, 2, 3, 4, 5, 6));
    EXPECT_THAT(mlp->layers[0].bias, ElementsAre(7, 8));
    EXPECT_EQ(mlp->layers[0].node, "MatMul_0");
  }
}

TEST(OnnxImportTest, AddWithoutDenseLayerRejected) {
  OnnxTestGraph g = GemmGraph();
  g.Append("Relu", "Relu_1");
  g.Append("Add", "Add_2", {g.Initializer("b", {2}, {1, 1})});
  ExpectError(Import(g.Build(2)), {"node 'Add_2' (op Add)", "bias"});
}

struct ActivationCase {
  std::string op;
  ActivationKind kind;
};

class SimpleActivationTest : public ::testing::TestWithParam<ActivationCase> {};

TEST_P(SimpleActivationTest, AttachesToPrecedingLayer) {
  OnnxTestGraph g = GemmGraph();
  g.Append(GetParam().op, "Act_1");
  absl::StatusOr<Mlp> mlp = Import(g.Build(2));
  ASSERT_TRUE(mlp.ok()) << mlp.status();
  EXPECT_EQ(mlp->layers[0].activation.kind, GetParam().kind);
  EXPECT_EQ(mlp->layers[0].activation.node, "Act_1");
}

INSTANTIATE_TEST_SUITE_P(Ops, SimpleActivationTest,
                         ::testing::Values(ActivationCase{"Relu", ActivationKind::kRelu},
                                           ActivationCase{"Sigmoid", ActivationKind::kSigmoid},
                                           ActivationCase{"Tanh", ActivationKind::kTanh},
                                           ActivationCase{"Softmax", ActivationKind::kSoftmax},
                                           ActivationCase{"LeakyRelu", ActivationKind::kLeakyRelu}),
                         [](const auto& info) { return info.param.op; });

TEST(OnnxImportTest, LeakyReluAlphaDefaultAndExplicit) {
  OnnxTestGraph g({});
  g.AppendGemm("Gemm_0", {3, 3}, {1, 0, 0, 0, 1, 0, 0, 0, 1}, {3}, {0, 0, 0});
  g.Append("LeakyRelu", "Leaky_1");
  g.AppendGemm("Gemm_2", {2, 3}, {1, 2, 3, 4, 5, 6}, {2}, {0, 0});
  testing::SetFloatAttr(g.Append("LeakyRelu", "Leaky_3"), "alpha", 0.001f);
  absl::StatusOr<Mlp> mlp = Import(g.Build(2));
  ASSERT_TRUE(mlp.ok()) << mlp.status();
  ASSERT_EQ(mlp->layers.size(), 2u);
  EXPECT_FLOAT_EQ(mlp->layers[0].activation.alpha, 0.01f);
  EXPECT_FLOAT_EQ(mlp->layers[1].activation.alpha, 0.001f);
  EXPECT_EQ(mlp->layers[1].activation.kind, ActivationKind::kLeakyRelu);
}

TEST(OnnxImportTest, PReluSlopeShapes) {
  struct Case {
    std::vector<int64_t> dims;
    std::vector<float> values;
    std::vector<float> expected;
  };
  for (const Case& c :
       {Case{{2}, {0.1f, -0.2f}, {0.1f, -0.2f}}, Case{{1, 2}, {0.0f, 0.3f}, {0.0f, 0.3f}},
        Case{{}, {0.25f}, {0.25f, 0.25f}}, Case{{1}, {0.5f}, {0.5f, 0.5f}}}) {
    OnnxTestGraph g = GemmGraph();
    g.Append("PRelu", "PRelu_1", {g.Initializer("slope", c.dims, c.values)});
    absl::StatusOr<Mlp> mlp = Import(g.Build(2));
    ASSERT_TRUE(mlp.ok()) << mlp.status();
    EXPECT_EQ(mlp->layers[0].activation.kind, ActivationKind::kPRelu);
    EXPECT_THAT(mlp->layers[0].activation.slope, Pointwise(FloatEq(), c.expected));
  }
}

TEST(OnnxImportTest, PReluSlopeWrongSize) {
  OnnxTestGraph g = GemmGraph();
  g.Append("PRelu", "PRelu_1", {g.Initializer("slope", {3}, {1, 2, 3})});
  ExpectError(Import(g.Build(2)), {"node 'PRelu_1' (op PRelu)", "slope 'slope'"});
}

TEST(OnnxImportTest, SoftmaxAxis) {
  for (int64_t opset : {9, 12, 13, 17}) {
    for (int64_t axis : {-1, 1, 0, 2, 99}) {
      OnnxTestGraph g = GemmGraph(WithOpset(opset));
      testing::SetIntAttr(g.Append("Softmax", "Softmax_1"), "axis", axis);
      absl::StatusOr<Mlp> mlp = Import(g.Build(2));
      EXPECT_EQ(mlp.ok(), axis == -1 || axis == 1) << "opset " << opset << " axis " << axis;
      if (!mlp.ok()) {
        EXPECT_THAT(std::string(mlp.status().message()), HasSubstr("axis"));
      }
    }
    OnnxTestGraph g = GemmGraph(WithOpset(opset));
    g.Append("Softmax", "Softmax_1");  // default axis is the last of a 2-D tensor
    EXPECT_TRUE(Import(g.Build(2)).ok()) << "opset " << opset;
  }
}

TEST(OnnxImportTest, SoftmaxOnlyOnLastLayer) {
  OnnxTestGraph g = GemmGraph();
  g.Append("Softmax", "Softmax_1");
  g.AppendGemm("Gemm_2", {1, 2}, {1, 1}, {1}, {0});
  ExpectError(Import(g.Build(1)), {"Softmax_1"});
}

TEST(OnnxImportTest, RawDataAndFloatDataGiveTheSameModel) {
  auto build = [](bool raw) {
    OnnxTestGraph g(WithRawData(raw));
    g.AppendGemm("Gemm_0", {2, 3}, {1.5f, -2, 3, 4, 5, 6.25f}, {2}, {-1, 1});
    g.Append("PRelu", "PRelu_1", {g.Initializer("slope", {2}, {0.1f, 0.2f})});
    g.AppendMatMulAdd("MatMul_2", 2, 1, {3, 4}, {0.5f});
    return Import(g.Build(1));
  };
  absl::StatusOr<Mlp> raw = build(true);
  absl::StatusOr<Mlp> floats = build(false);
  ASSERT_TRUE(raw.ok()) << raw.status();
  ASSERT_TRUE(floats.ok()) << floats.status();
  ASSERT_EQ(raw->layers.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(raw->layers[i].weights, floats->layers[i].weights);
    EXPECT_EQ(raw->layers[i].bias, floats->layers[i].bias);
    EXPECT_EQ(raw->layers[i].activation.slope, floats->layers[i].activation.slope);
  }
  EXPECT_THAT(raw->layers[0].weights, ElementsAre(1.5f, 4, -2, 5, 3, 6.25f));
}

TEST(OnnxImportTest, ConstantNodesProvideWeights) {
  OnnxTestGraph g({});
  const std::string b = g.ConstantNode("Constant_w", {2, 3}, {1, 2, 3, 4, 5, 6});
  const std::string c = g.ConstantNode("Constant_b", {2}, {7, 8});
  testing::SetIntAttr(g.Append("Gemm", "Gemm_0", {b, c}), "transB", 1);
  absl::StatusOr<Mlp> mlp = Import(g.Build(2));
  ASSERT_TRUE(mlp.ok()) << mlp.status();
  EXPECT_THAT(mlp->layers[0].weights, ElementsAre(1, 4, 2, 5, 3, 6));
  EXPECT_THAT(mlp->layers[0].bias, ElementsAre(7, 8));
}

TEST(OnnxImportTest, NoOpsAreSkipped) {
  OnnxTestGraph g({});
  g.Append("Flatten", "Flatten_0");
  g.AppendGemm("Gemm_1", {2, 3}, {1, 2, 3, 4, 5, 6}, {2}, {0, 0});
  g.Append("Identity", "Identity_2");
  g.Append("Relu", "Relu_3");
  onnx::NodeProto* dropout = g.Append("Dropout", "Dropout_4");
  dropout->add_output("unused_mask");
  absl::StatusOr<Mlp> mlp = Import(g.Build(2));
  ASSERT_TRUE(mlp.ok()) << mlp.status();
  ASSERT_EQ(mlp->layers.size(), 1u);
  EXPECT_EQ(mlp->layers[0].activation.kind, ActivationKind::kRelu);
}

TEST(OnnxImportTest, FlattenThatReshapesIsRejected) {
  OnnxTestGraph g({});
  testing::SetIntAttr(g.Append("Flatten", "Flatten_0"), "axis", 0);
  g.AppendGemm("Gemm_1", {2, 3}, {1, 2, 3, 4, 5, 6}, {2}, {0, 0});
  ExpectError(Import(g.Build(2)), {"node 'Flatten_0' (op Flatten)", "axis 0"});
}

// torch's x.view(-1, F): Reshape to a constant [batch, F] shape, from an
// initializer or a Constant node, raw_data or int64_data, before or after a
// layer. The identity when it keeps every row; refused when it would not.
TEST(OnnxImportTest, ReshapeThatKeepsTheRowsIsTheIdentity) {
  struct Case {
    std::vector<int64_t> shape;
    bool constant_node, raw, after_layer;
    int64_t allowzero;  // -1: unset
    std::string error;  // "" when served
  };
  const std::vector<Case> cases = {
      {{-1, 3}, true, true, false, -1, ""},
      {{-1, 3}, false, false, false, -1, ""},
      {{0, -1}, true, false, false, -1, ""},
      {{0, 0}, false, true, false, 0, ""},
      {{-1, 2}, true, true, true, -1, ""},
      {{-1, 0}, true, true, true, -1, ""},
      {{-1, 4}, true, true, false, -1, "shape [-1, 4] changes the [batch, 3] rows"},
      {{1, 3}, true, true, false, -1, "shape [1, 3] changes"},
      {{-1}, true, true, false, -1, "shape [-1] changes"},
      {{-1, 1, 3}, true, true, false, -1, "shape [-1, 1, 3] changes"},
      {{0, 3}, true, true, false, 1, "shape [0, 3] with allowzero changes"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(::testing::PrintToString(c.shape) + (c.after_layer ? " after a layer" : ""));
    OnnxTestGraph g({});
    if (c.after_layer) g.AppendGemm("Gemm_0", {2, 3}, {1, 2, 3, 4, 5, 6}, {2}, {0, 0});
    onnx::TensorProto shape;
    shape.set_data_type(onnx::TensorProto::INT64);
    shape.add_dims(static_cast<int64_t>(c.shape.size()));
    for (int64_t d : c.shape) {
      if (c.raw) {
        std::string bytes(8, '\0');
        for (int b = 0; b < 8; ++b) {
          bytes[static_cast<size_t>(b)] = static_cast<char>(static_cast<uint64_t>(d) >> (8 * b));
        }
        shape.mutable_raw_data()->append(bytes);
      } else {
        shape.add_int64_data(d);
      }
    }
    if (c.constant_node) {
      onnx::NodeProto* constant = g.graph()->add_node();
      constant->set_name("shape_const");
      constant->set_op_type("Constant");
      constant->add_output("shape");
      onnx::AttributeProto* value = constant->add_attribute();
      value->set_name("value");
      value->set_type(onnx::AttributeProto::TENSOR);
      *value->mutable_t() = shape;
    } else {
      shape.set_name("shape");
      *g.graph()->add_initializer() = shape;
    }
    onnx::NodeProto* reshape = g.Append("Reshape", "Reshape_1", {"shape"});
    if (c.allowzero >= 0) testing::SetIntAttr(reshape, "allowzero", c.allowzero);
    if (!c.after_layer) g.AppendGemm("Gemm_2", {2, 3}, {1, 2, 3, 4, 5, 6}, {2}, {0, 0});
    absl::StatusOr<Mlp> mlp = Import(g.Build(2));
    if (c.error.empty()) {
      ASSERT_TRUE(mlp.ok()) << mlp.status();
      ASSERT_EQ(mlp->layers.size(), 1u);
      EXPECT_EQ(mlp->input_features(), 3);
    } else {
      ExpectError(mlp, {"node 'Reshape_1' (op Reshape)", c.error});
    }
  }
}

TEST(OnnxImportTest, ReshapeShapeFromAConstantsValueInts) {
  for (const std::vector<int64_t>& dims : {std::vector<int64_t>{-1, 3}, {-1, 5}}) {
    OnnxTestGraph g({});
    onnx::NodeProto* constant = g.graph()->add_node();
    constant->set_name("shape_const");
    constant->set_op_type("Constant");
    constant->add_output("shape");
    onnx::AttributeProto* ints = constant->add_attribute();
    ints->set_name("value_ints");
    ints->set_type(onnx::AttributeProto::INTS);
    for (int64_t d : dims) ints->add_ints(d);
    g.Append("Reshape", "Reshape_1", {"shape"});
    g.AppendGemm("Gemm_2", {2, 3}, {1, 2, 3, 4, 5, 6}, {2}, {0, 0});
    absl::StatusOr<Mlp> mlp = Import(g.Build(2));
    if (dims[1] == 3) {
      EXPECT_TRUE(mlp.ok()) << mlp.status();
    } else {
      ExpectError(mlp, {"shape [-1, 5] changes the [batch, 3] rows"});
    }
  }
}

TEST(OnnxImportTest, ReshapeToAComputedShapeIsRefused) {
  OnnxTestGraph g({});
  g.graph()->add_input()->set_name("shape");  // fed at run time
  g.Append("Reshape", "Reshape_0", {"shape"});
  g.AppendGemm("Gemm_1", {2, 3}, {1, 2, 3, 4, 5, 6}, {2}, {0, 0});
  ExpectError(Import(g.Build(2)), {"more than one input"});
  OnnxTestGraph h({});
  h.Initializer("shape", {2}, {-1.f, 3.f});  // FLOAT, not INT64
  h.Append("Reshape", "Reshape_0", {"shape"});
  h.AppendGemm("Gemm_1", {2, 3}, {1, 2, 3, 4, 5, 6}, {2}, {0, 0});
  ExpectError(Import(h.Build(2)), {"node 'Reshape_0' (op Reshape)", "expected INT64"});
  // Both encodings at once, as the float decoder refuses too.
  OnnxTestGraph b({});
  onnx::TensorProto* both = b.graph()->add_initializer();
  both->set_name("shape");
  both->set_data_type(onnx::TensorProto::INT64);
  both->add_dims(2);
  both->add_int64_data(-1);
  both->add_int64_data(3);
  both->set_raw_data(std::string(16, '\0'));
  b.Append("Reshape", "Reshape_0", {"shape"});
  b.AppendGemm("Gemm_1", {2, 3}, {1, 2, 3, 4, 5, 6}, {2}, {0, 0});
  ExpectError(Import(b.Build(2)), {"has both raw_data and int64_data"});
  // x.view(x.size(0), -1): the input also feeds a Shape node.
  OnnxTestGraph v({});
  onnx::NodeProto* shape = v.graph()->add_node();
  shape->set_name("Shape_0");
  shape->set_op_type("Shape");
  shape->add_input("input");
  shape->add_output("dims");
  v.Append("Reshape", "Reshape_1", {"dims"});
  v.AppendGemm("Gemm_2", {2, 3}, {1, 2, 3, 4, 5, 6}, {2}, {0, 0});
  ExpectError(Import(v.Build(2)), {"'input' feeds several nodes", "'Shape_0' (op Shape)",
                                   "export torch.flatten(x, 1) instead"});
}

TEST(OnnxImportTest, OpsetRange) {
  for (int64_t opset : {9, 11, 13, 17, 18, 21}) {
    EXPECT_TRUE(Import(GemmGraph(WithOpset(opset)).Build(2)).ok()) << opset;
  }
  for (int64_t opset : {1, 8, 22, 100}) {
    ExpectError(Import(GemmGraph(WithOpset(opset)).Build(2)),
                {"opset " + std::to_string(opset) + " is not supported"});
  }
  onnx::ModelProto no_opset = GemmGraph().Build(2);
  no_opset.mutable_opset_import(0)->set_domain("ai.onnx.ml");
  ExpectError(Import(no_opset), {"opset_import"});
}

TEST(OnnxImportTest, BatchDimSymbolicOrFixed) {
  for (int64_t batch : {0, 1, 8}) {
    absl::StatusOr<Mlp> mlp = Import(GemmGraph(WithBatch(batch)).Build(2));
    ASSERT_TRUE(mlp.ok()) << "batch " << batch << ": " << mlp.status();
    EXPECT_EQ(mlp->input_features(), 3);
  }
  // Features left symbolic are taken from the weights.
  EXPECT_TRUE(Import(GemmGraph(WithFeatures(0)).Build(0)).ok());
}

TEST(OnnxImportTest, NegativeBatchDimensionSaysHowToMakeItDynamic) {
  onnx::ModelProto model = GemmGraph().Build(2);
  model.mutable_graph()
      ->mutable_input(0)
      ->mutable_type()
      ->mutable_tensor_type()
      ->mutable_shape()
      ->mutable_dim(0)
      ->set_dim_value(-1);
  ExpectError(Import(model),
              {"graph input 'input' has batch dimension -1", "dim_param", "dynamic_axes"});
}

TEST(OnnxImportTest, InputMustBeRank2Float) {
  onnx::ModelProto rank3 = GemmGraph().Build(2);
  rank3.mutable_graph()
      ->mutable_input(0)
      ->mutable_type()
      ->mutable_tensor_type()
      ->mutable_shape()
      ->add_dim()
      ->set_dim_value(4);
  ExpectError(Import(rank3), {"graph input 'input'", "rank 3"});
  onnx::ModelProto int_input = GemmGraph().Build(2);
  int_input.mutable_graph()->mutable_input(0)->mutable_type()->mutable_tensor_type()->set_elem_type(
      onnx::TensorProto::INT64);
  ExpectError(Import(int_input), {"graph input 'input'", "element type"});
}

TEST(OnnxImportTest, InitializersListedAsInputsAreNotTheInput) {
  onnx::ModelProto model = GemmGraph().Build(2);
  model.mutable_graph()->add_input()->set_name("Gemm_0.B");  // as keep_initializers_as_inputs
  EXPECT_TRUE(Import(model).ok());
  model.mutable_graph()->add_input()->set_name("second");
  ExpectError(Import(model), {"more than one input"});
}

// ---- failures --------------------------------------------------------

TEST(OnnxImportTest, UnsupportedOpNamesNodeAndSource) {
  OnnxTestGraph g = GemmGraph();
  g.Append("Conv", "Conv_3", {g.Initializer("k", {1}, {1})});
  absl::StatusOr<Mlp> mlp = Import(g.Build(2));
  ExpectError(mlp, {"models/x/1/model.onnx: node 'Conv_3' (op Conv) is not supported"});
}

TEST(OnnxImportTest, MismatchedLayerShapesNameTheLayer) {
  OnnxTestGraph g = GemmGraph();  // 3 -> 2
  g.Append("Relu", "Relu_1");
  g.AppendGemm("Gemm_2", {1, 4}, {1, 1, 1, 1}, {1}, {0});  // takes 4
  ExpectError(Import(g.Build(1)), {"node 'Gemm_2' (op Gemm)", "layer 1 takes 4", "gives 2"});
  // The first layer must also agree with the declared input features.
  ExpectError(Import(GemmGraph(WithFeatures(5)).Build(2)),
              {"node 'Gemm_0'", "takes 3", "graph input 'input' gives 5"});
  ExpectError(Import(GemmGraph().Build(7)), {"graph output 'output'", "7"});
}

TEST(OnnxImportTest, MissingInitializerNamesTensor) {
  OnnxTestGraph g({});
  testing::SetIntAttr(g.Append("Gemm", "Gemm_0", {"weights_nowhere"}), "transB", 1);
  ExpectError(Import(g.Build(2)),
              {"node 'Gemm_0' (op Gemm)", "input 1 'weights_nowhere' is neither an initializer",
               "must be constants"});
}

TEST(OnnxImportTest, ComputedWeightsNameTheNodeThatComputesThem) {
  OnnxTestGraph g({});
  const std::string w = g.Initializer("w", {2, 3}, {1, 2, 3, 4, 5, 6});
  onnx::NodeProto* neg = g.graph()->add_node();
  neg->set_op_type("Neg");
  neg->set_name("Neg_w");
  neg->add_input(w);
  neg->add_output("w_negated");
  testing::SetIntAttr(g.Append("Gemm", "Gemm_0", {"w_negated"}), "transB", 1);
  ExpectError(Import(g.Build(2)), {"node 'Gemm_0' (op Gemm)", "input 1 'w_negated'",
                                   "is computed by node 'Neg_w' (op Neg)"});
}

// Exporters put Identity nodes between a shared initializer and its users.
TEST(OnnxImportTest, WeightsThroughIdentityNodesAreFollowed) {
  OnnxTestGraph g({});
  const std::string w = g.Initializer("w", {2, 3}, {1, 2, 3, 4, 5, 6});
  std::string from = w;
  for (const char* alias : {"w_alias", "w_alias2"}) {
    onnx::NodeProto* identity = g.graph()->add_node();
    identity->set_op_type("Identity");
    identity->set_name(std::string("Identity_") + alias);
    identity->add_input(from);
    identity->add_output(alias);
    from = alias;
  }
  const std::string c = g.ConstantNode("Constant_b", {2}, {7, 8});
  onnx::NodeProto* c_identity = g.graph()->add_node();
  c_identity->set_op_type("Identity");
  c_identity->set_name("Identity_b");
  c_identity->add_input(c);
  c_identity->add_output("b_alias");
  testing::SetIntAttr(g.Append("Gemm", "Gemm_0", {"w_alias2", "b_alias"}), "transB", 1);
  absl::StatusOr<Mlp> mlp = Import(g.Build(2));
  ASSERT_TRUE(mlp.ok()) << mlp.status();
  EXPECT_THAT(mlp->layers[0].weights, ElementsAre(1, 4, 2, 5, 3, 6));
  EXPECT_THAT(mlp->layers[0].bias, ElementsAre(7, 8));

  // An Identity naming its output after its input (invalid SSA) does not
  // make the alias lookup loop.
  onnx::ModelProto self = g.Build(2);
  onnx::NodeProto* loop = self.mutable_graph()->add_node();
  loop->set_op_type("Identity");
  loop->set_name("Identity_self");
  loop->add_input("w_alias");
  loop->add_output("w_alias");
  ExpectError(Import(self), {"Identity_self"});
}

// Dropout's training_mode (opset 12+): a constant false is the identity,
// anything else is refused.
TEST(OnnxImportTest, DropoutInTrainingModeIsRefused) {
  auto with_training_mode = [](std::optional<bool> value, bool raw) {
    OnnxTestGraph g({});
    g.AppendGemm("Gemm_0", {2, 3}, {1, 2, 3, 4, 5, 6}, {2}, {0, 0});
    const std::string ratio = g.Initializer("ratio", {}, {0.5f});
    std::string mode = "training_mode";
    if (value.has_value()) {
      onnx::TensorProto* t = g.graph()->add_initializer();
      t->set_name(mode);
      t->set_data_type(onnx::TensorProto::BOOL);
      if (raw) {
        t->set_raw_data(std::string(1, *value ? '\1' : '\0'));
      } else {
        t->add_int32_data(*value ? 1 : 0);
      }
    } else {
      g.graph()->add_input()->set_name(mode);  // fed at run time
    }
    g.Append("Dropout", "Dropout_1", {ratio, mode});
    return g.Build(2);
  };
  for (bool raw : {true, false}) {
    SCOPED_TRACE(raw ? "raw_data" : "int32_data");
    EXPECT_TRUE(Import(with_training_mode(false, raw)).ok());
    ExpectError(
        Import(with_training_mode(true, raw)),
        {"node 'Dropout_1' (op Dropout)", "training_mode 'training_mode' is true", "model.eval()"});
  }
  // A run-time training_mode is a second graph input.
  ExpectError(Import(with_training_mode(std::nullopt, true)), {"more than one input"});
}

TEST(OnnxImportTest, RawDataLengthMismatchNamesTensor) {
  onnx::ModelProto model = GemmGraph().Build(2);
  std::string* raw = model.mutable_graph()->mutable_initializer(0)->mutable_raw_data();
  raw->resize(raw->size() - 4);
  ExpectError(Import(model), {"node 'Gemm_0'", "tensor 'Gemm_0.B'", "raw_data holds 20 bytes"});
  raw->append("\x01\x02\x03\x04\x05", 5);
  ExpectError(Import(model), {"tensor 'Gemm_0.B'", "raw_data"});
}

TEST(OnnxImportTest, FloatDataLengthMismatchNamesTensor) {
  onnx::ModelProto model = GemmGraph(WithRawData(false)).Build(2);
  model.mutable_graph()->mutable_initializer(1)->add_float_data(3);
  ExpectError(Import(model), {"tensor 'Gemm_0.C'", "float_data holds 3"});
}

TEST(OnnxImportTest, BadDimsAreErrors) {
  for (const std::vector<int64_t>& dims : std::vector<std::vector<int64_t>>{
           {-2, -3}, {int64_t{1} << 40, int64_t{1} << 40}, {int64_t{1} << 62, 4}, {0, 3}}) {
    onnx::ModelProto model = GemmGraph().Build(2);
    auto* t = model.mutable_graph()->mutable_initializer(0);
    t->clear_dims();
    for (int64_t d : dims) t->add_dims(d);
    ExpectError(Import(model), {"Gemm_0"});
  }
}

TEST(OnnxImportTest, NonFloatInitializerRejected) {
  onnx::ModelProto model = GemmGraph().Build(2);
  model.mutable_graph()->mutable_initializer(0)->set_data_type(onnx::TensorProto::DOUBLE);
  ExpectError(Import(model), {"tensor 'Gemm_0.B'", "not FLOAT"});
}

TEST(OnnxImportTest, ActivationOrderErrors) {
  OnnxTestGraph first({});
  first.Append("Relu", "Relu_0");
  first.AppendGemm("Gemm_1", {2, 3}, {1, 2, 3, 4, 5, 6}, {2}, {0, 0});
  ExpectError(Import(first.Build(2)), {"node 'Relu_0' (op Relu)", "before any dense layer"});

  OnnxTestGraph twice = GemmGraph();
  twice.Append("Relu", "Relu_1");
  twice.Append("Tanh", "Tanh_2");
  ExpectError(Import(twice.Build(2)), {"node 'Tanh_2' (op Tanh)", "'Relu_1'"});
}

TEST(OnnxImportTest, BranchingAndDanglingNodesRejected) {
  OnnxTestGraph g = GemmGraph();
  onnx::NodeProto* side = g.graph()->add_node();
  side->set_name("Side_9");
  side->set_op_type("Relu");
  side->add_input("input");
  side->add_output("side");
  ExpectError(Import(g.Build(2)), {"'input' feeds several nodes", "'Side_9' (op Relu)"});
}

TEST(OnnxImportTest, ANodeReadingTheChainTwiceIsNamedForIt) {
  OnnxTestGraph g = GemmGraph();
  onnx::NodeProto* twice = g.Append("Add", "Twice_1");
  twice->add_input(twice->input(0));  // Add(h, h)
  ExpectError(Import(g.Build(2)), {"node 'Twice_1' (op Add)", "2 times"});
}

TEST(OnnxImportTest, EmptyGraphHasNoLayer) {
  ExpectError(Import(OnnxTestGraph({}).Build(3)), {"no dense layer"});
}

TEST(OnnxImportTest, MissingFileIsNotFound) {
  absl::StatusOr<Mlp> mlp = ImportOnnxFile("/nonexistent/mlpserve/model.onnx");
  ASSERT_FALSE(mlp.ok());
  EXPECT_EQ(mlp.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(mlp.status().message()), HasSubstr("/nonexistent/mlpserve/model.onnx"));
}

TEST(OnnxImportTest, ADirectoryOrFifoIsNotAModelFile) {
  const std::string dir = testing::MakeTempDir("onnx_not_a_file");
  const std::string as_dir = dir + "/model.onnx";
  ASSERT_EQ(mkdir(as_dir.c_str(), 0755), 0);
  absl::StatusOr<Mlp> from_dir = ImportOnnxFile(as_dir);
  EXPECT_EQ(from_dir.status().code(), absl::StatusCode::kInvalidArgument) << from_dir.status();
  EXPECT_THAT(std::string(from_dir.status().message()),
              HasSubstr(as_dir + ": cannot read the ONNX file: a directory, not a regular file"));

  // Opening a FIFO would block the loader until a writer came.
  const std::string fifo = dir + "/fifo.onnx";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0644), 0);
  absl::StatusOr<Mlp> from_fifo = ImportOnnxFile(fifo);
  EXPECT_EQ(from_fifo.status().code(), absl::StatusCode::kInvalidArgument) << from_fifo.status();
  EXPECT_THAT(std::string(from_fifo.status().message()), HasSubstr("a FIFO, not a regular file"));
}

std::string TwoLayerBytes() {
  OnnxTestGraph g({});
  g.AppendGemm("Gemm_0", {2, 3}, {1, 2, 3, 4, 5, 6}, {2}, {10, 20});
  g.Append("PRelu", "PRelu_1", {g.Initializer("slope", {2}, {0.1f, 0.2f})});
  g.AppendMatMulAdd("MatMul_2", 2, 1, {3, 4}, {0.5f});
  return g.Serialized(1);
}

TEST(OnnxImportTest, EveryTruncationIsAnError) {
  const std::string bytes = TwoLayerBytes();
  ASSERT_TRUE(ImportOnnxBytes(bytes, kSource).ok());
  for (size_t n = 0; n < bytes.size(); ++n) {
    absl::StatusOr<Mlp> mlp = ImportOnnxBytes(absl::string_view(bytes).substr(0, n), kSource);
    ASSERT_FALSE(mlp.ok()) << "prefix of " << n << " bytes imported";
    EXPECT_THAT(std::string(mlp.status().message()), HasSubstr(kSource));
  }
}

TEST(OnnxImportTest, GarbageBytesAreErrorsNotCrashes) {
  std::mt19937 rng(1234);
  std::uniform_int_distribution<int> byte(0, 255);
  for (int i = 0; i < 2000; ++i) {
    std::string junk(1 + rng() % 300, '\0');
    for (char& c : junk) c = static_cast<char>(byte(rng));
    absl::StatusOr<Mlp> mlp = ImportOnnxBytes(junk, kSource);
    EXPECT_FALSE(mlp.ok());
  }
  const std::string not_onnx = "this is not an onnx file\n";
  ExpectError(ImportOnnxBytes(not_onnx, kSource), {"not an ONNX model"});
  ExpectError(ImportOnnxBytes("", kSource), {"the file is empty (0 bytes)"});
  onnx::ModelProto no_graph;
  no_graph.set_ir_version(8);
  no_graph.add_opset_import()->set_version(13);
  ExpectError(ImportOnnxBytes(no_graph.SerializeAsString(), kSource),
              {"not an ONNX model (no graph"});
}

TEST(OnnxImportTest, MutatedModelsNeverCrash) {
  const std::string bytes = TwoLayerBytes();
  std::mt19937 rng(99);
  int imported = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string mutated = bytes;
    for (int flips = 1 + rng() % 4; flips > 0; --flips) {
      mutated[rng() % mutated.size()] = static_cast<char>(rng());
    }
    absl::StatusOr<Mlp> mlp = ImportOnnxBytes(mutated, kSource);
    if (mlp.ok()) {
      ++imported;
      EXPECT_TRUE(mlp->Validate().ok());  // whatever imports is a valid Mlp
    } else {
      EXPECT_FALSE(mlp.status().message().empty());
    }
  }
  RecordProperty("imported", imported);
}

}  // namespace
}  // namespace mlpserve
