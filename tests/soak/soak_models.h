// The model repository a soak run serves, and the reference of every model
// version in it, so that each answer can be checked against the version
// that computed it.
//
//   steady    32 -> 64 -> 64 -> 4, dynamic batching, queue of 512: valid
//             and invalid traffic.
//   rolling   16 -> 32 -> 32 -> 4, a new version every few seconds (the
//             server polls the folder); the previous folder is removed.
//   slow      256 -> 1024 x3 -> 10, one row per batch, queue of 4: overload
//             bursts are shed here.
//
// Thread-safety: Roll is called by one thread; Reference by any.
#ifndef MLPSERVE_TESTS_SOAK_SOAK_MODELS_H_
#define MLPSERVE_TESTS_SOAK_SOAK_MODELS_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "server/model/mlp.h"

namespace mlpserve::testing {

class SoakModels {
 public:
  static constexpr int64_t kSteadyFeatures = 32;
  static constexpr int64_t kRollingFeatures = 16;
  static constexpr int64_t kSlowFeatures = 256;

  // Writes the three models under a new temporary folder.
  static absl::StatusOr<std::unique_ptr<SoakModels>> Create();

  const std::string& root() const { return root_; }

  // Publishes version N+1 of "rolling" (written beside the repository, then
  // renamed in, so the poller never sees half a file) and removes version
  // N-1's folder. Returns the new version.
  absl::StatusOr<int64_t> Roll();

  // The reference forward of `model` at `version` (steady and slow have
  // only version 1); an empty vector when the version is unknown.
  std::vector<float> Reference(const std::string& model, int64_t version,
                               const std::vector<float>& input, int64_t rows) const;

 private:
  explicit SoakModels(std::string root) : root_(std::move(root)) {}
  absl::Status WriteVersion(const std::string& model, int64_t version,
                            const std::vector<int64_t>& dims, uint32_t seed);

  const std::string root_;
  mutable absl::Mutex mu_;
  // "model" -> version -> its weights, as the importer reads them.
  std::map<std::string, std::map<int64_t, Mlp>> mlps_ ABSL_GUARDED_BY(mu_);
  int64_t rolling_version_ = 0;  // touched only by Create and Roll
};

}  // namespace mlpserve::testing

#endif  // MLPSERVE_TESTS_SOAK_SOAK_MODELS_H_
