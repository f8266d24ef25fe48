#include "client/cli/commands.h"

#include <chrono>
#include <cmath>
#include <iostream>
#include <memory>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "client/lib/infer_codec.h"
#include "client/lib/tensor_json.h"
#include "nlohmann/json.hpp"
#include "server/common/token_file.h"
#include "spdlog/spdlog.h"

namespace mlpserve::client::cli {
namespace {

struct InferFlags {
  std::string model;
  std::string version;
  std::string input;
  bool random = false;
  int64_t batch = 1;
  bool raw = false;
  bool typed = false;
  uint64_t seed = 0;
  std::string id;
  bool pretty = false;
};

int RunHealth(const GlobalFlags& flags, const std::string& service) {
  std::unique_ptr<InferenceClient> client = MakeClient(flags);
  if (!client) return 2;
  nlohmann::json out;
  absl::StatusOr<bool> live = client->ServerLive();
  absl::StatusOr<bool> ready = client->ServerReady();
  absl::StatusOr<std::string> health = client->Health(service);
  out["live"] = live.ok() ? nlohmann::json(*live) : nlohmann::json(nullptr);
  out["ready"] = ready.ok() ? nlohmann::json(*ready) : nlohmann::json(nullptr);
  out["service"] = service;
  out["health"] = health.ok() ? *health : std::string("UNREACHABLE");
  for (const absl::Status& s : {live.status(), ready.status(), health.status()}) {
    if (!s.ok()) {
      out["error"] = std::string(s.message());
      break;
    }
  }
  std::cout << DumpJson(out, 2) << std::endl;
  return health.ok() && *health == "SERVING" ? 0 : 1;
}

int RunMetadata(const GlobalFlags& flags, const std::string& model, const std::string& version) {
  std::unique_ptr<InferenceClient> client = MakeClient(flags);
  if (!client) return 2;
  absl::StatusOr<inference::ModelMetadataResponse> metadata = client->ModelMetadata(model, version);
  if (!metadata.ok()) {
    spdlog::error("{}", std::string(metadata.status().message()));
    return 1;
  }
  std::cout << DumpJson(MetadataToJson(*metadata), 2) << std::endl;
  return 0;
}

int RunInfer(const GlobalFlags& flags, const InferFlags& f) {
  // The input file first: a bad file is a usage error whatever the server.
  Tensor input;
  if (!f.random) {
    absl::StatusOr<Tensor> parsed = ReadInputJsonFile(f.input);
    if (!parsed.ok()) {
      spdlog::error("{}", std::string(parsed.status().message()));
      return 2;
    }
    input = *std::move(parsed);
  }
  if (f.random && f.batch > kMaxElements) {
    spdlog::error("--batch: {} rows are more than one message can carry", f.batch);
    return 2;
  }
  std::unique_ptr<InferenceClient> client = MakeClient(flags);
  if (!client) return 2;
  absl::StatusOr<inference::ModelMetadataResponse> metadata =
      client->ModelMetadata(f.model, f.version);
  if (!metadata.ok()) {
    spdlog::error("{}", std::string(metadata.status().message()));
    return 1;
  }
  absl::StatusOr<InputSignature> signature = InputSignatureFromMetadata(*metadata);
  if (!signature.ok()) {
    spdlog::error("{}", std::string(signature.status().message()));
    return 1;
  }
  if (f.random) {
    absl::StatusOr<Tensor> random =
        RandomInput(signature->name, f.batch, signature->features, f.seed);
    if (!random.ok()) {
      spdlog::error("--batch: {}", std::string(random.status().message()));
      return 2;
    }
    input = *std::move(random);
  } else {
    if (input.shape[1] != signature->features) {
      spdlog::error("{}: rows have {} values, model '{}' input '{}' takes {} features", f.input,
                    input.shape[1], f.model, signature->name, signature->features);
      return 2;
    }
    input.name = signature->name;
  }
  InferSpec spec{f.model, f.version, f.id, f.typed};
  absl::StatusOr<InferResult> result = client->Infer(spec, input);
  if (!result.ok()) {
    spdlog::error("{}", std::string(result.status().message()));
    return 1;
  }
  std::cout << DumpJson(InferResultToJson(*result), f.pretty ? 2 : -1) << std::endl;
  return 0;
}

}  // namespace

CLI::Validator Positive() {
  return CLI::Validator(
      [](std::string& value) {
        double v = 0;
        if (absl::SimpleAtod(value, &v) && std::isfinite(v) && v > 0) return std::string();
        return absl::StrCat("must be a positive number, got '", value, "'");
      },
      "POSITIVE");
}

CLI::Validator TimeoutSeconds() {
  return CLI::Validator(
      [](std::string& value) {
        double v = 0;
        if (absl::SimpleAtod(value, &v) && v >= 0.001 && v <= kMaxTimeoutSeconds) {
          return std::string();
        }
        return absl::StrCat("must be seconds from 0.001 to ", kMaxTimeoutSeconds, ", got '", value,
                            "'");
      },
      "SECONDS");
}

absl::StatusOr<InferenceClient::Options> ClientOptions(const GlobalFlags& flags) {
  InferenceClient::Options options;
  options.url = flags.url;
  options.tls = flags.tls;
  options.timeout = std::chrono::milliseconds(static_cast<int64_t>(flags.timeout_s * 1000));
  if (!flags.token_file.empty()) {
    absl::StatusOr<std::string> token = ReadTokenFile(flags.token_file, "--token-file");
    if (!token.ok()) return token.status();
    options.token = *std::move(token);
  }
  return options;
}

std::unique_ptr<InferenceClient> MakeClient(const GlobalFlags& flags) {
  absl::StatusOr<InferenceClient::Options> options = ClientOptions(flags);
  if (!options.ok()) {
    spdlog::error("{}", std::string(options.status().message()));
    return nullptr;
  }
  options->deadline = std::chrono::system_clock::now() + options->timeout;
  absl::StatusOr<std::unique_ptr<InferenceClient>> client = InferenceClient::Create(*options);
  if (!client.ok()) {
    spdlog::error("{}", std::string(client.status().message()));
    return nullptr;
  }
  return std::move(*client);
}

void AddHealthCommand(CLI::App* app, const GlobalFlags* flags, int* exit_code) {
  CLI::App* sub = app->add_subcommand(
      "health", "Liveness, readiness and grpc.health.v1 status as JSON; exit 0 iff SERVING");
  auto service = std::make_shared<std::string>();
  sub->add_option("--service", *service,
                  "grpc.health.v1 service to check: \"\" (default) readiness, \"liveness\" "
                  "whether the process should be restarted");
  sub->callback([=] { *exit_code = RunHealth(*flags, *service); });
}

void AddMetadataCommand(CLI::App* app, const GlobalFlags* flags, int* exit_code) {
  CLI::App* sub = app->add_subcommand("metadata", "A model's metadata as JSON");
  auto model = std::make_shared<std::string>();
  auto version = std::make_shared<std::string>();
  sub->add_option("model", *model, "Model name")->required();
  sub->add_option("--version", *version, "Model version (default: the server picks)");
  sub->callback([=] { *exit_code = RunMetadata(*flags, *model, *version); });
}

void AddInferCommand(CLI::App* app, const GlobalFlags* flags, int* exit_code) {
  CLI::App* sub = app->add_subcommand(
      "infer",
      "One inference; prints {model_name, model_version, id, outputs:[{name, datatype, "
      "shape, data}]}.\nInput file: {\"inputs\": [[row], ...]} or {\"data\": [...], "
      "\"shape\": [N, F]}\nAsks ModelMetadata first for the input's name and width and checks "
      "the input against it before sending (a wrong width: exit 2).");
  auto f = std::make_shared<InferFlags>();
  sub->add_option("model", f->model, "Model name")->required();
  sub->add_option("--version", f->version, "Model version (default: the server picks)");
  auto* input = sub->add_option("--input", f->input, "JSON input file")->check(CLI::ExistingFile);
  auto* random = sub->add_flag("--random", f->random,
                               "Random rows, uniform in [-1, 1), features from metadata");
  input->excludes(random);
  sub->add_option("--batch", f->batch, "Rows for --random")
      ->capture_default_str()
      ->check(Positive())
      ->needs(random);
  auto* raw = sub->add_flag("--raw", f->raw, "Send raw_input_contents (default)");
  auto* typed = sub->add_flag("--typed", f->typed, "Send contents.fp32_contents");
  raw->excludes(typed);
  sub->add_option("--seed", f->seed, "Seed for --random")->capture_default_str();
  sub->add_option("--id", f->id, "Request id, echoed back");
  sub->add_flag("--pretty", f->pretty, "Indent the JSON output");
  sub->callback([=] {
    if (f->input.empty() && !f->random) {
      spdlog::error("infer: give --input FILE.json or --random");
      *exit_code = 2;
      return;
    }
    *exit_code = RunInfer(*flags, *f);
  });
}

}  // namespace mlpserve::client::cli
