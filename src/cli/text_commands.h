#pragma once
// `arle tokenize` and `arle detokenize`: the tokenizer of a model folder (or
// of a folder holding only tokenizer files) from the command line.

#include <optional>
#include <string>

namespace arle::cli {

struct TokenizeOptions {
  std::string model_path;
  std::optional<std::string> text;
  std::optional<std::string> file;
  bool no_special = false;  // do not add BOS/EOS
  bool json = false;
};

// Prints the ids ("1,2,3"), or with json {"ids", "tokens", "count"}. Returns the exit code.
int run_tokenize(const TokenizeOptions& options);

// `ids` is "1,2,3" (spaces allowed). Prints the decoded text.
int run_detokenize(const std::string& model_path, const std::string& ids, bool skip_special);

}  // namespace arle::cli

namespace arle::cli {

struct ChatTemplateOptions {
  std::string model_path;
  std::string messages_file;
  std::optional<std::string> tools_file;
  bool no_generation_prompt = false;
  std::optional<std::string> template_kwargs;  // a JSON object
};

// Prints the rendered prompt exactly (no trailing newline added).
int run_chat_template(const ChatTemplateOptions& options);

}  // namespace arle::cli
