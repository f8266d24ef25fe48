// ReadTokenFile: what the server (--auth-token-file) and the client CLI
// (--token-file) take from a token file.
#include "server/common/token_file.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mlpserve {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class TokenFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = ::testing::TempDir() + "/token_file_test_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Write(const std::string& contents) {
    const std::string path = dir_ + "/token";
    std::ofstream(path, std::ios::binary | std::ios::trunc) << contents;
    return path;
  }

  std::string dir_;
};

TEST_F(TokenFileTest, WhitespaceAroundTheTokenIsIgnored) {
  for (const char* contents : {"s3cret", "s3cret\n", "s3cret\r\n", "  s3cret \t\r\n\n"}) {
    absl::StatusOr<std::string> token = ReadTokenFile(Write(contents), "--token-file");
    ASSERT_TRUE(token.ok()) << token.status();
    EXPECT_EQ(*token, "s3cret") << contents;
  }
}

TEST_F(TokenFileTest, EmptyOrBlankIsRefusedNamingFlagAndFile) {
  for (const char* contents : {"", "\n", " \r\n\t"}) {
    const std::string path = Write(contents);
    absl::StatusOr<std::string> token = ReadTokenFile(path, "--token-file");
    EXPECT_EQ(token.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(token.status().message(), "--token-file: '" + path + "' is empty");
  }
}

TEST_F(TokenFileTest, WhatMetadataCannotCarryIsRefusedWithoutShowingTheToken) {
  for (const char* contents : {"first\nsecond\n", "to\rken", "to\tken", "t\xc3\xb6ken"}) {
    absl::StatusOr<std::string> token = ReadTokenFile(Write(contents), "--auth-token-file");
    EXPECT_EQ(token.status().code(), absl::StatusCode::kInvalidArgument) << contents;
    EXPECT_THAT(token.status().message(), HasSubstr("--auth-token-file"));
    EXPECT_THAT(token.status().message(), Not(HasSubstr("first")));
    EXPECT_THAT(token.status().message(), Not(HasSubstr("to\rken")));
  }
  const std::string with_nul("to\0ken", 6);
  EXPECT_EQ(ReadTokenFile(Write(with_nul), "--token-file").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(TokenFileTest, MissingFileIsNotFound) {
  absl::StatusOr<std::string> token = ReadTokenFile(dir_ + "/missing", "--token-file");
  EXPECT_EQ(token.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(token.status().message(),
            "--token-file: cannot read '" + dir_ + "/missing': no such file");
}

TEST_F(TokenFileTest, ADirectoryIsNotATokenFile) {
  absl::StatusOr<std::string> token = ReadTokenFile(dir_, "--token-file");
  EXPECT_EQ(token.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(token.status().message(),
            "--token-file: cannot read '" + dir_ + "': a directory, not a file");
}

// `--token-file <(pass show mlpserve)`: a secret handed over in a pipe.
TEST_F(TokenFileTest, APipeIsReadToItsEnd) {
  const std::string fifo = dir_ + "/token_fifo";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  std::thread writer([&] { std::ofstream(fifo) << "s3cret\n"; });
  absl::StatusOr<std::string> token = ReadTokenFile(fifo, "--token-file");
  writer.join();
  ASSERT_TRUE(token.ok()) << token.status();
  EXPECT_EQ(*token, "s3cret");
}

}  // namespace
}  // namespace mlpserve
