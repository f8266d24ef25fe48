// Model lifecycle under load: while 8 clients send requests without pause, a
// new version appears, a changed file is reloaded, a broken version appears,
// a model is added and one removed, each while clients call it. No request
// to a model that stays may fail, the added model answers from the moment it
// is loaded, the removed one until its removal, and every answer must equal
// the reference of the model and version it names.
#include <atomic>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/model/onnx_import.h"
#include "tests/model/onnx_test_graph.h"
#include "tests/support/reference_mlp.h"
#include "tests/support/server_process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_server.h"

namespace mlpserve::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

const std::vector<int64_t> kDims = {16, 32, 4};
constexpr int kRows = 3;

// What a correct answer may be, per model and version: a version whose file
// changed may answer from either file while the swap happens.
class References {
 public:
  void Add(const std::string& model, int64_t version, const std::string& onnx_path) {
    absl::StatusOr<Mlp> mlp = ImportOnnxFile(onnx_path);
    ASSERT_TRUE(mlp.ok()) << mlp.status();
    absl::MutexLock lock(&mu_);
    by_version_[{model, version}].push_back(*std::move(mlp));
  }
  bool Matches(const std::string& model, int64_t version, const std::vector<float>& input,
               const std::vector<float>& output) const {
    absl::MutexLock lock(&mu_);
    auto it = by_version_.find({model, version});
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
  std::map<std::pair<std::string, int64_t>, std::vector<Mlp>> by_version_ ABSL_GUARDED_BY(mu_);
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

enum Model { kA, kB, kC, kModels };
const char* const kModelNames[kModels] = {"a", "b", "c"};

// 8 clients calling without pause until Stop(): even clients call `a` only,
// odd ones `a`, `b` and `c` in turn. A correct answer is
//  * OK and equal to the reference of the model and version it names;
//  * NOT_FOUND from `b` to a request sent before MarkBReady(), or
//    UNAVAILABLE "model 'b' is loading" while its load runs;
//  * NOT_FOUND from `c` received after MarkCRemoval().
// Anything else is recorded as a failure.
class Traffic {
 public:
  static constexpr int kClients = 8;

  Traffic(const TestServer& server, const References& references)
      : server_(server), references_(references) {
    for (int c = 0; c < kClients; ++c) clients_.emplace_back([this, c] { Client(c); });
  }
  ~Traffic() { Stop(); }

  // `b` is loaded: from now on its every answer must be OK.
  void MarkBReady() { b_ready_ = true; }
  // `c` is about to be removed: NOT_FOUND from it is correct from now on.
  void MarkCRemoval() { c_removal_ = true; }

  // Waits (a minute at most) until `model` gave `n` more correct OK answers
  // (for `b`: to requests sent after MarkBReady). False if it did not.
  bool WaitForAnswers(Model model, int64_t n) { return WaitFor(answered_[model], n); }
  // Waits until `c` answered NOT_FOUND after MarkCRemoval() `n` more times.
  bool WaitForCGone(int64_t n) { return WaitFor(c_gone_, n); }

  // Stops and joins the clients; the accessors below need it.
  void Stop() {
    stop_ = true;
    for (std::thread& t : clients_) t.join();
    clients_.clear();
  }
  std::vector<std::string> failures() const {
    std::vector<std::string> all;
    for (int c = 0; c < kClients; ++c) {
      for (const std::string& f : failures_[c]) all.push_back(absl::StrCat("client ", c, ": ", f));
    }
    return all;
  }
  // Correct OK answers from "model:version".
  int64_t AnsweredBy(const std::string& model_version) const {
    int64_t n = 0;
    for (const auto& seen : seen_) n += seen.count(model_version) ? seen.at(model_version) : 0;
    return n;
  }
  int64_t b_refused() const { return b_refused_.load(); }

 private:
  static bool WaitFor(const std::atomic<int64_t>& counter, int64_t n) {
    const int64_t target = counter.load() + n;
    const absl::Time give_up = absl::Now() + absl::Minutes(1);
    while (counter.load() < target && absl::Now() < give_up) absl::SleepFor(absl::Milliseconds(2));
    return counter.load() >= target;
  }

  void Client(int c) {
    auto stub = server_.NewStub();
    std::vector<float> input(kRows * kDims.front());
    for (size_t i = 0; i < input.size(); ++i) input[i] = std::sin(float(c * 97 + i));
    // Bounded: the steps of the test take well under a minute.
    const absl::Time give_up = absl::Now() + absl::Seconds(120);
    for (int64_t i = 0; !stop_.load() && absl::Now() < give_up; ++i) {
      const Model model = c % 2 == 0 ? kA : static_cast<Model>(i % kModels);
      const bool b_was_ready = b_ready_.load();
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
      inference::ModelInferResponse response;
      const grpc::Status status =
          stub->ModelInfer(&context, Request(kModelNames[model], input), &response);
      if (std::optional<std::string> failure =
              Judge(c, model, input, status, response, b_was_ready)) {
        failures_[c].push_back(*std::move(failure));
      }
    }
  }

  // Counts a correct answer of client `client`, or says what is wrong with
  // it.
  std::optional<std::string> Judge(int client, Model model, const std::vector<float>& input,
                                   const grpc::Status& status,
                                   const inference::ModelInferResponse& response,
                                   bool b_was_ready) {
    const std::string name = kModelNames[model];
    if (status.ok()) {
      std::vector<float> out;
      if (response.raw_output_contents_size() == 1) {
        out.resize(response.raw_output_contents(0).size() / sizeof(float));
        std::memcpy(out.data(), response.raw_output_contents(0).data(), out.size() * 4);
      }
      int64_t version = 0;
      if (!absl::SimpleAtoi(response.model_version(), &version) ||
          !references_.Matches(name, version, input, out)) {
        return absl::StrCat("wrong answer from ", name, " version '", response.model_version(),
                            "'");
      }
      ++seen_[client][name + ":" + response.model_version()];
      if (model != kB || b_was_ready) ++answered_[model];
      return std::nullopt;
    }
    const bool loading = status.error_code() == grpc::StatusCode::UNAVAILABLE &&
                         absl::StrContains(status.error_message(), "is loading");
    if (loading && model == kB && !b_was_ready) {
      ++b_refused_;
      return std::nullopt;
    }
    if (status.error_code() == grpc::StatusCode::NOT_FOUND) {
      if (model == kB && !b_was_ready) {
        ++b_refused_;
        return std::nullopt;
      }
      if (model == kC && c_removal_.load()) {
        ++c_gone_;
        return std::nullopt;
      }
    }
    return absl::StrCat(name, ": code ", status.error_code(), " ", status.error_message());
  }

  const TestServer& server_;
  const References& references_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> b_ready_{false};
  std::atomic<bool> c_removal_{false};
  std::atomic<int64_t> answered_[kModels] = {};
  std::atomic<int64_t> b_refused_{0};
  std::atomic<int64_t> c_gone_{0};
  // Each written by its client's thread only; read after Stop().
  std::vector<std::string> failures_[kClients];
  std::map<std::string, int64_t> seen_[kClients];
  std::vector<std::thread> clients_;
};

TEST_F(ZeroDowntimeTest, EveryRequestSucceedsAcrossReloads) {
  References references;
  references.Add("a", 1, Write("a", 1, 101));
  references.Add("c", 1, Write("c", 1, 301));
  auto server = TestServer::Start(root_, /*model_control=*/true);
  ASSERT_TRUE(server.ok()) << server.status();
  auto control = (*server)->NewStub();
  Traffic traffic(**server, references);
  // Before anything changes: `a` and `c` answer, `b` is unknown.
  EXPECT_TRUE(traffic.WaitForAnswers(kA, 200));
  EXPECT_TRUE(traffic.WaitForAnswers(kC, 50));

  // A new version appears: it replaces version 1 (policy: latest 1).
  references.Add("a", 2, Write("a", 2, 202));
  ASSERT_TRUE(Load(*control, "a").ok());
  EXPECT_TRUE(traffic.WaitForAnswers(kA, 200));

  // Version 2's file changes: it is rebuilt and swapped in.
  references.Add("a", 2, Write("a", 2, 203));
  ASSERT_TRUE(Load(*control, "a").ok());
  EXPECT_TRUE(traffic.WaitForAnswers(kA, 200));

  // A broken version 3 appears: the load fails, version 2 keeps serving.
  fs::create_directories(fs::path(root_) / "a" / "3");
  std::ofstream(fs::path(root_) / "a" / "3" / "model.onnx") << "not onnx";
  grpc::Status broken = Load(*control, "a");
  EXPECT_EQ(broken.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(broken.error_message(), HasSubstr("a/3/model.onnx"));
  EXPECT_TRUE(traffic.WaitForAnswers(kA, 200));
  auto index = Index(*control);
  EXPECT_EQ(index["a:2"].state(), "READY");
  EXPECT_EQ(index["a:3"].state(), "UNAVAILABLE");
  EXPECT_THAT(index["a:3"].reason(), HasSubstr("a/3/model.onnx"));

  // A model is added: once loaded, every call to it is answered.
  references.Add("b", 1, Write("b", 1, 401));
  EXPECT_TRUE(Load(*control, "b").ok());
  traffic.MarkBReady();
  EXPECT_TRUE(traffic.WaitForAnswers(kB, 50));

  // One is removed from disk and noticed by a poll while clients call it:
  // it answers until it is gone, then NOT_FOUND.
  traffic.MarkCRemoval();
  fs::remove_all(fs::path(root_) / "c");
  (*server)->repository().Poll();
  EXPECT_TRUE(traffic.WaitForCGone(10));
  EXPECT_TRUE(traffic.WaitForAnswers(kA, 200));
  index = Index(*control);
  EXPECT_EQ(index["b:1"].state(), "READY");
  EXPECT_EQ(index.count("c:1"), 0u);
  EXPECT_EQ(Load(*control, "nope").error_code(), grpc::StatusCode::NOT_FOUND);

  traffic.Stop();
  EXPECT_THAT(traffic.failures(), ::testing::IsEmpty());
  EXPECT_GT(traffic.AnsweredBy("a:2"), 0);
  EXPECT_GT(traffic.AnsweredBy("b:1"), 0);
  EXPECT_GT(traffic.AnsweredBy("c:1"), 0);
  EXPECT_GT(traffic.b_refused(), 0);  // `b` was called before it existed
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

  // The real binary in each mode without model control: none, and poll (the
  // repository drives loads; Triton too refuses the RPCs in poll mode).
  for (const char* mode : {"none", "poll"}) {
    SCOPED_TRACE(mode);
    ServerProcess server(root_, {"--model-control-mode", mode});
    ASSERT_TRUE(server.ready()) << server.log();
    auto refusing = server.Stub();
    const grpc::Status load = Load(*refusing, "a");
    EXPECT_EQ(load.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
    EXPECT_EQ(load.error_message(), "RepositoryModelLoad needs --model-control-mode explicit");
    grpc::ClientContext context;
    const grpc::Status refused_unload =
        refusing->RepositoryModelUnload(&context, unload, &unloaded);
    EXPECT_EQ(refused_unload.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
    EXPECT_EQ(refused_unload.error_message(),
              "RepositoryModelUnload needs --model-control-mode explicit");
    EXPECT_EQ(Index(*refusing)["a:1"].state(), "READY");  // neither RPC changed anything
  }
}

}  // namespace
}  // namespace mlpserve::testing
