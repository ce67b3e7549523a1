// The tools as the model calls them: schemas, what the model reads back for
// success, failure, bad arguments and unknown tools.
#include "agent/toolbox.h"

#include <gtest/gtest.h>

#include "common/utf8.h"
#include "scratch_dir.h"

namespace arle::agent {
namespace {

class ToolboxTest : public ::testing::Test {
 protected:
  ToolboxTest() : toolbox_(config()) {}
  SandboxConfig config() {
    SandboxConfig c;
    c.workdir = scratch_.path();
    c.isolation = Isolation::kNone;
    c.limits.timeout_seconds = 5;
    return c;
  }
  ScratchDir scratch_{"toolbox_test"};
  Toolbox toolbox_;
};

TEST_F(ToolboxTest, SchemasNameBothToolsWithARequiredString) {
  const auto schemas = toolbox_.schemas();
  ASSERT_EQ(schemas.size(), 2u);
  EXPECT_EQ(schemas[0]["function"]["name"], "shell");
  EXPECT_EQ(schemas[0]["function"]["parameters"]["required"][0], "command");
  EXPECT_EQ(schemas[1]["function"]["name"], "python");
  EXPECT_EQ(schemas[1]["function"]["parameters"]["properties"]["code"]["type"], "string");
  EXPECT_NE(schemas[0]["function"]["description"].get<std::string>().find("5 s timeout"), std::string::npos);
}

TEST_F(ToolboxTest, ShellResultsSayHowTheCommandEnded) {
  ToolResult ok = toolbox_.call("shell", R"({"command": "echo hi"})");
  EXPECT_TRUE(ok.ok);
  EXPECT_EQ(ok.content, "hi\n");
  EXPECT_EQ(toolbox_.call("shell", R"({"command": "true"})").content, "(no output)");
  ToolResult failed = toolbox_.call("shell", R"({"command": "echo oops; exit 2"})");
  EXPECT_FALSE(failed.ok);
  EXPECT_EQ(failed.content, "oops\n[exit 2]");
}

TEST_F(ToolboxTest, PythonKeepsStateAcrossCalls) {
  EXPECT_TRUE(toolbox_.call("python", R"({"code": "n = 6 * 7"})").ok);
  EXPECT_EQ(toolbox_.call("python", R"({"code": "n"})").content, "42\n");
  ToolResult error = toolbox_.call("python", R"({"code": "n / 0"})");
  EXPECT_FALSE(error.ok);
  EXPECT_NE(error.content.find("ZeroDivisionError"), std::string::npos);
  EXPECT_NE(error.content.find("[raised an exception]"), std::string::npos);
  toolbox_.reset();
  EXPECT_NE(toolbox_.call("python", R"({"code": "n"})").content.find("NameError"), std::string::npos);
}

TEST_F(ToolboxTest, BinaryOutputReachesTheModelAsValidUtf8) {
  ToolResult r = toolbox_.call("shell", R"({"command": "printf 'a\\377\\376b'"})");
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.content,
            "a\xEF\xBF\xBD\xEF\xBF\xBD"
            "b");
  EXPECT_FALSE(find_invalid_utf8(r.content).has_value());
}

TEST_F(ToolboxTest, MistakesComeBackAsResultsForTheModel) {
  ToolResult unknown = toolbox_.call("browser", "{}");
  EXPECT_FALSE(unknown.ok);
  EXPECT_EQ(unknown.content, "error: there is no tool 'browser'; the tools are shell and python");
  EXPECT_NE(toolbox_.call("shell", "{not json").content.find("not JSON"), std::string::npos);
  EXPECT_NE(toolbox_.call("shell", R"({"cmd": "ls"})").content.find("need a string \"command\""), std::string::npos);
  EXPECT_NE(toolbox_.call("python", R"({"code": 5})").content.find("\"code\""), std::string::npos);
  EXPECT_NE(toolbox_.call("python", "[]").content.find("\"code\""), std::string::npos);
}

}  // namespace
}  // namespace arle::agent
