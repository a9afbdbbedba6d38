// Where rows read from a source go: the training builder or an evaluation collector.
#pragma once

#include <vector>

#include "id_map.h"

namespace pgrec::pg {

class RowSink {
 public:
  virtual ~RowSink() = default;
  // Called once the source's id types are known, before any row.
  virtual void start(IdKind user_kind, IdKind item_kind, bool has_rating) = 0;
  // Takes one row (the id texts are only valid during the call).
  virtual void add(const IdRef& user, const IdRef& item, float value) = 0;

  // One batch of source rows on its way in; filled by the reader.
  std::vector<IdRef> batch_users;
  std::vector<IdRef> batch_items;
  std::vector<float> batch_values;
};

}  // namespace pgrec::pg
