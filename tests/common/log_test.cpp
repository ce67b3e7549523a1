#include "common/log.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include "common/error.h"

namespace arle::log {
namespace {

class LogTest : public ::testing::Test {
 protected:
  void TearDown() override {
    unsetenv("ARLE_LOG_LEVEL");
    set_level(Level::kInfo);
  }
};

TEST_F(LogTest, ParsesEveryLevelName) {
  EXPECT_EQ(parse_level("trace"), Level::kTrace);
  EXPECT_EQ(parse_level("debug"), Level::kDebug);
  EXPECT_EQ(parse_level("info"), Level::kInfo);
  EXPECT_EQ(parse_level("warn"), Level::kWarn);
  EXPECT_EQ(parse_level("warning"), Level::kWarn);
  EXPECT_EQ(parse_level("error"), Level::kError);
  EXPECT_EQ(parse_level("off"), Level::kOff);
  EXPECT_EQ(parse_level("loud"), std::nullopt);
  EXPECT_EQ(parse_level("INFO"), std::nullopt);
}

TEST_F(LogTest, FlagBeatsEnvironmentWhichBeatsDefault) {
  setenv("ARLE_LOG_LEVEL", "error", 1);
  init(std::string("debug"));
  EXPECT_EQ(level(), Level::kDebug);
  init(std::nullopt);
  EXPECT_EQ(level(), Level::kError);
  unsetenv("ARLE_LOG_LEVEL");
  init(std::nullopt, Level::kWarn);
  EXPECT_EQ(level(), Level::kWarn);
}

TEST_F(LogTest, BadLevelNamesItsSource) {
  try {
    init(std::string("loud"));
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(std::string(e.what()).find("--log-level 'loud'"), std::string::npos) << e.what();
  }
  setenv("ARLE_LOG_LEVEL", "chatty", 1);
  try {
    init(std::nullopt);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("ARLE_LOG_LEVEL 'chatty'"), std::string::npos) << e.what();
  }
}

TEST_F(LogTest, EnabledFollowsLevel) {
  set_level(Level::kWarn);
  EXPECT_FALSE(enabled(Level::kInfo));
  EXPECT_TRUE(enabled(Level::kWarn));
  EXPECT_TRUE(enabled(Level::kError));
  set_level(Level::kOff);
  EXPECT_FALSE(enabled(Level::kError));
}

}  // namespace
}  // namespace arle::log
