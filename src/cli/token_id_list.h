#pragma once
// "1, 2,3" -> {1, 2, 3} for flags that take token ids (--ids, --prompt-ids).

#include <string>
#include <vector>

#include "text/tokenizer.h"

namespace arle::cli {

// Throws kInvalidArgument naming `flag` for a non-number or a negative id.
std::vector<text::TokenId> parse_token_id_list(const std::string& list, const char* flag);

}  // namespace arle::cli
