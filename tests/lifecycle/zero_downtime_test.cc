// Model lifecycle under load: while 8 clients send requests without pause, a
// new version appears, a changed file is reloaded, a broken version appears,
// a model is added and one removed. No request to a model that stays may
// fail, and every answer must equal the reference of the version it names.
#include <atomic>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/model/onnx_import.h"
#include "tests/model/onnx_test_graph.h"
#include "tests/support/reference_mlp.h"
#include "tests/support/test_server.h"

namespace mlpserve::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

const std::vector<int64_t> kDims = {16, 32, 4};
constexpr int kRows = 3;

// What a correct answer may be, per version: a version whose file changed
// may answer from either file while the swap happens.
class References {
 public:
  void Add(int64_t version, const std::string& onnx_path) {
    absl::StatusOr<Mlp> mlp = ImportOnnxFile(onnx_path);
    ASSERT_TRUE(mlp.ok()) << mlp.status();
    absl::MutexLock lock(&mu_);
    by_version_[version].push_back(*std::move(mlp));
  }
  bool Matches(int64_t version, const std::vector<float>& input,
               const std::vector<float>& output) const {
    absl::MutexLock lock(&mu_);
    auto it = by_version_.find(version);
    if (it == by_version_.end()) return false;
    for (const Mlp& mlp : it->second) {
      const std::vector<float> want = ReferenceForward(mlp, input, kRows);
      bool same = want.size() == output.size();
      for (size_t i = 0; same && i < want.size(); ++i) {
        same = std::fabs(want[i] - output[i]) <= 1e-5 * std::max(1.f, std::fabs(want[i]));
      }
      if (same) return true;
    }
    return false;
  }

 private:
  mutable absl::Mutex mu_;
  std::map<int64_t, std::vector<Mlp>> by_version_ ABSL_GUARDED_BY(mu_);
};

class ZeroDowntimeTest : public ::testing::Test {
 protected:
  void SetUp() override { root_ = MakeTempDir("lifecycle"); }
  void TearDown() override { fs::remove_all(root_); }

  std::string Write(const std::string& model, int64_t version, uint32_t seed) {
    const fs::path dir = fs::path(root_) / model / std::to_string(version);
    fs::create_directories(dir);
    const std::string path = (dir / "model.onnx").string();
    const std::string tmp = path + ".tmp";
    std::ofstream(tmp, std::ios::binary) << RandomMlpOnnx(kDims, seed);
    fs::rename(tmp, path);  // whole files only, as a deploy tool would
    return path;
  }

  grpc::Status Load(inference::GRPCInferenceService::Stub& stub, const std::string& model) {
    grpc::ClientContext context;
    inference::RepositoryModelLoadRequest request;
    request.set_model_name(model);
    inference::RepositoryModelLoadResponse response;
    return stub.RepositoryModelLoad(&context, request, &response);
  }

  std::map<std::string, inference::RepositoryIndexResponse::ModelIndex> Index(
      inference::GRPCInferenceService::Stub& stub) {
    grpc::ClientContext context;
    inference::RepositoryIndexResponse response;
    EXPECT_TRUE(stub.RepositoryIndex(&context, {}, &response).ok());
    std::map<std::string, inference::RepositoryIndexResponse::ModelIndex> by_key;
    for (const auto& m : response.models()) by_key[m.name() + ":" + m.version()] = m;
    return by_key;
  }

  std::string root_;
};

inference::ModelInferRequest Request(const std::string& model, const std::vector<float>& input) {
  inference::ModelInferRequest request;
  request.set_model_name(model);
  auto* tensor = request.add_inputs();
  tensor->set_name("input");
  tensor->set_datatype("FP32");
  tensor->add_shape(kRows);
  tensor->add_shape(kDims.front());
  request.add_raw_input_contents(
      std::string(reinterpret_cast<const char*>(input.data()), input.size() * sizeof(float)));
  return request;
}

TEST_F(ZeroDowntimeTest, EveryRequestSucceedsAcrossReloads) {
  References references;
  references.Add(1, Write("a", 1, 101));
  Write("c", 1, 301);
  auto server = TestServer::Start(root_, /*model_control=*/true);
  ASSERT_TRUE(server.ok()) << server.status();
  auto control = (*server)->NewStub();

  constexpr int kClients = 8;
  std::atomic<bool> stop{false};
  std::atomic<int64_t> ok{0};
  std::vector<std::string> failures[kClients];
  std::map<std::string, int64_t> versions_seen[kClients];
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      auto stub = (*server)->NewStub();
      std::vector<float> input(kRows * kDims.front());
      for (size_t i = 0; i < input.size(); ++i) input[i] = std::sin(float(c * 97 + i));
      // Bounded: the steps below take well under a minute.
      const absl::Time give_up = absl::Now() + absl::Seconds(120);
      while (!stop.load() && absl::Now() < give_up) {
        grpc::ClientContext context;
        context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
        inference::ModelInferResponse response;
        grpc::Status status = stub->ModelInfer(&context, Request("a", input), &response);
        if (!status.ok()) {
          failures[c].push_back(status.error_message());
          continue;
        }
        std::vector<float> out(response.raw_output_contents(0).size() / sizeof(float));
        std::memcpy(out.data(), response.raw_output_contents(0).data(), out.size() * 4);
        const int64_t version = std::stoll(response.model_version());
        if (!references.Matches(version, input, out)) {
          failures[c].push_back("wrong answer for version " + response.model_version());
        }
        ++versions_seen[c][response.model_version()];
        ++ok;
      }
    });
  }
  auto wait_for_traffic = [&] {
    const int64_t start = ok.load();
    for (int i = 0; i < 2000 && ok.load() < start + 200; ++i) absl::SleepFor(absl::Milliseconds(5));
  };
  wait_for_traffic();

  // A new version appears: it replaces version 1 (policy: latest 1).
  references.Add(2, Write("a", 2, 202));
  ASSERT_TRUE(Load(*control, "a").ok());
  wait_for_traffic();

  // Version 2's file changes: it is rebuilt and swapped in.
  references.Add(2, Write("a", 2, 203));
  ASSERT_TRUE(Load(*control, "a").ok());
  wait_for_traffic();

  // A broken version 3 appears: the load fails, version 2 keeps serving.
  fs::create_directories(fs::path(root_) / "a" / "3");
  std::ofstream(fs::path(root_) / "a" / "3" / "model.onnx") << "not onnx";
  grpc::Status broken = Load(*control, "a");
  EXPECT_EQ(broken.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(broken.error_message(), HasSubstr("a/3/model.onnx"));
  wait_for_traffic();
  auto index = Index(*control);
  EXPECT_EQ(index["a:2"].state(), "READY");
  EXPECT_EQ(index["a:3"].state(), "UNAVAILABLE");
  EXPECT_THAT(index["a:3"].reason(), HasSubstr("a/3/model.onnx"));

  // A model is added, and one removed from disk and noticed by a poll.
  Write("b", 1, 401);
  EXPECT_TRUE(Load(*control, "b").ok());
  fs::remove_all(fs::path(root_) / "c");
  (*server)->repository().Poll();
  wait_for_traffic();
  index = Index(*control);
  EXPECT_EQ(index["b:1"].state(), "READY");
  EXPECT_EQ(index.count("c:1"), 0u);
  EXPECT_EQ(Load(*control, "nope").error_code(), grpc::StatusCode::NOT_FOUND);

  stop = true;
  for (std::thread& t : clients) t.join();
  int64_t answered_by_2 = 0;
  for (int c = 0; c < kClients; ++c) {
    EXPECT_THAT(failures[c], ::testing::IsEmpty()) << "client " << c;
    answered_by_2 += versions_seen[c]["2"];
  }
  EXPECT_GT(ok.load(), 0);
  EXPECT_GT(answered_by_2, 0);
}

TEST_F(ZeroDowntimeTest, UnloadAndModelControlModes) {
  Write("a", 1, 101);
  auto explicit_server = TestServer::Start(root_, /*model_control=*/true);
  ASSERT_TRUE(explicit_server.ok());
  auto stub = (*explicit_server)->NewStub();
  grpc::ClientContext unload_context;
  inference::RepositoryModelUnloadRequest unload;
  unload.set_model_name("a");
  inference::RepositoryModelUnloadResponse unloaded;
  ASSERT_TRUE(stub->RepositoryModelUnload(&unload_context, unload, &unloaded).ok());
  auto index = Index(*stub);
  EXPECT_EQ(index["a:"].state(), "UNAVAILABLE");
  EXPECT_EQ(index["a:"].reason(), "unloaded");
  grpc::ClientContext infer_context;
  inference::ModelInferResponse response;
  std::vector<float> input(kRows * kDims.front(), 0.f);
  EXPECT_EQ(stub->ModelInfer(&infer_context, Request("a", input), &response).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_TRUE(Load(*stub, "a").ok());
  EXPECT_EQ(Index(*stub)["a:1"].state(), "READY");

  auto static_server = TestServer::Start(root_, /*model_control=*/false);
  ASSERT_TRUE(static_server.ok());
  auto static_stub = (*static_server)->NewStub();
  EXPECT_EQ(Load(*static_stub, "a").error_code(), grpc::StatusCode::FAILED_PRECONDITION);
}

}  // namespace
}  // namespace mlpserve::testing
