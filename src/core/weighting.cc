#include "weighting.h"

#include <cmath>

namespace pgrec {

void apply_weighting(Interactions& data, const std::string& scheme, double k1, double b) {
  if (scheme == "none") return;
  Csr& m = data.by_user;
  const double n_users = static_cast<double>(m.rows);
  const std::vector<float> df = row_counts(data.by_item);
  const double avg_len = static_cast<double>(m.nnz()) / std::max(1.0, n_users);
  for (std::int32_t u = 0; u < m.rows; ++u) {
    const double len = static_cast<double>(m.offsets[u + 1] - m.offsets[u]);
    for (std::int64_t p = m.offsets[u]; p < m.offsets[u + 1]; ++p) {
      const double v = m.values[p];
      const double users_of_item = df[static_cast<std::size_t>(m.indices[p])];
      double w;
      if (scheme == "tfidf") {
        w = v * std::log(n_users / users_of_item);
      } else {
        const double idf = std::log(n_users / (1.0 + users_of_item));
        w = v * (k1 + 1.0) / (k1 * (1.0 - b + b * len / avg_len) + v) * idf;
      }
      m.values[p] = static_cast<float>(std::max(w, 0.0));
    }
  }
  data.by_item = m.transpose();
}

}  // namespace pgrec
