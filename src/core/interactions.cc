#include "interactions.h"

#include <algorithm>
#include <numeric>

#include "byte_io.h"
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

void InteractionBuilder::merge(InteractionBuilder&& other) {
  if (other.users_.kind() != users_.kind() || other.items_.kind() != items_.kind() || other.explicit_ != explicit_)
    throw Error(ErrorKind::Internal, "merging interaction builders of different kinds");
  for (std::size_t r = 0; r < other.u_.size(); ++r)
    add(other.users_.ref(other.u_[r]), other.items_.ref(other.i_[r]), other.v_[r]);
  other = InteractionBuilder(users_.kind(), items_.kind(), explicit_);
}

std::string InteractionBuilder::serialize() const {
  ByteWriter w;
  w.put<std::uint8_t>(static_cast<std::uint8_t>(users_.kind()));
  w.put<std::uint8_t>(static_cast<std::uint8_t>(items_.kind()));
  w.put<std::uint8_t>(explicit_ ? 1 : 0);
  for (const IdMap* ids : {&users_, &items_}) {
    w.put<std::uint64_t>(ids->size());
    for (std::int32_t k = 0; k < static_cast<std::int32_t>(ids->size()); ++k) {
      if (ids->kind() == IdKind::Int)
        w.put<std::int64_t>(ids->int_at(k));
      else
        w.put_string(ids->text_at(k));
    }
  }
  w.put_array(u_.data(), u_.size());
  w.put_array(i_.data(), i_.size());
  w.put_array(v_.data(), v_.size());
  return std::move(w.bytes());
}

InteractionBuilder InteractionBuilder::deserialize(const char* data, std::size_t size) {
  ByteReader r(data, size);
  const auto uk = r.get<std::uint8_t>(), ik = r.get<std::uint8_t>(), ex = r.get<std::uint8_t>();
  if (uk > 1 || ik > 1) ByteReader::corrupt("id kind");
  InteractionBuilder b(static_cast<IdKind>(uk), static_cast<IdKind>(ik), ex != 0);
  for (IdMap* ids : {&b.users_, &b.items_}) {
    const auto n = r.get<std::uint64_t>();
    for (std::uint64_t k = 0; k < n; ++k) {
      if (ids->kind() == IdKind::Int) {
        ids->intern(IdRef::of(r.get<std::int64_t>()));
      } else {
        const std::string s = r.get_string();
        ids->intern(IdRef::of(s));
      }
    }
  }
  b.u_ = r.get_array<std::int32_t>();
  b.i_ = r.get_array<std::int32_t>(b.u_.size());
  b.v_ = r.get_array<float>(b.u_.size());
  for (std::size_t k = 0; k < b.u_.size(); ++k)
    if (b.u_[k] < 0 || static_cast<std::size_t>(b.u_[k]) >= b.users_.size() || b.i_[k] < 0 ||
        static_cast<std::size_t>(b.i_[k]) >= b.items_.size())
      ByteReader::corrupt("row index");
  return b;
}

Csr InteractionBuilder::sequences() const {
  Csr s;
  s.rows = static_cast<std::int32_t>(users_.size());
  s.cols = static_cast<std::int32_t>(items_.size());
  s.offsets.assign(static_cast<std::size_t>(s.rows) + 1, 0);
  for (std::int32_t u : u_) ++s.offsets[static_cast<std::size_t>(u) + 1];
  std::partial_sum(s.offsets.begin(), s.offsets.end(), s.offsets.begin());
  s.indices.resize(u_.size());
  s.values.assign(u_.size(), 1.0f);
  std::vector<std::int64_t> fill(s.offsets.begin(), s.offsets.end() - 1);
  for (std::size_t r = 0; r < u_.size(); ++r) s.indices[static_cast<std::size_t>(fill[static_cast<std::size_t>(u_[r])]++)] = i_[r];
  return s;
}

Interactions InteractionBuilder::build(bool allow_empty) {
  if (u_.empty() && !allow_empty) bad_data("no interactions: the source has no rows with a user and an item");
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
