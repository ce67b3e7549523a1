#pragma once
// How an agent session looks in a terminal: the answer streamed as it is
// generated, reasoning dimmed (or folded to one line), each tool call as one
// line with its result's status and first lines under it, and the approval
// question. The REPL prints everything to stdout; `arle run` keeps stdout
// for the answer and sends the rest to stderr.

#include <cstdio>
#include <functional>
#include <string>

#include "agent/agent.h"

namespace arle::cli {

struct ViewStyle {
  bool color = false;           // ANSI dim/bold/colors
  bool show_reasoning = true;   // else one folded line per turn
  std::FILE* answer = stdout;   // streamed content
  std::FILE* details = stdout;  // reasoning, tool lines, notes
};

// Whether `file` is a terminal that takes colors (and $NO_COLOR is unset).
bool use_color(std::FILE* file);

class AgentView {
 public:
  explicit AgentView(ViewStyle style) : style_(style) {}
  // Events that draw this view; `ask` reads the user's answer to a question
  // (null: every call is declined when approval is asked for).
  agent::AgentEvents events(std::function<std::string(const std::string& question)> ask = {});
  // Ends the current line if text is pending on it.
  void end_line();
  // Dimmed note on its own line ("[stopped]", stats).
  void note(const std::string& text);
  ViewStyle& style() { return style_; }
  const std::string& last_reasoning() const { return last_reasoning_; }

 private:
  void write(std::FILE* f, const std::string& text);
  std::string dim(const std::string& text) const;
  void close_reasoning();

  ViewStyle style_;
  bool in_reasoning_ = false;
  bool line_open_ = false;  // text written without a final newline
  std::FILE* open_on_ = nullptr;
  std::size_t reasoning_chars_ = 0;
  std::string last_reasoning_;
  bool always_approve_ = false;
};

// "echo hi" / "import os (+3 lines)": a call's arguments in one short line.
std::string summarize_call(const std::string& name, const std::string& arguments_json);

}  // namespace arle::cli
