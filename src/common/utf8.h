#pragma once
// UTF-8 validation (strict: no overlong forms, no surrogates, <= U+10FFFF).

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace arle {

// Byte offset of the first invalid sequence, or nullopt when `text` is valid.
std::optional<std::size_t> find_invalid_utf8(std::string_view text);
// `text` with each byte of an invalid sequence replaced by U+FFFD (what a
// tool printed may be binary; JSON and the model need valid UTF-8).
std::string to_valid_utf8(std::string_view text);

}  // namespace arle
