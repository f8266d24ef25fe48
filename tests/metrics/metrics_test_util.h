// Helpers of the metrics tests: a tiny loopback HTTP client, a bounded shell
// command runner, a Prometheus text parser and a small model.
#ifndef MLPSERVE_TESTS_METRICS_METRICS_TEST_UTIL_H_
#define MLPSERVE_TESTS_METRICS_METRICS_TEST_UTIL_H_

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "server/engine/activation_counts.h"
#include "server/model/mlp.h"

namespace mlpserve::testing {

struct HttpResponse {
  int status = 0;  // 0: no connection / malformed response
  std::string content_type;
  std::string allow;  // the Allow header
  std::string body;
};

// GET http://127.0.0.1:port/path (HTTP/1.0, 10 s socket timeouts).
HttpResponse HttpGet(int port, const std::string& path);

// `method` http://127.0.0.1:port/path (HTTP/1.0, no body); a receive or
// send that waits `timeout_seconds` gives up (status 0).
HttpResponse HttpRequest(int port, const std::string& method, const std::string& path,
                         int timeout_seconds);

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

// Runs the shell command line `timeout -k 5 <seconds> <command> 2>&1`;
// `command` must be a simple command (quote its arguments yourself).
CommandResult RunCommand(const std::string& command, int timeout_seconds);

// Starts argv[0] (searched on PATH) with stdout and stderr appended to
// `log_path`; returns its pid, or -1.
int Spawn(const std::vector<std::string>& argv, const std::string& log_path);

// SIGTERM to `pid`, then SIGKILL if it has not exited within `grace_seconds`;
// reaps it.
void StopProcess(int pid, int grace_seconds);

// The whole file, or "" if unreadable.
std::string ReadFile(const std::string& path);

// True when `program` is an executable found on PATH.
bool HaveProgram(const std::string& program);

// A free loopback TCP port (bound, read back, closed). Only a hint: nothing
// reserves it, so another process (a parallel ctest job) may bind it before
// the caller does. To start a server process on it, use SpawnOnFreePort,
// which tries another port when that happens.
int FreePort();

// Whether process `pid` (a child of this one, or any process of this user)
// holds a TCP socket listening on `port` (IPv4 or IPv6), as /proc shows.
bool ProcessListensOn(int pid, int port);

struct SpawnedServer {
  int pid = 0;        // > 0: running and listening on `port`; 0: failed
  int port = 0;       // the port it listens on
  std::string error;  // why it failed, with the last attempt's log
};

// Starts the server process argv(port) (Spawn: searched on PATH, output
// appended to `log_path`) on a port from FreePort() and waits until it
// listens there (ProcessListensOn). When the port was taken first (the
// process exits, or logs "address already in use", before it listens), the
// process is stopped and started again on a new port, at most `attempts`
// starts in all. Fails (pid 0) when the process exits for another reason,
// or does not listen within `timeout_seconds` of a start. The caller owns
// the process (StopProcess).
SpawnedServer SpawnOnFreePort(const std::function<std::vector<std::string>(int port)>& argv,
                              const std::string& log_path, int attempts = 5,
                              int timeout_seconds = 60);

// Sample values of a text-format exposition keyed by the series as written:
// `name{label="v",...}` (labels in the order printed) or `name`.
std::map<std::string, double> ParseSamples(const std::string& text);

// Metric family names (from # TYPE lines) of a text-format exposition.
std::set<std::string> FamilyNames(const std::string& text);

// 4 -> 3 (leaky_relu "act0") -> 5 (prelu "act1") -> 2 (softmax): observed
// layers 0 (dense 0) and 1 (dense 1).
Mlp SmallMlp();

// Counts for SmallMlp with `rows` rows where unit u of observed layer l has
// positive[l][u] positive rows and every other value is negative.
BatchActivationCounts SmallCounts(int64_t rows, const std::vector<std::vector<uint32_t>>& positive);

}  // namespace mlpserve::testing

#endif  // MLPSERVE_TESTS_METRICS_METRICS_TEST_UTIL_H_
