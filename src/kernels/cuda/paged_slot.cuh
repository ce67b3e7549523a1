#pragma once
// The cache slot (page * page_size + offset) of row r's token at `position`,
// through its sequence's page table (kernels.h PagedMeta).
#include <cstdint>

#include "kernels/cuda/kernels.h"

namespace arle::kernels::cuda {

// Positions fit in 31 bits: a 32-bit division is a few instructions where a
// 64-bit one is a long software routine.
__device__ __forceinline__ std::int64_t paged_slot(const PagedMeta& m, std::int64_t r, std::int64_t position) {
  const std::int32_t* table = m.block_tables + m.table_offsets[m.row_seq[r]];
  const unsigned p = static_cast<unsigned>(position), page = static_cast<unsigned>(m.page_size);
  const unsigned page_index = p / page;
  return static_cast<std::int64_t>(table[page_index]) * m.page_size + (p - page_index * page);
}

}  // namespace arle::kernels::cuda
