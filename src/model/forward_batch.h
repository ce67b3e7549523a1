#pragma once
// ForwardBatch: one model step over rows from many sequences. A row is one
// token of one sequence at one position; a sequence's rows in a batch are
// consecutive positions in order (a prefill chunk) or a single decode token.
// Sequences own page tables into the PagedKvCache; the model writes each
// row's K/V into its slot and attends over [0, position] of its sequence.
// This is the interface the engine's scheduler fills every step.

#include <cstdint>
#include <vector>

namespace arle::model {

class PagedKvCache;

struct ForwardBatch {
  std::vector<std::int32_t> token_ids;                        // per row
  std::vector<std::int64_t> positions;                        // per row
  std::vector<std::int32_t> row_sequence;                     // per row: index into page_tables
  std::vector<const std::vector<std::int32_t>*> page_tables;  // per sequence
  std::vector<std::int32_t> logit_rows;                       // rows whose logits forward() returns, in this order
  // Per sequence: its recurrent-state slot in the cache (models with
  // linear-attention layers; empty otherwise). The state holds everything
  // before the sequence's first row here, so those rows must continue it.
  std::vector<std::int32_t> state_slots;

  std::int64_t rows() const { return static_cast<std::int64_t>(token_ids.size()); }
  // Appends one row.
  void add_row(std::int32_t token, std::int64_t position, std::int32_t sequence, bool wants_logits);
};

// Throws kInvalidArgument when the batch is inconsistent or points outside
// `vocab_size` or the cache (sizes, page ids, a position past its table;
// with recurrent state: a slot per sequence, distinct and in range, and each
// sequence's rows adjacent at consecutive positions).
void validate_forward_batch(const ForwardBatch& batch, std::int64_t vocab_size, const PagedKvCache& cache);

}  // namespace arle::model
