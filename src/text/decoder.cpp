#include "text/decoder.h"

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "text/byte_level.h"
#include "text/regex.h"
#include "text/spec_fields.h"
#include "text/unicode.h"

namespace arle::text {
namespace {

using nlohmann::json;
using Tokens = std::vector<std::string>;

const char* const kReplacementChar = "\xEF\xBF\xBD";

class ByteLevelDecoder : public Decoder {
 public:
  // All tokens' bytes are concatenated, then decoded once (lossy), as HF does.
  Tokens decode_chain(Tokens tokens) const override {
    std::string bytes;
    for (const auto& t : tokens) {
      std::string mapped;
      bool all_mapped = true;
      for (std::size_t i = 0; i < t.size();) {
        int b = unicode_to_byte(next_codepoint(t, i));
        if (b < 0) {
          all_mapped = false;
          break;
        }
        mapped += static_cast<char>(b);
      }
      bytes += all_mapped ? mapped : t;  // e.g. added tokens outside the alphabet keep their text
    }
    return {utf8_lossy(bytes)};
  }
};

class MetaspaceDecoder : public Decoder {
 public:
  MetaspaceDecoder(std::string replacement, bool strip_first) : replacement_(std::move(replacement)), strip_first_(strip_first) {}
  Tokens decode_chain(Tokens tokens) const override {
    for (std::size_t i = 0; i < tokens.size(); ++i) {
      std::string out;
      const std::string& t = tokens[i];
      for (std::size_t p = 0; p < t.size();) {
        if (t.compare(p, replacement_.size(), replacement_) == 0) {
          out += ' ';
          p += replacement_.size();
        } else {
          out += t[p++];
        }
      }
      if (i == 0 && strip_first_ && !out.empty() && out[0] == ' ') out.erase(0, 1);
      tokens[i] = std::move(out);
    }
    return tokens;
  }

 private:
  std::string replacement_;
  bool strip_first_;
};

// "<0x41>" tokens become bytes; runs of them are decoded together.
class ByteFallbackDecoder : public Decoder {
 public:
  Tokens decode_chain(Tokens tokens) const override {
    Tokens out;
    std::string pending;
    std::size_t pending_count = 0;
    auto flush = [&] {
      if (pending_count == 0) return;
      if (utf8_lossy(pending) == pending) {
        out.push_back(pending);
      } else {
        for (std::size_t i = 0; i < pending_count; ++i) out.emplace_back(kReplacementChar);
      }
      pending.clear();
      pending_count = 0;
    };
    for (auto& t : tokens) {
      int byte = parse_byte_token(t);
      if (byte >= 0) {
        pending += static_cast<char>(byte);
        ++pending_count;
      } else {
        flush();
        out.push_back(std::move(t));
      }
    }
    flush();
    return out;
  }

 private:
  static int parse_byte_token(const std::string& t) {
    if (t.size() != 6 || t.compare(0, 3, "<0x") != 0 || t[5] != '>') return -1;
    auto hex = [](char c) { return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1; };
    int hi = hex(t[3]), lo = hex(t[4]);
    return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
  }
};

class FuseDecoder : public Decoder {
 public:
  Tokens decode_chain(Tokens tokens) const override {
    std::string all;
    for (const auto& t : tokens) all += t;
    return {all};
  }
};

class StripDecoder : public Decoder {
 public:
  StripDecoder(std::string content, std::size_t start, std::size_t stop) : content_(std::move(content)), start_(start), stop_(stop) {}
  Tokens decode_chain(Tokens tokens) const override {
    for (auto& t : tokens) {
      std::size_t begin = 0, end = t.size();
      for (std::size_t k = 0; k < start_ && t.compare(begin, content_.size(), content_) == 0 && begin < end; ++k) {
        begin += content_.size();
      }
      for (std::size_t k = 0; k < stop_ && end >= begin + content_.size() &&
                              t.compare(end - content_.size(), content_.size(), content_) == 0;
           ++k) {
        end -= content_.size();
      }
      t = t.substr(begin, end - begin);
    }
    return tokens;
  }

 private:
  std::string content_;
  std::size_t start_, stop_;
};

class ReplaceDecoder : public Decoder {
 public:
  ReplaceDecoder(Regex pattern, std::string content) : pattern_(std::move(pattern)), content_(std::move(content)) {}
  Tokens decode_chain(Tokens tokens) const override {
    for (auto& t : tokens) t = replace_all(pattern_, t, content_);
    return tokens;
  }

 private:
  Regex pattern_;
  std::string content_;
};

class SequenceDecoder : public Decoder {
 public:
  explicit SequenceDecoder(std::vector<std::unique_ptr<Decoder>> parts) : parts_(std::move(parts)) {}
  Tokens decode_chain(Tokens tokens) const override {
    for (const auto& p : parts_) tokens = p->decode_chain(std::move(tokens));
    return tokens;
  }

 private:
  std::vector<std::unique_ptr<Decoder>> parts_;
};

}  // namespace

std::unique_ptr<Decoder> make_decoder(const json& spec) {
  if (spec.is_null()) return nullptr;
  const std::string type = spec_type(spec, "decoder");
  if (type == "ByteLevel") return std::make_unique<ByteLevelDecoder>();
  if (type == "Metaspace") {
    std::string scheme = spec.value("prepend_scheme", std::string(spec.value("add_prefix_space", true) ? "always" : "never"));
    return std::make_unique<MetaspaceDecoder>(spec.value("replacement", std::string("\xE2\x96\x81")), scheme != "never");
  }
  if (type == "ByteFallback") return std::make_unique<ByteFallbackDecoder>();
  if (type == "Fuse") return std::make_unique<FuseDecoder>();
  if (type == "Strip") {
    return std::make_unique<StripDecoder>(spec_string(spec, "content", "Strip decoder"), spec.value("start", 0u),
                                          spec.value("stop", 0u));
  }
  if (type == "Replace") {
    return std::make_unique<ReplaceDecoder>(spec_pattern(spec, "Replace decoder"),
                                            spec_string(spec, "content", "Replace decoder"));
  }
  if (type == "Sequence") {
    std::vector<std::unique_ptr<Decoder>> parts;
    for (const json& p : spec_list(spec, "decoders", "Sequence decoder")) {
      if (auto d = make_decoder(p)) parts.push_back(std::move(d));
    }
    return std::make_unique<SequenceDecoder>(std::move(parts));
  }
  throw_error(ErrorCode::kUnsupported,
              "decoder '{}' is not supported (supported: ByteLevel, Metaspace, ByteFallback, Fuse, Strip, Replace, "
              "Sequence)",
              type);
}

}  // namespace arle::text
