#include "tests/metrics/scrape_until.h"

#include <chrono>
#include <thread>

#include "tests/metrics/metrics_test_util.h"

namespace mlpserve::testing {

Samples ScrapeUntil(int port, const std::function<bool(const Samples&)>& done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  Samples samples;
  while (true) {
    samples = ParseSamples(HttpGet(port, "/metrics").body);
    if (done(samples) || std::chrono::steady_clock::now() > deadline) return samples;
    // A pause between polls, not a synchronisation: `done` decides.
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

double ValueOr(const Samples& samples, const std::string& series, double absent) {
  auto it = samples.find(series);
  return it == samples.end() ? absent : it->second;
}

}  // namespace mlpserve::testing
