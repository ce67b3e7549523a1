#include "agent/output_capture.h"

#include <gtest/gtest.h>

#include "common/utf8.h"

namespace arle::agent {
namespace {

TEST(OutputCapture, KeepsEverythingWithinTheBudget) {
  OutputCapture c(16);
  c.append("hello ");
  c.append("world");
  EXPECT_EQ(c.text(), "hello world");
  EXPECT_FALSE(c.truncated());
  EXPECT_EQ(c.total_bytes(), 11);
}

TEST(OutputCapture, KeepsTheHeadAndTheTailAndSaysHowMuchWasCut) {
  OutputCapture c(10);
  std::string all;
  for (int i = 0; i < 100; ++i) all += static_cast<char>('a' + i % 26);
  for (std::size_t at = 0; at < all.size(); at += 7) c.append(all.substr(at, 7));  // odd pieces
  EXPECT_TRUE(c.truncated());
  EXPECT_EQ(c.total_bytes(), 100);
  EXPECT_EQ(c.text(), all.substr(0, 5) + "\n[... 90 bytes of output cut ...]\n" + all.substr(95));
}

TEST(OutputCapture, CutsFallOnCharacterBoundaries) {
  // A 9-byte budget keeps 5 head bytes and 4 tail bytes. "é" is 2 bytes, "€" 3.
  OutputCapture whole(9);
  whole.append("aaaé");  // exactly the head: kept
  whole.append(std::string(10, 'x'));
  whole.append("€bb");  // the tail holds the last 2 bytes of "€": dropped
  EXPECT_EQ(whole.text(), "aaaé\n[... 11 bytes of output cut ...]\nbb");

  OutputCapture split(8);  // a 4-byte head ends in the first byte of "é"
  split.append("aaaé");
  split.append(std::string(20, 'z'));
  const std::string text = split.text();
  EXPECT_EQ(text, "aaa\n[... 17 bytes of output cut ...]\nzzzz");
  EXPECT_FALSE(find_invalid_utf8(text).has_value());
}

}  // namespace
}  // namespace arle::agent
