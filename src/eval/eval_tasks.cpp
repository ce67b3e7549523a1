#include "eval/eval_tasks.h"

#include <fmt/format.h>

#include <cmath>

#include "text/unicode.h"

namespace arle::eval {
namespace {

void replace_all(std::string& s, std::string_view from, std::string_view to) {
  for (std::size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
    s.replace(at, from.size(), to);
  }
}

std::string trim(std::string_view s) {
  const std::size_t b = s.find_first_not_of(" \t\r\n"), e = s.find_last_not_of(" \t\r\n");
  return b == std::string_view::npos ? std::string() : std::string(s.substr(b, e - b + 1));
}

bool is_number_char(char c) { return (c >= '0' && c <= '9') || c == '$' || c == '.' || c == ','; }
bool is_ascii_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

std::string mmlu_subject_name(const std::string& subject) {
  std::string out = subject;
  for (char& c : out) {
    if (c == '_') c = ' ';
  }
  return out;
}

std::string mmlu_question_text(const MmluQuestion& q) {
  std::string out = trim(q.question);
  for (int i = 0; i < 4; ++i) out += fmt::format("\n{}. {}", kMmluLetters[i], q.choices[static_cast<std::size_t>(i)]);
  return out + "\nAnswer:";
}

std::string mmlu_prompt(const std::vector<MmluQuestion>& dev, int shots, const MmluQuestion& q) {
  std::string out = fmt::format("The following are multiple choice questions (with answers) about {}.\n\n",
                                mmlu_subject_name(q.subject));
  for (int i = 0; i < shots && i < static_cast<int>(dev.size()); ++i) {
    const MmluQuestion& shot = dev[static_cast<std::size_t>(i)];
    out += mmlu_question_text(shot) + " " + kMmluLetters[shot.answer] + "\n\n";
  }
  return out + mmlu_question_text(q);
}

std::optional<int> mmlu_answer_letter(std::string_view completion) {
  std::size_t i = 0;
  while (i < completion.size() && (completion[i] == ' ' || completion[i] == '\n' || completion[i] == '\t')) ++i;
  const bool paren = i < completion.size() && completion[i] == '(';
  if (paren) ++i;
  if (i >= completion.size() || completion[i] < 'A' || completion[i] > 'D') return std::nullopt;
  const int letter = completion[i] - 'A';
  ++i;
  if (paren && (i >= completion.size() || completion[i] != ')')) return std::nullopt;
  if (!paren && i < completion.size() && std::isalpha(static_cast<unsigned char>(completion[i]))) return std::nullopt;
  return letter;
}

std::string hellaswag_preprocess(std::string_view text) {
  std::string s = trim(text);
  replace_all(s, " [title]", ". ");
  // [anything] removed, shortest match first (re.sub("\\[.*?\\]", "", s)).
  std::string out;
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t close = s[i] == '[' ? s.find(']', i) : std::string::npos;
    if (close != std::string::npos) {
      i = close + 1;
    } else {
      out += s[i++];
    }
  }
  // str.replace("  ", " "): one pass, non-overlapping.
  std::string single;
  for (std::size_t i = 0; i < out.size(); ++i) {
    single += out[i];
    if (out[i] == ' ' && i + 1 < out.size() && out[i + 1] == ' ') ++i;
  }
  return single;
}

std::string hellaswag_query(const HellaswagItem& item) {
  return hellaswag_preprocess(item.activity_label + ": " + item.ctx_a + " " + text::capitalize(item.ctx_b));
}

std::string gsm8k_prompt(const std::vector<Gsm8kItem>& train, int shots, const Gsm8kItem& item) {
  std::string out;
  for (int i = 0; i < shots && i < static_cast<int>(train.size()); ++i) {
    const Gsm8kItem& shot = train[static_cast<std::size_t>(i)];
    out += "Question: " + shot.question + "\nAnswer: " + shot.answer + "\n\n";
  }
  return out + "Question: " + item.question + "\nAnswer:";
}

std::string normalize_number(std::string_view text) {
  std::string s(text);
  if (const std::size_t at = s.rfind("#### "); at != std::string::npos) s.erase(0, at + 5);
  std::string out;
  for (char c : s) {
    if (c != ',' && c != '$') out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  out = trim(out);
  if (!out.empty() && out.back() == '.') out.pop_back();
  return out;
}

std::string gsm8k_reference(const std::string& answer) { return normalize_number(answer); }

std::optional<std::string> gsm8k_last_number(std::string_view s) {
  // The harness's "(-?[$0-9.,]{2,})|(-?[0-9]+)", every match left to right, the last kept.
  std::optional<std::string> last;
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t body = s[i] == '-' ? i + 1 : i;
    std::size_t end = body;
    while (end < s.size() && is_number_char(s[end])) ++end;
    if (end - body >= 2) {
      last = std::string(s.substr(i, end - i));
      i = end;
      continue;
    }
    end = body;
    while (end < s.size() && is_ascii_digit(s[end])) ++end;
    if (end > body) {
      last = std::string(s.substr(i, end - i));
      i = end;
      continue;
    }
    ++i;
  }
  if (!last) return std::nullopt;
  return normalize_number(*last);
}

std::optional<std::string> gsm8k_strict_answer(std::string_view s) {
  // "#### (\-?[0-9\.\,]+)", the first match.
  for (std::size_t at = s.find("#### "); at != std::string_view::npos; at = s.find("#### ", at + 1)) {
    std::size_t i = at + 5;
    const std::size_t begin = i;
    if (i < s.size() && s[i] == '-') ++i;
    const std::size_t digits = i;
    while (i < s.size() && (is_ascii_digit(s[i]) || s[i] == '.' || s[i] == ',')) ++i;
    if (i > digits) return normalize_number(s.substr(begin, i - begin));
  }
  return std::nullopt;
}

MeanStderr mean_stderr(const std::vector<double>& xs) {
  MeanStderr m;
  m.n = static_cast<std::int64_t>(xs.size());
  if (xs.empty()) return m;
  double sum = 0;
  for (double x : xs) sum += x;
  m.mean = sum / static_cast<double>(xs.size());
  if (xs.size() > 1) {
    double sq = 0;
    for (double x : xs) sq += (x - m.mean) * (x - m.mean);
    m.standard_error = std::sqrt(sq / static_cast<double>(xs.size() - 1)) / std::sqrt(static_cast<double>(xs.size()));
  }
  return m;
}

}  // namespace arle::eval
