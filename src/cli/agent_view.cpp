#include "cli/agent_view.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "common/units.h"

namespace arle::cli {
namespace {

constexpr const char* kDim = "\x1b[2m";
constexpr const char* kBold = "\x1b[1m";
constexpr const char* kReset = "\x1b[0m";
constexpr std::size_t kShownLines = 6;

// The first line of `text`, cut to `width` characters (bytes; a cut never
// splits a UTF-8 sequence), with how many lines follow.
std::string first_line(const std::string& text, std::size_t width) {
  std::string line = text.substr(0, text.find('\n'));
  if (line.size() > width) {
    std::size_t cut = width;
    while (cut > 0 && (static_cast<unsigned char>(line[cut]) & 0xC0) == 0x80) --cut;
    line = line.substr(0, cut) + "...";
  }
  const auto lines = static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')) +
                     (text.empty() || text.back() == '\n' ? 0 : 1);
  if (lines > 1) line += fmt::format(" (+{} lines)", lines - 1);
  return line;
}

}  // namespace

bool use_color(std::FILE* file) {
  const char* no_color = std::getenv("NO_COLOR");
  const char* term = std::getenv("TERM");
  return ::isatty(::fileno(file)) && !(no_color && *no_color) && !(term && std::string(term) == "dumb");
}

std::string summarize_call(const std::string& name, const std::string& arguments_json) {
  try {
    const auto args = nlohmann::json::parse(arguments_json);
    const char* key = name == "shell" ? "command" : name == "python" ? "code" : nullptr;
    if (key && args.is_object() && args.contains(key) && args[key].is_string()) {
      return first_line(args[key].get<std::string>(), 100);
    }
  } catch (const std::exception&) {
  }
  return first_line(arguments_json, 100);
}

void AgentView::write(std::FILE* f, const std::string& text) {
  if (text.empty()) return;
  if (line_open_ && open_on_ != f) end_line();
  std::fputs(text.c_str(), f);
  std::fflush(f);
  line_open_ = text.back() != '\n';
  open_on_ = f;
}

void AgentView::end_line() {
  if (line_open_) {
    std::fputc('\n', open_on_);
    std::fflush(open_on_);
  }
  line_open_ = false;
}

std::string AgentView::dim(const std::string& text) const {
  return style_.color ? std::string(kDim) + text + kReset : text;
}

void AgentView::note(const std::string& text) {
  end_line();
  write(style_.details, dim(text) + "\n");
}

void AgentView::close_reasoning() {
  if (!in_reasoning_) return;
  in_reasoning_ = false;
  if (style_.show_reasoning) {
    if (style_.color) write(style_.details, kReset);
    end_line();
    if (!style_.color) write(style_.details, "[/thinking]\n");
  } else {
    write(style_.details, dim(fmt::format("[thought {} characters; /thoughts shows them]", reasoning_chars_)) + "\n");
  }
}

agent::AgentEvents AgentView::events(std::function<std::string(const std::string&)> ask) {
  agent::AgentEvents e;
  e.stream.reasoning = [this](std::string_view text) {
    if (!in_reasoning_) {
      in_reasoning_ = true;
      reasoning_chars_ = 0;
      last_reasoning_.clear();
      end_line();
      if (style_.show_reasoning) write(style_.details, style_.color ? std::string(kDim) : "[thinking]\n");
    }
    reasoning_chars_ += text.size();
    last_reasoning_ += text;
    if (style_.show_reasoning) write(style_.details, std::string(text));
  };
  e.stream.content = [this](std::string_view text) {
    close_reasoning();
    write(style_.answer, std::string(text));
  };
  e.turn_end = [this](const agent::TurnRecord& t) {
    close_reasoning();
    end_line();
    if (t.output.finish_reason == "error") note("error: " + t.output.error);
    if (t.output.finish_reason == "length") note("[the answer ran out of tokens]");
    for (const std::string& error : t.output.parse_errors) note("[malformed tool call: " + error + "]");
  };
  e.approve = [this, ask](const agent::ToolCallRecord& call) {
    if (always_approve_) return true;
    if (!ask) return false;
    end_line();
    const std::string question =
        fmt::format("run {}: {}? [y/N/a(lways)] ", call.name, summarize_call(call.name, call.arguments));
    // Plain text: libedit prints a prompt's escape sequences literally.
    const std::string answer = ask(question);
    if (answer == "a" || answer == "always") always_approve_ = true;
    return answer == "y" || answer == "yes" || always_approve_;
  };
  e.tool_start = [this](const agent::ToolCallRecord& call) {
    end_line();
    write(style_.details, (style_.color ? std::string(kBold) + "> " + kReset : "> ") + call.name + ": " +
                              summarize_call(call.name, call.arguments) + "\n");
  };
  e.tool_end = [this](const agent::ToolCallRecord& call) {
    const agent::ToolResult& r = call.result;
    if (!call.approved) {
      note(fmt::format("  {} {}: {}", "-", call.name, r.status));
      return;
    }
    std::string status = fmt::format("  {} {} in {:.2f} s", r.ok ? "ok," : "failed:", r.status, r.seconds);
    if (r.output_bytes > 0) status += fmt::format(", {} of output", human_bytes(static_cast<double>(r.output_bytes)));
    note(status);
    std::size_t start = 0;
    for (std::size_t shown = 0; shown < kShownLines && start < r.content.size(); ++shown) {
      const std::size_t end = r.content.find('\n', start);
      note("  | " +
           first_line(r.content.substr(start, end == std::string::npos ? std::string::npos : end - start), 160));
      start = end == std::string::npos ? r.content.size() : end + 1;
    }
    if (start < r.content.size()) {
      note(fmt::format("  | ... ({} more lines)",
                       std::count(r.content.begin() + static_cast<std::ptrdiff_t>(start), r.content.end(), '\n') + 1));
    }
  };
  return e;
}

}  // namespace arle::cli
