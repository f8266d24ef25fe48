// The example repository in models/ imports, and its configs agree with it.
#include <cmath>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/model/model_config.h"
#include "server/model/onnx_import.h"
#include "tests/support/reference_mlp.h"

namespace mlpserve {
namespace {

using ::testing::ElementsAre;

class BundledModelTest : public ::testing::TestWithParam<std::string> {};

TEST_P(BundledModelTest, ImportsWithConfig) {
  const std::string dir = std::string(MLPSERVE_SOURCE_DIR) + "/models/" + GetParam();
  absl::StatusOr<Mlp> mlp = ImportOnnxFile(dir + "/1/model.onnx");
  ASSERT_TRUE(mlp.ok()) << mlp.status();
  ASSERT_EQ(mlp->layers.size(), 3u);
  EXPECT_EQ(mlp->input_name, "input");
  EXPECT_EQ(mlp->output_name, "output");
  EXPECT_EQ(mlp->input_features(), 64);
  EXPECT_EQ(mlp->layers[0].out, 128);
  EXPECT_EQ(mlp->layers[1].out, 128);
  EXPECT_EQ(mlp->output_features(), 10);
  const ActivationKind hidden =
      GetParam() == "prelu_mlp" ? ActivationKind::kPRelu : ActivationKind::kLeakyRelu;
  EXPECT_EQ(mlp->layers[0].activation.kind, hidden);
  EXPECT_EQ(mlp->layers[1].activation.kind, hidden);
  EXPECT_EQ(mlp->layers[2].activation.kind, ActivationKind::kNone);
  if (hidden == ActivationKind::kLeakyRelu) {
    EXPECT_FLOAT_EQ(mlp->layers[0].activation.alpha, 0.01f);
  } else {
    EXPECT_EQ(mlp->layers[0].activation.slope.size(), 128u);
  }

  absl::StatusOr<ModelConfig> config = ReadModelConfig(dir, GetParam());
  ASSERT_TRUE(config.ok()) << config.status();
  absl::StatusOr<ModelConfig> complete = CompleteModelConfig(*config, *mlp);
  ASSERT_TRUE(complete.ok()) << complete.status();
  EXPECT_EQ(complete->max_batch_size(), 64);
  EXPECT_THAT(complete->input(0).dims(), ElementsAre(64));
  EXPECT_THAT(complete->output(0).dims(), ElementsAre(10));
  EXPECT_THAT(complete->dynamic_batching().preferred_batch_size(), ElementsAre(16, 32));
  EXPECT_EQ(complete->dynamic_batching().max_queue_delay_microseconds(), 100u);
  EXPECT_TRUE(complete->activation_stats().enabled());

  // Evaluates to finite numbers.
  std::vector<float> input(2 * 64);
  for (size_t i = 0; i < input.size(); ++i) input[i] = std::sin(0.1f * i);
  for (float v : testing::ReferenceForward(*mlp, input, 2)) EXPECT_TRUE(std::isfinite(v));
}

INSTANTIATE_TEST_SUITE_P(Models, BundledModelTest, ::testing::Values("leaky_mlp", "prelu_mlp"));

}  // namespace
}  // namespace mlpserve
