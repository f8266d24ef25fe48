// End to end against torch: tests/tools/export_torch_mlp.py exports an MLP
// (Leaky ReLU 0.001, PReLU with zero and negative slopes; once with
// x.view(-1, F) in forward(), at the newest opset torch 1.13 writes) and
// torch's own outputs; the imported Mlp, evaluated by the naive reference,
// must match.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "server/model/onnx_import.h"
#include "tests/support/reference_mlp.h"

namespace mlpserve {
namespace {

constexpr char kPython[] = "/usr/bin/python3";

int RunShell(const std::string& command) {
  int rc = std::system(command.c_str());
  return rc != -1 && WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

std::vector<float> ReadFloats(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  std::vector<float> values(bytes.size() / sizeof(float));
  std::memcpy(values.data(), bytes.data(), values.size() * sizeof(float));
  return values;
}

class TorchImportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (RunShell(std::string(kPython) + " -c 'import torch, onnx' >/dev/null 2>&1") != 0) {
      GTEST_SKIP() << kPython << " cannot import torch and onnx (Debian python3-torch, "
                   << "python3-onnx); skipping the torch comparison";
    }
    std::string tmpl = ::testing::TempDir() + "/torch_import_test_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    if (!dir_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    }
  }
  std::string dir_;
};

TEST_F(TorchImportTest, MatchesTorchOutputs) {
  for (const auto& [seed, extra] :
       {std::pair<int, std::string>{7, ""}, {2024, " --view --opset 17"}}) {
    const std::string script =
        std::string(MLPSERVE_SOURCE_DIR) + "/tests/tools/export_torch_mlp.py";
    const std::string cmd = std::string(kPython) + " " + script + " " + dir_ + " --seed " +
                            std::to_string(seed) + " --rows 37" + extra + " >" + dir_ +
                            "/export.log 2>&1";
    ASSERT_EQ(RunShell(cmd), 0) << cmd << " failed; see " << dir_ << "/export.log";

    std::ifstream meta_file(dir_ + "/meta.json");
    const nlohmann::json meta = nlohmann::json::parse(meta_file);
    const int64_t rows = meta.at("rows").get<int64_t>();
    const int64_t in = meta.at("in_features").get<int64_t>();
    const int64_t out = meta.at("out_features").get<int64_t>();
    const std::string name = meta.at("model").get<std::string>();
    if (!extra.empty()) {  // --view: the exporter must have written a Reshape for it
      const auto ops = meta.at("ops").get<std::vector<std::string>>();
      EXPECT_NE(std::find(ops.begin(), ops.end(), "Reshape"), ops.end()) << meta.dump();
    }

    absl::StatusOr<Mlp> mlp = ImportOnnxFile(dir_ + "/" + name + "/1/model.onnx");
    ASSERT_TRUE(mlp.ok()) << mlp.status();
    ASSERT_EQ(mlp->input_features(), in);
    ASSERT_EQ(mlp->output_features(), out);
    ASSERT_EQ(mlp->layers.size(), 3u);
    EXPECT_EQ(mlp->layers[0].activation.kind, ActivationKind::kLeakyRelu);
    EXPECT_FLOAT_EQ(mlp->layers[0].activation.alpha, 0.001f);
    ASSERT_EQ(mlp->layers[1].activation.kind, ActivationKind::kPRelu);
    const std::vector<float>& slope = mlp->layers[1].activation.slope;
    EXPECT_EQ(slope[0], 0.0f);  // the exporter zeroes every fifth slope
    EXPECT_LT(slope[1], 0.0f);  // and makes every seventh from 1 negative

    const std::vector<float> input = ReadFloats(dir_ + "/input.bin");
    const std::vector<float> expected = ReadFloats(dir_ + "/expected.bin");
    ASSERT_EQ(input.size(), static_cast<size_t>(rows * in));
    ASSERT_EQ(expected.size(), static_cast<size_t>(rows * out));
    const std::vector<float> got = testing::ReferenceForward(*mlp, input, rows);
    ASSERT_EQ(got.size(), expected.size());
    for (size_t i = 0; i < got.size(); ++i) {
      const double tolerance = 1e-5 * std::fabs(expected[i]) + 1e-6;
      EXPECT_NEAR(got[i], expected[i], tolerance)
          << "seed " << seed << " row " << i / out << " output " << i % out;
    }
  }
}

}  // namespace
}  // namespace mlpserve
