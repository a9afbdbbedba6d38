// Solving item vectors against fixed user factors.
#include "item_update.h"

#include <Eigen/Dense>
#include <algorithm>

#include "algorithms.h"
#include "errors.h"

namespace pgrec {

namespace {

// The item columns that hold the constant 1 in every item row (a user bias's partner column).
std::vector<bool> constant_item_columns(const Model& m) {
  const Eigen::Index cols = m.item_factors.cols();
  std::vector<bool> constant(static_cast<std::size_t>(cols), m.item_factors.rows() > 1);
  for (Eigen::Index c = 0; c < cols; ++c)
    for (Eigen::Index i = 0; i < m.item_factors.rows() && constant[static_cast<std::size_t>(c)]; ++i)
      constant[static_cast<std::size_t>(c)] = m.item_factors(i, c) == 1.0f;
  return constant;
}

// Adds the new (user, item, value) entries to the users' seen rows, keeping each row sorted.
Csr with_seen(const Csr& seen, std::int32_t n_items, const std::vector<std::vector<std::pair<std::int32_t, float>>>& added) {
  Csr out;
  out.rows = seen.rows;
  out.cols = n_items;
  out.offsets.assign(static_cast<std::size_t>(seen.rows) + 1, 0);
  std::vector<std::int32_t> indices;
  std::vector<float> values;
  indices.reserve(seen.indices.size());
  values.reserve(seen.values.size());
  std::vector<std::pair<std::int32_t, float>> row;
  for (std::int32_t u = 0; u < seen.rows; ++u) {
    row.clear();
    for (std::int64_t e = seen.offsets[static_cast<std::size_t>(u)]; e < seen.offsets[static_cast<std::size_t>(u) + 1]; ++e)
      row.emplace_back(seen.indices[static_cast<std::size_t>(e)], seen.values[static_cast<std::size_t>(e)]);
    const auto& more = added[static_cast<std::size_t>(u)];
    row.insert(row.end(), more.begin(), more.end());
    std::sort(row.begin(), row.end());
    row.erase(std::unique(row.begin(), row.end(), [](const auto& a, const auto& b) { return a.first == b.first; }), row.end());
    for (const auto& [item, value] : row) {
      indices.push_back(item);
      values.push_back(value);
    }
    out.offsets[static_cast<std::size_t>(u) + 1] = static_cast<std::int64_t>(indices.size());
  }
  out.indices = Array<std::int32_t>(indices);
  out.values = Array<float>(values);
  return out;
}

}  // namespace

Model update_items(const Model& m, const IdMap& ids, const ItemUsers& users, ItemUpdateStats* stats) {
  const AlgorithmSpec* spec = find_algorithm(m.algorithm);
  if (m.kind != ModelKind::Factors || !m.net.empty() || (spec != nullptr && spec->ranking_fold_in) ||
      m.user_factors.rows() == 0)
    throw Error(ErrorKind::NotSupported, "update_items solves item vectors of least-squares factor models (als, sgd_mf, "
                                         "svdpp, autorec, imported factors), and this is a " + m.algorithm + " model");
  const Eigen::Index all = m.item_factors.cols();
  const std::vector<bool> constant = constant_item_columns(m);
  std::vector<Eigen::Index> free;
  for (Eigen::Index c = 0; c < all; ++c)
    if (!constant[static_cast<std::size_t>(c)]) free.push_back(c);
  const Eigen::Index f = static_cast<Eigen::Index>(free.size());
  // The user factors restricted to the columns the item solves (its free ones).
  Eigen::MatrixXf u_free(m.user_factors.rows(), f);
  for (Eigen::Index c = 0; c < f; ++c) u_free.col(c) = m.user_factors.col(free[static_cast<std::size_t>(c)]);
  Eigen::MatrixXf gram;
  if (!m.explicit_ratings) gram = u_free.transpose() * u_free;

  Model out = m;
  const std::int32_t before = m.n_items();
  FactorMatrix items(before, all);
  items = m.item_factors;
  std::vector<float> popularity(m.popularity.begin(), m.popularity.end());
  std::vector<std::vector<std::pair<std::int32_t, float>>> seen_added(static_cast<std::size_t>(m.users.size()));
  std::vector<FactorMatrix> appended;
  *stats = ItemUpdateStats{};
  for (std::int32_t r = 0; r < static_cast<std::int32_t>(ids.size()); ++r) {
    const auto& rows = users[static_cast<std::size_t>(r)];
    if (rows.empty()) continue;  // no user the model knows: nothing to solve from
    Eigen::MatrixXf a = m.explicit_ratings ? Eigen::MatrixXf(Eigen::MatrixXf::Zero(f, f)) : gram;
    Eigen::VectorXf b = Eigen::VectorXf::Zero(f);
    for (const auto& [u, value] : rows) {
      const Eigen::VectorXf x = u_free.row(u).transpose();
      if (m.explicit_ratings) {
        float fixed = 0;
        for (Eigen::Index c = 0; c < all; ++c)
          if (constant[static_cast<std::size_t>(c)]) fixed += m.user_factors(u, c);
        a.noalias() += x * x.transpose();
        b += (value - m.global_mean - fixed) * x;
      } else {
        const float confidence = 1.0f + m.fold_in_alpha * value;
        a.noalias() += (confidence - 1.0f) * x * x.transpose();
        b += confidence * x;
      }
    }
    const float reg = m.fold_in_reg * (m.explicit_ratings ? static_cast<float>(rows.size()) : 1.0f);
    a.diagonal().array() += reg;
    const Eigen::VectorXf solved = a.ldlt().solve(b);
    FactorMatrix row(1, all);
    for (Eigen::Index c = 0; c < all; ++c) row(0, c) = 1.0f;
    for (Eigen::Index c = 0; c < f; ++c) row(0, free[static_cast<std::size_t>(c)]) = solved(c);
    if (!row.allFinite()) bad_data("update_items solved a non-finite item vector: the model's factors do not fit these rows");
    std::int32_t at = m.items.find(ids.ref(r));
    if (at >= 0) {
      items.row(at) = row;
      ++stats->updated;
    } else {
      at = out.items.intern(ids.ref(r));
      appended.push_back(row);
      popularity.push_back(0.0f);
      ++stats->added;
    }
    popularity[static_cast<std::size_t>(at)] = std::max(popularity[static_cast<std::size_t>(at)], static_cast<float>(rows.size()));
    for (const auto& [u, value] : rows) seen_added[static_cast<std::size_t>(u)].emplace_back(at, value);
    stats->rows += static_cast<std::int64_t>(rows.size());
  }
  FactorMatrix grown(before + static_cast<Eigen::Index>(appended.size()), all);
  grown.topRows(before) = items;
  for (std::size_t k = 0; k < appended.size(); ++k) grown.row(before + static_cast<Eigen::Index>(k)) = appended[k].row(0);
  out.item_factors = std::move(grown);
  out.popularity = Array<float>(popularity);
  out.seen = with_seen(m.seen, out.n_items(), seen_added);
  out.ivf = IvfIndex{};  // the index no longer covers the catalog: rebuilt by the caller when wanted
  out.prepare();
  return out;
}

}  // namespace pgrec
