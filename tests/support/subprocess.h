// Child processes for end-to-end tests: the real mlpserve binary, the CLI
// client, python. Output goes to a log file the test can poll.
#ifndef MLPSERVE_TESTS_SUPPORT_SUBPROCESS_H_
#define MLPSERVE_TESTS_SUPPORT_SUBPROCESS_H_

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace mlpserve::testing {

class Subprocess {
 public:
  // Starts argv[0] (a path) with stdout and stderr appended to `log_path`.
  static Subprocess Start(const std::vector<std::string>& argv, const std::string& log_path);
  Subprocess(Subprocess&& other) noexcept;
  ~Subprocess();  // SIGKILLs a child still running

  // Exit code (128 + signal when killed by a signal), or nullopt on timeout.
  std::optional<int> Wait(absl::Duration timeout);
  void Signal(int signal);
  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }  // -1 once reaped

 private:
  explicit Subprocess(pid_t pid) : pid_(pid) {}
  pid_t pid_ = -1;
};

struct RunResult {
  int exit_code = -1;  // -1 on timeout
  std::string output;  // stdout and stderr together
};

// Runs argv to completion (bounded by `timeout`).
RunResult RunCommand(const std::vector<std::string>& argv,
                     absl::Duration timeout = absl::Seconds(60));

std::string ReadFile(const std::string& path);

// Polls `log_path` until `pattern` (a regex with one capture group) matches;
// returns the capture, or nullopt after `timeout`.
std::optional<std::string> WaitForLog(const std::string& log_path, const std::string& pattern,
                                      absl::Duration timeout);

}  // namespace mlpserve::testing

#endif  // MLPSERVE_TESTS_SUPPORT_SUBPROCESS_H_
