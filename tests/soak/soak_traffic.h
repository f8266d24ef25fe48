// What a soak run sends: kinds of ModelInfer calls, valid and hostile, each
// with the status codes it may get back, and the tally of what came back.
//
// Thread-safety: MakeCall is a pure function of its arguments; SoakTally is
// thread-safe.
#ifndef MLPSERVE_TESTS_SOAK_SOAK_TRAFFIC_H_
#define MLPSERVE_TESTS_SOAK_SOAK_TRAFFIC_H_

#include <array>
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/support/status.h"
#include "proto/inference.pb.h"

namespace mlpserve::testing {

enum class TrafficKind {
  kValid,           // steady, 1-8 rows: OK, answer checked
  kRolling,         // rolling, latest version: OK, answer checked against that version
  kNonFinite,       // steady with NaN and Inf inputs: OK (accepted, documented)
  kShortDeadline,   // steady with a 0-2 ms deadline: OK or DEADLINE_EXCEEDED
  kWrongFeatures,   // INVALID_ARGUMENT
  kBytesMismatch,   // raw bytes do not match the shape: INVALID_ARGUMENT
  kWrongDatatype,   // INVALID_ARGUMENT
  kTooManyRows,     // above max_batch_size: INVALID_ARGUMENT
  kUnknownInput,    // input name that is not the model's: INVALID_ARGUMENT
  kUnknownModel,    // NOT_FOUND
  kUnknownVersion,  // NOT_FOUND
  kOversized,       // above --max-request-bytes: RESOURCE_EXHAUSTED
  kOverload,        // bursts on slow: OK or RESOURCE_EXHAUSTED
  kCount,
};

// The limit the soak's server runs with; kOversized goes over it.
inline constexpr int64_t kSoakMaxRequestBytes = 1 << 20;

struct TrafficSpec {
  const char* name;
  int weight;  // share of the clients' calls; 0: sent only by bursts
  std::vector<grpc::StatusCode> expected;
};
const TrafficSpec& Spec(TrafficKind kind);

// Which kinds the clients send, at their weights (never kOverload, which
// only bursts send).
class TrafficMix {
 public:
  // `only` empty: every kind; else just the kinds of those names.
  // INVALID_ARGUMENT naming an unknown kind.
  static absl::StatusOr<TrafficMix> Create(const std::vector<std::string>& only);
  TrafficKind Pick(std::mt19937& rng) const;

 private:
  explicit TrafficMix(std::discrete_distribution<int> weights) : weights_(std::move(weights)) {}
  std::discrete_distribution<int> weights_;
};

struct SoakCall {
  inference::ModelInferRequest request;
  absl::Duration timeout;
  // Set when an OK answer must equal the reference of the version it names.
  bool check = false;
  std::vector<float> input;  // rows x features, for the check
  int64_t rows = 0;
};
SoakCall MakeCall(TrafficKind kind, std::mt19937& rng);

// Counts by kind and status code, and everything that was not expected.
class SoakTally {
 public:
  void Record(TrafficKind kind, const grpc::Status& status);
  void WrongAnswer(const std::string& what);
  void VersionSeen(const std::string& model, int64_t version);

  int64_t unexpected() const;
  int64_t wrong_answers() const;
  int64_t Count(TrafficKind kind, grpc::StatusCode code) const;
  size_t VersionsSeen(const std::string& model) const;
  // Per kind and in total, by code; then the first unexpected answers.
  std::string Report() const;

 private:
  mutable absl::Mutex mu_;
  std::array<std::map<grpc::StatusCode, int64_t>, static_cast<size_t>(TrafficKind::kCount)> counts_
      ABSL_GUARDED_BY(mu_);
  int64_t unexpected_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t wrong_answers_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::string> examples_ ABSL_GUARDED_BY(mu_);  // the first few
  std::map<std::string, std::map<int64_t, int64_t>> versions_ ABSL_GUARDED_BY(mu_);
};

}  // namespace mlpserve::testing

#endif  // MLPSERVE_TESTS_SOAK_SOAK_TRAFFIC_H_
