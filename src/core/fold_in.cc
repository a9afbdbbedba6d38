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
#include "hybrid.h"
#include "kernels.h"
#include "sequence_model.h"

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
  const std::int32_t n = m.n_items();
  std::fill(out, out + n, 0.0f);
  switch (m.kind) {
    case ModelKind::Factors: {
      const Eigen::VectorXf x = fold_in_vector(m, items, values);
      kernels::score_rows(m.item_factors.data(), n, static_cast<std::int32_t>(m.item_factors.cols()), x.data(), out);
      if (m.explicit_ratings)
        for (std::int32_t i = 0; i < n; ++i) out[i] += m.global_mean;
      return;
    }
    case ModelKind::ItemNeighbors: {
      const Csr& nb = m.neighbors;
      const AlgorithmSpec* spec = find_algorithm(m.algorithm);
      const bool binary = values.empty() || (spec != nullptr && spec->binary_input);
      for (std::size_t g = 0; g < items.size(); ++g) {
        const float w = binary ? 1.0f : values[g];
        for (std::int64_t q = nb.offsets[items[g]]; q < nb.offsets[items[g] + 1]; ++q) out[nb.indices[q]] += w * nb.values[q];
      }
      return;
    }
    case ModelKind::ItemScores:
      std::copy(m.item_scores.begin(), m.item_scores.end(), out);
      return;
    case ModelKind::UserNeighbors: {
      // Cosine of the given items against every user, the top ones as neighbours, then as usual.
      if (!m.seen_by_item_ready) {
        m.seen_by_item = m.seen.transpose();
        m.seen_by_item_ready = true;
      }
      const std::int32_t n_users = m.seen.rows;
      std::vector<double> dot(static_cast<std::size_t>(n_users), 0.0);
      double given_norm = 0;
      for (std::size_t g = 0; g < items.size(); ++g) {
        const float w = values.empty() ? 1.0f : values[g];
        given_norm += static_cast<double>(w) * w;
        const Csr& by_item = m.seen_by_item;
        for (std::int64_t q = by_item.offsets[items[g]]; q < by_item.offsets[items[g] + 1]; ++q)
          dot[static_cast<std::size_t>(by_item.indices[q])] += static_cast<double>(w) * by_item.values[q];
      }
      std::vector<float> sim(static_cast<std::size_t>(n_users), std::numeric_limits<float>::quiet_NaN());
      std::int32_t keep = 1;
      for (std::int32_t v = 0; v < n_users; ++v) {
        keep = std::max<std::int32_t>(keep, static_cast<std::int32_t>(m.neighbors.offsets[v + 1] - m.neighbors.offsets[v]));
        if (dot[static_cast<std::size_t>(v)] <= 0) continue;
        double norm = 0;
        for (std::int64_t p = m.seen.offsets[v]; p < m.seen.offsets[v + 1]; ++p) norm += static_cast<double>(m.seen.values[p]) * m.seen.values[p];
        sim[static_cast<std::size_t>(v)] = static_cast<float>(dot[static_cast<std::size_t>(v)] / std::sqrt(norm * given_norm));
      }
      for (const Scored& nbr : top_k(sim.data(), n_users, keep))
        for (std::int64_t p = m.seen.offsets[nbr.index]; p < m.seen.offsets[nbr.index + 1]; ++p)
          out[m.seen.indices[p]] += nbr.score * m.seen.values[p];
      return;
    }
    case ModelKind::Hybrid:
      hybrid_fold_in_scores(m, items, values, out);
      return;
    case ModelKind::Sequence:
      // The given items are the sequence, oldest first.
      sequence_scores(m, items.data(), items.size(), out);
      return;
    case ModelKind::NeuralMf:
      throw Error(ErrorKind::NotSupported,
                  "neumf learns an embedding per user and cannot score a list of items; use sasrec or gru4rec for "
                  "users known only by their items");
  }
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
