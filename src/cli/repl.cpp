#include "cli/repl.h"

#include <editline/readline.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "cli/agent_view.h"
#include "cli/interrupt.h"
#include "common/error.h"
#include "common/units.h"

namespace arle::cli {
namespace {

using Json = nlohmann::ordered_json;

constexpr const char* kHelp =
    "  /help            this list\n"
    "  /reset           forget the conversation (the system prompt stays) and restart python\n"
    "  /tools           the tools, their sandbox and working directory\n"
    "  /model           the model and where it runs\n"
    "  /stats           tokens, speed and prefix-cache reuse of this session\n"
    "  /save FILE       write the conversation (OpenAI messages, JSON)\n"
    "  /load FILE       read a conversation written by /save\n"
    "  /system [TEXT]   set the system prompt (none: clear it)\n"
    "  /think show|hide show reasoning dimmed, or fold it to one line\n"
    "  /thoughts        the last reasoning in full\n"
    "  /exit            leave (or Ctrl-D)\n"
    "  A line ending in \\ continues on the next; a line of \"\"\" opens and closes a block.\n"
    "  Ctrl-C stops the answer or tool that is running.\n";

std::string history_path() {
  const char* home = std::getenv("HOME");
  return home && *home ? std::string(home) + "/.arle_history" : std::string();
}

std::string percent(std::int64_t part, std::int64_t whole) {
  return whole > 0 ? fmt::format("{:.0f}%", 100.0 * static_cast<double>(part) / static_cast<double>(whole)) : "-";
}

class Repl {
 public:
  Repl(AgentSession& session, AgentView& view) : session_(session), view_(view) {}

  int loop() {
    history_ = history_path();
    using_history();
    stifle_history(2000);
    if (!history_.empty()) read_history(history_.c_str());
    for (;;) {
      std::optional<std::string> message = read_message();
      if (!message) break;
      if (message->find_first_not_of(" \t\n") == std::string::npos) continue;
      remember(*message);
      if ((*message)[0] == '/') {
        if (!command(*message)) break;
        continue;
      }
      send(*message);
    }
    std::fputs("\n", stdout);
    return 0;
  }

 private:
  // One message: nullopt at end of input. Ctrl-C drops what was typed.
  std::optional<std::string> read_message() {
    std::string text;
    bool block = false;
    for (;;) {
      interrupt_.clear();
      char* raw = readline(text.empty() && !block ? "> " : ". ");
      if (!raw) {
        if (interrupt_.interrupted()) {  // Ctrl-C at the prompt: a fresh one
          std::fputs("\n", stdout);
          text.clear();
          block = false;
          continue;
        }
        return std::nullopt;
      }
      std::string line(raw);
      std::free(raw);
      if (line == "\"\"\"") {
        if (block) return text;
        block = true;
        continue;
      }
      if (block) {
        text += line + "\n";
        continue;
      }
      if (!line.empty() && line.back() == '\\') {
        text += line.substr(0, line.size() - 1) + "\n";
        continue;
      }
      return text + line;
    }
  }

  void remember(const std::string& message) {
    add_history(message.c_str());
    if (!history_.empty()) write_history(history_.c_str());
  }

  std::string ask(const std::string& question) {
    interrupt_.clear();
    char* raw = readline(question.c_str());
    if (!raw) return "";
    std::string answer(raw);
    std::free(raw);
    while (!answer.empty() && answer.back() == ' ') answer.pop_back();
    return answer;
  }

  void send(const std::string& message) {
    agent::AgentEvents events = view_.events([this](const std::string& q) { return ask(q); });
    auto turn_end = events.turn_end;
    events.turn_end = [&, turn_end](const agent::TurnRecord& t) {
      last_turn_ = t.output;
      turn_end(t);
    };
    if (session_.tracing()) events.trace = [this](const Json& r) { session_.trace(r); };
    interrupt_.clear();
    agent::TaskResult r;
    try {
      r = session_.agent().send(message, events, interrupt_.flag());
    } catch (const std::exception& e) {  // a bug must not end the session
      view_.end_line();
      view_.note(fmt::format("error: {}", e.what()));
      return;
    }
    view_.end_line();
    if (r.stop_reason == "cancelled") view_.note("[stopped]");
    if (r.stop_reason == "max_turns") view_.note("[stopped after --max-turns turns]");
    view_.note(fmt::format("[{} prompt tokens ({} cached), {} generated, {:.1f} s]", r.usage.prompt_tokens,
                           r.usage.cached_tokens, r.usage.completion_tokens, r.seconds));
    interrupt_.clear();
  }

  // false: leave.
  bool command(const std::string& line) {
    const std::size_t space = line.find(' ');
    const std::string name = line.substr(0, space);
    std::string arg = space == std::string::npos ? "" : line.substr(space + 1);
    while (!arg.empty() && (arg.back() == ' ' || arg.back() == '\n')) arg.pop_back();
    agent::Agent& agent = session_.agent();
    if (name == "/exit" || name == "/quit") return false;
    if (name == "/help") {
      std::fputs(kHelp, stdout);
    } else if (name == "/reset") {
      agent.reset();
      view_.note("[conversation cleared]");
    } else if (name == "/tools") {
      if (!session_.toolbox()) {
        view_.note(fmt::format("tools are off: {}", session_.tools_off_reason()));
      } else {
        for (const Json& t : session_.toolbox()->schemas()) {
          std::printf("  %s: %s\n", t["function"]["name"].get<std::string>().c_str(),
                      t["function"]["description"].get<std::string>().c_str());
        }
        std::fputs(session_.describe().c_str(), stdout);
      }
    } else if (name == "/model") {
      std::fputs(session_.describe().c_str(), stdout);
    } else if (name == "/stats") {
      stats();
    } else if (name == "/save") {
      if (arg.empty()) return usage("/save FILE");
      std::ofstream out(arg);
      out << agent.messages().dump(2, ' ', false, Json::error_handler_t::replace) << "\n";
      view_.note(out ? fmt::format("[saved {} messages to {}]", agent.messages().size(), arg)
                     : fmt::format("cannot write {}", arg));
    } else if (name == "/load") {
      if (arg.empty()) return usage("/load FILE");
      load(arg);
    } else if (name == "/system") {
      agent.set_system_prompt(arg);
      view_.note(arg.empty() ? "[system prompt cleared]" : "[system prompt set]");
    } else if (name == "/think") {
      if (arg != "show" && arg != "hide") return usage("/think show|hide");
      view_.style().show_reasoning = arg == "show";
    } else if (name == "/thoughts") {
      std::printf("%s\n", view_.last_reasoning().empty() ? "(no reasoning yet)" : view_.last_reasoning().c_str());
    } else {
      view_.note(fmt::format("unknown command {}; /help lists them", name));
    }
    return true;
  }

  bool usage(const char* text) {
    view_.note(fmt::format("usage: {}", text));
    return true;
  }

  void load(const std::string& path) {
    std::ifstream in(path);
    if (!in) return view_.note(fmt::format("cannot read {}", path));
    std::stringstream ss;
    ss << in.rdbuf();
    try {
      Json j = Json::parse(ss.str());
      if (j.is_object() && j.contains("messages")) j = j["messages"];
      session_.agent().load_messages(j);
      view_.note(fmt::format("[loaded {} messages]", j.size()));
    } catch (const std::exception& e) {
      view_.note(fmt::format("{}: {}", path, e.what()));
    }
  }

  void stats() {
    const agent::AgentStats& s = session_.agent().stats();
    const agent::TurnUsage& u = s.usage;
    std::printf("messages: %lld sent, %lld model turns, %lld tool calls\n", static_cast<long long>(s.user_messages),
                static_cast<long long>(s.model_turns), static_cast<long long>(s.tool_calls));
    std::printf("tokens: %lld prompt, %lld generated; the prefix cache served %lld prompt tokens (%s)\n",
                static_cast<long long>(u.prompt_tokens), static_cast<long long>(u.completion_tokens),
                static_cast<long long>(u.cached_tokens), percent(u.cached_tokens, u.prompt_tokens).c_str());
    if (s.generation_seconds > 0) {
      std::printf("speed: %.1f tokens/s generated over %.2f s",
                  static_cast<double>(u.completion_tokens) / s.generation_seconds, s.generation_seconds);
      const double decode = last_turn_.seconds - last_turn_.first_token_seconds;
      if (last_turn_.usage.completion_tokens > 1 && decode > 0) {
        std::printf("; last turn: first token after %.3f s, then %.1f tokens/s", last_turn_.first_token_seconds,
                    static_cast<double>(last_turn_.usage.completion_tokens - 1) / decode);
      }
      std::printf("\n");
    }
    const Json b = session_.backend().stats();
    if (b.contains("prefix_cache_hit_tokens")) {
      std::printf(
          "engine: prefix cache hit %lld of %lld queried tokens (%s); %lld of %lld turns extended the "
          "previous prompt token for token\n",
          b["prefix_cache_hit_tokens"].get<long long>(), b["prefix_cache_queried_tokens"].get<long long>(),
          percent(b["prefix_cache_hit_tokens"].get<std::int64_t>(),
                  b["prefix_cache_queried_tokens"].get<std::int64_t>())
              .c_str(),
          b["turns_extending_the_previous_prompt"].get<long long>(), b["turns"].get<long long>());
    } else if (!b.empty()) {
      std::printf("backend: %s\n", b.dump().c_str());
    }
  }

  AgentSession& session_;
  AgentView& view_;
  InterruptScope interrupt_;
  std::string history_;
  agent::TurnOutput last_turn_;
};

}  // namespace

int run_repl(const AgentCommandOptions& options, const ModelWrapper& wrap_model) {
  AgentSession session(options, agent::Approval::kAsk, wrap_model);
  ViewStyle style;
  style.color = use_color(stdout);
  AgentView view(style);
  std::printf("arle agent\n%s/help lists commands; Ctrl-D leaves.\n", session.describe().c_str());
  std::fflush(stdout);
  Repl repl(session, view);
  return repl.loop();
}

}  // namespace arle::cli
