// Repository layout, version policies and failure isolation on real files.
#include "server/repository/model_repository.h"

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "server/common/utf8.h"
#include "server/model/model_config.h"
#include "tests/model/onnx_test_graph.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_server.h"

namespace mlpserve {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

VersionPolicy Policy(const std::string& text) {
  VersionPolicy policy;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &policy)) << text;
  return policy;
}

TEST(SelectVersionsTest, DefaultIsTheLatestOne) {
  EXPECT_THAT(SelectVersions(VersionPolicy(), false, {1, 2, 5}), ElementsAre(5));
  EXPECT_THAT(SelectVersions(VersionPolicy(), false, {}), ElementsAre());
}

TEST(SelectVersionsTest, LatestAllSpecific) {
  EXPECT_THAT(SelectVersions(Policy("latest { num_versions: 2 }"), true, {1, 2, 5}),
              ElementsAre(2, 5));
  EXPECT_THAT(SelectVersions(Policy("latest { num_versions: 9 }"), true, {1, 2}),
              ElementsAre(1, 2));
  EXPECT_THAT(SelectVersions(Policy("all {}"), true, {1, 2, 5}), ElementsAre(1, 2, 5));
  EXPECT_THAT(SelectVersions(Policy("specific { versions: [1, 3, 5] }"), true, {1, 2, 5}),
              ElementsAre(1, 5));
}

class ModelRepositoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = testing::MakeTempDir("repo");
    metrics_ = *MetricsRegistry::Create();
  }
  void TearDown() override { fs::remove_all(root_); }

  std::unique_ptr<ModelRepository> Open() {
    ModelRepository::Options options;
    options.root = root_;
    options.metrics = metrics_.get();
    return *ModelRepository::Create(options);
  }

  // <root>/<name>/<version>/model.onnx copied from the bundled leaky_mlp.
  void AddVersion(const std::string& name, int version) {
    fs::create_directories(fs::path(root_) / name / std::to_string(version));
    fs::copy_file(fs::path(MLPSERVE_SOURCE_DIR) / "models/leaky_mlp/1/model.onnx",
                  fs::path(root_) / name / std::to_string(version) / "model.onnx");
  }

  std::string root_;
  std::unique_ptr<MetricsRegistry> metrics_;
};

TEST_F(ModelRepositoryTest, MissingRootIsNotFound) {
  ModelRepository::Options options;
  options.root = root_ + "/nope";
  options.metrics = metrics_.get();
  absl::StatusOr<std::unique_ptr<ModelRepository>> repo = ModelRepository::Create(options);
  EXPECT_EQ(repo.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(repo.status().message(), HasSubstr("/nope"));
}

TEST_F(ModelRepositoryTest, HighestVersionServesByDefault) {
  AddVersion("m", 1);
  AddVersion("m", 3);
  fs::create_directories(fs::path(root_) / "m" / "not_a_version");
  auto repo = Open();
  EXPECT_EQ(repo->LoadAll(), 1);
  EXPECT_THAT(repo->ReadyVersions("m"), ElementsAre(3));
  EXPECT_EQ((*repo->Get("m", ""))->version(), 3);
  EXPECT_EQ(repo->Get("m", "1").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(repo->Get("x", "").status().code(), absl::StatusCode::kNotFound);
  // Like Triton: a version that is not a positive integer is the caller's error.
  for (const char* bad : {"abc", "0", "-3", "1.5"}) {
    EXPECT_EQ(repo->Get("m", bad).status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

TEST_F(ModelRepositoryTest, VersionPolicyFromConfig) {
  AddVersion("m", 1);
  AddVersion("m", 2);
  AddVersion("m", 3);
  std::ofstream(fs::path(root_) / "m" / "config.pbtxt")
      << "version_policy { specific { versions: [1, 3] } }";
  auto repo = Open();
  EXPECT_EQ(repo->LoadAll(), 2);
  EXPECT_THAT(repo->ReadyVersions("m"), ElementsAre(1, 3));
  EXPECT_EQ((*repo->Get("m", "1"))->version(), 1);
}

TEST_F(ModelRepositoryTest, PolicyThatSelectsNoVersionSaysSo) {
  AddVersion("m", 1);
  AddVersion("m", 2);
  std::ofstream(fs::path(root_) / "m" / "config.pbtxt")
      << "version_policy { specific { versions: [5] } }";
  auto repo = Open();
  const absl::Status status = repo->LoadModel("m");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(),
              HasSubstr("m/config.pbtxt: version_policy selects none of the versions 1, 2"));
}

TEST_F(ModelRepositoryTest, BrokenModelsAreUnavailableWithTheReasonAndOthersServe) {
  AddVersion("good", 1);
  fs::create_directories(fs::path(root_) / "bad_onnx" / "1");
  std::ofstream(fs::path(root_) / "bad_onnx" / "1" / "model.onnx") << "garbage";
  AddVersion("bad_config", 1);
  std::ofstream(fs::path(root_) / "bad_config" / "config.pbtxt") << "max_batch_size: -4";
  fs::create_directories(fs::path(root_) / "empty");

  auto repo = Open();
  EXPECT_EQ(repo->LoadAll(), 1);
  EXPECT_TRUE(repo->Get("good", "").ok());
  EXPECT_TRUE(repo->HasModel("bad_onnx"));
  std::map<std::string, ModelVersionStatus> by_name;
  for (const ModelVersionStatus& s : repo->Index()) by_name[s.name] = s;
  ASSERT_EQ(by_name.size(), 4u);
  EXPECT_EQ(by_name["good"].state, ModelState::kReady);
  EXPECT_EQ(by_name["bad_onnx"].state, ModelState::kUnavailable);
  EXPECT_THAT(by_name["bad_onnx"].reason, HasSubstr("bad_onnx/1/model.onnx"));
  EXPECT_EQ(by_name["bad_config"].state, ModelState::kUnavailable);
  EXPECT_THAT(by_name["bad_config"].reason, HasSubstr("config.pbtxt"));
  EXPECT_EQ(by_name["empty"].state, ModelState::kUnavailable);
  EXPECT_THAT(by_name["empty"].reason, HasSubstr("no version"));
}

// What a request to a model that does not serve hears, and whether the
// repository counts as ready for --strict-readiness, through failures, a
// repair, an unload and a removal; on_change fires after each.
TEST_F(ModelRepositoryTest, NotServingErrorsAndAllModelsReadyFollowEachChange) {
  AddVersion("good", 1);
  AddVersion("bad_config", 1);
  std::ofstream(fs::path(root_) / "bad_config" / "config.pbtxt") << "max_batch_size: -4";
  int changes = 0;
  ModelRepository::Options options;
  options.root = root_;
  options.metrics = metrics_.get();
  options.on_change = [&changes] { ++changes; };
  auto repo = *ModelRepository::Create(options);
  EXPECT_TRUE(repo->AllModelsReady());  // nothing asked for yet
  EXPECT_EQ(repo->LoadAll(), 1);
  EXPECT_EQ(changes, 2);  // one per model loaded
  EXPECT_FALSE(repo->AllModelsReady());

  auto message = [&](const std::string& name, const std::string& version) {
    const absl::Status status = repo->Get(name, version).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kNotFound) << name << ":" << version;
    return std::string(status.message());
  };
  // A failure of the whole model (its config) counts for any version named.
  EXPECT_THAT(message("bad_config", ""),
              HasSubstr("model 'bad_config' has no ready version: its load failed "
                        "(RepositoryIndex"));
  EXPECT_THAT(message("bad_config", "1"), HasSubstr("model 'bad_config' version 1 failed to load"));
  EXPECT_THAT(message("good", "2"), HasSubstr("model 'good' version 2 is not loaded"));
  EXPECT_THAT(message("nope", ""), HasSubstr("unknown model 'nope'"));

  // Repaired: ready.
  std::ofstream(fs::path(root_) / "bad_config" / "config.pbtxt") << "max_batch_size: 4";
  ASSERT_TRUE(repo->LoadModel("bad_config").ok());
  EXPECT_EQ(changes, 3);
  EXPECT_TRUE(repo->AllModelsReady());

  // Unloaded: not a failure, and not expected to serve.
  ASSERT_TRUE(repo->UnloadModel("good").ok());
  EXPECT_EQ(changes, 4);
  EXPECT_THAT(message("good", ""), HasSubstr("model 'good' has no ready version: it was unloaded"));
  EXPECT_THAT(message("good", "1"), HasSubstr("model 'good' version 1 is not loaded"));
  EXPECT_TRUE(repo->AllModelsReady());

  // Broken again: a failed reload keeps the version that serves, so the
  // model still counts as ready. (Poll also reloads the unloaded "good",
  // whose folder is still there.)
  std::ofstream(fs::path(root_) / "bad_config" / "config.pbtxt") << "max_batch_size: -1";
  repo->Poll();
  EXPECT_TRUE(repo->AllModelsReady());
  EXPECT_TRUE(repo->Get("bad_config", "1").ok());
  // Removed from the repository: Poll forgets it.
  const int before_removal = changes;
  fs::remove_all(fs::path(root_) / "bad_config");
  repo->Poll();
  EXPECT_EQ(changes, before_removal + 1);
  EXPECT_TRUE(repo->AllModelsReady());
  EXPECT_THAT(message("bad_config", ""), HasSubstr("unknown model 'bad_config'"));
}

// name:version -> state, as RepositoryIndex lists them.
std::map<std::string, ModelState> States(const ModelRepository& repo) {
  std::map<std::string, ModelState> states;
  for (const ModelVersionStatus& s : repo.Index()) {
    states[s.name + ":" + std::to_string(s.version)] = s.state;
  }
  return states;
}

TEST_F(ModelRepositoryTest, RetiredVersionIsUnloadingUntilItsLastHolderLetsGo) {
  AddVersion("m", 1);
  auto repo = Open();
  ASSERT_TRUE(repo->LoadModel("m").ok());
  std::shared_ptr<const ServableModel> held = *repo->Get("m", "");

  AddVersion("m", 2);  // latest 1: version 2 replaces version 1
  ASSERT_TRUE(repo->LoadModel("m").ok());
  auto states = States(*repo);
  EXPECT_EQ(states["m:2"], ModelState::kReady);
  EXPECT_EQ(states["m:1"], ModelState::kUnloading);
  EXPECT_EQ(held->version(), 1);  // still usable by whoever holds it

  std::shared_ptr<const ServableModel> held2 = *repo->Get("m", "");
  ASSERT_TRUE(repo->UnloadModel("m").ok());
  states = States(*repo);
  EXPECT_EQ(states["m:2"], ModelState::kUnloading);
  EXPECT_EQ(states["m:0"], ModelState::kUnavailable);  // "unloaded"

  held.reset();
  held2.reset();  // the reaper destroys both, off this thread
  for (int i = 0; i < 500 && States(*repo).size() > 1; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(States(*repo), (std::map<std::string, ModelState>{{"m:0", ModelState::kUnavailable}}));
}

TEST_F(ModelRepositoryTest, LoadModelTakesOnlyAFolderOfTheRepository) {
  AddVersion("m", 1);
  auto repo = Open();
  // "m\0x" would reach the folder m through the file system's C strings.
  for (const std::string& name : {std::string("m\0x", 3), std::string("m/1"), std::string(".."),
                                  std::string("."), std::string(""), std::string("nope")}) {
    const absl::Status status = repo->LoadModel(name);
    EXPECT_EQ(status.code(), absl::StatusCode::kNotFound) << absl::CHexEscape(name);
    EXPECT_THAT(status.message(), HasSubstr("is not in repository"));
  }
  EXPECT_THAT(repo->LoadModel(std::string("m\0x", 3)).message(), HasSubstr("'m\\x00x'"));
  // Nothing was published for them: only the folder, not loaded.
  EXPECT_EQ(States(*repo), (std::map<std::string, ModelState>{{"m:0", ModelState::kUnavailable}}));
  EXPECT_TRUE(repo->LoadModel("m").ok());
}

// Its name would go into every Prometheus series of the model: one label
// value that is not UTF-8 makes Prometheus refuse the whole scrape.
TEST_F(ModelRepositoryTest, AFolderNameThatIsNotUtf8IsNotAModel) {
  AddVersion("m\xff", 1);
  AddVersion("caf\xc3\xa9", 1);  // "café": UTF-8, served
  auto repo = Open();
  EXPECT_EQ(repo->LoadAll(), 1);
  EXPECT_EQ(States(*repo),
            (std::map<std::string, ModelState>{{"caf\xc3\xa9:1", ModelState::kReady}}));
  EXPECT_EQ(repo->LoadModel("m\xff").code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(repo->Get("m\xff", "").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(ModelRepositoryTest, HiddenFoldersAndLostFoundAreNotModels) {
  AddVersion("m", 1);
  for (const char* name : {".git", ".snapshot", "..data", "lost+found"}) {
    fs::create_directories(fs::path(root_) / name / "1");
  }
  std::unique_ptr<ModelRepository> repo = Open();
  EXPECT_EQ(repo->LoadAll(), 1);
  const std::vector<ModelVersionStatus> index = repo->Index();
  ASSERT_EQ(index.size(), 1u);  // no failed entry for any of them
  EXPECT_EQ(index[0].name, "m");
  EXPECT_EQ(repo->LoadModel("lost+found").code(), absl::StatusCode::kNotFound);
}

// A volume gone for a moment, or the folder moved away and back by a deploy:
// a poll that cannot list the root changes nothing (it unloaded every model
// while health still said SERVING).
TEST_F(ModelRepositoryTest, PollKeepsTheModelsWhenTheRootCannotBeListed) {
  AddVersion("m", 1);
  std::unique_ptr<ModelRepository> repo = Open();
  ASSERT_EQ(repo->LoadAll(), 1);
  const std::string moved = root_ + ".moved";
  fs::rename(root_, moved);
  repo->Poll();
  EXPECT_TRUE(repo->Get("m", "").ok());
  fs::rename(moved, root_);
  repo->Poll();
  EXPECT_TRUE(repo->Get("m", "").ok());
}

// A load that failed on a file's permissions is tried again once they are
// fixed: chmod changes neither size nor mtime, only the status-change time.
TEST_F(ModelRepositoryTest, PollRetriesAModelWhoseFilePermissionsChanged) {
  fs::create_directories(fs::path(root_) / "b" / "1");
  const fs::path file = fs::path(root_) / "b" / "1" / "model.onnx";
  std::ofstream(file) << "not an onnx file";
  std::atomic<int> attempts{0};
  ModelRepository::Options options;
  options.root = root_;
  options.metrics = metrics_.get();
  options.on_version_load = [&](const std::string&, int64_t) { ++attempts; };
  std::unique_ptr<ModelRepository> repo = *ModelRepository::Create(options);
  EXPECT_EQ(repo->LoadAll(), 0);
  EXPECT_EQ(attempts, 1);
  repo->Poll();
  EXPECT_EQ(attempts, 1);  // unchanged: not retried
  fs::permissions(file, fs::perms::owner_read, fs::perm_options::replace);
  repo->Poll();
  EXPECT_EQ(attempts, 2);
}

// A read that fails for a reason that may pass (UNAVAILABLE: an I/O error,
// a file read short) is retried by every poll, with no change on disk; a bad
// file waits for a change (PollRetriesAModelWhoseFilePermissionsChanged).
// The short read here: a sysfs file says 4096 bytes and reads a few.
TEST_F(ModelRepositoryTest, PollRetriesALoadThatFailedOnAReadError) {
  const fs::path short_file = "/sys/devices/system/cpu/online";
  std::error_code ec;
  if (fs::file_size(short_file, ec) != 4096 || ec) GTEST_SKIP() << "no " << short_file;
  fs::create_directories(fs::path(root_) / "r" / "1");
  fs::create_symlink(short_file, fs::path(root_) / "r" / "1" / "model.onnx");
  std::atomic<int> attempts{0};
  ModelRepository::Options options;
  options.root = root_;
  options.metrics = metrics_.get();
  options.on_version_load = [&](const std::string&, int64_t) { ++attempts; };
  std::unique_ptr<ModelRepository> repo = *ModelRepository::Create(options);
  EXPECT_EQ(repo->LoadAll(), 0);
  ASSERT_EQ(attempts, 1);
  const std::vector<ModelVersionStatus> index = repo->Index();
  ASSERT_EQ(index.size(), 1u);
  EXPECT_THAT(index[0].reason, HasSubstr("of 4096 bytes"));
  repo->Poll();
  EXPECT_EQ(attempts, 2);
  repo->Poll();
  EXPECT_EQ(attempts, 3);
}

// SIGTERM during the start-up load: the model being loaded finishes, the
// rest are skipped and no longer reported as loading.
TEST_F(ModelRepositoryTest, StopLoadingSkipsTheModelsNotStartedYet) {
  AddVersion("a", 1);
  AddVersion("b", 1);
  AddVersion("c", 1);
  ModelRepository::Options options;
  options.root = root_;
  options.metrics = metrics_.get();
  ModelRepository* repo_ptr = nullptr;
  options.on_version_load = [&](const std::string& model, int64_t) {
    if (model == "a") repo_ptr->StopLoading();
  };
  std::unique_ptr<ModelRepository> repo = *ModelRepository::Create(options);
  repo_ptr = repo.get();
  EXPECT_EQ(repo->LoadAll(), 1);
  EXPECT_TRUE(repo->Get("a", "").ok());
  for (const char* name : {"b", "c"}) {
    EXPECT_EQ(repo->Get(name, "").status().code(), absl::StatusCode::kNotFound) << name;
  }
}

TEST_F(ModelRepositoryTest, VersionBeingBuiltIsLoading) {
  // Large enough that building it takes a while on any machine.
  fs::create_directories(fs::path(root_) / "big" / "1");
  std::ofstream(fs::path(root_) / "big" / "1" / "model.onnx", std::ios::binary)
      << testing::RandomMlpOnnx({16, 2048, 2048, 4}, 7);
  auto repo = Open();
  EXPECT_EQ(States(*repo)["big:0"], ModelState::kUnavailable);  // "not loaded"

  std::atomic<bool> done{false};
  std::thread load([&] {
    EXPECT_TRUE(repo->LoadModel("big").ok());
    done = true;
  });
  bool seen_loading = false;
  while (!done && !seen_loading) {
    const auto states = States(*repo);
    seen_loading = states.count("big:1") && states.at("big:1") == ModelState::kLoading;
    if (seen_loading) {
      EXPECT_EQ(states.count("big:0"), 0u);  // no stale "not loaded"
    }
  }
  load.join();
  EXPECT_TRUE(seen_loading);
  EXPECT_EQ(States(*repo), (std::map<std::string, ModelState>{{"big:1", ModelState::kReady}}));
}

// A sparse 1 TiB model.onnx (`truncate -s 1T`) used to be allocated whole:
// std::bad_alloc ended the server. Now it is a load error with its size and
// the limit, and the other models serve.
TEST_F(ModelRepositoryTest, AnOnnxFileLargerThanProtobufsLimitIsALoadError) {
  AddVersion("good", 1);
  fs::create_directories(fs::path(root_) / "huge" / "1");
  const fs::path file = fs::path(root_) / "huge" / "1" / "model.onnx";
  std::ofstream(file) << "x";
  fs::resize_file(file, uintmax_t{1} << 40);
  auto repo = Open();
  EXPECT_EQ(repo->LoadAll(), 1);
  const absl::Status status = repo->LoadModel("huge");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr(file.string() + ": cannot read the ONNX file: its size "
                                                          "is 1099511627776 bytes; the limit is "
                                                          "2147483647 bytes"));
  EXPECT_TRUE(repo->Get("good", "").ok());
}

// A config.pbtxt link whose target is gone used to read as "no config": the
// model silently reloaded with the defaults.
TEST_F(ModelRepositoryTest, ADanglingConfigLinkIsALoadErrorAndTheModelKeepsServing) {
  AddVersion("m", 1);
  const fs::path config = fs::path(root_) / "m" / "config.pbtxt";
  std::ofstream(config) << "max_batch_size: 4";
  auto repo = Open();
  ASSERT_EQ(repo->LoadAll(), 1);
  fs::remove(config);
  fs::create_symlink(fs::path(root_) / "m" / "gone.pbtxt", config);
  const absl::Status status = repo->LoadModel("m");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr(config.string() + ": cannot be read: a symbolic link"));
  EXPECT_EQ((*repo->Get("m", "1"))->config().max_batch_size(), 4);
}

// Tensor names from config.pbtxt (or the ONNX file) may be any bytes; the
// reason goes into RepositoryIndex, a protobuf string whose bad UTF-8 made
// clients refuse the whole response. It is also kept short.
TEST_F(ModelRepositoryTest, LoadErrorReasonsAreValidUtf8AndCapped) {
  AddVersion("m", 1);
  std::ofstream(fs::path(root_) / "m" / "config.pbtxt")
      << "input { name: \"x\\377" << std::string(5000, 'a') << "\" }";
  auto repo = Open();
  EXPECT_EQ(repo->LoadAll(), 0);
  const std::vector<ModelVersionStatus> index = repo->Index();
  ASSERT_EQ(index.size(), 1u);
  const std::string& reason = index[0].reason;
  EXPECT_TRUE(IsValidUtf8(reason)) << reason;
  EXPECT_THAT(reason, HasSubstr("config.pbtxt: model 'm': input 'x\\xffaaa"));
  EXPECT_THAT(reason, HasSubstr("... ("));  // cut, with the full length
  EXPECT_LT(reason.size(), 1200u);
}

// "01", "+1" and " 1" parsed as version 1 while paths were rebuilt from the
// number ("1"): wrong files and the same version twice. Only canonical names
// are versions; the others are ignored, as Triton ignores "v2".
TEST_F(ModelRepositoryTest, OnlyCanonicalDecimalFolderNamesAreVersions) {
  AddVersion("m", 2);
  for (const char* name : {"01", "+3", " 4", "0005", "6 "}) {
    fs::create_directories(fs::path(root_) / "m" / name);
    fs::copy_file(fs::path(MLPSERVE_SOURCE_DIR) / "models/leaky_mlp/1/model.onnx",
                  fs::path(root_) / "m" / name / "model.onnx");
  }
  std::ofstream(fs::path(root_) / "m" / "config.pbtxt") << "version_policy { all {} }";
  auto repo = Open();
  EXPECT_EQ(repo->LoadAll(), 1);
  EXPECT_THAT(repo->ReadyVersions("m"), ElementsAre(2));
  const std::vector<ModelVersionStatus> index = repo->Index();
  ASSERT_EQ(index.size(), 1u);  // no failed version
  EXPECT_EQ(index[0].state, ModelState::kReady);
}

// preferred_batch_size in any order (as Triton takes it) loads.
TEST_F(ModelRepositoryTest, UnsortedPreferredBatchSizesLoad) {
  AddVersion("m", 1);
  std::ofstream(fs::path(root_) / "m" / "config.pbtxt")
      << "dynamic_batching { preferred_batch_size: [32, 16, 32] }";
  auto repo = Open();
  ASSERT_TRUE(repo->LoadModel("m").ok());
  EXPECT_THAT((*repo->Get("m", ""))->config().dynamic_batching().preferred_batch_size(),
              ElementsAre(16, 32));
}

// While a loaded model reloads, a version it is not building is not
// "loading": it does not exist. Before the model's first load, any version
// may be the one coming.
TEST_F(ModelRepositoryTest, OnlyAVersionThatMayBeBuildingIsLoading) {
  AddVersion("m", 1);
  std::ofstream(fs::path(root_) / "m" / "config.pbtxt") << "version_policy { all {} }";
  ModelRepository::Options options;
  options.root = root_;
  options.metrics = metrics_.get();
  ModelRepository* repo_ptr = nullptr;
  std::map<std::string, absl::StatusCode> seen;  // "<building>:<asked>" -> code
  options.on_version_load = [&](const std::string&, int64_t version) {
    for (const char* asked : {"2", "3", "99"}) {
      seen[absl::StrCat(version, ":", asked)] = repo_ptr->Get("m", asked).status().code();
    }
  };
  std::unique_ptr<ModelRepository> repo = *ModelRepository::Create(options);
  repo_ptr = repo.get();
  ASSERT_EQ(repo->LoadAll(), 1);  // first load: no entry yet
  EXPECT_EQ(seen["1:99"], absl::StatusCode::kUnavailable);
  AddVersion("m", 2);
  AddVersion("m", 3);
  ASSERT_TRUE(repo->LoadModel("m").ok());  // reload: builds versions 2, then 3
  EXPECT_EQ(seen["2:2"], absl::StatusCode::kUnavailable);
  // Version 3 is built after 2: while 2 builds it is loading too.
  EXPECT_EQ(seen["2:3"], absl::StatusCode::kUnavailable);
  EXPECT_EQ(seen["2:99"], absl::StatusCode::kNotFound);
}

// SIGTERM during a poll: the model being reloaded finishes, the other
// changed ones are not reloaded.
TEST_F(ModelRepositoryTest, StopLoadingEndsAPollAfterTheModelItIsLoading) {
  AddVersion("a", 1);
  AddVersion("b", 1);
  ModelRepository::Options options;
  options.root = root_;
  options.metrics = metrics_.get();
  ModelRepository* repo_ptr = nullptr;
  std::vector<std::string> loads;
  options.on_version_load = [&](const std::string& model, int64_t) {
    loads.push_back(model);
    if (loads.size() == 3) repo_ptr->StopLoading();  // the poll's first reload
  };
  std::unique_ptr<ModelRepository> repo = *ModelRepository::Create(options);
  repo_ptr = repo.get();
  ASSERT_EQ(repo->LoadAll(), 2);
  for (const char* name : {"a", "b"}) {
    std::ofstream(fs::path(root_) / name / "config.pbtxt") << "max_batch_size: 8";
  }
  repo->Poll();
  EXPECT_THAT(loads, ElementsAre("a", "b", "a"));
  EXPECT_EQ((*repo->Get("a", ""))->config().max_batch_size(), 8);
  EXPECT_EQ((*repo->Get("b", ""))->config().max_batch_size(), kDefaultMaxBatchSize);
}

// config.pbtxt edited while the model loads (after it was read, before a
// later version is built): the next poll must see the change. The stamp
// used to be taken per version after the read, so the later version kept
// the old config for good.
TEST_F(ModelRepositoryTest, AConfigEditedDuringALoadIsReloadedByTheNextPoll) {
  AddVersion("m", 1);
  AddVersion("m", 2);
  const fs::path config = fs::path(root_) / "m" / "config.pbtxt";
  std::ofstream(config) << "version_policy { all {} } max_batch_size: 4";
  ModelRepository::Options options;
  options.root = root_;
  options.metrics = metrics_.get();
  bool edited = false;
  options.on_version_load = [&](const std::string&, int64_t version) {
    if (version == 1 && !edited) {
      std::ofstream(config) << "version_policy { all {} } max_batch_size: 16";
      edited = true;
    }
  };
  std::unique_ptr<ModelRepository> repo = *ModelRepository::Create(options);
  ASSERT_EQ(repo->LoadAll(), 2);
  repo->Poll();
  for (const char* version : {"1", "2"}) {
    EXPECT_EQ((*repo->Get("m", version))->config().max_batch_size(), 16) << version;
  }
}

// A queued request holds its model (as a gRPC call does until answered), so
// the last reference can drop on the model's own executor while the
// repository is being destroyed. The destructor must drain that queue, keep
// the reaper running until the model is destroyed, and only then return;
// with the reaper stopped first, the executor destroyed the model inline and
// joined itself (std::terminate).
class RepositoryShutdownTest : public ModelRepositoryTest,
                               public ::testing::WithParamInterface<bool> {};

TEST_P(RepositoryShutdownTest, LastReferenceDroppedByTheExecutorIsDestroyedBeforeReturning) {
  const bool drain_first = GetParam();  // as main does, or left to the destructor
  AddVersion("m", 1);
  std::ofstream(fs::path(root_) / "m" / "config.pbtxt")
      << "max_batch_size: 8\ndynamic_batching { max_queue_delay_microseconds: 600000000 }\n";
  auto repo = Open();
  ASSERT_TRUE(repo->LoadModel("m").ok());
  std::shared_ptr<const ServableModel> model = *repo->Get("m", "");
  const std::weak_ptr<const void> alive = model->alive();

  const std::vector<float> input(model->compiled().input_features(), 0.5f);
  absl::Notification answered;
  absl::Notification release;
  absl::Status status = absl::UnknownError("not answered");
  auto request = std::make_unique<InferRequest>();
  request->rows = 1;
  request->input =
      absl::string_view(reinterpret_cast<const char*>(input.data()), input.size() * sizeof(float));
  // Holds the model like a pending call; blocking here stands in for the
  // executor being preempted just after answering.
  request->done = [held = model, &status, &answered, &release](
                      absl::StatusOr<absl::Span<const float>> output, const InferTiming&) {
    status = output.status();
    answered.Notify();
    release.WaitForNotification();
  };
  ASSERT_TRUE(model->scheduler().Submit(std::move(request)).ok());
  model.reset();  // the queued request holds the only other reference

  if (drain_first) repo->Drain();
  absl::Notification destroyed;
  std::thread shutdown([&] {
    repo.reset();
    destroyed.Notify();
  });
  // The 10-minute queue delay ends only through the drain.
  EXPECT_TRUE(answered.WaitForNotificationWithTimeout(absl::Seconds(60))) << "never answered";
  EXPECT_TRUE(status.ok()) << status;
  EXPECT_FALSE(destroyed.HasBeenNotified()) << "returned while a version was still held";
  EXPECT_FALSE(alive.expired());
  release.Notify();
  shutdown.join();
  EXPECT_TRUE(alive.expired()) << "the version outlived its repository";
}

INSTANTIATE_TEST_SUITE_P(DrainedOrNot, RepositoryShutdownTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "DrainedFirst" : "DestructorDrains";
                         });

}  // namespace
}  // namespace mlpserve
