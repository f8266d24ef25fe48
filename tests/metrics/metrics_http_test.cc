// /metrics, /v1/activations, /activations and /-/healthy over real loopback
// HTTP, against a registry fed known batches and requests.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <map>
#include <string>
#include <vector>

#include "civetweb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/metrics/fed_server.h"

namespace mlpserve::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kTiny[] = "model=\"tiny\",version=\"1\"";

std::string Series(const std::string& name, const std::string& labels) {
  return name + "{" + labels + "}";
}

class MetricsHttpTest : public FedServerTest {};

TEST_F(MetricsHttpTest, ExportsRequestAndBatchMetrics) {
  HttpResponse r = HttpGet(http_->port(), "/metrics");
  ASSERT_EQ(r.status, 200);
  EXPECT_THAT(r.content_type, HasSubstr("text/plain; version=0.0.4"));
  std::map<std::string, double> s = ParseSamples(r.body);
  EXPECT_EQ(s[Series("mlpserve_requests_total", std::string("code=\"OK\",") + kTiny)], 2);
  EXPECT_EQ(s[Series("mlpserve_requests_total", std::string("code=\"INVALID_ARGUMENT\",") + kTiny)],
            1);
  EXPECT_EQ(s[Series("mlpserve_requests_total", "code=\"NOT_FOUND\",model=\"\",version=\"\"")], 1);
  EXPECT_EQ(s.count(Series("mlpserve_requests_total", std::string("code=\"CANCELLED\",") + kTiny)),
            0u);
  EXPECT_EQ(s[Series("mlpserve_inferences_total", kTiny)], 4);
  EXPECT_EQ(s[Series("mlpserve_executions_total", kTiny)], 1);
  // The refused INVALID_ARGUMENT request (100 us) counts in requests_total only.
  EXPECT_EQ(s[Series("mlpserve_request_duration_seconds_count", kTiny)], 2);
  EXPECT_NEAR(s[Series("mlpserve_request_duration_seconds_sum", kTiny)], 0.006, 1e-12);
  EXPECT_EQ(
      s[Series("mlpserve_request_duration_seconds_bucket", std::string(kTiny) + ",le=\"0.00025\"")],
      0);
  EXPECT_EQ(
      s[Series("mlpserve_request_duration_seconds_bucket", std::string(kTiny) + ",le=\"0.005\"")],
      2);
  EXPECT_EQ(s[Series("mlpserve_queue_duration_seconds_count", kTiny)], 2);
  EXPECT_NEAR(s[Series("mlpserve_queue_duration_seconds_sum", kTiny)], 0.001, 1e-12);
  EXPECT_EQ(s[Series("mlpserve_compute_duration_seconds_count", kTiny)], 2);
  EXPECT_NEAR(s[Series("mlpserve_compute_duration_seconds_sum", kTiny)], 0.003, 1e-12);
  EXPECT_EQ(s[Series("mlpserve_batch_size_bucket", std::string(kTiny) + ",le=\"1\"")], 0);
  EXPECT_EQ(s[Series("mlpserve_batch_size_bucket", std::string(kTiny) + ",le=\"2\"")], 1);
  EXPECT_EQ(s[Series("mlpserve_batch_size_bucket", std::string(kTiny) + ",le=\"4\"")], 2);
  EXPECT_EQ(s[Series("mlpserve_batch_size_bucket", std::string(kTiny) + ",le=\"65536\"")], 2);
  EXPECT_EQ(s[Series("mlpserve_batch_size_sum", kTiny)], 6);
  EXPECT_EQ(s[Series("mlpserve_queue_depth", kTiny)], 3);
  EXPECT_EQ(s[Series("mlpserve_model_ready", kTiny)], 1);
}

// A small model computes in a few microseconds: the duration buckets start
// at 1 us, so such a batch does not vanish into the lowest bucket.
TEST_F(MetricsHttpTest, DurationBucketsResolveMicroseconds) {
  BatchReport tiny;
  tiny.rows = 1;
  tiny.requests = 1;
  tiny.compute = absl::Nanoseconds(2600);
  model_->OnBatch(tiny);
  std::map<std::string, double> s = ParseSamples(Scrape());
  auto bucket = [&](const std::string& le) {
    return s.at(Series("mlpserve_compute_duration_seconds_bucket",
                       std::string(kTiny) + ",le=\"" + le + "\""));
  };
  EXPECT_EQ(bucket("1e-06"), 0);
  EXPECT_EQ(bucket("2.5e-06"), 0);
  EXPECT_EQ(bucket("5e-06"), 1);
  EXPECT_EQ(bucket("1e-05"), 1);
  EXPECT_EQ(bucket("10"), 1 + 2);  // and Feed()'s two batches
}

TEST_F(MetricsHttpTest, ExportsActivationMetrics) {
  std::map<std::string, double> s = ParseSamples(Scrape());
  const std::string l0 = std::string(kTiny) + ",layer=\"0\"";
  const std::string l1 = std::string(kTiny) + ",layer=\"1\"";
  EXPECT_EQ(
      s[Series("mlpserve_layer_info", l0 + ",node=\"act0\",activation=\"leaky_relu\",units=\"3\"")],
      1);
  EXPECT_EQ(
      s[Series("mlpserve_layer_info", l1 + ",node=\"act1\",activation=\"prelu\",units=\"5\"")], 1);
  EXPECT_EQ(s[Series("mlpserve_layer_units", l0)], 3);
  EXPECT_EQ(s[Series("mlpserve_layer_units", l1)], 5);
  EXPECT_EQ(s[Series("mlpserve_activation_values_total", l0)], 12);
  EXPECT_EQ(s[Series("mlpserve_activation_negative_total", l0)], 4);
  EXPECT_DOUBLE_EQ(s[Series("mlpserve_activation_negative_ratio", l0)], 4.0 / 12.0);
  EXPECT_EQ(s[Series("mlpserve_dead_neurons", l0)], 1);
  EXPECT_EQ(s[Series("mlpserve_activation_values_total", l1)], 20);
  EXPECT_EQ(s[Series("mlpserve_activation_negative_total", l1)], 0);
  EXPECT_EQ(s[Series("mlpserve_dead_neurons", l1)], 0);
}

TEST_F(MetricsHttpTest, ExportsBuildAndProcessMetrics) {
  const std::string text = Scrape();
  EXPECT_THAT(text, HasSubstr("mlpserve_build_info{grpc=\""));
  std::map<std::string, double> s = ParseSamples(text);
  EXPECT_GT(s["process_resident_memory_bytes"], 0);
  EXPECT_GT(s["process_virtual_memory_bytes"], 0);
  EXPECT_GT(s["process_open_fds"], 2);
  EXPECT_GT(s["process_start_time_seconds"], 1.6e9);
  EXPECT_GE(s["process_cpu_seconds_total"], 0);
  EXPECT_EQ(s.count("process_cpu_seconds_total"), 1u);
}

TEST_F(MetricsHttpTest, UnloadingRemovesTheModelsSeries) {
  model_.reset();
  const std::string text = Scrape();
  EXPECT_THAT(text, Not(HasSubstr("model=\"tiny\"")));
  EXPECT_THAT(text, HasSubstr("code=\"NOT_FOUND\",model=\"\",version=\"\""));
  // Loading it again starts from zero.
  model_ = registry_->AddModel("tiny", 1, SmallMlp(), ActivationStats());
  std::map<std::string, double> s = ParseSamples(Scrape());
  // at(): each series must be there again, at 0 (operator[] reads 0 for a
  // missing one).
  EXPECT_EQ(s.at(Series("mlpserve_requests_total", std::string("code=\"OK\",") + kTiny)), 0);
  EXPECT_EQ(s.at(Series("mlpserve_model_ready", kTiny)), 0);
  EXPECT_EQ(s.at(Series("mlpserve_activation_values_total", std::string(kTiny) + ",layer=\"0\"")),
            0);
  // No rows observed yet: no ratio or dead-neuron gauge.
  EXPECT_EQ(s.count(Series("mlpserve_dead_neurons", std::string(kTiny) + ",layer=\"0\"")), 0u);
}

// Latency is that of the requests the scheduler took, whatever their end: a
// request that timed out in the queue is in it (and its wait in the queue
// histogram), a refusal is not.
TEST_F(MetricsHttpTest, LatencyCountsAdmittedRequestsOnly) {
  InferTiming timed_out;
  timed_out.queue = absl::Seconds(2);
  model_->RecordRequest(absl::StatusCode::kDeadlineExceeded, absl::Seconds(2), &timed_out,
                        ModelMetrics::Admission::kAdmitted);
  model_->RecordRequest(absl::StatusCode::kResourceExhausted, absl::Microseconds(6), nullptr,
                        ModelMetrics::Admission::kRefused);
  std::map<std::string, double> s = ParseSamples(Scrape());
  EXPECT_EQ(s[Series("mlpserve_request_duration_seconds_count", kTiny)], 3);
  EXPECT_NEAR(s[Series("mlpserve_request_duration_seconds_sum", kTiny)], 2.006, 1e-9);
  EXPECT_EQ(s[Series("mlpserve_request_duration_seconds_bucket", std::string(kTiny) + ",le=\"1\"")],
            2);
  EXPECT_EQ(s[Series("mlpserve_queue_duration_seconds_count", kTiny)], 3);
  EXPECT_NEAR(s[Series("mlpserve_queue_duration_seconds_sum", kTiny)], 2.001, 1e-9);
  EXPECT_EQ(
      s[Series("mlpserve_requests_total", std::string("code=\"RESOURCE_EXHAUSTED\",") + kTiny)], 1);
  EXPECT_EQ(
      s[Series("mlpserve_requests_total", std::string("code=\"DEADLINE_EXCEEDED\",") + kTiny)], 1);
}

TEST_F(MetricsHttpTest, ReloadedVersionSharesSeriesUntilTheLastInstanceGoes) {
  ActivationStats stats;
  std::unique_ptr<ModelMetrics> reloaded = registry_->AddModel("tiny", 1, SmallMlp(), stats);
  reloaded->SetReady(true);
  model_->SetReady(false);  // the old instance drains
  // Queue depth is the sum over both instances: the draining instance's
  // reports do not overwrite the new one's.
  reloaded->OnQueueDepth(5);
  EXPECT_EQ(ParseSamples(Scrape())[Series("mlpserve_queue_depth", kTiny)], 3 + 5);
  model_->OnQueueDepth(1);
  EXPECT_EQ(ParseSamples(Scrape())[Series("mlpserve_queue_depth", kTiny)], 1 + 5);
  model_.reset();
  EXPECT_EQ(ParseSamples(Scrape())[Series("mlpserve_queue_depth", kTiny)], 5);
  std::map<std::string, double> s = ParseSamples(Scrape());
  EXPECT_EQ(s[Series("mlpserve_requests_total", std::string("code=\"OK\",") + kTiny)], 2);
  EXPECT_EQ(s[Series("mlpserve_model_ready", kTiny)], 1);
  reloaded->RecordRequest(absl::StatusCode::kOk, absl::Milliseconds(1), nullptr,
                          ModelMetrics::Admission::kAdmitted);
  s = ParseSamples(Scrape());
  EXPECT_EQ(s[Series("mlpserve_requests_total", std::string("code=\"OK\",") + kTiny)], 3);
  reloaded.reset();
  EXPECT_THAT(Scrape(), Not(HasSubstr("model=\"tiny\"")));
}

// A reloaded instance takes over the activation series once it is ready: a
// reload still loading, or one that fails, leaves the ready instance's
// totals in place (a counter dropping to 0 and back makes rate() spike).
TEST_F(MetricsHttpTest, ActivationSeriesFollowTheNewestReadyInstance) {
  const std::string values =
      Series("mlpserve_activation_values_total", std::string(kTiny) + ",layer=\"0\"");
  ActivationStats stats;
  stats.set_enabled(true);
  stats.set_dead_window_rows(4);
  {
    std::unique_ptr<ModelMetrics> failed = registry_->AddModel("tiny", 1, SmallMlp(), stats);
    EXPECT_EQ(ParseSamples(Scrape()).at(values), 12);  // still loading
  }                                                    // its load failed
  EXPECT_EQ(ParseSamples(Scrape()).at(values), 12);

  std::unique_ptr<ModelMetrics> reloaded = registry_->AddModel("tiny", 1, SmallMlp(), stats);
  EXPECT_EQ(ParseSamples(Scrape()).at(values), 12);
  reloaded->SetReady(true);
  EXPECT_EQ(ParseSamples(Scrape()).at(values), 0);  // the new instance's, from now on
  model_->SetReady(false);                          // the old one drains
  EXPECT_EQ(ParseSamples(Scrape()).at(values), 0);
  model_.reset();
  EXPECT_EQ(ParseSamples(Scrape()).at(values), 0);
}

TEST_F(MetricsHttpTest, DisabledActivationStatsExportNoActivationSeries) {
  ActivationStats stats;
  stats.set_enabled(false);
  std::unique_ptr<ModelMetrics> other = registry_->AddModel("plain", 3, SmallMlp(), stats);
  BatchActivationCounts counts = SmallCounts(4, {{4, 0, 4}, {4, 4, 4, 4, 4}});
  BatchReport report;
  report.rows = 4;
  report.activations = &counts;
  other->OnBatch(report);
  const std::string text = Scrape();
  EXPECT_THAT(text, HasSubstr("mlpserve_executions_total{model=\"plain\",version=\"3\"} 1"));
  EXPECT_THAT(text, Not(HasSubstr("layer_info{model=\"plain\"")));
  EXPECT_THAT(text, Not(HasSubstr("activation_values_total{model=\"plain\"")));
  EXPECT_EQ(HttpGet(http_->port(), "/v1/activations/plain").status, 404);
}

TEST_F(MetricsHttpTest, ActivationsJson) {
  HttpResponse r = HttpGet(http_->port(), "/v1/activations/tiny");
  ASSERT_EQ(r.status, 200);
  EXPECT_THAT(r.content_type, HasSubstr("application/json"));
  nlohmann::json j = nlohmann::json::parse(r.body);
  EXPECT_EQ(j["model"], "tiny");
  ASSERT_EQ(j["versions"].size(), 1u);
  const nlohmann::json& v = j["versions"][0];
  EXPECT_EQ(v["version"], 1);
  EXPECT_EQ(v["rows_seen"], 4);
  ASSERT_EQ(v["layers"].size(), 2u);
  const nlohmann::json& l0 = v["layers"][0];
  EXPECT_EQ(l0["layer"], 0);
  EXPECT_EQ(l0["node"], "act0");
  EXPECT_EQ(l0["activation"], "leaky_relu");
  EXPECT_EQ(l0["units"], 3);
  EXPECT_EQ(l0["window_rows"], 4);
  EXPECT_DOUBLE_EQ(l0["negative_ratio"].get<double>(), 4.0 / 12.0);
  EXPECT_EQ(l0["dead_units"], 1);
  EXPECT_EQ(l0["dead"], nlohmann::json({false, true, false}));
  EXPECT_EQ(l0["positive_rate"], nlohmann::json({1.0, 0.0, 1.0}));
  EXPECT_EQ(v["layers"][1]["units"], 5);

  HttpResponse list = HttpGet(http_->port(), "/v1/activations");
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(nlohmann::json::parse(list.body),
            nlohmann::json::parse(R"({"models":[{"model":"tiny","versions":[1]}]})"));

  HttpResponse missing = HttpGet(http_->port(), "/v1/activations/nope");
  EXPECT_EQ(missing.status, 404);
  EXPECT_THAT(nlohmann::json::parse(missing.body)["error"].get<std::string>(), HasSubstr("nope"));
}

TEST_F(MetricsHttpTest, ActivationsPageAndHealth) {
  HttpResponse page = HttpGet(http_->port(), "/activations");
  ASSERT_EQ(page.status, 200);
  EXPECT_THAT(page.content_type, HasSubstr("text/html"));
  EXPECT_THAT(page.body, HasSubstr("id=\"layer-tiny-1-0\""));
  EXPECT_THAT(page.body, HasSubstr("id=\"layer-tiny-1-1\""));
  EXPECT_THAT(page.body, HasSubstr("class=\"unit dead\""));
  EXPECT_THAT(page.body, Not(HasSubstr("<script")));
  HttpResponse health = HttpGet(http_->port(), "/-/healthy");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(HttpGet(http_->port(), "/nothing-here").status, 404);
}

TEST_F(MetricsHttpTest, OnlyExactPathsAreServed) {
  // civetweb matches handlers by prefix; the server must not.
  for (const char* path : {"/metricsfoo", "/metrics/x", "/-/healthyX", "/activations.html",
                           "/v1/activationstiny", "/v1/activations/tiny/", "/", "/v1"}) {
    HttpResponse r = HttpGet(http_->port(), path);
    EXPECT_EQ(r.status, 404) << path;
    EXPECT_THAT(r.body, Not(HasSubstr("mlpserve_"))) << path;
  }
  // A query string is not part of the path.
  EXPECT_EQ(HttpGet(http_->port(), "/metrics?debug=1").status, 200);
  EXPECT_EQ(HttpGet(http_->port(), "/v1/activations/tiny?x=1").status, 200);
}

TEST_F(MetricsHttpTest, HeadHasNoBodyAndOtherMethodsAre405) {
  HttpResponse head = HttpRequest(http_->port(), "HEAD", "/metrics", 10);
  EXPECT_EQ(head.status, 200);
  EXPECT_THAT(head.content_type, HasSubstr("text/plain; version=0.0.4"));
  EXPECT_EQ(head.body, "");
  EXPECT_EQ(HttpRequest(http_->port(), "HEAD", "/nothing-here", 10).status, 404);
  for (const char* method : {"POST", "PUT", "DELETE", "PATCH", "OPTIONS"}) {
    HttpResponse r = HttpRequest(http_->port(), method, "/metrics", 10);
    EXPECT_EQ(r.status, 405) << method;
    EXPECT_EQ(r.allow, "GET, HEAD") << method;
  }
}

TEST_F(MetricsHttpTest, IdleConnectionsDoNotBlockScrapes) {
  // Connections that never send a request (a browser's preconnect, a port
  // scan, a stalled client) each hold a civetweb worker until its request
  // timeout. With 4 workers and a 10 s timeout, four of them held every
  // scrape for ~10 s, Prometheus's default scrape timeout. Twelve idle ones
  // leave workers free, so the scrape is answered long before the 4 s this
  // client waits (which is shorter than the server's 5 s request timeout:
  // a scrape answered only after an idle connection timed out fails here).
  std::vector<int> idle;
  for (int i = 0; i < 12; ++i) {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(fd, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(http_->port()));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    idle.push_back(fd);
  }
  for (int i = 0; i < 3; ++i) {
    HttpResponse r = HttpRequest(http_->port(), "GET", "/metrics", 4);
    EXPECT_EQ(r.status, 200) << "scrape " << i;
    EXPECT_THAT(r.body, HasSubstr("mlpserve_requests_total")) << "scrape " << i;
  }
  for (int fd : idle) close(fd);
}

TEST(MetricsHttpServerTest, RejectsBadAddresses) {
  absl::StatusOr<std::unique_ptr<MetricsRegistry>> registry = MetricsRegistry::Create();
  ASSERT_TRUE(registry.ok());
  EXPECT_EQ(MetricsHttpServer::Create("no-port", registry->get()).status().code(),
            absl::StatusCode::kInvalidArgument);
  absl::StatusOr<std::unique_ptr<MetricsHttpServer>> first =
      MetricsHttpServer::Create("127.0.0.1:0", registry->get());
  ASSERT_TRUE(first.ok()) << first.status();
  const std::string taken = "127.0.0.1:" + std::to_string((*first)->port());
  EXPECT_EQ(MetricsHttpServer::Create(taken, registry->get()).status().code(),
            absl::StatusCode::kUnavailable);
  // Debian's civetweb has no IPv6: refused with a reason, not a bind error.
  if (mg_check_feature(8) == 0) {
    absl::StatusOr<std::unique_ptr<MetricsHttpServer>> v6 =
        MetricsHttpServer::Create("[::1]:0", registry->get());
    EXPECT_EQ(v6.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(v6.status().message(), HasSubstr("without IPv6"));
  }
}

}  // namespace
}  // namespace mlpserve::testing
