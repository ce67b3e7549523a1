// The golden suite: every template in tests/fixtures/chat_templates over the
// conversations in goldens.json must render byte for byte as Python jinja2
// rendered them (scripts/make_chat_template_goldens.py), or fail where it failed.
#include "text/chat_template.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "common/error.h"
#include "common/json_file.h"

namespace arle::text {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

fs::path dir() { return fs::path(ARLE_TEST_FIXTURES) / "chat_templates"; }

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
  json doc = json::parse(read_text_file(dir() / "goldens.json"));
  std::map<std::string, json> cases;
  for (const json& c : doc["cases"]) cases[c["name"]] = c;
  std::vector<Golden> out;
  for (const json& g : doc["goldens"]) out.push_back({g["template"], g["case"], g, cases[g["case"]]});
  return out;
}

class ChatTemplateGolden : public ::testing::TestWithParam<Golden> {};

TEST_P(ChatTemplateGolden, RendersAsJinja2) {
  const Golden& g = GetParam();
  json specials = json::parse(read_text_file(dir() / "special_tokens.json"));
  json tokens = specials.value(g.template_name, json::object());
  auto token = [&](const char* k) { return tokens.contains(k) && tokens[k].is_string() ? tokens[k].get<std::string>() : ""; };
  ChatTemplate t(read_text_file(dir() / g.template_name), token("bos_token"), token("eos_token"));
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

namespace arle::text {
namespace {

// The tokenizer-vector chat cases: rendered by jinja2 and @huggingface/jinja,
// then tokenized. The template comes from the tokenizer folder as a user has it.
TEST(ChatTemplateFromTokenizerConfig, VectorCasesRenderAndTokenize) {
  for (const auto& [name, folder] : {std::pair<std::string, fs::path>{"qwen3", fs::path(ARLE_TEST_FIXTURES) / "models" / "qwen3-tiny"},
                                     {"qwen2.5", fs::path(ARLE_TEST_FIXTURES) / "tokenizers" / "qwen2.5"}}) {
    ChatTemplate t = ChatTemplate::load(folder);
    json doc = json::parse(read_text_file(fs::path(ARLE_TEST_FIXTURES) / "tokenizers" / "vectors" / (name + "_chat_template_cases.json")));
    int n = 0;
    for (const json& c : doc["cases"]) {
      ChatTemplateInput input;
      input.messages = c["messages"];
      input.tools = c.value("tools", json());
      input.add_generation_prompt = c.value("add_generation_prompt", true);
      if (c.contains("enable_thinking")) input.kwargs["enable_thinking"] = c["enable_thinking"];
      EXPECT_EQ(t.render(input), c["rendered"].get<std::string>()) << name << " case " << n;
      ++n;
    }
    EXPECT_GT(n, 3) << name;
  }
}

TEST(ChatTemplateErrors, SyntaxAndRenderErrorsCarryLineAndColumn) {
  auto error_of = [](const std::string& source, const json& messages = json::array()) {
    try {
      ChatTemplate t(source, "", "");
      ChatTemplateInput input;
      input.messages = messages;
      t.render(input);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(error_of("a\n{% if x %}b").find("line 2"), std::string::npos);
  EXPECT_NE(error_of("a\n{% if x %}b").find("missing {% endif %}"), std::string::npos) << error_of("a\n{% if x %}b");
  EXPECT_NE(error_of("{{ x | nosuchfilter }}").find("unknown filter 'nosuchfilter'"), std::string::npos);
  EXPECT_NE(error_of("ok\n  {{ raise_exception('Roles must alternate') }}").find("line 2, column 3: Roles must alternate"),
            std::string::npos)
      << error_of("ok\n  {{ raise_exception('Roles must alternate') }}");
  EXPECT_NE(error_of("{{ 'a' + 1 }}").find("unsupported operand"), std::string::npos);
  EXPECT_NE(error_of("{{ x.y }}").find("'x' is undefined"), std::string::npos);
  EXPECT_NE(error_of("{% frobnicate %}").find("unknown statement 'frobnicate'"), std::string::npos);
  EXPECT_NE(error_of("{{ 'unterminated }}").find("unclosed tag"), std::string::npos) << error_of("{{ 'unterminated }}");
  EXPECT_NE(error_of("{{ (1 }}").find("expected ')'"), std::string::npos) << error_of("{{ (1 }}");
  EXPECT_NE(error_of("{{ 1 / 0 }}").find("division by zero"), std::string::npos);
  EXPECT_NE(error_of("{% for a, b in [[1]] %}{% endfor %}").find("cannot unpack"), std::string::npos);
  EXPECT_NE(error_of("{% for a in 5 %}{% endfor %}").find("not iterable"), std::string::npos);
  EXPECT_NE(error_of("{% set x.y = 1 %}").find("only namespace()"), std::string::npos);
  EXPECT_NE(error_of("{{ [1].append(2) }}").find("immutable"), std::string::npos);
}

TEST(ChatTemplateSemantics, PythonBehaviours) {
  auto render = [](const std::string& source) {
    ChatTemplate t(source, "<s>", "</s>");
    return t.render(ChatTemplateInput{});
  };
  EXPECT_EQ(render("{{ [1, 'a', none, true, 2.5] }}"), "[1, 'a', None, True, 2.5]");
  EXPECT_EQ(render("{{ 'abc'[::-1] }}|{{ [1,2,3][1:] }}|{{ 'héllo'[1] }}"), "cba|[2, 3]|é");
  EXPECT_EQ(render("{{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ 7 / 2 }} {{ 2 ** 10 }} {{ 1e-5 }} {{ 1.0 }}"),
            "3 -4 1 3.5 1024 1e-05 1.0");
  EXPECT_EQ(render("{{ {'b': 1, 'a': [1, 'x']} | tojson }}|{{ 'é' | tojson }}|{{ {'k': 1} | tojson(indent=2) }}"),
            "{\"b\": 1, \"a\": [1, \"x\"]}|\"é\"|{\n  \"k\": 1\n}");
  EXPECT_EQ(render("{% for x in [1,2,3] %}{{ loop.index }}{{ loop.previtem }}{% if loop.last %}!{% endif %}{% endfor %}"),
            "12132!");
  EXPECT_EQ(render("{% for x in range(10) %}{% if x == 2 %}{% continue %}{% endif %}{% if x > 4 %}{% break %}{% endif %}{{ x }}{% endfor %}"),
            "0134");
  EXPECT_EQ(render("{% macro greet(name, punct='!') %}Hi {{ name }}{{ punct }}{% endmacro %}{{ greet('Bob') }} {{ greet('Al', punct='?') }}"),
            "Hi Bob! Hi Al?");
  EXPECT_EQ(render("{% macro box() %}[{{ caller() }}]{% endmacro %}{% call box() %}inside{% endcall %}"), "[inside]");
  EXPECT_EQ(render("{% set ns = namespace(n=0) %}{% for i in [1,2] %}{% set ns.n = ns.n + i %}{% endfor %}{{ ns.n }}"), "3");
  EXPECT_EQ(render("{{ '  a b  '.strip() }}|{{ 'a,b,,c'.split(',') }}|{{ ' x  y '.split() }}|{{ 'xxhixx'.strip('x') }}"),
            "a b|['a', 'b', '', 'c']|['x', 'y']|hi");
  EXPECT_EQ(render("{{ [3,1,2] | sort | join(',') }} {{ [1,1,2] | unique | list | length }} {{ {'a': 1} | items | list }}"),
            "1,2,3 2 [['a', 1]]");
  EXPECT_EQ(render("{{ [{'t': 'a', 'v': 1}, {'t': 'b', 'v': 2}] | selectattr('t', 'equalto', 'b') | map(attribute='v') | list }}"),
            "[2]");
  EXPECT_EQ(render("{{ bos_token }}{{ x | default('d') }}{{ none is none }}{{ 'a' is string }}{{ 3 is number }}"),
            "<s>dTrueTrueTrue");
  EXPECT_EQ(render("{%- if true -%}\n  a  \n{%- endif -%}\n"), "a");
  EXPECT_EQ(render("  {% if true %}\nline\n  {% endif %}\nend"), "line\nend");  // lstrip_blocks + trim_blocks
  EXPECT_EQ(render("{% generation %}gen{% endgeneration %}"), "gen");
  EXPECT_EQ(render("{# comment #}x{% raw %}{{ not parsed }}{% endraw %}"), "x{{ not parsed }}");
}

}  // namespace
}  // namespace arle::text

namespace arle::text {
namespace {

TEST(ChatTemplateLoading, JinjaFileListFormAndMissing) {
  // Qwen3.5 checkpoints ship chat_template.jinja beside the config.
  ChatTemplate qwen35 = ChatTemplate::load(fs::path(ARLE_TEST_FIXTURES) / "configs" / "Qwen3.5-0.8B");
  ChatTemplateInput input;
  input.messages = json::parse(R"([{"role": "user", "content": "Hi"}])");
  // The 0.8B template closes the think block unless enable_thinking is set (see the goldens).
  EXPECT_EQ(qwen35.render(input), "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n");

  // tokenizer_config.json may hold a list of named templates; "default" is the chat one.
  fs::path dir = fs::path(::testing::TempDir()) / "arle_template_list";
  fs::create_directories(dir);
  std::ofstream(dir / "tokenizer_config.json") << R"({"bos_token": "<s>", "chat_template": [
      {"name": "tool_use", "template": "TOOLS"},
      {"name": "default", "template": "{{ bos_token }}{% for m in messages %}[{{ m.role }}]{{ m.content }}{% endfor %}"}]})";
  EXPECT_EQ(ChatTemplate::load(dir).render(input), "<s>[user]Hi");

  fs::path empty = fs::path(::testing::TempDir()) / "arle_template_none";
  fs::create_directories(empty);
  EXPECT_THROW(ChatTemplate::load(empty), Error);
}

}  // namespace
}  // namespace arle::text
