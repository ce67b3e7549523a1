#include "text/pre_tokenizer.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <functional>
#include <utility>

#include "common/error.h"
#include "text/byte_level.h"
#include "text/regex.h"
#include "text/spec_fields.h"
#include "text/unicode.h"

namespace arle::text {
namespace {

using nlohmann::json;
using Ranges = std::vector<std::pair<std::size_t, std::size_t>>;

enum class Behavior { kRemoved, kIsolated, kMergedWithPrevious, kMergedWithNext, kContiguous };

Behavior parse_behavior(const json& spec, std::string_view component, Behavior fallback) {
  auto it = spec.find("behavior");
  if (it == spec.end() || it->is_null()) return fallback;
  std::string name = it->is_string() ? it->get<std::string>() : "";
  if (name == "Removed") return Behavior::kRemoved;
  if (name == "Isolated") return Behavior::kIsolated;
  if (name == "MergedWithPrevious") return Behavior::kMergedWithPrevious;
  if (name == "MergedWithNext") return Behavior::kMergedWithNext;
  if (name == "Contiguous") return Behavior::kContiguous;
  throw_error(ErrorCode::kUnsupported, "{} behavior '{}' is not supported", component, name);
}

// Splits `piece` around `matches` the way HF's NormalizedString::split does.
void split_by_matches(std::string_view piece, const Ranges& matches, Behavior behavior, bool invert,
                      std::vector<std::string>& out) {
  struct Segment {
    std::size_t begin, end;
    bool is_match;
  };
  std::vector<Segment> segments;
  std::size_t last = 0;
  for (auto [b, e] : matches) {
    if (b > last) segments.push_back({last, b, invert});
    segments.push_back({b, e, !invert});
    last = e;
  }
  if (last < piece.size()) segments.push_back({last, piece.size(), invert});

  std::vector<std::pair<std::size_t, std::size_t>> parts;  // kept [begin, end)
  switch (behavior) {
    case Behavior::kRemoved:
      for (const auto& s : segments) {
        if (!s.is_match) parts.emplace_back(s.begin, s.end);
      }
      break;
    case Behavior::kIsolated:
      for (const auto& s : segments) parts.emplace_back(s.begin, s.end);
      break;
    case Behavior::kMergedWithPrevious: {
      bool previous_match = false;
      for (const auto& s : segments) {
        if (s.is_match && !previous_match && !parts.empty()) {
          parts.back().second = s.end;
        } else {
          parts.emplace_back(s.begin, s.end);
        }
        previous_match = s.is_match;
      }
      break;
    }
    case Behavior::kMergedWithNext: {
      bool previous_match = false;
      for (auto it = segments.rbegin(); it != segments.rend(); ++it) {
        if (it->is_match && !previous_match && !parts.empty()) {
          parts.back().first = it->begin;
        } else {
          parts.emplace_back(it->begin, it->end);
        }
        previous_match = it->is_match;
      }
      std::reverse(parts.begin(), parts.end());
      break;
    }
    case Behavior::kContiguous: {
      bool previous_match = false;
      for (const auto& s : segments) {
        if (s.is_match == previous_match && !parts.empty()) {
          parts.back().second = s.end;
        } else {
          parts.emplace_back(s.begin, s.end);
        }
        previous_match = s.is_match;
      }
      break;
    }
  }
  for (auto [b, e] : parts) {
    if (e > b) out.emplace_back(piece.substr(b, e - b));
  }
}

// Ranges of characters for which `pred` holds, one range per character.
Ranges char_matches(std::string_view piece, const std::function<bool(char32_t)>& pred) {
  Ranges ranges;
  for (std::size_t i = 0; i < piece.size();) {
    std::size_t start = i;
    if (pred(next_codepoint(piece, i))) ranges.emplace_back(start, i);
  }
  return ranges;
}

class SplitRegex : public PreTokenizer {
 public:
  SplitRegex(Regex pattern, Behavior behavior, bool invert)
      : pattern_(std::move(pattern)), behavior_(behavior), invert_(invert) {}
  void split(std::string_view piece, bool, std::vector<std::string>& out) const override {
    split_by_matches(piece, pattern_.find_all(piece), behavior_, invert_, out);
  }
  const Regex* isolating_pattern() const { return behavior_ == Behavior::kIsolated && !invert_ ? &pattern_ : nullptr; }

 private:
  Regex pattern_;
  Behavior behavior_;
  bool invert_;
};

class SplitChars : public PreTokenizer {
 public:
  SplitChars(std::function<bool(char32_t)> pred, Behavior behavior) : pred_(std::move(pred)), behavior_(behavior) {}
  void split(std::string_view piece, bool, std::vector<std::string>& out) const override {
    split_by_matches(piece, char_matches(piece, pred_), behavior_, false, out);
  }

 private:
  std::function<bool(char32_t)> pred_;
  Behavior behavior_;
};

class ByteLevel : public PreTokenizer {
 public:
  ByteLevel(bool add_prefix_space, bool use_regex)
      : add_prefix_space_(add_prefix_space), regex_(use_regex ? std::make_unique<Regex>(kGpt2SplitPattern) : nullptr) {}
  void split(std::string_view piece, bool /*first*/, std::vector<std::string>& out) const override {
    std::string prefixed;
    if (add_prefix_space_ && !piece.empty() && piece[0] != ' ') {  // every piece, as HF
      prefixed.reserve(piece.size() + 1);
      prefixed += ' ';
      prefixed += piece;
      piece = prefixed;
    }
    if (!regex_) {
      out.push_back(bytes_to_unicode(piece));
      return;
    }
    std::vector<std::string> parts;
    split_by_matches(piece, regex_->find_all(piece), Behavior::kIsolated, false, parts);
    for (const auto& p : parts) out.push_back(bytes_to_unicode(p));
  }
  const Regex* byte_level_split_regex() const override { return add_prefix_space_ ? nullptr : regex_.get(); }
  bool plain_byte_map() const { return !add_prefix_space_ && !regex_; }

 private:
  bool add_prefix_space_;
  std::unique_ptr<Regex> regex_;
};

class Metaspace : public PreTokenizer {
 public:
  enum class Prepend { kAlways, kFirst, kNever };
  Metaspace(std::string replacement, Prepend prepend, bool split)
      : replacement_(std::move(replacement)), prepend_(prepend), split_(split) {}
  void split(std::string_view piece, bool first, std::vector<std::string>& out) const override {
    std::string text;
    for (char c : piece) {
      if (c == ' ') {
        text += replacement_;
      } else {
        text += c;
      }
    }
    bool prepend = prepend_ == Prepend::kAlways || (prepend_ == Prepend::kFirst && first);
    if (prepend && text.compare(0, replacement_.size(), replacement_) != 0) text = replacement_ + text;
    if (!split_) {
      if (!text.empty()) out.push_back(std::move(text));
      return;
    }
    Ranges matches;
    for (std::size_t pos = text.find(replacement_); pos != std::string::npos;
         pos = text.find(replacement_, pos + replacement_.size())) {
      matches.emplace_back(pos, pos + replacement_.size());
    }
    split_by_matches(text, matches, Behavior::kMergedWithNext, false, out);
  }

 private:
  std::string replacement_;
  Prepend prepend_;
  bool split_;
};

class Sequence : public PreTokenizer {
 public:
  explicit Sequence(std::vector<std::unique_ptr<PreTokenizer>> parts) : parts_(std::move(parts)) {}
  void split(std::string_view piece, bool first, std::vector<std::string>& out) const override {
    if (parts_.empty()) {
      out.emplace_back(piece);
      return;
    }
    std::vector<std::string> pieces;
    parts_[0]->split(piece, first, pieces);
    for (std::size_t stage_index = 1; stage_index < parts_.size(); ++stage_index) {
      const auto& stage = parts_[stage_index];
      std::vector<std::string> next;
      for (std::size_t i = 0; i < pieces.size(); ++i) stage->split(pieces[i], first && i == 0, next);
      pieces = std::move(next);
    }
    for (auto& p : pieces) out.push_back(std::move(p));
  }
  const Regex* byte_level_split_regex() const override {
    if (parts_.size() == 1) return parts_[0]->byte_level_split_regex();
    if (parts_.size() != 2) return nullptr;
    const auto* split = dynamic_cast<const SplitRegex*>(parts_[0].get());
    const auto* bytes = dynamic_cast<const ByteLevel*>(parts_[1].get());
    return split && bytes && bytes->plain_byte_map() ? split->isolating_pattern() : nullptr;
  }

 private:
  std::vector<std::unique_ptr<PreTokenizer>> parts_;
};

}  // namespace

std::unique_ptr<PreTokenizer> make_pre_tokenizer(const json& spec) {
  if (spec.is_null()) return nullptr;
  const std::string type = spec_type(spec, "pre_tokenizer");
  if (type == "Split") {
    return std::make_unique<SplitRegex>(spec_pattern(spec, "Split pre_tokenizer"),
                                        parse_behavior(spec, "Split pre_tokenizer", Behavior::kIsolated),
                                        spec.value("invert", false));
  }
  if (type == "ByteLevel") {
    return std::make_unique<ByteLevel>(spec.value("add_prefix_space", true), spec.value("use_regex", true));
  }
  if (type == "Metaspace") {
    std::string replacement = spec.value("replacement", std::string("\xE2\x96\x81"));
    Metaspace::Prepend prepend = Metaspace::Prepend::kAlways;
    if (auto it = spec.find("prepend_scheme"); it != spec.end() && it->is_string()) {
      std::string s = it->get<std::string>();
      if (s == "first") {
        prepend = Metaspace::Prepend::kFirst;
      } else if (s == "never") {
        prepend = Metaspace::Prepend::kNever;
      } else if (s != "always") {
        throw_error(ErrorCode::kUnsupported, "Metaspace prepend_scheme '{}' is not supported", s);
      }
    } else if (!spec.value("add_prefix_space", true)) {
      prepend = Metaspace::Prepend::kNever;
    }
    return std::make_unique<Metaspace>(replacement, prepend, spec.value("split", true));
  }
  if (type == "Digits") {
    bool individual = spec.value("individual_digits", false);
    return std::make_unique<SplitChars>([](char32_t c) { return is_digit(c); },
                                        individual ? Behavior::kIsolated : Behavior::kContiguous);
  }
  if (type == "Punctuation") {
    return std::make_unique<SplitChars>([](char32_t c) { return is_punctuation(c); },
                                        parse_behavior(spec, "Punctuation pre_tokenizer", Behavior::kIsolated));
  }
  if (type == "Whitespace") {
    // \w+|[^\w\s]+ kept, everything else (whitespace) dropped.
    return std::make_unique<SplitRegex>(Regex(R"(\w+|[^\w\s]+)"), Behavior::kRemoved, true);
  }
  if (type == "WhitespaceSplit") {
    return std::make_unique<SplitChars>([](char32_t c) { return is_whitespace(c); }, Behavior::kRemoved);
  }
  if (type == "Sequence") {
    std::vector<std::unique_ptr<PreTokenizer>> parts;
    for (const json& p : spec_list(spec, "pretokenizers", "Sequence pre_tokenizer")) {
      if (auto t = make_pre_tokenizer(p)) parts.push_back(std::move(t));
    }
    return std::make_unique<Sequence>(std::move(parts));
  }
  throw_error(ErrorCode::kUnsupported,
              "pre_tokenizer '{}' is not supported (supported: Split, ByteLevel, Metaspace, Digits, Punctuation, "
              "Whitespace, WhitespaceSplit, Sequence)",
              type);
}

}  // namespace arle::text
