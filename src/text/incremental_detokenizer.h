#pragma once
// Streaming detokenization: token ids arrive one at a time and text leaves as
// soon as it is complete UTF-8. The concatenation of everything returned by
// push() and finish() equals tokenizer.decode(all ids) exactly.
//
// Method: decode a short window of recent ids twice (with and without the new
// ones) and emit the difference, holding back while the text ends in U+FFFD
// (an incomplete multi-byte character or byte-fallback sequence). The window
// keeps decoders that look at the first token (Metaspace, Strip) consistent.

#include <string>
#include <vector>

#include "text/tokenizer.h"

namespace arle::text {

class IncrementalDetokenizer {
 public:
  IncrementalDetokenizer(const Tokenizer& tokenizer, bool skip_special_tokens)
      : tokenizer_(tokenizer), skip_special_(skip_special_tokens) {}
  // Continues after `context` (the prompt): the first pushed token reads as
  // it would following the prompt (" a", not "a" after "Once upon"), so the
  // output is decode(context + ids) minus decode(context).
  IncrementalDetokenizer(const Tokenizer& tokenizer, bool skip_special_tokens, const std::vector<TokenId>& context);

  // Text that became complete with this token (often empty).
  std::string push(TokenId id);
  // Whatever is still held back (e.g. a trailing invalid byte as U+FFFD).
  std::string finish();
  // The window of ids the next push() decodes against (context tail included).
  const std::vector<TokenId>& ids() const { return ids_; }

 private:
  std::string decode_range(std::size_t begin, std::size_t end) const;

  const Tokenizer& tokenizer_;
  bool skip_special_;
  std::vector<TokenId> ids_;
  std::size_t prefix_offset_ = 0;  // window start
  std::size_t read_offset_ = 0;    // ids before this are emitted
};

}  // namespace arle::text
