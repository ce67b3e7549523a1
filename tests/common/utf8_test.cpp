#include "common/utf8.h"

#include <gtest/gtest.h>

namespace arle {
namespace {

TEST(Utf8, AcceptsValidText) {
  EXPECT_EQ(find_invalid_utf8(""), std::nullopt);
  EXPECT_EQ(find_invalid_utf8("plain ascii"), std::nullopt);
  EXPECT_EQ(find_invalid_utf8("caf\xc3\xa9 \xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x98\x80"), std::nullopt);
  EXPECT_EQ(find_invalid_utf8("\xf4\x8f\xbf\xbf"), std::nullopt);  // U+10FFFF
}

TEST(Utf8, ReportsOffsetOfFirstBadSequence) {
  EXPECT_EQ(find_invalid_utf8("ab\xff"), 2u);
  EXPECT_EQ(find_invalid_utf8("a\xc3"), 1u);                 // truncated 2-byte
  EXPECT_EQ(find_invalid_utf8("\xc0\xaf"), 0u);              // overlong '/'
  EXPECT_EQ(find_invalid_utf8("\xe0\x80\xaf"), 0u);          // overlong 3-byte
  EXPECT_EQ(find_invalid_utf8("x\xed\xa0\x80"), 1u);         // surrogate U+D800
  EXPECT_EQ(find_invalid_utf8("\xf4\x90\x80\x80"), 0u);      // > U+10FFFF
  EXPECT_EQ(find_invalid_utf8("\x80"), 0u);                  // lone continuation
  EXPECT_EQ(find_invalid_utf8("ok\xe4\xb8"), 2u);            // truncated 3-byte
  EXPECT_EQ(find_invalid_utf8("\xf8\x88\x80\x80\x80"), 0u);  // 5-byte form
}

}  // namespace
TEST(Utf8Test, ToValidReplacesEachBadByte) {
  EXPECT_EQ(to_valid_utf8("caf\xc3\xa9"), "caf\xc3\xa9");
  EXPECT_EQ(to_valid_utf8("a\xff"
                          "b"),
            "a\xef\xbf\xbd"
            "b");
  EXPECT_EQ(to_valid_utf8("\xc3"), "\xef\xbf\xbd");                                  // cut sequence
  EXPECT_EQ(to_valid_utf8("\xed\xa0\x80"), "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");  // a surrogate
  EXPECT_FALSE(find_invalid_utf8(to_valid_utf8("\x80\x80\xfe ok \xf0\x9f")).has_value());
}

}  // namespace arle
