// RouteProtobufLogsToSpdlog: what a client can make libprotobuf log (a
// string field that is not valid UTF-8) reaches spdlog at most once a
// minute.
#include "server/common/protobuf_log.h"

#include <memory>
#include <sstream>
#include <string>

#include "gmock/gmock.h"
#include "google/protobuf/wrappers.pb.h"
#include "gtest/gtest.h"
#include "spdlog/sinks/ostream_sink.h"
#include "spdlog/spdlog.h"

namespace mlpserve {
namespace {

using ::testing::HasSubstr;

int Count(const std::string& text, const std::string& what) {
  int n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(ProtobufLogTest, ParseErrorsAreRateLimitedWarnings) {
  std::ostringstream out;
  auto logger = std::make_shared<spdlog::logger>(
      "capture", std::make_shared<spdlog::sinks::ostream_sink_mt>(out));
  spdlog::set_default_logger(logger);
  RouteProtobufLogsToSpdlog();

  // Field 1 (string), one byte 0xff: not UTF-8, which proto3 parsing logs.
  const std::string bad("\x0a\x01\xff", 3);
  for (int i = 0; i < 5; ++i) {
    google::protobuf::StringValue value;
    EXPECT_FALSE(value.ParseFromString(bad));
  }
  spdlog::default_logger()->flush();
  const std::string log = out.str();
  EXPECT_EQ(Count(log, "libprotobuf"), 1) << log;
  EXPECT_THAT(log, HasSubstr("[warning] libprotobuf:"));
  EXPECT_THAT(log, HasSubstr("UTF-8"));
}

}  // namespace
}  // namespace mlpserve
