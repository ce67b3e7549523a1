// Arbitrary input bytes through the real Qwen3 and stories260K tokenizers:
// encode, one-shot decode and streaming decode must agree and never crash.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string_view>

#include "text/incremental_detokenizer.h"
#include "text/tokenizer.h"

namespace {
const arle::text::Tokenizer& tokenizer(int which) {
  static auto qwen = arle::text::Tokenizer::load(ARLE_SOURCE_DIR "/tests/fixtures/models/qwen3-tiny");
  static auto stories = arle::text::Tokenizer::load(ARLE_SOURCE_DIR "/tests/fixtures/models/stories260K");
  return which ? *stories : *qwen;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const auto& tok = tokenizer(data[0] & 1);
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  auto ids = tok.encode(text, (data[0] & 2) != 0);
  std::string once = tok.decode(ids, (data[0] & 4) != 0);
  arle::text::IncrementalDetokenizer stream(tok, (data[0] & 4) != 0);
  std::string streamed;
  for (auto id : ids) streamed += stream.push(id);
  streamed += stream.finish();
  if (streamed != once) std::abort();
  return 0;
}
