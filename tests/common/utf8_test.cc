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

// A load error quoting a name from a file: the message stays readable, only
// the bytes that are not UTF-8 (and control characters) are escaped.
TEST(PrintableTextTest, EscapesOnlyWhatIsNotPrintableUtf8) {
  EXPECT_EQ(PrintableText("model 'caf\xc3\xa9': ok", 100), "model 'caf\xc3\xa9': ok");
  EXPECT_EQ(PrintableText("input 'x\xff"
                          "y' (\xe2\x82\xac)\n",
                          100),
            "input 'x\\xffy' (\xe2\x82\xac)\\n");
  // A truncated sequence, an overlong encoding, a lone continuation byte.
  EXPECT_EQ(PrintableText("\xe2\x82", 100), "\\xe2\\x82");
  EXPECT_EQ(PrintableText("\xc0\xaf", 100), "\\xc0\\xaf");
  EXPECT_EQ(PrintableText("\x80", 100), "\\x80");
  for (const std::string text : {std::string("a\xff\xfe\x80\xc3"), std::string(300, '\xc3')}) {
    EXPECT_TRUE(IsValidUtf8(PrintableText(text, 100))) << text;
  }
}

TEST(PrintableTextTest, LongTextIsCutAtACharacterAndSaysHowLongItWas) {
  EXPECT_EQ(PrintableText(std::string(5000, 'a'), 1024),
            std::string(1024, 'a') + "... (5000 bytes)");
  // "é" starting at the last byte kept is kept whole.
  const std::string text = std::string(9, 'a') + "\xc3\xa9" + "tail";
  EXPECT_EQ(PrintableText(text, 10), std::string(9, 'a') + "\xc3\xa9... (15 bytes)");
  EXPECT_EQ(PrintableText("short", 10), "short");
}

}  // namespace
}  // namespace mlpserve
