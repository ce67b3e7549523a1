#pragma once
// GPT-2's byte-level alphabet: every byte maps to a printable Unicode
// character, so BPE can work on any byte string. Bytes that are printable
// Latin-1 map to themselves; the rest to U+0100 onwards.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace arle::text {

// UTF-8 text of the character that stands for `byte`.
const std::string& byte_to_unicode(std::uint8_t byte);
// The byte a character stands for, or -1 if it is not in the alphabet.
int unicode_to_byte(char32_t cp);
// Maps every byte of `bytes`.
std::string bytes_to_unicode(std::string_view bytes);

}  // namespace arle::text
