#include "text/tokenizer_json.h"

#include "common/error.h"
#include "common/json_file.h"

namespace arle::text {
namespace {

using nlohmann::json;

// Splits a legacy "a b" merge string.
std::pair<std::string, std::string> split_merge(const std::string& s, std::size_t index) {
  auto space = s.find(' ', 1);  // a merge part is never empty
  if (space == std::string::npos) {
    throw_error(ErrorCode::kInvalidModel, "tokenizer.json: merge #{} \"{}\" is not two tokens", index, s);
  }
  return {s.substr(0, space), s.substr(space + 1)};
}

}  // namespace

TokenizerJson parse_tokenizer_json(std::string_view text) {
  TokenizerJson out;
  // Keys on the path from the root to the current value; path[0] is a root key.
  std::vector<std::string> path;
  std::string pending_key;
  std::vector<std::string> pair;  // strings of the ["a", "b"] merge being read
  auto in = [&](const char* second) { return path.size() >= 2 && path[0] == "model" && path[1] == second; };

  auto callback = [&](int depth, json::parse_event_t event, json& parsed) -> bool {
    using E = json::parse_event_t;
    if (event == E::key) {
      path.resize(static_cast<std::size_t>(depth));
      path[static_cast<std::size_t>(depth) - 1] = parsed.get<std::string>();
      if (depth == 3 && in("vocab")) {
        pending_key = parsed.get<std::string>();
        out.has_vocab = true;
        return false;  // kept out of the tree
      }
      return true;
    }
    if (event == E::object_start && depth == 2 && path.size() >= 2 && path[0] == "model" && path[1] == "vocab") {
      out.has_vocab = true;
    }
    if (event == E::value && depth == 3 && in("vocab") && path.size() == 3) {
      if (!parsed.is_number_unsigned() || parsed.get<std::uint64_t>() >= (1u << 30)) {
        throw_error(ErrorCode::kInvalidModel, "tokenizer.json: vocab id of '{}' is {}", pending_key,
                    describe_json(parsed));
      }
      out.vocab.emplace_back(std::move(pending_key), parsed.get<TokenId>());
      return false;
    }
    if (path.size() == 2 && in("merges")) {
      if (event == E::value && depth == 3) {  // "a b"
        if (!parsed.is_string()) {
          throw_error(ErrorCode::kInvalidModel, "tokenizer.json: merge #{} is {}", out.merges.size(), describe_json(parsed));
        }
        out.merges.push_back(split_merge(parsed.get<std::string>(), out.merges.size()));
        return false;
      }
      if (event == E::array_start && depth == 3) {
        pair.clear();
        return true;
      }
      if (event == E::value && depth == 4) {  // one side of ["a", "b"]
        if (!parsed.is_string()) {
          throw_error(ErrorCode::kInvalidModel, "tokenizer.json: merge #{} holds {}", out.merges.size(), describe_json(parsed));
        }
        pair.push_back(parsed.get<std::string>());
        return false;
      }
      if (event == E::array_end && depth == 3) {
        if (pair.size() != 2) {
          throw_error(ErrorCode::kInvalidModel, "tokenizer.json: merge #{} has {} parts, not 2", out.merges.size(), pair.size());
        }
        out.merges.emplace_back(std::move(pair[0]), std::move(pair[1]));
        return false;  // drop the emptied inner array
      }
      if (event == E::object_start && depth == 3) {
        throw_error(ErrorCode::kInvalidModel, "tokenizer.json: merge #{} is an object", out.merges.size());
      }
    }
    return true;
  };
  try {
    out.spec = json::parse(text.begin(), text.end(), callback);
  } catch (const json::exception& e) {
    throw_error(ErrorCode::kInvalidModel, "tokenizer.json is not valid JSON ({})", e.what());
  }
  if (!out.spec.is_object()) throw_error(ErrorCode::kInvalidModel, "tokenizer.json is not a JSON object");
  return out;
}

}  // namespace arle::text
