#include "model/paged_rows.h"

namespace arle::model {

ops::PagedRows paged_rows(const ForwardBatch& batch) {
  ops::PagedRows paged;
  for (std::int64_t r = 0; r < batch.rows(); ++r) {
    paged.page_tables.push_back(batch.page_tables[batch.row_sequence[r]]->data());
    paged.positions.push_back(batch.positions[r]);
    paged.context_lens.push_back(batch.positions[r] + 1);
  }
  return paged;
}

}  // namespace arle::model
