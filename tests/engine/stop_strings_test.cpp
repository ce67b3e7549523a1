#include "engine/stop_strings.h"

#include <gtest/gtest.h>

namespace arle::engine {
namespace {

std::string feed(StopStrings& s, const std::vector<std::string>& pieces) {
  std::string out;
  for (const std::string& p : pieces) out += s.push(p);
  if (!s.stopped()) out += s.finish();
  return out;
}

TEST(StopStrings, StopSplitAcrossPiecesIsNeverEmitted) {
  StopStrings s({"</end>"});
  EXPECT_EQ(s.push("hello </"), "hello ");  // "</" might start the stop string
  EXPECT_EQ(s.push("en"), "");
  EXPECT_EQ(s.push("d> tail"), "");
  EXPECT_TRUE(s.stopped());
  EXPECT_EQ(s.matched(), "</end>");
}

TEST(StopStrings, HeldTextIsReleasedWhenItCannotMatch) {
  StopStrings s({"STOP"});
  EXPECT_EQ(s.push("ST"), "");
  EXPECT_EQ(s.push("ART"), "START");
  EXPECT_FALSE(s.stopped());
  EXPECT_EQ(s.push("ok ST"), "ok ");
  EXPECT_EQ(s.finish(), "ST");
}

TEST(StopStrings, EarliestMatchWinsAmongSeveral) {
  StopStrings s({"world", "lo w"});
  EXPECT_EQ(feed(s, {"hello world"}), "hel");
  EXPECT_EQ(s.matched(), "lo w");
}

TEST(StopStrings, NoStopsPassEverythingThrough) {
  StopStrings s({"", ""});
  EXPECT_EQ(feed(s, {"a", "b"}), "ab");
}

}  // namespace
}  // namespace arle::engine
