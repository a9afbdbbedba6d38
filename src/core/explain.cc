#include "explain.h"

#include <algorithm>
#include <cmath>

#include "model_kind.h"

namespace pgrec {

Explanation top_contributions(const std::vector<std::int32_t>& items, const std::vector<float>& contrib, std::int32_t n) {
  Explanation e;
  for (float c : contrib) e.total += c;
  e.top = top_k(contrib.data(), static_cast<std::int32_t>(contrib.size()), n);
  for (Scored& s : e.top) s.index = items[static_cast<std::size_t>(s.index)];
  return e;
}

Explanation explain(const Model& m, std::int32_t user, std::int32_t item, std::int32_t n) {
  return kind_ops(m.kind).explain(m, user, item, n);
}

}  // namespace pgrec
