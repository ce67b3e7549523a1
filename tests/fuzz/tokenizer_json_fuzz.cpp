// Any bytes given as tokenizer.json must load or throw arle::Error; a loaded
// tokenizer must encode and decode a fixed text without crashing.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/error.h"
#include "text/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    auto tok = arle::text::Tokenizer::from_json(std::string_view(reinterpret_cast<const char*>(data), size));
    auto ids = tok->encode("Hello world, <s> 12345 caf\xC3\xA9\n");
    (void)tok->decode(ids);
  } catch (const arle::Error&) {
  }
  return 0;
}
