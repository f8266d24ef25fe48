// The metrics endpoint against the real tools that consume it: promtool's
// exposition checker, a real Prometheus scraping it, and headless Chromium
// rendering /activations. Each test skips when its tool is not installed.
#include <unistd.h>

#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/metrics/fed_server.h"
#include "tests/support/temp_dir.h"

namespace mlpserve::testing {
namespace {

using ::testing::HasSubstr;

class MetricsToolsTest : public FedServerTest {};

TEST_F(MetricsToolsTest, PromtoolAcceptsTheExposition) {
  if (!HaveProgram("promtool")) GTEST_SKIP() << "promtool is not installed";
  const std::string dir = MakeTempDir("promtool");
  const std::string file = dir + "/metrics.txt";
  std::ofstream(file) << Scrape();
  CommandResult r = RunCommand(absl::StrCat("promtool check metrics < ", file), 60);
  EXPECT_EQ(r.exit_code, 0) << r.output;
}

// Polls Prometheus' query API for `query` until it returns a non-empty
// vector; returns the result array (empty on timeout).
nlohmann::json QueryUntilPresent(int port, const std::string& query, int timeout_seconds) {
  for (int i = 0; i < timeout_seconds * 4; ++i) {
    HttpResponse r = HttpGet(port, "/api/v1/query?query=" + query);
    if (r.status == 200) {
      nlohmann::json j = nlohmann::json::parse(r.body, nullptr, /*allow_exceptions=*/false);
      if (j.is_object() && j["status"] == "success" && !j["data"]["result"].empty()) {
        return j["data"]["result"];
      }
    }
    usleep(250 * 1000);
  }
  return nlohmann::json::array();
}

// A real Prometheus with deploy/prometheus's configuration and alerts,
// scraping and evaluating every second, pointed at `targets` instead of the
// shipped mlpserve:8002 (the compose stack's service name), listening on
// `port`. On failure `pid` is 0 and `error` says why.
struct PrometheusProcess {
  std::string dir;
  std::string log;
  int port = 0;
  int pid = 0;
  std::string error;
};

PrometheusProcess StartPrometheus(const std::vector<std::string>& targets) {
  PrometheusProcess p;
  p.dir = MakeTempDir("prometheus");
  if (p.dir.empty()) {
    p.error = "no temporary directory";
    return p;
  }
  const std::string deploy = std::string(MLPSERVE_SOURCE_DIR) + "/deploy/prometheus/";
  std::string config = ReadFile(deploy + "prometheus.yml");
  const std::string shipped_targets = "[\"mlpserve:8002\"]";
  if (config.find(shipped_targets) == std::string::npos) {
    p.error = absl::StrCat("prometheus.yml does not scrape ", shipped_targets);
    return p;
  }
  std::vector<std::string> quoted;
  for (const std::string& target : targets) quoted.push_back(absl::StrCat("\"", target, "\""));
  config = absl::StrReplaceAll(config, {{shipped_targets, "[" + absl::StrJoin(quoted, ", ") + "]"},
                                        {"scrape_interval: 15s", "scrape_interval: 1s"},
                                        {"evaluation_interval: 15s", "evaluation_interval: 1s"}});
  std::ofstream(p.dir + "/prometheus.yml") << config;
  std::ofstream(p.dir + "/alerts.yml") << ReadFile(deploy + "alerts.yml");
  p.log = p.dir + "/prometheus.log";
  // Retried on another port if a parallel test takes the free one first.
  const SpawnedServer server = SpawnOnFreePort(
      [&](int port) -> std::vector<std::string> {
        return {"prometheus", "--config.file=" + p.dir + "/prometheus.yml",
                absl::StrCat("--storage.tsdb.path=", p.dir, "/data-", port),
                absl::StrCat("--web.listen-address=127.0.0.1:", port), "--log.level=warn"};
      },
      p.log);
  p.port = server.port;
  p.pid = server.pid;
  p.error = server.error;
  return p;
}

TEST_F(MetricsToolsTest, RealPrometheusScrapesTheServer) {
  if (!HaveProgram("prometheus")) GTEST_SKIP() << "prometheus is not installed";
  const PrometheusProcess prometheus = StartPrometheus({absl::StrCat("127.0.0.1:", http_->port())});
  ASSERT_GT(prometheus.pid, 0) << prometheus.error;
  const int port = prometheus.port;
  const std::string& log = prometheus.log;
  nlohmann::json requests = QueryUntilPresent(port, "mlpserve_requests_total", 30);
  nlohmann::json dead =
      QueryUntilPresent(port, "mlpserve_dead_neurons%7Bmodel%3D%22tiny%22%7D", 10);
  nlohmann::json up = QueryUntilPresent(port, "up%7Bjob%3D%22mlpserve%22%7D", 5);
  StopProcess(prometheus.pid, 10);

  ASSERT_FALSE(requests.empty()) << "no scrape within 30 s; log:\n" << ReadFile(log);
  bool saw_ok = false;
  for (const nlohmann::json& series : requests) {
    if (series["metric"]["code"] == "OK" && series["metric"]["model"] == "tiny") {
      saw_ok = true;
      EXPECT_EQ(series["metric"]["job"], "mlpserve");
      EXPECT_EQ(series["value"][1], "2");
    }
  }
  EXPECT_TRUE(saw_ok) << requests.dump();
  ASSERT_EQ(dead.size(), 2u) << dead.dump();
  for (const nlohmann::json& series : dead) {
    EXPECT_EQ(series["value"][1], series["metric"]["layer"] == "0" ? "1" : "0") << series.dump();
  }
  ASSERT_EQ(up.size(), 1u);
  EXPECT_EQ(up[0]["value"][1], "1");
}

// A PromQL expression as a query-string value.
std::string UrlEncode(absl::string_view text) {
  std::string out;
  for (const char c : text) {
    if (absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ||
        c == '~') {
      out.push_back(c);
    } else {
      absl::StrAppend(&out, "%", absl::Hex(static_cast<unsigned char>(c), absl::kZeroPad2));
    }
  }
  return out;
}

// Prometheus' answer to an instant query (the whole JSON document).
nlohmann::json Query(int port, absl::string_view promql) {
  HttpResponse r = HttpGet(port, "/api/v1/query?query=" + UrlEncode(promql));
  return nlohmann::json::parse(r.body, nullptr, /*allow_exceptions=*/false);
}

// Prometheus' alerting and recording rules, read once every rule had been
// evaluated after a given time (or the wait ended).
struct RulesAnswer {
  std::vector<nlohmann::json> rules;     // every rule of every group
  std::vector<std::string> unevaluated;  // names of those not evaluated since
  nlohmann::json last;                   // the last /api/v1/rules answer
};

// Polls /api/v1/rules until every rule's lastEvaluation (RFC 3339; the zero
// time 0001-01-01 before the first) is later than `after` (Unix seconds), for
// at most `timeout_seconds`. Rule groups are evaluated on their own
// schedule, late on a loaded machine: a fixed wait could read a rule that
// has not run yet ("unknown" health).
RulesAnswer RulesEvaluatedAfter(int port, double after, int timeout_seconds) {
  RulesAnswer answer;
  answer.unevaluated.push_back("(no answer)");
  const absl::Time since = absl::FromUnixNanos(static_cast<int64_t>(after * 1e9));
  for (const absl::Time give_up = absl::Now() + absl::Seconds(timeout_seconds);
       absl::Now() < give_up; usleep(250 * 1000)) {
    const HttpResponse r = HttpGet(port, "/api/v1/rules");
    answer.last = nlohmann::json::parse(r.body, nullptr, /*allow_exceptions=*/false);
    if (!answer.last.is_object() || answer.last["status"] != "success") continue;
    answer.rules.clear();
    answer.unevaluated.clear();
    for (const nlohmann::json& group : answer.last["data"]["groups"]) {
      for (const nlohmann::json& rule : group["rules"]) {
        answer.rules.push_back(rule);
        absl::Time evaluated;
        std::string error;
        if (!absl::ParseTime(absl::RFC3339_full, rule.value("lastEvaluation", ""), &evaluated,
                             &error) ||
            evaluated <= since) {
          answer.unevaluated.push_back(rule.value("name", "?"));
        }
      }
    }
    if (!answer.rules.empty() && answer.unevaluated.empty()) break;
  }
  return answer;
}

// Two replicas, as Kubernetes runs them: the same server scraped as two
// targets (127.0.0.1 and localhost: two `instance` values, each exporting the
// same model/version/layer series). Every dashboard query and every alert
// rule must evaluate without error there; a join on model, version and layer
// alone is many-to-many with two replicas and fails.
TEST_F(MetricsToolsTest, DashboardQueriesAndAlertRulesWorkWithTwoReplicas) {
  if (!HaveProgram("prometheus")) GTEST_SKIP() << "prometheus is not installed";
  const std::string port_text = absl::StrCat(http_->port());
  const PrometheusProcess prometheus =
      StartPrometheus({"127.0.0.1:" + port_text, "localhost:" + port_text});
  ASSERT_GT(prometheus.pid, 0) << prometheus.error;
  const int port = prometheus.port;
  // Both targets scraped twice (rates need two samples), and every rule
  // evaluated after that.
  bool scraped = false;
  double scraped_at = 0;  // Prometheus' time of the query that saw it, Unix seconds
  for (int i = 0; i < 60 * 4 && !scraped; ++i) {
    const nlohmann::json j = Query(port, "count(count_over_time(up{job=\"mlpserve\"}[1m]) >= 2)");
    scraped = j.is_object() && j["status"] == "success" && !j["data"]["result"].empty() &&
              j["data"]["result"][0]["value"][1] == "2";
    if (scraped) scraped_at = j["data"]["result"][0]["value"][0].get<double>();
    if (!scraped) usleep(250 * 1000);
  }
  const RulesAnswer rules = scraped ? RulesEvaluatedAfter(port, scraped_at, 60) : RulesAnswer{};

  const nlohmann::json dashboard = nlohmann::json::parse(
      ReadFile(std::string(MLPSERVE_SOURCE_DIR) + "/deploy/grafana/dashboards/mlpserve.json"));
  std::vector<std::pair<std::string, nlohmann::json>> answers;
  for (const nlohmann::json& panel : dashboard["panels"]) {
    if (!panel.contains("targets")) continue;
    for (const nlohmann::json& target : panel["targets"]) {
      const std::string expr =
          absl::StrReplaceAll(target["expr"].get<std::string>(),
                              {{"$model", ".*"}, {"$version", ".*"}, {"$__rate_interval", "1m"}});
      answers.emplace_back(expr, Query(port, expr));
    }
  }
  StopProcess(prometheus.pid, 10);

  ASSERT_TRUE(scraped) << "both targets not scraped within 60 s; log:\n"
                       << ReadFile(prometheus.log);
  ASSERT_FALSE(answers.empty());
  for (const auto& [expr, answer] : answers) {
    EXPECT_EQ(answer["status"], "success") << expr << "\n" << answer.dump();
  }
  ASSERT_TRUE(rules.unevaluated.empty())
      << "rules not evaluated within 60 s of both targets' second scrape: "
      << absl::StrJoin(rules.unevaluated, ", ") << "\n"
      << rules.last.dump();
  ASSERT_FALSE(rules.rules.empty()) << rules.last.dump();
  for (const nlohmann::json& rule : rules.rules) {
    EXPECT_EQ(rule["health"], "ok") << rule["name"] << ": " << rule.value("lastError", "");
  }
  // The dead-unit fraction panel: one series per replica and layer.
  bool saw_fraction = false;
  for (const auto& [expr, answer] : answers) {
    if (expr.find("mlpserve_dead_neurons") == std::string::npos ||
        expr.find("mlpserve_layer_units") == std::string::npos) {
      continue;
    }
    saw_fraction = true;
    const bool has_result = answer.contains("data") && answer["data"].contains("result");
    EXPECT_EQ(has_result ? answer["data"]["result"].size() : 0u, 4u) << expr << "\n"
                                                                     << answer.dump();
  }
  EXPECT_TRUE(saw_fraction);
}

TEST_F(MetricsToolsTest, ChromiumRendersTheActivationsPage) {
  std::string browser;
  for (const char* name : {"chromium", "chromium-browser", "google-chrome"}) {
    if (HaveProgram(name)) {
      browser = name;
      break;
    }
  }
  if (browser.empty()) GTEST_SKIP() << "chromium is not installed";
  const std::string dir = MakeTempDir("chromium");
  ASSERT_FALSE(dir.empty());
  CommandResult r = RunCommand(
      absl::StrCat(browser,
                   " --headless --no-sandbox --disable-gpu --disable-quic --no-first-run"
                   " --disable-background-networking --disable-component-update --disable-sync"
                   " --disable-crash-reporter --user-data-dir=",
                   dir, " --dump-dom http://127.0.0.1:", http_->port(), "/activations"),
      120);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("id=\"layer-tiny-1-0\""));
  EXPECT_THAT(r.output, HasSubstr("id=\"layer-tiny-1-1\""));
  EXPECT_THAT(r.output, HasSubstr("class=\"unit dead\""));
  EXPECT_THAT(r.output, HasSubstr("<svg"));
}

}  // namespace
}  // namespace mlpserve::testing
