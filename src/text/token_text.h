#pragma once
// A single token's text as it reads after the token before it: decoders drop
// the leading space of a sequence's first word, which would hide it in
// " there". Used for logprob listings (CLI, API).

#include <optional>
#include <string>

#include "text/tokenizer.h"

namespace arle::text {

// Always valid UTF-8 (partial characters become U+FFFD).
std::string token_text(const Tokenizer& tokenizer, std::optional<TokenId> previous, TokenId id);

}  // namespace arle::text
