#include "tests/soak/soak_traffic.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "absl/strings/str_cat.h"
#include "client/lib/status_util.h"
#include "tests/soak/soak_models.h"

namespace mlpserve::testing {
namespace {

using grpc::StatusCode;

const std::array<TrafficSpec, static_cast<size_t>(TrafficKind::kCount)> kSpecs = {{
    {"valid", 50, {StatusCode::OK}},
    {"rolling", 15, {StatusCode::OK}},
    {"non_finite", 3, {StatusCode::OK}},
    {"short_deadline", 5, {StatusCode::OK, StatusCode::DEADLINE_EXCEEDED}},
    {"wrong_features", 4, {StatusCode::INVALID_ARGUMENT}},
    {"bytes_mismatch", 4, {StatusCode::INVALID_ARGUMENT}},
    {"wrong_datatype", 4, {StatusCode::INVALID_ARGUMENT}},
    {"too_many_rows", 4, {StatusCode::INVALID_ARGUMENT}},
    {"unknown_input", 4, {StatusCode::INVALID_ARGUMENT}},
    {"unknown_model", 3, {StatusCode::NOT_FOUND}},
    {"unknown_version", 3, {StatusCode::NOT_FOUND}},
    {"oversized", 1, {StatusCode::RESOURCE_EXHAUSTED}},
    {"overload", 0, {StatusCode::OK, StatusCode::RESOURCE_EXHAUSTED}},
}};

constexpr absl::Duration kPatience = absl::Seconds(30);

std::vector<float> RandomRows(std::mt19937& rng, int64_t rows, int64_t features) {
  std::uniform_real_distribution<float> value(-2.f, 2.f);
  std::vector<float> values(rows * features);
  for (float& v : values) v = value(rng);
  return values;
}

void AddInput(inference::ModelInferRequest& request, const std::string& name,
              const std::string& datatype, int64_t rows, int64_t features,
              const std::vector<float>& values) {
  auto* input = request.add_inputs();
  input->set_name(name);
  input->set_datatype(datatype);
  input->add_shape(rows);
  input->add_shape(features);
  request.add_raw_input_contents(
      std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float)));
}

}  // namespace

const TrafficSpec& Spec(TrafficKind kind) { return kSpecs[static_cast<size_t>(kind)]; }

absl::StatusOr<TrafficMix> TrafficMix::Create(const std::vector<std::string>& only) {
  std::vector<int> weights;
  for (const TrafficSpec& spec : kSpecs) {
    const bool chosen =
        only.empty() || std::find(only.begin(), only.end(), spec.name) != only.end();
    weights.push_back(chosen ? spec.weight : 0);
  }
  for (const std::string& name : only) {
    auto known = std::find_if(kSpecs.begin(), kSpecs.end(), [&](const TrafficSpec& spec) {
      return spec.name == name && spec.weight > 0;
    });
    if (known == kSpecs.end()) {
      return absl::InvalidArgumentError(absl::StrCat("unknown traffic kind '", name, "'"));
    }
  }
  return TrafficMix(std::discrete_distribution<int>(weights.begin(), weights.end()));
}

TrafficKind TrafficMix::Pick(std::mt19937& rng) const {
  std::discrete_distribution<int> pick = weights_;
  return static_cast<TrafficKind>(pick(rng));
}

SoakCall MakeCall(TrafficKind kind, std::mt19937& rng) {
  constexpr int64_t kSteady = SoakModels::kSteadyFeatures;
  SoakCall call;
  call.timeout = kPatience;
  call.rows = std::uniform_int_distribution<int64_t>(1, 8)(rng);
  inference::ModelInferRequest& request = call.request;
  request.set_model_name("steady");
  switch (kind) {
    case TrafficKind::kValid:
    case TrafficKind::kShortDeadline:
      call.input = RandomRows(rng, call.rows, kSteady);
      call.check = true;
      if (kind == TrafficKind::kShortDeadline) {
        call.timeout = absl::Microseconds(std::uniform_int_distribution<int>(0, 2000)(rng));
      }
      AddInput(request, "input", "FP32", call.rows, kSteady, call.input);
      break;
    case TrafficKind::kRolling:
      request.set_model_name("rolling");
      call.input = RandomRows(rng, call.rows, SoakModels::kRollingFeatures);
      call.check = true;
      AddInput(request, "input", "FP32", call.rows, SoakModels::kRollingFeatures, call.input);
      break;
    case TrafficKind::kNonFinite: {
      std::vector<float> values = RandomRows(rng, call.rows, kSteady);
      values[0] = std::numeric_limits<float>::quiet_NaN();
      values.back() = -std::numeric_limits<float>::infinity();
      AddInput(request, "input", "FP32", call.rows, kSteady, values);
      break;
    }
    case TrafficKind::kWrongFeatures:
      AddInput(request, "input", "FP32", call.rows, kSteady - 1,
               RandomRows(rng, call.rows, kSteady - 1));
      break;
    case TrafficKind::kBytesMismatch: {
      AddInput(request, "input", "FP32", call.rows, kSteady, RandomRows(rng, call.rows, kSteady));
      std::string& bytes = *request.mutable_raw_input_contents(0);
      bytes.resize(std::uniform_int_distribution<size_t>(0, bytes.size() - 1)(rng));
      break;
    }
    case TrafficKind::kWrongDatatype:
      AddInput(request, "input", "FP16", call.rows * 2, kSteady,
               RandomRows(rng, call.rows, kSteady));
      break;
    case TrafficKind::kTooManyRows:
      AddInput(request, "input", "FP32", 65, kSteady, RandomRows(rng, 65, kSteady));
      break;
    case TrafficKind::kUnknownInput:
      AddInput(request, absl::StrCat("input", rng() % 1000), "FP32", call.rows, kSteady,
               RandomRows(rng, call.rows, kSteady));
      break;
    case TrafficKind::kUnknownModel:
      request.set_model_name(absl::StrCat("absent_", rng() % 1000));
      AddInput(request, "input", "FP32", call.rows, kSteady, RandomRows(rng, call.rows, kSteady));
      break;
    case TrafficKind::kUnknownVersion:
      request.set_model_version(absl::StrCat(2 + rng() % 1000));
      AddInput(request, "input", "FP32", call.rows, kSteady, RandomRows(rng, call.rows, kSteady));
      break;
    case TrafficKind::kOversized: {
      const int64_t rows = kSoakMaxRequestBytes / (kSteady * 4) + 1;
      AddInput(request, "input", "FP32", rows, kSteady, RandomRows(rng, rows, kSteady));
      break;
    }
    case TrafficKind::kOverload:
      request.set_model_name("slow");
      call.rows = 1;
      AddInput(request, "input", "FP32", 1, SoakModels::kSlowFeatures,
               RandomRows(rng, 1, SoakModels::kSlowFeatures));
      break;
    case TrafficKind::kCount:
      break;
  }
  return call;
}

void SoakTally::Record(TrafficKind kind, const grpc::Status& status) {
  const TrafficSpec& spec = Spec(kind);
  const bool expected = std::find(spec.expected.begin(), spec.expected.end(),
                                  status.error_code()) != spec.expected.end();
  absl::MutexLock lock(&mu_);
  ++counts_[static_cast<size_t>(kind)][status.error_code()];
  if (expected) return;
  ++unexpected_;
  if (examples_.size() < 10) {
    examples_.push_back(absl::StrCat(spec.name, ": ", client::StatusCodeName(status.error_code()),
                                     ": ", status.error_message()));
  }
}

void SoakTally::WrongAnswer(const std::string& what) {
  absl::MutexLock lock(&mu_);
  ++wrong_answers_;
  if (examples_.size() < 10) examples_.push_back("wrong answer: " + what);
}

void SoakTally::VersionSeen(const std::string& model, int64_t version) {
  absl::MutexLock lock(&mu_);
  ++versions_[model][version];
}

int64_t SoakTally::unexpected() const {
  absl::MutexLock lock(&mu_);
  return unexpected_;
}

int64_t SoakTally::wrong_answers() const {
  absl::MutexLock lock(&mu_);
  return wrong_answers_;
}

int64_t SoakTally::Count(TrafficKind kind, grpc::StatusCode code) const {
  absl::MutexLock lock(&mu_);
  const auto& codes = counts_[static_cast<size_t>(kind)];
  auto it = codes.find(code);
  return it == codes.end() ? 0 : it->second;
}

size_t SoakTally::VersionsSeen(const std::string& model) const {
  absl::MutexLock lock(&mu_);
  auto it = versions_.find(model);
  return it == versions_.end() ? 0 : it->second.size();
}

std::string SoakTally::Report() const {
  absl::MutexLock lock(&mu_);
  std::string out;
  std::map<grpc::StatusCode, int64_t> totals;
  int64_t all = 0;
  for (size_t k = 0; k < counts_.size(); ++k) {
    int64_t sent = 0;
    std::string codes;
    for (const auto& [code, count] : counts_[k]) {
      sent += count;
      totals[code] += count;
      absl::StrAppend(&codes, " ", client::StatusCodeName(code), "=", count);
    }
    all += sent;
    absl::StrAppend(&out, "  ", kSpecs[k].name, std::string(16 - strlen(kSpecs[k].name), ' '), sent,
                    " calls:", codes, "\n");
  }
  absl::StrAppend(&out, "  total           ", all, " calls:");
  for (const auto& [code, count] : totals) {
    absl::StrAppend(&out, " ", client::StatusCodeName(code), "=", count);
  }
  absl::StrAppend(&out, "\n  unexpected codes: ", unexpected_, ", wrong answers: ", wrong_answers_,
                  "\n");
  for (const std::string& example : examples_) absl::StrAppend(&out, "    ", example, "\n");
  return out;
}

}  // namespace mlpserve::testing
