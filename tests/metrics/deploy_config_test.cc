// deploy/prometheus and deploy/grafana against the server: every metric the
// dashboard and the alerts use is one the server exports, and promtool
// accepts the rule and scrape configuration.
#include <regex>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/metrics/fed_server.h"

namespace mlpserve::testing {
namespace {

const std::string kDeploy = std::string(MLPSERVE_SOURCE_DIR) + "/deploy/";

// Names of mlpserve_* and process_* metrics mentioned in `text`.
std::set<std::string> MetricNames(const std::string& text) {
  static const std::regex kName("\\b(mlpserve|process)_[a-z0-9_]+");
  std::set<std::string> names;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), kName);
       it != std::sregex_iterator(); ++it) {
    names.insert(it->str());
  }
  return names;
}

void CollectExprs(const nlohmann::json& j, std::string* out) {
  if (j.is_object()) {
    for (auto& [key, value] : j.items()) {
      if ((key == "expr" || key == "query" || key == "definition") && value.is_string()) {
        absl::StrAppend(out, value.get<std::string>(), "\n");
      } else {
        CollectExprs(value, out);
      }
    }
  } else if (j.is_array()) {
    for (const nlohmann::json& v : j) CollectExprs(v, out);
  }
}

class DeployConfigTest : public FedServerTest {
 protected:
  // Sample names the server exports: families plus histogram series.
  std::set<std::string> Exported() {
    std::set<std::string> names = FamilyNames(Scrape());
    for (const std::string& n : std::set<std::string>(names)) {
      for (const char* suffix : {"_bucket", "_sum", "_count"}) names.insert(n + suffix);
    }
    return names;
  }

  void ExpectAllExported(const std::set<std::string>& used, const std::string& what) {
    const std::set<std::string> exported = Exported();
    std::set<std::string> unknown;
    for (const std::string& name : used) {
      if (!exported.count(name)) unknown.insert(name);
    }
    EXPECT_TRUE(unknown.empty()) << what << " uses metrics the server does not export: "
                                 << absl::StrJoin(unknown, ", ");
  }
};

TEST_F(DeployConfigTest, DashboardUsesExportedMetrics) {
  nlohmann::json dashboard =
      nlohmann::json::parse(ReadFile(kDeploy + "grafana/dashboards/mlpserve.json"), nullptr, false);
  ASSERT_FALSE(dashboard.is_discarded()) << "mlpserve.json is not JSON";
  std::string exprs;
  CollectExprs(dashboard, &exprs);
  const std::set<std::string> used = MetricNames(exprs);
  EXPECT_GE(used.size(), 10u);
  for (const char* required :
       {"mlpserve_request_duration_seconds_bucket", "mlpserve_requests_total",
        "mlpserve_batch_size_bucket", "mlpserve_queue_depth", "mlpserve_activation_negative_ratio",
        "mlpserve_dead_neurons"}) {
    EXPECT_TRUE(used.count(required)) << "dashboard does not show " << required;
  }
  ExpectAllExported(used, "grafana/dashboards/mlpserve.json");
}

TEST_F(DeployConfigTest, AlertsUseExportedMetrics) {
  const std::set<std::string> used = MetricNames(ReadFile(kDeploy + "prometheus/alerts.yml"));
  for (const char* required :
       {"mlpserve_request_duration_seconds_bucket", "mlpserve_requests_total",
        "mlpserve_dead_neurons", "mlpserve_layer_info", "mlpserve_activation_negative_ratio"}) {
    EXPECT_TRUE(used.count(required)) << "alerts do not use " << required;
  }
  ExpectAllExported(used, "prometheus/alerts.yml");
}

TEST_F(DeployConfigTest, PromtoolAcceptsRulesAndConfig) {
  if (!HaveProgram("promtool")) GTEST_SKIP() << "promtool is not installed";
  CommandResult rules =
      RunCommand(absl::StrCat("promtool check rules ", kDeploy, "prometheus/alerts.yml"), 60);
  EXPECT_EQ(rules.exit_code, 0) << rules.output;
  CommandResult config =
      RunCommand(absl::StrCat("promtool check config ", kDeploy, "prometheus/prometheus.yml"), 60);
  EXPECT_EQ(config.exit_code, 0) << config.output;
}

// alerts_test.yml: which series make each alert fire (and which must not:
// a hidden tanh layer's negative units, exactly half the units dead).
TEST_F(DeployConfigTest, PromtoolAlertUnitTestsPass) {
  if (!HaveProgram("promtool")) GTEST_SKIP() << "promtool is not installed";
  CommandResult tests =
      RunCommand(absl::StrCat("promtool test rules ", kDeploy, "prometheus/alerts_test.yml"), 60);
  EXPECT_EQ(tests.exit_code, 0) << tests.output;
  EXPECT_THAT(tests.output, ::testing::HasSubstr("SUCCESS"));
}

TEST(DeployGrafanaTest, ProvisioningPointsAtTheDashboard) {
  const std::string datasource =
      ReadFile(kDeploy + "grafana/provisioning/datasources/prometheus.yml");
  EXPECT_THAT(datasource, ::testing::HasSubstr("type: prometheus"));
  EXPECT_THAT(datasource, ::testing::HasSubstr("uid: prometheus"));
  const std::string provider = ReadFile(kDeploy + "grafana/provisioning/dashboards/mlpserve.yml");
  EXPECT_THAT(provider, ::testing::HasSubstr("type: file"));
  nlohmann::json dashboard =
      nlohmann::json::parse(ReadFile(kDeploy + "grafana/dashboards/mlpserve.json"), nullptr, false);
  ASSERT_TRUE(dashboard.is_object());
  EXPECT_EQ(dashboard["uid"], "mlpserve");
  // Every panel queries the provisioned datasource.
  for (const nlohmann::json& panel : dashboard["panels"]) {
    EXPECT_EQ(panel["datasource"]["uid"], "prometheus") << panel["title"];
  }
}

}  // namespace
}  // namespace mlpserve::testing
