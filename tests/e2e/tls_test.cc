// TLS and mutual TLS on the gRPC port, with certificates made by openssl at
// test time.
#include <fstream>

#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "proto/inference.grpc.pb.h"
#include "tests/support/server_process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_server.h"

namespace mlpserve::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const std::string kOpenssl = "/usr/bin/openssl";

// A CA, and a server and a client certificate it signed, in `dir`.
bool MakeCertificates(const std::string& dir) {
  std::ofstream(dir + "/server.ext") << "subjectAltName=IP:127.0.0.1,DNS:localhost\n";
  const std::vector<std::vector<std::string>> steps = {
      {kOpenssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", dir + "/ca.key",
       "-out", dir + "/ca.pem", "-days", "2", "-subj", "/CN=mlpserve-test-ca"},
      {kOpenssl, "req", "-newkey", "rsa:2048", "-nodes", "-keyout", dir + "/server.key", "-out",
       dir + "/server.csr", "-subj", "/CN=localhost"},
      {kOpenssl, "x509", "-req", "-in", dir + "/server.csr", "-CA", dir + "/ca.pem", "-CAkey",
       dir + "/ca.key", "-CAcreateserial", "-out", dir + "/server.pem", "-days", "2", "-extfile",
       dir + "/server.ext"},
      {kOpenssl, "req", "-newkey", "rsa:2048", "-nodes", "-keyout", dir + "/client.key", "-out",
       dir + "/client.csr", "-subj", "/CN=mlpserve-test-client"},
      {kOpenssl, "x509", "-req", "-in", dir + "/client.csr", "-CA", dir + "/ca.pem", "-CAkey",
       dir + "/ca.key", "-CAcreateserial", "-out", dir + "/client.pem", "-days", "2"},
  };
  for (const auto& step : steps) {
    RunResult result = RunCommand(step);
    if (result.exit_code != 0) {
      ADD_FAILURE() << result.output;
      return false;
    }
  }
  return true;
}

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (RunCommand({kOpenssl, "version"}).exit_code != 0) GTEST_SKIP() << "no openssl";
    dir_ = MakeTempDir("tls");
    ASSERT_TRUE(MakeCertificates(dir_));
  }

  // Starts the server with `flags`; returns its gRPC port ("" on failure).
  std::string Start(const std::vector<std::string>& flags) {
    server_.emplace(kBundledModels, flags);
    if (!server_->ready()) return "";
    return server_->url().substr(server_->url().rfind(':') + 1);
  }

  grpc::Status Live(const std::string& port, std::shared_ptr<grpc::ChannelCredentials> creds) {
    auto stub =
        inference::GRPCInferenceService::NewStub(grpc::CreateChannel("127.0.0.1:" + port, creds));
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    inference::ServerLiveResponse response;
    return stub->ServerLive(&context, {}, &response);
  }

  std::shared_ptr<grpc::ChannelCredentials> Tls(bool with_client_cert) {
    grpc::SslCredentialsOptions options;
    options.pem_root_certs = ReadFile(dir_ + "/ca.pem");
    if (with_client_cert) {
      options.pem_private_key = ReadFile(dir_ + "/client.key");
      options.pem_cert_chain = ReadFile(dir_ + "/client.pem");
    }
    return grpc::SslCredentials(options);
  }

  std::string log() const { return server_ ? server_->log() : ""; }

  std::string dir_;
  std::optional<ServerProcess> server_;
};

TEST_F(TlsTest, ServerSpeaksTlsOnly) {
  const std::string port =
      Start({"--tls-cert", dir_ + "/server.pem", "--tls-key", dir_ + "/server.key"});
  ASSERT_FALSE(port.empty()) << log();
  EXPECT_TRUE(Live(port, Tls(false)).ok());
  EXPECT_FALSE(Live(port, grpc::InsecureChannelCredentials()).ok());
}

TEST_F(TlsTest, MutualTlsRequiresAClientCertificate) {
  const std::string port = Start({"--tls-cert", dir_ + "/server.pem", "--tls-key",
                                  dir_ + "/server.key", "--tls-client-ca", dir_ + "/ca.pem"});
  ASSERT_FALSE(port.empty()) << log();
  EXPECT_TRUE(Live(port, Tls(true)).ok());
  EXPECT_FALSE(Live(port, Tls(false)).ok());
}

// mlpserve-client (and so the image's HEALTHCHECK) reaches a TLS server with
// --tls-ca, and a mutual-TLS one with --tls-cert/--tls-key as well.
TEST_F(TlsTest, ClientCliSpeaksTlsAndMutualTls) {
  const std::string port = Start({"--tls-cert", dir_ + "/server.pem", "--tls-key",
                                  dir_ + "/server.key", "--tls-client-ca", dir_ + "/ca.pem"});
  ASSERT_FALSE(port.empty()) << log();
  const std::string url = "localhost:" + port;
  const std::vector<std::string> client = {kClientBinary, "--url", url, "--timeout", "5"};
  auto run = [&](std::vector<std::string> tls, std::vector<std::string> command) {
    std::vector<std::string> argv = client;
    argv.insert(argv.end(), tls.begin(), tls.end());
    argv.insert(argv.end(), command.begin(), command.end());
    return RunCommand(argv);
  };
  const std::vector<std::string> mutual = {"--tls-ca",   dir_ + "/ca.pem",
                                           "--tls-cert", dir_ + "/client.pem",
                                           "--tls-key",  dir_ + "/client.key"};

  RunResult health = run(mutual, {"health"});
  EXPECT_EQ(health.exit_code, 0) << health.output;
  EXPECT_THAT(health.output, HasSubstr("SERVING"));
  RunResult infer = run(mutual, {"infer", "leaky_mlp", "--random", "--batch", "2"});
  EXPECT_EQ(infer.exit_code, 0) << infer.output;
  RunResult perf = run(mutual, {"perf", "leaky_mlp", "--requests", "50", "--warmup", "0s"});
  EXPECT_EQ(perf.exit_code, 0) << perf.output;
  EXPECT_THAT(perf.output, Not(HasSubstr("errors at")));

  // The 127.0.0.1 address is in the certificate too; a name it lacks is not.
  RunResult wrong_name = run({"--tls-ca", dir_ + "/ca.pem", "--tls-cert", dir_ + "/client.pem",
                              "--tls-key", dir_ + "/client.key", "--tls-server-name", "elsewhere"},
                             {"health"});
  EXPECT_NE(wrong_name.exit_code, 0) << wrong_name.output;
  RunResult no_client_cert = run({"--tls-ca", dir_ + "/ca.pem"}, {"health"});
  EXPECT_NE(no_client_cert.exit_code, 0) << no_client_cert.output;
  RunResult plaintext = run({}, {"health"});
  EXPECT_NE(plaintext.exit_code, 0) << plaintext.output;
  RunResult cert_without_key =
      run({"--tls-ca", dir_ + "/ca.pem", "--tls-cert", dir_ + "/client.pem"}, {"health"});
  EXPECT_NE(cert_without_key.exit_code, 0);
  EXPECT_THAT(cert_without_key.output, HasSubstr("--tls-cert and --tls-key go together"));
}

// perf made its TLS credentials twice (for its metadata client and for its
// load channels), reading every file twice: `--tls-ca <(...)` then failed
// at the second read. Each is read once now, as --token-file is.
TEST_F(TlsTest, PerfReadsTheTlsFilesOnce) {
  const std::string port = Start({"--tls-cert", dir_ + "/server.pem", "--tls-key",
                                  dir_ + "/server.key", "--tls-client-ca", dir_ + "/ca.pem"});
  ASSERT_FALSE(port.empty()) << log();
  for (const char* rpc : {"leaky_mlp", "--rpc live"}) {
    const std::string command = std::string(kClientBinary) + " --url localhost:" + port +
                                " --timeout 5" + " --tls-ca <(cat " + dir_ +
                                "/ca.pem) --tls-cert <(cat " + dir_ +
                                "/client.pem) --tls-key <(cat " + dir_ + "/client.key) perf " +
                                rpc + " --concurrency 1 --requests 3 --warmup 0s";
    RunResult perf = RunCommand({"/bin/bash", "-c", command});
    EXPECT_EQ(perf.exit_code, 0) << rpc << ": " << perf.output;
    EXPECT_THAT(perf.output, Not(HasSubstr("--tls-"))) << rpc;
  }
}

TEST_F(TlsTest, KeyWithoutCertificateIsRefusedAtStart) {
  RunResult result = RunCommand({kServerBinary, "--model-repository", kBundledModels,
                                 "--grpc-address", "127.0.0.1:0", "--metrics-address",
                                 "127.0.0.1:0", "--tls-key", dir_ + "/server.key"});
  EXPECT_NE(result.exit_code, 0);
  EXPECT_THAT(result.output, HasSubstr("--tls-cert and --tls-key go together"));
}

}  // namespace
}  // namespace mlpserve::testing
