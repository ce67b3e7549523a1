#pragma once
// The cache slot (page * page_size + offset) of row r's token at `position`,
// through its sequence's page table (kernels.h PagedMeta).
#include <cstdint>

#include "kernels/cuda/kernels.h"

namespace arle::kernels::cuda {

__device__ __forceinline__ std::int64_t paged_slot(const PagedMeta& m, std::int64_t r, std::int64_t position) {
  const std::int32_t* table = m.block_tables + m.table_offsets[m.row_seq[r]];
  return static_cast<std::int64_t>(table[position / m.page_size]) * m.page_size + position % m.page_size;
}

}  // namespace arle::kernels::cuda
