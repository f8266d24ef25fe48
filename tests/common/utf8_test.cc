// ClientText: how an error message quotes what a client sent.
#include "server/common/utf8.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mlpserve {
namespace {

using ::testing::EndsWith;
using ::testing::StartsWith;

TEST(ClientTextTest, ShortTextIsQuotedWhole) {
  EXPECT_EQ(ClientText("input"), "input");
  EXPECT_EQ(ClientText(std::string(kClientTextBytes, 'a')), std::string(kClientTextBytes, 'a'));
  EXPECT_EQ(ClientText("a\xff"
                       "c"),
            "a\\xff\\x63");
  EXPECT_EQ(ClientText(std::string("m\0x\n", 4)), "m\\x00x\\n");
}

TEST(ClientTextTest, LongTextIsCutAndSaysHowLongItWas) {
  const std::string quoted = ClientText(std::string(1 << 20, 'x'));
  EXPECT_EQ(quoted, std::string(kClientTextBytes, 'x') + "... (1048576 bytes)");
}

TEST(ClientTextTest, CutFallsOnACharacterBoundary) {
  // "é" is 2 bytes: 127 ASCII bytes put its second byte at index 128, past
  // the cut, so the whole character goes and the rest stays valid UTF-8.
  const std::string text = std::string(kClientTextBytes - 1, 'a') + "\xc3\xa9" + "tail";
  const std::string quoted = ClientText(text);
  EXPECT_EQ(quoted, std::string(kClientTextBytes - 1, 'a') + "... (" + std::to_string(text.size()) +
                        " bytes)");
  EXPECT_TRUE(IsValidUtf8(quoted));
}

TEST(ClientTextTest, InvalidLongTextIsEscapedAndCut) {
  const std::string quoted = ClientText(std::string(1000, '\x80'));
  EXPECT_THAT(quoted, StartsWith("\\x80\\x80"));
  EXPECT_THAT(quoted, EndsWith("... (1000 bytes)"));
  EXPECT_LT(quoted.size(), 4 * kClientTextBytes + 32);
  EXPECT_TRUE(IsValidUtf8(quoted));
}

}  // namespace
}  // namespace mlpserve
