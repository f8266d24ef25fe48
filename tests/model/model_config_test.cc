// config.pbtxt parsing, validation and completion from the graph.
#include "server/model/model_config.h"

#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/temp_dir.h"

namespace mlpserve {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kSource[] = "models/m/config.pbtxt";

// input "x" [4] -> output "y" [3], one layer.
Mlp SmallMlp() {
  Mlp mlp;
  mlp.input_name = "x";
  mlp.output_name = "y";
  DenseLayer layer;
  layer.in = 4;
  layer.out = 3;
  layer.weights.assign(12, 0.0f);
  layer.bias.assign(3, 0.0f);
  mlp.layers.push_back(layer);
  return mlp;
}

constexpr char kFullConfig[] = R"pb(
  name: "m"
  platform: "onnxruntime_onnx"
  max_batch_size: 32
  input {
    name: "x"
    data_type: TYPE_FP32
    dims: [ 4 ]
  }
  output {
    name: "y"
    data_type: TYPE_FP32
    dims: [ 3 ]
  }
  version_policy { specific { versions: [ 1, 3 ] } }
  dynamic_batching {
    max_queue_delay_microseconds: 250
    preferred_batch_size: [ 8, 16 ]
    max_queue_size: 77
  }
  instance_count: 2
  threads_per_instance: 4
  activation_stats { enabled: false sample_every: 10 dead_window_rows: 5000 }
  reject_non_finite: true
)pb";

TEST(ModelConfigTest, ParsesEveryField) {
  absl::StatusOr<ModelConfig> parsed = ParseModelConfig(kFullConfig, kSource, "m");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  absl::StatusOr<ModelConfig> c = CompleteModelConfig(*parsed, SmallMlp());
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->name(), "m");
  EXPECT_EQ(c->platform(), "onnxruntime_onnx");
  EXPECT_EQ(c->max_batch_size(), 32);
  ASSERT_EQ(c->input_size(), 1);
  EXPECT_EQ(c->input(0).name(), "x");
  EXPECT_EQ(c->input(0).data_type(), inference::TYPE_FP32);
  EXPECT_THAT(c->input(0).dims(), ElementsAre(4));
  EXPECT_EQ(c->output(0).data_type(), inference::TYPE_FP32);
  EXPECT_THAT(c->output(0).dims(), ElementsAre(3));
  EXPECT_THAT(c->version_policy().specific().versions(), ElementsAre(1, 3));
  EXPECT_EQ(c->dynamic_batching().max_queue_delay_microseconds(), 250u);
  EXPECT_THAT(c->dynamic_batching().preferred_batch_size(), ElementsAre(8, 16));
  EXPECT_EQ(c->dynamic_batching().max_queue_size(), 77u);
  EXPECT_EQ(c->instance_count(), 2);
  EXPECT_EQ(c->threads_per_instance(), 4);
  EXPECT_FALSE(c->activation_stats().enabled());
  EXPECT_EQ(c->activation_stats().sample_every(), 10u);
  EXPECT_EQ(c->activation_stats().dead_window_rows(), 5000u);
  EXPECT_TRUE(c->reject_non_finite());
}

TEST(ModelConfigTest, DefaultsFromEmptyConfig) {
  absl::StatusOr<ModelConfig> parsed = ParseModelConfig("", kSource, "m");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->name(), "m");
  absl::StatusOr<ModelConfig> c = CompleteModelConfig(*parsed, SmallMlp());
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->max_batch_size(), kDefaultMaxBatchSize);
  EXPECT_EQ(c->instance_count(), 1);
  EXPECT_EQ(c->threads_per_instance(), 1);
  ASSERT_EQ(c->input_size(), 1);
  EXPECT_EQ(c->input(0).name(), "x");
  EXPECT_EQ(c->input(0).data_type(), inference::TYPE_FP32);
  EXPECT_THAT(c->input(0).dims(), ElementsAre(4));
  ASSERT_EQ(c->output_size(), 1);
  EXPECT_EQ(c->output(0).name(), "y");
  EXPECT_THAT(c->output(0).dims(), ElementsAre(3));
  EXPECT_FALSE(c->has_dynamic_batching());
  EXPECT_EQ(c->version_policy().latest().num_versions(), 1u);
  EXPECT_TRUE(c->activation_stats().enabled());
  EXPECT_EQ(c->activation_stats().sample_every(), 1u);
  EXPECT_EQ(c->activation_stats().dead_window_rows(), kDefaultDeadWindowRows);
  EXPECT_FALSE(c->reject_non_finite());
}

TEST(ModelConfigTest, DynamicBatchingQueueSizeDefault) {
  absl::StatusOr<ModelConfig> parsed =
      ParseModelConfig("dynamic_batching { max_queue_delay_microseconds: 100 }", kSource, "m");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  absl::StatusOr<ModelConfig> c = CompleteModelConfig(*parsed, SmallMlp());
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->dynamic_batching().max_queue_size(), kDefaultMaxQueueSize);
}

// Triton takes preferred sizes in any order; the batcher refused [64, 32]
// at load with a message naming neither the file nor the field.
TEST(ModelConfigTest, PreferredBatchSizesAreSortedWithoutDuplicates) {
  absl::StatusOr<ModelConfig> parsed = ParseModelConfig(
      "dynamic_batching { preferred_batch_size: [64, 8, 32, 8, 64] }", kSource, "m");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  absl::StatusOr<ModelConfig> c = CompleteModelConfig(*parsed, SmallMlp());
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_THAT(c->dynamic_batching().preferred_batch_size(), ElementsAre(8, 32, 64));
}

// Triton configs name their backend; mlpserve takes it as information, as
// it takes platform.
TEST(ModelConfigTest, TritonBackendIsAccepted) {
  absl::StatusOr<ModelConfig> c =
      ParseModelConfig("backend: \"onnxruntime\"\nmax_batch_size: 8", kSource, "m");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->backend(), "onnxruntime");
  absl::StatusOr<ModelConfig> complete = CompleteModelConfig(*c, SmallMlp());
  ASSERT_TRUE(complete.ok()) << complete.status();
  EXPECT_EQ(complete->backend(), "onnxruntime");
}

TEST(ModelConfigTest, PartialTensorIsCompleted) {
  absl::StatusOr<ModelConfig> parsed = ParseModelConfig("input { name: \"x\" }", kSource, "m");
  ASSERT_TRUE(parsed.ok());
  absl::StatusOr<ModelConfig> c = CompleteModelConfig(*parsed, SmallMlp());
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_THAT(c->input(0).dims(), ElementsAre(4));
  EXPECT_EQ(c->input(0).data_type(), inference::TYPE_FP32);
}

// Triton configs write the enum unquoted; any type but TYPE_FP32 is refused
// naming the model, the tensor and the type.
TEST(ModelConfigTest, DataTypeIsTritonsEnumAndOnlyFp32IsServed) {
  absl::StatusOr<ModelConfig> c = ParseModelConfig(
      "input { name: \"x\" data_type: TYPE_FP32 } output { data_type: 11 }", kSource, "m");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->input(0).data_type(), inference::TYPE_FP32);
  EXPECT_EQ(c->output(0).data_type(), inference::TYPE_FP32);

  const std::pair<const char*, const char*> refused[] = {
      {"input { name: \"x\" data_type: TYPE_FP16 }",
       "models/m/config.pbtxt: model 'm' input 'x' has data_type TYPE_FP16; only TYPE_FP32 is "
       "served"},
      {"output { name: \"y\" data_type: TYPE_INT64 }",
       "model 'm' output 'y' has data_type TYPE_INT64; only TYPE_FP32 is served"},
      {"output { data_type: TYPE_STRING }",
       "model 'm' output has data_type TYPE_STRING; only TYPE_FP32 is served"},
      {"input { data_type: 99 }", "model 'm' input has data_type 99; only TYPE_FP32 is served"},
  };
  for (const auto& [text, message] : refused) {
    c = ParseModelConfig(text, kSource, "m");
    EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument) << text;
    EXPECT_THAT(c.status().message(), HasSubstr(message)) << text;
  }
}

// The quoted form (what mlpserve's configs used to write) no longer parses;
// the error says where and how to write it.
TEST(ModelConfigTest, QuotedDataTypeSaysToDropTheQuotes) {
  absl::StatusOr<ModelConfig> c =
      ParseModelConfig("input {\n  data_type: \"TYPE_FP32\"\n}\n", kSource, "m");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(c.status().message(), HasSubstr("models/m/config.pbtxt:2:"));
  EXPECT_THAT(c.status().message(), HasSubstr("\"TYPE_FP32\""));
  EXPECT_THAT(c.status().message(), HasSubstr("written without quotes"));

  c = ParseModelConfig("input { data_type: TYPE_FP33 }", kSource, "m");
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("TYPE_FP33"));
  EXPECT_THAT(c.status().message(), Not(HasSubstr("without quotes")));
}

// Triton's instance_group loads as instance_count; what mlpserve cannot run
// (GPUs, several groups) is refused by name.
TEST(ModelConfigTest, TritonInstanceGroupIsInstanceCount) {
  absl::StatusOr<ModelConfig> c =
      ParseModelConfig("instance_group [ { count: 3 kind: KIND_CPU } ]", kSource, "m");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->instance_count(), 3);
  EXPECT_EQ(c->instance_group_size(), 0);
  c = ParseModelConfig("instance_group { name: \"m_0\" }", kSource, "m");  // KIND_AUTO, count 0
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->instance_count(), 1);
  c = ParseModelConfig("instance_count: 2 instance_group { count: 2 }", kSource, "m");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->instance_count(), 2);

  const std::pair<const char*, const char*> refused[] = {
      {"instance_group { count: 65 }", "instance_group count is 65; expected 1 to 64"},
      {"instance_group { count: -1 }", "instance_group count is -1; expected 1 to 64"},
      {"instance_group { count: 1 kind: KIND_GPU }",
       "instance_group kind KIND_GPU is not served; mlpserve runs on CPUs"},
      {"instance_group { count: 1 kind: KIND_MODEL }", "instance_group kind KIND_MODEL is not"},
      {"instance_group { kind: 7 }", "instance_group kind 7 is not served"},
      {"instance_group { count: 1 gpus: [0] }", "instance_group lists gpus"},
      {"instance_group [ { count: 1 }, { count: 2 } ]", "instance_group has 2 groups"},
      {"instance_count: 2 instance_group { count: 3 }",
       "instance_count 2 and instance_group count 3 disagree"},
  };
  for (const auto& [text, message] : refused) {
    c = ParseModelConfig(text, kSource, "m");
    EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument) << text;
    EXPECT_THAT(c.status().message(), HasSubstr(message)) << text;
  }
}

// Triton's dynamic_batching.default_queue_policy: its max_queue_size is
// mlpserve's, its timeouts are kept for QueueTimeout, DELAY is refused.
TEST(ModelConfigTest, TritonQueuePolicyLoads) {
  absl::StatusOr<ModelConfig> c = ParseModelConfig(
      "dynamic_batching { default_queue_policy { max_queue_size: 8 timeout_action: REJECT "
      "default_timeout_microseconds: 5000 allow_timeout_override: true } }",
      kSource, "m");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->dynamic_batching().max_queue_size(), 8u);
  EXPECT_EQ(c->dynamic_batching().default_queue_policy().max_queue_size(), 0u);
  EXPECT_EQ(c->dynamic_batching().default_queue_policy().default_timeout_microseconds(), 5000u);
  EXPECT_TRUE(c->dynamic_batching().default_queue_policy().allow_timeout_override());
  c = ParseModelConfig(
      "dynamic_batching { max_queue_size: 8 default_queue_policy { max_queue_size: 8 } }", kSource,
      "m");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->dynamic_batching().max_queue_size(), 8u);
  // A policy without a size keeps the default once completed.
  c = ParseModelConfig("dynamic_batching { default_queue_policy { } }", kSource, "m");
  ASSERT_TRUE(c.ok()) << c.status();
  absl::StatusOr<ModelConfig> complete = CompleteModelConfig(*c, SmallMlp());
  ASSERT_TRUE(complete.ok()) << complete.status();
  EXPECT_EQ(complete->dynamic_batching().max_queue_size(), kDefaultMaxQueueSize);

  const std::pair<const char*, const char*> refused[] = {
      {"dynamic_batching { default_queue_policy { timeout_action: DELAY } }",
       "dynamic_batching.default_queue_policy.timeout_action DELAY is not served"},
      {"dynamic_batching { max_queue_size: 4 default_queue_policy { max_queue_size: 8 } }",
       "dynamic_batching.max_queue_size 4 and dynamic_batching.default_queue_policy."
       "max_queue_size 8 disagree"},
      {"dynamic_batching { default_queue_policy { default_timeout_microseconds: 86400000001 } }",
       "dynamic_batching.default_queue_policy.default_timeout_microseconds is 86400000001"},
      {"dynamic_batching { default_queue_policy { priority_levels: 2 } }",
       "no field named \"priority_levels\""},
  };
  for (const auto& [text, message] : refused) {
    c = ParseModelConfig(text, kSource, "m");
    EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument) << text;
    EXPECT_THAT(c.status().message(), HasSubstr(message)) << text;
  }
}

// The wait a request is given, against Triton's rules.
TEST(ModelConfigTest, QueueTimeoutFollowsThePolicy) {
  const absl::Duration inf = absl::InfiniteDuration();
  const absl::Duration ms = absl::Milliseconds(1);
  auto timeout = [](const std::string& text, absl::Duration requested) {
    absl::StatusOr<ModelConfig> c = ParseModelConfig(text, kSource, "m");
    EXPECT_TRUE(c.ok()) << c.status();
    return QueueTimeout(c.value_or(ModelConfig()), requested);
  };
  // No policy: the request's own timeout, as given.
  EXPECT_EQ(timeout("", inf), inf);
  EXPECT_EQ(timeout("dynamic_batching { }", 7 * ms), 7 * ms);
  // The policy's default bounds every request; without override a request's
  // own is ignored, with it the request may only shorten the default.
  const std::string fixed =
      "dynamic_batching { default_queue_policy { "
      "default_timeout_microseconds: 5000 } }";
  EXPECT_EQ(timeout(fixed, inf), 5 * ms);
  EXPECT_EQ(timeout(fixed, 1 * ms), 5 * ms);
  EXPECT_EQ(timeout(fixed, 9 * ms), 5 * ms);
  const std::string override =
      "dynamic_batching { default_queue_policy { "
      "default_timeout_microseconds: 5000 allow_timeout_override: true } }";
  EXPECT_EQ(timeout(override, inf), 5 * ms);
  EXPECT_EQ(timeout(override, 1 * ms), 1 * ms);
  EXPECT_EQ(timeout(override, 9 * ms), 5 * ms);
  // A default of 0 is no bound: only a request with override allowed has one.
  EXPECT_EQ(timeout("dynamic_batching { default_queue_policy { } }", 1 * ms), inf);
  EXPECT_EQ(
      timeout("dynamic_batching { default_queue_policy { allow_timeout_override: true } }", 1 * ms),
      1 * ms);
}

// Triton's max_batch_size 0 means "no batch dimension"; mlpserve models
// always have one, so an explicit 0 is refused rather than read as absent.
TEST(ModelConfigTest, MaxBatchSizeZeroIsRefusedAbsentIsTheDefault) {
  absl::StatusOr<ModelConfig> c = ParseModelConfig("max_batch_size: 0", kSource, "m");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(c.status().message(), HasSubstr("models/m/config.pbtxt: max_batch_size is 0"));
  EXPECT_THAT(c.status().message(), HasSubstr("no batch dimension"));
  EXPECT_THAT(c.status().message(), HasSubstr("must be 1 to 65536"));
  EXPECT_THAT(c.status().message(), HasSubstr("leave it out for the default 64"));

  for (const char* negative : {"max_batch_size: -1", "max_batch_size: -2147483648"}) {
    c = ParseModelConfig(negative, kSource, "m");
    EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument) << negative;
    EXPECT_THAT(c.status().message(), HasSubstr("expected 1 to 65536")) << negative;
  }

  c = ParseModelConfig("platform: \"onnxruntime_onnx\"", kSource, "m");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_FALSE(c->has_max_batch_size());
  absl::StatusOr<ModelConfig> complete = CompleteModelConfig(*c, SmallMlp());
  ASSERT_TRUE(complete.ok()) << complete.status();
  EXPECT_EQ(complete->max_batch_size(), kDefaultMaxBatchSize);
}

TEST(ModelConfigTest, SyntaxErrorNamesFileLineAndColumn) {
  absl::StatusOr<ModelConfig> c =
      ParseModelConfig("name: \"m\"\nmax_batch_size: 8\nbogus_field: 3\n", kSource, "m");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("models/m/config.pbtxt:3:"));
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("bogus_field"));

  c = ParseModelConfig("max_batch_size: \"many\"", kSource, "m");
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("models/m/config.pbtxt:1:"));
}

TEST(ModelConfigTest, NameMismatch) {
  absl::StatusOr<ModelConfig> c = ParseModelConfig("name: \"other\"", kSource, "m");
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("'other'"));
  EXPECT_THAT(std::string(c.status().message()), HasSubstr(kSource));
}

TEST(ModelConfigTest, TensorNameMismatch) {
  for (const char* text : {"input { name: \"wrong\" }", "output { name: \"wrong\" }"}) {
    absl::StatusOr<ModelConfig> parsed = ParseModelConfig(text, kSource, "m");
    ASSERT_TRUE(parsed.ok());
    absl::StatusOr<ModelConfig> c = CompleteModelConfig(*parsed, SmallMlp());
    ASSERT_FALSE(c.ok()) << text;
    EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(c.status().message()), HasSubstr("'wrong'"));
  }
}

TEST(ModelConfigTest, DimsMismatch) {
  for (const char* text : {"input { dims: [ 5 ] }", "input { dims: [ 2, 2 ] }",
                           "output { name: \"y\" dims: [ 4 ] }"}) {
    absl::StatusOr<ModelConfig> parsed = ParseModelConfig(text, kSource, "m");
    ASSERT_TRUE(parsed.ok());
    absl::StatusOr<ModelConfig> c = CompleteModelConfig(*parsed, SmallMlp());
    ASSERT_FALSE(c.ok()) << text;
    EXPECT_THAT(std::string(c.status().message()), HasSubstr("dims"));
  }
}

TEST(ModelConfigTest, OutOfRangeValues) {
  for (const char* text :
       {"max_batch_size: -1", "max_batch_size: 65537", "instance_count: 65", "instance_count: -2",
        "threads_per_instance: 100",
        "max_batch_size: 8 dynamic_batching { preferred_batch_size: [ 4, 16 ] }",
        "dynamic_batching { preferred_batch_size: [ 0 ] }",
        "dynamic_batching { preferred_batch_size: [ 65 ] }",  // above the default 64
        "input { data_type: TYPE_FP16 }", "input { name: \"x\" } input { name: \"z\" }"}) {
    absl::StatusOr<ModelConfig> parsed = ParseModelConfig(text, kSource, "m");
    absl::Status status = parsed.status();
    if (parsed.ok()) status = CompleteModelConfig(*parsed, SmallMlp()).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << text;
  }
  EXPECT_TRUE(ParseModelConfig("max_batch_size: 65536 instance_count: 64", kSource, "m").ok());
}

// Unsigned fields whose values would wrap where they are used (a negative
// queue delay or window, a negative sampling period): refused by field and
// file, at their bounds accepted.
TEST(ModelConfigTest, UnsignedValuesBeyondTheirBoundsNameFieldAndFile) {
  const std::pair<const char*, const char*> cases[] = {
      {"dynamic_batching { max_queue_delay_microseconds: 9223372036854775808 }",
       "dynamic_batching.max_queue_delay_microseconds is 9223372036854775808; expected at most "
       "86400000000"},
      {"activation_stats { sample_every: 3000000000 }",
       "activation_stats.sample_every is 3000000000; expected at most 1000000000"},
      {"activation_stats { dead_window_rows: 18446744073709551615 }",
       "activation_stats.dead_window_rows is 18446744073709551615; expected at most "
       "137438953472"},
      {"activation_stats { dead_window_rows: 137438953473 }",
       "activation_stats.dead_window_rows is 137438953473; expected at most 137438953472"},
  };
  for (const auto& [text, message] : cases) {
    absl::StatusOr<ModelConfig> parsed = ParseModelConfig(text, kSource, "m");
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument) << text;
    EXPECT_THAT(parsed.status().message(), HasSubstr(kSource)) << text;
    EXPECT_THAT(parsed.status().message(), HasSubstr(message)) << text;
  }
  absl::StatusOr<ModelConfig> at_bounds = ParseModelConfig(
      "dynamic_batching { max_queue_delay_microseconds: 86400000000 } "
      "activation_stats { sample_every: 1000000000 dead_window_rows: 137438953472 }",
      kSource, "m");
  ASSERT_TRUE(at_bounds.ok()) << at_bounds.status();
  EXPECT_TRUE(CompleteModelConfig(*at_bounds, SmallMlp()).ok());
}

class ReadModelConfigTest : public ::testing::Test {
 protected:
  std::string dir_ = testing::MakeTempDir("model_config_test");
};

TEST_F(ReadModelConfigTest, MissingFileGivesNamedEmptyConfig) {
  absl::StatusOr<ModelConfig> c = ReadModelConfig(dir_, "m");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->name(), "m");
  EXPECT_FALSE(c->has_max_batch_size());
}

TEST_F(ReadModelConfigTest, ReadsFileAndNamesItInErrors) {
  std::ofstream(dir_ + "/config.pbtxt") << "name: \"m\"\nmax_batch_size: 16\n";
  absl::StatusOr<ModelConfig> c = ReadModelConfig(dir_, "m");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->max_batch_size(), 16);

  std::ofstream(dir_ + "/config.pbtxt") << "name: \"m\"\n\nmax_batch_size: {\n";
  c = ReadModelConfig(dir_, "m");
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(std::string(c.status().message()), HasSubstr(dir_ + "/config.pbtxt:3:"));
}

TEST_F(ReadModelConfigTest, ADirectoryIsNotAnEmptyConfig) {
  // std::ifstream opens a directory and reads nothing: it used to load as
  // the defaults.
  ASSERT_EQ(mkdir((dir_ + "/config.pbtxt").c_str(), 0755), 0);
  absl::StatusOr<ModelConfig> c = ReadModelConfig(dir_, "m");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(c.status().message()),
              HasSubstr(dir_ + "/config.pbtxt: cannot be read: a directory, not a regular file"));
}

// A dangling symbolic link is a config.pbtxt the operator put there: it
// used to read as "no file" and the model loaded with the defaults.
TEST_F(ReadModelConfigTest, ADanglingSymbolicLinkIsNotAMissingConfig) {
  std::filesystem::create_symlink(dir_ + "/gone.pbtxt", dir_ + "/config.pbtxt");
  absl::StatusOr<ModelConfig> c = ReadModelConfig(dir_, "m");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(c.status().message()),
              HasSubstr(dir_ + "/config.pbtxt: cannot be read: a symbolic link to '" + dir_ +
                        "/gone.pbtxt', which does not exist"));
}

// The size is checked before anything is allocated: a sparse file costs no
// disk, and reading it whole used to throw std::bad_alloc.
TEST_F(ReadModelConfigTest, AConfigLargerThanTheLimitIsRefusedWithItsSize) {
  const std::string path = dir_ + "/config.pbtxt";
  std::ofstream(path) << "max_batch_size: 8\n";
  std::filesystem::resize_file(path, uintmax_t{1} << 40);  // 1 TiB, sparse
  absl::StatusOr<ModelConfig> c = ReadModelConfig(dir_, "m");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(c.status().message()),
              HasSubstr(path + ": cannot be read: its size is 1099511627776 bytes; the limit is "
                               "1048576 bytes"));
  std::filesystem::resize_file(path, kMaxConfigFileBytes);  // at the limit: read
  c = ReadModelConfig(dir_, "m");
  EXPECT_FALSE(absl::StrContains(c.status().message(), "limit")) << c.status();
}

}  // namespace
}  // namespace mlpserve
