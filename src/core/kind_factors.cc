// Factor models (ALS, BPR, SGD-MF, SVD++, two towers, LightGCN, AutoRec, Mult-VAE, imported
// factors): a score is the dot product of a user's and an item's factors.
#include <Eigen/Cholesky>

#include "algorithms.h"
#include "encoder.h"
#include "fold_in.h"
#include "kernels.h"
#include "model_kind.h"

namespace pgrec {

namespace {

// Scores every item against the user vector `x`, plus the global mean of explicit models.
void score_against(const Model& m, const float* x, float* out) {
  const std::int32_t n = m.n_items();
  kernels::score_rows(m.item_factors.data(), n, static_cast<std::int32_t>(m.item_factors.cols()), x, out);
  if (m.explicit_ratings)
    for (std::int32_t i = 0; i < n; ++i) out[i] += m.global_mean;
}

// Checks the encoder of a factor model that has one.
void factors_prepare(Model& m) {
  if (!m.net.empty()) check_encoder(m);
}

// Every item against the user's stored vector.
void factors_score(const Model& m, std::int32_t user, float* out) { score_against(m, m.user_factors.row(user).data(), out); }

// One dot product (plus the global mean of explicit models).
float factors_predict(const Model& m, std::int32_t user, std::int32_t item) {
  const float dot = m.user_factors.row(user).dot(m.item_factors.row(item));
  return m.explicit_ratings ? dot + m.global_mean : dot;
}

// Every item against a user vector folded in from the given items.
void factors_fold_in(const Model& m, const std::vector<std::int32_t>& items, const std::vector<float>& values, float* out) {
  const Eigen::VectorXf x = fold_in_vector(m, items, values);
  score_against(m, x.data(), out);
}

// Contributions of the user's items: BPR-like models the cosine of item factors times the weight;
// least-squares models weight_j · y_iᵀ A⁻¹ y_j, since their fold-in solve A x = Σ t_j y_j makes
// the score linear in the user's items.
Explanation factors_explain(const Model& m, std::int32_t user, std::int32_t item, std::int32_t n) {
  if (!m.net.empty())
    not_supported(m.algorithm + " user vectors come from a non-linear encoder of the user's items: scores are not a sum over them");
  std::vector<std::int32_t> items;
  std::vector<float> weights;
  seen_items(m, user, &items, &weights);
  std::vector<float> contrib(items.size(), 0.0f);
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

}  // namespace

const KindOps kFactorsKind = {true,           true,           NeighborRows::None, false,
                              NetUse::Optional, factors_prepare, factors_score,     factors_score,
                              factors_predict, factors_fold_in, cosine_similarities, nullptr,
                              factors_explain};

}  // namespace pgrec
