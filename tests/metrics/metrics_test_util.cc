#include "tests/metrics/metrics_test_util.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace mlpserve::testing {

HttpResponse HttpGet(int port, const std::string& path) {
  return HttpRequest(port, "GET", path, 10);
}

HttpResponse HttpRequest(int port, const std::string& method, const std::string& path,
                         int timeout_seconds) {
  HttpResponse response;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return response;
  timeval tv{timeout_seconds, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return response;
  }
  const std::string request =
      absl::StrCat(method, " ", path, " HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
  if (send(fd, request.data(), request.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(request.size())) {
    close(fd);
    return response;
  }
  std::string raw;
  char buffer[8192];
  for (ssize_t n; (n = recv(fd, buffer, sizeof(buffer), 0)) > 0;) raw.append(buffer, n);
  close(fd);
  const size_t header_end = raw.find("\r\n\r\n");
  if (header_end == std::string::npos) return response;
  std::vector<std::string> lines = absl::StrSplit(raw.substr(0, header_end), "\r\n");
  std::vector<std::string> status_line = absl::StrSplit(lines[0], ' ');
  if (status_line.size() < 2 || !absl::SimpleAtoi(status_line[1], &response.status)) {
    return response;
  }
  for (const std::string& line : lines) {
    absl::string_view l = line;
    if (absl::ConsumePrefix(&l, "Content-Type: ")) response.content_type = std::string(l);
    if (absl::ConsumePrefix(&l, "Allow: ")) response.allow = std::string(l);
  }
  response.body = raw.substr(header_end + 4);
  return response;
}

CommandResult RunCommand(const std::string& command, int timeout_seconds) {
  CommandResult result;
  const std::string full = absl::StrCat("timeout -k 5 ", timeout_seconds, " ", command, " 2>&1");
  FILE* pipe = popen(full.c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[4096];
  for (size_t n; (n = fread(buffer, 1, sizeof(buffer), pipe)) > 0;) result.output.append(buffer, n);
  const int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

int Spawn(const std::vector<std::string>& argv, const std::string& log_path) {
  const int pid = fork();
  if (pid != 0) return pid;  // parent, or -1
  const int log = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (log >= 0) {
    dup2(log, 1);
    dup2(log, 2);
  }
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  execvp(args[0], args.data());
  _exit(127);
}

void StopProcess(int pid, int grace_seconds) {
  if (pid <= 0) return;
  kill(pid, SIGTERM);
  for (int i = 0; i < grace_seconds * 10; ++i) {
    if (waitpid(pid, nullptr, WNOHANG) == pid) return;
    usleep(100 * 1000);
  }
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

bool HaveProgram(const std::string& program) {
  const char* path = getenv("PATH");
  for (absl::string_view dir : absl::StrSplit(path ? path : "/usr/bin:/bin", ':')) {
    if (access(absl::StrCat(dir, "/", program).c_str(), X_OK) == 0) return true;
  }
  return false;
}

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

namespace {

// Inodes of the TCP sockets listening on `port`, from a /proc/net/tcp{,6}
// table: "sl local_address(hex ip:hex port) rem_address st ... inode ...".
std::set<std::string> ListeningInodes(const std::string& table, int port) {
  std::set<std::string> inodes;
  std::istringstream in(table);
  std::string line;
  std::getline(in, line);  // the header
  while (std::getline(in, line)) {
    std::vector<std::string> fields = absl::StrSplit(line, ' ', absl::SkipEmpty());
    if (fields.size() < 10 || fields[3] != "0A") continue;  // 0A: TCP_LISTEN
    const size_t colon = fields[1].rfind(':');
    int local_port = 0;
    if (colon == std::string::npos ||
        !absl::SimpleHexAtoi(fields[1].substr(colon + 1), &local_port) || local_port != port) {
      continue;
    }
    inodes.insert(fields[9]);
  }
  return inodes;
}

}  // namespace

bool ProcessListensOn(int pid, int port) {
  const std::string proc = absl::StrCat("/proc/", pid);
  std::set<std::string> inodes = ListeningInodes(ReadFile(proc + "/net/tcp"), port);
  inodes.merge(ListeningInodes(ReadFile(proc + "/net/tcp6"), port));
  if (inodes.empty()) return false;
  std::error_code error;
  for (std::filesystem::directory_iterator it(proc + "/fd", error), end; !error && it != end;
       it.increment(error)) {
    const std::filesystem::path target = std::filesystem::read_symlink(it->path(), error);
    if (error) {  // the descriptor was closed meanwhile
      error.clear();
      continue;
    }
    absl::string_view link = target.native();
    if (absl::ConsumePrefix(&link, "socket:[") && absl::ConsumeSuffix(&link, "]") &&
        inodes.count(std::string(link)) > 0) {
      return true;
    }
  }
  return false;
}

SpawnedServer SpawnOnFreePort(const std::function<std::vector<std::string>(int port)>& argv,
                              const std::string& log_path, int attempts, int timeout_seconds) {
  SpawnedServer server;
  for (int attempt = 1; attempt <= attempts; ++attempt) {
    server.port = FreePort();
    if (server.port <= 0) {
      server.error = "no free port";
      return server;
    }
    const size_t log_start = ReadFile(log_path).size();  // this attempt's log follows
    const int pid = Spawn(argv(server.port), log_path);
    if (pid <= 0) {
      server.error = "could not fork";
      return server;
    }
    for (const absl::Time give_up = absl::Now() + absl::Seconds(timeout_seconds);;) {
      if (ProcessListensOn(pid, server.port)) {
        server.pid = pid;
        server.error.clear();
        return server;
      }
      const bool exited = waitpid(pid, nullptr, WNOHANG) == pid;
      const std::string log = ReadFile(log_path).substr(log_start);
      if (absl::StrContains(log, "address already in use")) {  // try another port
        if (!exited) StopProcess(pid, 10);
        server.error = absl::StrCat("port ", server.port, " taken at start ", attempt, " of ",
                                    attempts, "; log:\n", log);
        break;
      }
      if (exited || absl::Now() > give_up) {
        if (!exited) StopProcess(pid, 10);
        server.error = absl::StrCat(exited ? "exited" : "did not listen", " on port ", server.port,
                                    " within ", timeout_seconds, " s; log:\n", log);
        return server;
      }
      usleep(50 * 1000);
    }
  }
  return server;
}

std::map<std::string, double> ParseSamples(const std::string& text) {
  std::map<std::string, double> samples;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    const size_t space = line.rfind(' ');
    if (space == std::string::npos) continue;
    double value = 0;
    const std::string number = line.substr(space + 1);
    if (number == "+Inf") {
      value = HUGE_VAL;
    } else if (!absl::SimpleAtod(number, &value)) {
      continue;
    }
    samples[line.substr(0, space)] = value;
  }
  return samples;
}

std::set<std::string> FamilyNames(const std::string& text) {
  std::set<std::string> names;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    absl::string_view l = line;
    if (!absl::ConsumePrefix(&l, "# TYPE ")) continue;
    names.insert(std::string(l.substr(0, l.find(' '))));
  }
  return names;
}

Mlp SmallMlp() {
  Mlp mlp;
  mlp.input_name = "x";
  mlp.output_name = "y";
  auto layer = [](int64_t in, int64_t out, ActivationKind kind, const std::string& node) {
    DenseLayer l;
    l.in = in;
    l.out = out;
    l.weights.assign(in * out, 0.5f);
    l.bias.assign(out, 0.0f);
    l.activation.kind = kind;
    l.activation.node = node;
    if (kind == ActivationKind::kPRelu) l.activation.slope.assign(out, 0.25f);
    l.node = node + "_matmul";
    return l;
  };
  mlp.layers.push_back(layer(4, 3, ActivationKind::kLeakyRelu, "act0"));
  mlp.layers.push_back(layer(3, 5, ActivationKind::kPRelu, "act1"));
  mlp.layers.push_back(layer(5, 2, ActivationKind::kSoftmax, "softmax"));
  return mlp;
}

BatchActivationCounts SmallCounts(int64_t rows,
                                  const std::vector<std::vector<uint32_t>>& positive) {
  BatchActivationCounts counts;
  counts.rows = rows;
  const int layer_index[] = {0, 1};
  for (size_t l = 0; l < positive.size(); ++l) {
    LayerSignCounts c;
    c.layer_index = layer_index[l];
    c.values = rows * static_cast<int64_t>(positive[l].size());
    c.positive_rows = positive[l];
    int64_t positives = 0;
    for (uint32_t p : positive[l]) positives += p;
    c.negative = c.values - positives;
    counts.layers.push_back(std::move(c));
  }
  return counts;
}

}  // namespace mlpserve::testing
