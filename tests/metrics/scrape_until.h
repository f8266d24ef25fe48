// Bounded polling of /metrics, for tests whose metrics are updated after the
// response they wait for (the scheduler reports a batch to its observer after
// answering the batch's requests; the reaper releases a model off-thread).
#ifndef MLPSERVE_TESTS_METRICS_SCRAPE_UNTIL_H_
#define MLPSERVE_TESTS_METRICS_SCRAPE_UNTIL_H_

#include <functional>
#include <map>
#include <string>

namespace mlpserve::testing {

using Samples = std::map<std::string, double>;

// Scrapes http://127.0.0.1:port/metrics (ParseSamples) until `done` holds for
// the samples or about 60 s have passed, pausing 5 ms between scrapes; returns
// the last samples either way, for the caller's exact assertions.
Samples ScrapeUntil(int port, const std::function<bool(const Samples&)>& done);

// The value of `series` in `samples`, or -1 when it is absent.
double ValueOr(const Samples& samples, const std::string& series, double absent = -1);

}  // namespace mlpserve::testing

#endif  // MLPSERVE_TESTS_METRICS_SCRAPE_UNTIL_H_
