#include "interactions.h"

#include <algorithm>
#include <numeric>

#include "errors.h"

namespace pgrec {

Csr Csr::transpose() const {
  Csr t;
  t.rows = cols;
  t.cols = rows;
  t.offsets.assign(static_cast<std::size_t>(cols) + 1, 0);
  for (std::int32_t c : indices) ++t.offsets[static_cast<std::size_t>(c) + 1];
  std::partial_sum(t.offsets.begin(), t.offsets.end(), t.offsets.begin());
  t.indices.resize(indices.size());
  t.values.resize(values.size());
  std::vector<std::int64_t> fill(t.offsets.begin(), t.offsets.end() - 1);
  for (std::int32_t r = 0; r < rows; ++r) {
    for (std::int64_t p = offsets[r]; p < offsets[r + 1]; ++p) {
      const std::int64_t q = fill[indices[p]]++;
      t.indices[q] = r;
      t.values[q] = values[p];
    }
  }
  return t;
}

std::vector<float> row_counts(const Csr& m) {
  std::vector<float> counts(static_cast<std::size_t>(m.rows));
  for (std::int32_t r = 0; r < m.rows; ++r)
    counts[static_cast<std::size_t>(r)] = static_cast<float>(m.offsets[r + 1] - m.offsets[r]);
  return counts;
}

float mean_value(const Csr& m) {
  if (m.values.empty()) return 0.0f;
  double sum = 0;
  for (float v : m.values) sum += v;
  return static_cast<float>(sum / static_cast<double>(m.values.size()));
}

Interactions InteractionBuilder::build() {
  if (u_.empty()) bad_data("no interactions: the source has no rows with a user and an item");
  Interactions data;
  data.explicit_ratings = explicit_;
  data.rows_read = rows();

  // Counting sort by user, then sort each user's items and merge repeats.
  Csr& m = data.by_user;
  m.rows = static_cast<std::int32_t>(users_.size());
  m.cols = static_cast<std::int32_t>(items_.size());
  std::vector<std::int64_t> start(static_cast<std::size_t>(m.rows) + 1, 0);
  for (std::int32_t u : u_) ++start[static_cast<std::size_t>(u) + 1];
  std::partial_sum(start.begin(), start.end(), start.begin());
  std::vector<std::pair<std::int32_t, float>> entries(u_.size());
  {
    std::vector<std::int64_t> fill(start.begin(), start.end() - 1);
    for (std::size_t r = 0; r < u_.size(); ++r) entries[fill[u_[r]]++] = {i_[r], v_[r]};
  }
  std::vector<std::int32_t>().swap(u_);
  std::vector<std::int32_t>().swap(i_);
  std::vector<float>().swap(v_);

  m.offsets.assign(static_cast<std::size_t>(m.rows) + 1, 0);
  m.indices.reserve(entries.size());
  m.values.reserve(entries.size());
  for (std::int32_t u = 0; u < m.rows; ++u) {
    auto first = entries.begin() + start[u];
    auto last = entries.begin() + start[u + 1];
    std::stable_sort(first, last, [](const auto& a, const auto& b) { return a.first < b.first; });
    for (auto it = first; it != last;) {
      const std::int32_t item = it->first;
      double sum = 0;
      int count = 0;
      for (; it != last && it->first == item; ++it, ++count) sum += it->second;
      m.indices.push_back(item);
      m.values.push_back(static_cast<float>(explicit_ ? sum / count : sum));
    }
    m.offsets[static_cast<std::size_t>(u) + 1] = static_cast<std::int64_t>(m.indices.size());
  }
  data.by_item = m.transpose();
  data.users = std::move(users_);
  data.items = std::move(items_);
  return data;
}

}  // namespace pgrec
