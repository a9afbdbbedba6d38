#include "explain.h"

#include <Eigen/Cholesky>
#include <algorithm>
#include <cmath>

#include "algorithms.h"
#include "errors.h"
#include "hybrid.h"

namespace pgrec {

Explanation top_contributions(const std::vector<std::int32_t>& items, const std::vector<float>& contrib, std::int32_t n) {
  Explanation e;
  for (float c : contrib) e.total += c;
  e.top = top_k(contrib.data(), static_cast<std::int32_t>(contrib.size()), n);
  for (Scored& s : e.top) s.index = items[static_cast<std::size_t>(s.index)];
  return e;
}

Explanation explain(const Model& m, std::int32_t user, std::int32_t item, std::int32_t n) {
  if (m.kind == ModelKind::Hybrid) return hybrid_explain(m, user, item, n);
  std::vector<std::int32_t> items;
  std::vector<float> weights;
  for (std::int64_t p = m.seen.offsets[user]; p < m.seen.offsets[user + 1]; ++p) {
    items.push_back(m.seen.indices[p]);
    weights.push_back(m.seen.values[p]);
  }
  std::vector<float> contrib(items.size(), 0.0f);
  switch (m.kind) {
    case ModelKind::ItemScores:
      throw Error(ErrorKind::NotSupported, m.algorithm + " models rank every user alike: there is nothing to explain");
    case ModelKind::UserNeighbors:
      throw Error(ErrorKind::NotSupported, "user_knn scores come from similar users, not from the user's own items");
    case ModelKind::ItemNeighbors: {
      const Csr& nb = m.neighbors;
      for (std::size_t k = 0; k < items.size(); ++k) {
        const auto first = nb.indices.begin() + nb.offsets[items[k]], last = nb.indices.begin() + nb.offsets[items[k] + 1];
        const auto it = std::lower_bound(first, last, item);
        if (it != last && *it == item)
          contrib[k] = weights[k] * nb.values[static_cast<std::size_t>(it - nb.indices.begin())];
      }
      return top_contributions(items, contrib, n);
    }
    case ModelKind::Sequence:
      throw Error(ErrorKind::NotSupported,
                  m.algorithm + " scores come from the order of the user's recent items through attention or a "
                  "recurrent state, not from a sum over single items");
    case ModelKind::NeuralMf:
      throw Error(ErrorKind::NotSupported, "neumf scores pass through a non-linear network: they are not a sum over the user's items");
    case ModelKind::Factors:
    case ModelKind::Hybrid:
      break;
  }
  if (!m.net.empty())
    throw Error(ErrorKind::NotSupported,
                m.algorithm + " user vectors come from a non-linear encoder of the user's items: scores are not a sum over them");
  const Eigen::Index free = m.item_factors.cols() - m.fixed_user_columns;
  const auto y = m.item_factors.leftCols(free);
  const Eigen::VectorXf yi = y.row(item).transpose();
  const AlgorithmSpec* spec = find_algorithm(m.algorithm);
  if (spec != nullptr && spec->ranking_fold_in) {
    const float ni = yi.norm();
    for (std::size_t k = 0; k < items.size(); ++k) {
      const Eigen::VectorXf yj = y.row(items[k]).transpose();
      const float d = ni * yj.norm();
      contrib[k] = d > 0 ? weights[k] * yi.dot(yj) / d : 0.0f;
    }
    return top_contributions(items, contrib, n);
  }
  // The user vector solves A x = sum_j t_j y_j, so score = sum_j t_j (y_i^T A^-1 y_j).
  Eigen::MatrixXf a(free, free);
  std::vector<float> target(items.size());
  if (m.explicit_ratings) {
    a.setZero();
    for (std::size_t k = 0; k < items.size(); ++k) {
      const auto row = y.row(items[k]);
      a.noalias() += row.transpose() * row;
      const float fixed = m.fixed_user_columns > 0 ? m.item_factors.row(items[k]).tail(m.fixed_user_columns).sum() : 0.0f;
      target[k] = weights[k] - m.global_mean - fixed;
    }
    a.diagonal().array() += m.fold_in_reg * static_cast<float>(std::max<std::size_t>(items.size(), 1));
  } else {
    a = y.transpose() * y;
    for (std::size_t k = 0; k < items.size(); ++k) {
      const auto row = y.row(items[k]);
      const float c = 1.0f + m.fold_in_alpha * weights[k];
      a.noalias() += (c - 1.0f) * row.transpose() * row;
      target[k] = c;
    }
    a.diagonal().array() += m.fold_in_reg;
  }
  const Eigen::VectorXf w = a.ldlt().solve(yi);  // A^-1 y_i (A is symmetric)
  for (std::size_t k = 0; k < items.size(); ++k) contrib[k] = target[k] * y.row(items[k]).dot(w.transpose());
  return top_contributions(items, contrib, n);
}

}  // namespace pgrec
