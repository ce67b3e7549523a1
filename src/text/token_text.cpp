#include "text/token_text.h"

#include "text/unicode.h"

namespace arle::text {

std::string token_text(const Tokenizer& tokenizer, std::optional<TokenId> previous, TokenId id) {
  if (!previous) return utf8_lossy(tokenizer.decode({id}, false));
  const std::string before = tokenizer.decode({*previous}, false);
  const std::string both = tokenizer.decode({*previous, id}, false);
  if (both.compare(0, before.size(), before) != 0) return utf8_lossy(tokenizer.decode({id}, false));
  return utf8_lossy(both.substr(before.size()));
}

}  // namespace arle::text
