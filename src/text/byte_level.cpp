#include "text/byte_level.h"

#include "text/unicode.h"

namespace arle::text {
namespace {

struct Alphabet {
  std::array<std::string, 256> encoded;
  std::array<int, 512> decoded{};  // code point (< 512) -> byte, or -1

  Alphabet() {
    decoded.fill(-1);
    int next = 256;
    for (int b = 0; b < 256; ++b) {
      bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      char32_t cp = printable ? static_cast<char32_t>(b) : static_cast<char32_t>(next++);
      append_utf8(encoded[static_cast<std::size_t>(b)], cp);
      decoded[cp] = b;
    }
  }
};

const Alphabet& alphabet() {
  static const Alphabet a;
  return a;
}

}  // namespace

const std::string& byte_to_unicode(std::uint8_t byte) { return alphabet().encoded[byte]; }

int unicode_to_byte(char32_t cp) { return cp < 512 ? alphabet().decoded[cp] : -1; }

std::string bytes_to_unicode(std::string_view bytes) {
  const Alphabet& a = alphabet();
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char b : bytes) out += a.encoded[b];
  return out;
}

}  // namespace arle::text
