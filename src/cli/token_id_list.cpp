#include "cli/token_id_list.h"

#include <charconv>
#include <sstream>

#include "common/error.h"

namespace arle::cli {

std::vector<text::TokenId> parse_token_id_list(const std::string& list, const char* flag) {
  std::vector<text::TokenId> ids;
  std::string item;
  std::stringstream stream(list);
  while (std::getline(stream, item, ',')) {
    auto begin = item.find_first_not_of(" \t\n");
    auto end = item.find_last_not_of(" \t\n");
    if (begin == std::string::npos) continue;
    std::string_view digits(item.data() + begin, end - begin + 1);
    text::TokenId id = -1;
    auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), id);
    if (ec != std::errc() || ptr != digits.data() + digits.size() || id < 0) {
      throw_error(ErrorCode::kInvalidArgument, "{}: '{}' is not a token id", flag, digits);
    }
    ids.push_back(id);
  }
  return ids;
}

}  // namespace arle::cli
