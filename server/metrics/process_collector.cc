#include "server/metrics/process_collector.h"

#include <sys/resource.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <sstream>
#include <string>
#include <utility>

#include "prometheus/client_metric.h"
#include "prometheus/metric_type.h"

namespace mlpserve {
namespace {

struct StatFields {
  double cpu_seconds = 0;
  double start_ticks = 0;  // clock ticks after boot
  double virtual_bytes = 0;
  double resident_pages = 0;
};

// /proc/self/stat: fields after the parenthesised command name (which may
// hold spaces), numbered as in proc(5): utime 14, stime 15, starttime 22,
// vsize 23, rss 24.
std::optional<StatFields> ReadStat() {
  std::ifstream in("/proc/self/stat");
  std::string line;
  if (!std::getline(in, line)) return std::nullopt;
  const size_t paren = line.rfind(')');
  if (paren == std::string::npos) return std::nullopt;
  std::istringstream rest(line.substr(paren + 1));
  std::string field;
  StatFields stat;
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  double utime = 0;
  for (int number = 3; rest >> field; ++number) {
    if (number == 14) utime = std::strtod(field.c_str(), nullptr);
    if (number == 15) stat.cpu_seconds = (utime + std::strtod(field.c_str(), nullptr)) / ticks;
    if (number == 22) stat.start_ticks = std::strtod(field.c_str(), nullptr);
    if (number == 23) stat.virtual_bytes = std::strtod(field.c_str(), nullptr);
    if (number == 24) {
      stat.resident_pages = std::strtod(field.c_str(), nullptr);
      return stat;
    }
  }
  return std::nullopt;
}

std::optional<double> BootTimeSeconds() {
  std::ifstream in("/proc/stat");
  std::string key;
  double value = 0;
  while (in >> key) {
    if (key == "btime" && in >> value) return value;
    in.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
  }
  return std::nullopt;
}

std::optional<double> OpenFds() {
  std::error_code error;
  std::filesystem::directory_iterator it("/proc/self/fd", error);
  if (error) return std::nullopt;
  double count = 0;
  for (; it != std::filesystem::directory_iterator(); it.increment(error)) {
    if (error) return std::nullopt;
    ++count;
  }
  return count - 1;  // the iterator's own descriptor
}

prometheus::MetricFamily Family(std::string name, std::string help, prometheus::MetricType type,
                                double value) {
  prometheus::MetricFamily family;
  family.name = std::move(name);
  family.help = std::move(help);
  family.type = type;
  prometheus::ClientMetric metric;
  if (type == prometheus::MetricType::Counter) {
    metric.counter.value = value;
  } else {
    metric.gauge.value = value;
  }
  family.metric.push_back(std::move(metric));
  return family;
}

}  // namespace

std::vector<prometheus::MetricFamily> ProcessCollector::Collect() const {
  using prometheus::MetricType;
  std::vector<prometheus::MetricFamily> families;
  if (std::optional<StatFields> stat = ReadStat()) {
    families.push_back(Family("process_cpu_seconds_total",
                              "Total user and system CPU time spent in seconds.",
                              MetricType::Counter, stat->cpu_seconds));
    families.push_back(Family("process_resident_memory_bytes", "Resident memory size in bytes.",
                              MetricType::Gauge,
                              stat->resident_pages * static_cast<double>(sysconf(_SC_PAGESIZE))));
    families.push_back(Family("process_virtual_memory_bytes", "Virtual memory size in bytes.",
                              MetricType::Gauge, stat->virtual_bytes));
    if (std::optional<double> boot = BootTimeSeconds()) {
      families.push_back(
          Family("process_start_time_seconds",
                 "Start time of the process since unix epoch in seconds.", MetricType::Gauge,
                 *boot + stat->start_ticks / static_cast<double>(sysconf(_SC_CLK_TCK))));
    }
  }
  if (std::optional<double> fds = OpenFds()) {
    families.push_back(
        Family("process_open_fds", "Number of open file descriptors.", MetricType::Gauge, *fds));
  }
  struct rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) {
    families.push_back(Family("process_max_fds", "Maximum number of open file descriptors.",
                              MetricType::Gauge, static_cast<double>(limit.rlim_cur)));
  }
  return families;
}

}  // namespace mlpserve
