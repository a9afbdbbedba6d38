#include "fold_in.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <random>

#include "algorithms.h"
#include "als.h"
#include "encoder.h"
#include "errors.h"
#include "kernels.h"
#include "model_kind.h"

namespace pgrec {

namespace {

// BPR fold-in: gradient steps on the user vector alone, against uniformly sampled negatives.
Eigen::VectorXf bpr_fold_in(const Model& m, const std::vector<std::int32_t>& items) {
  const Eigen::Index all = m.item_factors.cols();
  Eigen::VectorXf x = Eigen::VectorXf::Zero(all);
  x.tail(m.fixed_user_columns).setOnes();
  std::vector<std::int32_t> given = items;
  std::sort(given.begin(), given.end());
  std::mt19937 rng(12345);
  std::uniform_int_distribution<std::int32_t> pick(0, m.n_items() - 1);
  const float lr = 0.05f, reg = m.fold_in_reg;
  const Eigen::Index free = all - m.fixed_user_columns;
  for (int pass = 0; pass < 100; ++pass) {
    for (std::int32_t i : items) {
      std::int32_t j = pick(rng);
      if (std::binary_search(given.begin(), given.end(), j)) continue;
      const Eigen::VectorXf diff = (m.item_factors.row(i) - m.item_factors.row(j)).transpose();
      const float g = 1.0f / (1.0f + std::exp(x.dot(diff)));
      x.head(free) += lr * (g * diff.head(free) - reg * x.head(free));
    }
  }
  return x;
}

}  // namespace

Eigen::VectorXf fold_in_vector(const Model& m, const std::vector<std::int32_t>& items,
                               const std::vector<float>& values) {
  if (!m.net.empty()) return encode_items(m, items);  // an encoder computes user vectors (multvae)
  const AlgorithmSpec* spec = find_algorithm(m.algorithm);
  if (spec != nullptr && spec->ranking_fold_in) return bpr_fold_in(m, items);
  const Eigen::Index all = m.item_factors.cols();
  const std::int32_t f = static_cast<std::int32_t>(all - m.fixed_user_columns);
  const std::size_t n = items.size();
  // Explicit: (sum y y^T + reg * n * I) x = sum (r - mean - fixed part) y.
  // Implicit: (Y^T Y + sum (c - 1) y y^T + reg I) x = sum c y, c = 1 + alpha * value.
  std::vector<float> weight(n), target(n);
  for (std::size_t k = 0; k < n; ++k) {
    const float v = values.empty() ? 1.0f : values[k];
    if (m.explicit_ratings) {
      const float fixed = m.fixed_user_columns > 0 ? m.item_factors.row(items[k]).tail(m.fixed_user_columns).sum() : 0.0f;
      weight[k] = 1.0f;
      target[k] = v - m.global_mean - fixed;
    } else {
      weight[k] = m.fold_in_alpha * v;
      target[k] = 1.0f + m.fold_in_alpha * v;
    }
  }
  if (!m.explicit_ratings && !m.item_gram_ready) {
    const auto y = m.item_factors.leftCols(f);
    m.item_gram = y.transpose() * y;
    m.item_gram_ready = true;
  }
  const auto build = [&](float* a, float* b) {
    if (m.explicit_ratings) {
      std::fill(a, a + static_cast<std::size_t>(f) * f, 0.0f);
      for (std::int32_t c = 0; c < f; ++c) a[static_cast<std::size_t>(c) * f + c] = m.fold_in_reg * static_cast<float>(std::max<std::size_t>(n, 1));
    } else {
      std::copy(m.item_gram.data(), m.item_gram.data() + static_cast<std::size_t>(f) * f, a);  // symmetric: either layout
      for (std::int32_t c = 0; c < f; ++c) a[static_cast<std::size_t>(c) * f + c] += m.fold_in_reg;
    }
    std::fill(b, b + f, 0.0f);
    kernels::add_normal_equations(a, b, m.item_factors.data(), f, static_cast<std::int32_t>(all), items.data(),
                                  weight.data(), target.data(), static_cast<std::int64_t>(n));
  };
  std::vector<float> a(static_cast<std::size_t>(f) * f), b(static_cast<std::size_t>(f));
  Eigen::VectorXf x(all);
  x.tail(m.fixed_user_columns).setOnes();
  solve_row_system(build, a.data(), b.data(), f, x.data());
  return x;
}

void fold_in_scores(const Model& m, const std::vector<std::int32_t>& items, const std::vector<float>& values,
                    float* out) {
  kind_ops(m.kind).fold_in(m, items, values, out);
}

std::vector<Scored> recommend_for_items(const Model& m, const std::vector<std::int32_t>& items,
                                        const std::vector<float>& values, std::int32_t k, bool exclude_given,
                                        const ItemFilter* filter) {
  if (!values.empty() && values.size() != items.size())
    invalid_parameter("items and ratings must have the same length");
  const std::int32_t n = m.n_items();
  for (std::int32_t i : items)
    if (i < 0 || i >= n) throw Error(ErrorKind::Internal, "fold-in item index out of range");
  std::vector<float> scores(static_cast<std::size_t>(n));
  fold_in_scores(m, items, values, scores.data());
  // Ratings far outside the training scale overflow the scores: an error, not an empty answer.
  for (float s : scores)
    if (!std::isfinite(s)) {
      float largest = 0;
      for (float v : values) largest = std::max(largest, std::fabs(v));
      char shown[32];
      std::snprintf(shown, sizeof shown, "%g", static_cast<double>(largest));
      throw Error(ErrorKind::DataException, std::string("the given ratings (largest magnitude ") + shown +
                                                ") make the model's scores overflow; give ratings on the scale it was trained on");
    }
  if (filter != nullptr) filter->apply(scores.data(), n);
  std::vector<std::int32_t> excluded;
  if (exclude_given) {
    excluded = items;
    std::sort(excluded.begin(), excluded.end());
    excluded.erase(std::unique(excluded.begin(), excluded.end()), excluded.end());
  }
  return top_k(scores.data(), n, k, excluded.data(), excluded.size());
}

}  // namespace pgrec
