// The golden suite: every template in tests/fixtures/chat_templates over the
// conversations in goldens.json must render byte for byte as Python jinja2
// rendered them (scripts/make_chat_template_goldens.py), or fail where it failed.
#include "text/chat_template.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/error.h"

namespace arle::text {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

fs::path dir() { return fs::path(ARLE_TEST_FIXTURES) / "chat_templates"; }

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::time_t pinned_time() {  // 2026-11-26 12:00:00 local, as the goldens
  std::tm tm{};
  tm.tm_year = 126;
  tm.tm_mon = 10;
  tm.tm_mday = 26;
  tm.tm_hour = 12;
  tm.tm_isdst = -1;
  return std::mktime(&tm);
}

struct Golden {
  std::string template_name, case_name;
  json golden, input;
};

void PrintTo(const Golden& g, std::ostream* os) { *os << g.template_name << "/" << g.case_name; }

std::vector<Golden> goldens() {
  json doc = json::parse(slurp(dir() / "goldens.json"));
  std::map<std::string, json> cases;
  for (const json& c : doc["cases"]) cases[c["name"]] = c;
  std::vector<Golden> out;
  for (const json& g : doc["goldens"]) out.push_back({g["template"], g["case"], g, cases[g["case"]]});
  return out;
}

class ChatTemplateGolden : public ::testing::TestWithParam<Golden> {};

TEST_P(ChatTemplateGolden, RendersAsJinja2) {
  const Golden& g = GetParam();
  json specials = json::parse(slurp(dir() / "special_tokens.json"));
  json tokens = specials.value(g.template_name, json::object());
  auto token = [&](const char* k) { return tokens.contains(k) && tokens[k].is_string() ? tokens[k].get<std::string>() : ""; };
  ChatTemplate t(slurp(dir() / g.template_name), token("bos_token"), token("eos_token"));
  t.set_clock(pinned_time);
  ChatTemplateInput input;
  input.messages = g.input["messages"];
  input.tools = g.input.value("tools", json());
  input.add_generation_prompt = g.input.value("add_generation_prompt", true);
  input.kwargs = g.input.value("kwargs", json::object());
  if (g.golden.contains("error")) {
    EXPECT_THROW(t.render(input), Error) << "jinja2 raised " << g.golden["error"];
    return;
  }
  std::string out;
  try {
    out = t.render(input);
  } catch (const Error& e) {
    FAIL() << e.what();
  }
  EXPECT_EQ(out, g.golden["output"].get<std::string>());
}

INSTANTIATE_TEST_SUITE_P(Templates, ChatTemplateGolden, ::testing::ValuesIn(goldens()), [](const auto& info) {
  std::string n = info.param.template_name.substr(0, info.param.template_name.size() - 6) + "_" + info.param.case_name;
  for (char& c : n) {
    if (!isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return n;
});

}  // namespace
}  // namespace arle::text
