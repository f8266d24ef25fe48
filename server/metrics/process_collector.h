// The standard Prometheus process metrics of the running process, read from
// /proc at scrape time (prometheus-cpp 1.0 has no process collector):
//   process_cpu_seconds_total      user + system CPU time
//   process_resident_memory_bytes  RSS
//   process_virtual_memory_bytes   VSZ
//   process_open_fds               entries of /proc/self/fd
//   process_max_fds                soft RLIMIT_NOFILE
//   process_start_time_seconds     Unix time the process started
// A value that cannot be read (not Linux, /proc unmounted) is left out.
//
// Thread-safety: Collect() is thread-safe (no state).
#ifndef MLPSERVE_SERVER_METRICS_PROCESS_COLLECTOR_H_
#define MLPSERVE_SERVER_METRICS_PROCESS_COLLECTOR_H_

#include <vector>

#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"

namespace mlpserve {

class ProcessCollector : public prometheus::Collectable {
 public:
  std::vector<prometheus::MetricFamily> Collect() const override;
};

}  // namespace mlpserve

#endif  // MLPSERVE_SERVER_METRICS_PROCESS_COLLECTOR_H_
