#pragma once
// The CPU attention kernels' view of a ForwardBatch (ops::PagedRows): per
// row, its sequence's page table, its position, and the context it attends
// to ([0, position]). DecoderLm and HybridLm share it.

#include "kernels/ops.h"
#include "model/forward_batch.h"

namespace arle::model {

ops::PagedRows paged_rows(const ForwardBatch& batch);

}  // namespace arle::model
