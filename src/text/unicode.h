#pragma once
// UTF-8 and Unicode helpers for the tokenizer (utf8proc underneath).

#include <cstdint>
#include <string>
#include <string_view>

namespace arle::text {

// Replaces each invalid UTF-8 sequence with U+FFFD, as Rust's
// String::from_utf8_lossy does (one replacement per maximal invalid prefix).
std::string utf8_lossy(std::string_view bytes);
void append_utf8(std::string& out, char32_t cp);
// Decodes the character starting at text[i] (valid UTF-8) and advances i.
char32_t next_codepoint(std::string_view text, std::size_t& i);

// Moves past Unicode whitespace: forward from `pos`, or backward from `pos`
// but not below `floor`. Returns the new byte position.
std::size_t skip_whitespace_forward(std::string_view text, std::size_t pos);
std::size_t skip_whitespace_backward(std::string_view text, std::size_t pos, std::size_t floor = 0);

enum class NormalForm { kNFC, kNFD, kNFKC, kNFKD };
std::string normalize_unicode(std::string_view text, NormalForm form);
std::string to_lower(std::string_view text);
// Python's str.capitalize(): the first character title-cased, the rest lower-cased.
std::string capitalize(std::string_view text);

bool is_whitespace(char32_t cp);   // Unicode White_Space
bool is_punctuation(char32_t cp);  // Unicode general category P* (and ASCII symbols, as HF)
bool is_digit(char32_t cp);        // general category Nd
bool is_word_char(char32_t cp);    // letters, numbers and '_' (regex \w)

}  // namespace arle::text
