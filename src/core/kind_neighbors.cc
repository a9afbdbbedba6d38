// Neighbourhood models: item neighbours (item_knn, EASE's B) score an item by the user's items'
// similarities to it; user neighbours (user_knn) by the similar users who have it.
#include <algorithm>
#include <cmath>
#include <limits>

#include "algorithms.h"
#include "model_kind.h"

namespace pgrec {

namespace {

// The value in row `j` at column `i` of a sorted CSR matrix (a kept similarity, a rating), or 0.
float at(const Csr& nb, std::int32_t j, std::int32_t i) {
  const auto first = nb.indices.begin() + nb.offsets[j], last = nb.indices.begin() + nb.offsets[j + 1];
  const auto it = std::lower_bound(first, last, i);
  return it != last && *it == i ? nb.values[static_cast<std::size_t>(it - nb.indices.begin())] : 0.0f;
}

// Adds w × row j of `nb` to out, for each (j, w).
void add_rows(const Csr& nb, const std::int32_t* rows, const float* weights, std::size_t n, float* out) {
  for (std::size_t g = 0; g < n; ++g)
    for (std::int64_t q = nb.offsets[rows[g]]; q < nb.offsets[rows[g] + 1]; ++q) out[nb.indices[q]] += weights[g] * nb.values[q];
}

// Item neighbours: Σ over the user's items j of value_j × sim(j, i).
void item_score(const Model& m, std::int32_t user, float* out) {
  std::fill(out, out + m.n_items(), 0.0f);
  const std::int64_t lo = m.seen.offsets[user], hi = m.seen.offsets[user + 1];
  add_rows(m.neighbors, m.seen.indices.data() + lo, m.seen.values.data() + lo, static_cast<std::size_t>(hi - lo), out);
}

// User neighbours: Σ over the user's neighbours v of sim(u, v) × v's value.
void user_score(const Model& m, std::int32_t user, float* out) {
  std::fill(out, out + m.n_items(), 0.0f);
  const Csr& nb = m.neighbors;
  const std::int64_t lo = nb.offsets[user], hi = nb.offsets[user + 1];
  add_rows(m.seen, nb.indices.data() + lo, nb.values.data() + lo, static_cast<std::size_t>(hi - lo), out);
}

// Explicit models predict the similarity-weighted mean rating (the global mean without neighbours).
void weighted_means(const Model& m, const std::vector<double>& num, const std::vector<double>& den, float* out) {
  for (std::size_t i = 0; i < num.size(); ++i)
    out[i] = den[i] > 0 ? static_cast<float>(num[i] / den[i]) : m.global_mean;
}

// Item neighbours' predicted ratings: explicit models the weighted mean of the user's ratings.
void item_ratings(const Model& m, std::int32_t user, float* out) {
  if (!m.explicit_ratings) return item_score(m, user, out);
  const auto n = static_cast<std::size_t>(m.n_items());
  std::vector<double> num(n, 0.0), den(n, 0.0);
  const Csr& seen = m.seen;
  const Csr& nb = m.neighbors;
  for (std::int64_t p = seen.offsets[user]; p < seen.offsets[user + 1]; ++p) {
    const std::int32_t j = seen.indices[p];
    for (std::int64_t q = nb.offsets[j]; q < nb.offsets[j + 1]; ++q) {
      num[static_cast<std::size_t>(nb.indices[q])] += static_cast<double>(nb.values[q]) * seen.values[p];
      den[static_cast<std::size_t>(nb.indices[q])] += std::abs(nb.values[q]);
    }
  }
  weighted_means(m, num, den, out);
}

// User neighbours' predicted ratings: explicit models the weighted mean of the neighbours' ratings.
void user_ratings(const Model& m, std::int32_t user, float* out) {
  if (!m.explicit_ratings) return user_score(m, user, out);
  const auto n = static_cast<std::size_t>(m.n_items());
  std::vector<double> num(n, 0.0), den(n, 0.0);
  const Csr& seen = m.seen;
  const Csr& nb = m.neighbors;
  for (std::int64_t q = nb.offsets[user]; q < nb.offsets[user + 1]; ++q) {
    const std::int32_t v = nb.indices[q];
    for (std::int64_t p = seen.offsets[v]; p < seen.offsets[v + 1]; ++p) {
      if (seen.values[p] == 0.0f) continue;
      num[static_cast<std::size_t>(seen.indices[p])] += static_cast<double>(nb.values[q]) * seen.values[p];
      den[static_cast<std::size_t>(seen.indices[p])] += std::abs(nb.values[q]);
    }
  }
  weighted_means(m, num, den, out);
}

// One item's score (explicit: predicted rating) from the user's items.
float item_predict(const Model& m, std::int32_t user, std::int32_t item) {
  // Implicit: the ranking score. Explicit: the similarity-weighted mean of the user's ratings.
  double num = 0, den = 0;
  for (std::int64_t p = m.seen.offsets[user]; p < m.seen.offsets[user + 1]; ++p) {
    const float s = at(m.neighbors, m.seen.indices[p], item);
    num += static_cast<double>(s) * m.seen.values[p];
    den += std::abs(s);
  }
  if (!m.explicit_ratings) return static_cast<float>(num);
  return den > 0 ? static_cast<float>(num / den) : m.global_mean;
}

// One item's score (explicit: predicted rating) from the user's neighbours.
float user_predict(const Model& m, std::int32_t user, std::int32_t item) {
  // Implicit: the ranking score. Explicit: the similarity-weighted mean of the neighbours' ratings.
  double num = 0, den = 0;
  const Csr& nb = m.neighbors;
  for (std::int64_t q = nb.offsets[user]; q < nb.offsets[user + 1]; ++q) {
    const float r = at(m.seen, nb.indices[q], item);  // the neighbour's value, or 0
    if (r == 0.0f) continue;
    num += static_cast<double>(nb.values[q]) * r;
    den += std::abs(nb.values[q]);
  }
  if (!m.explicit_ratings) return static_cast<float>(num);
  return den > 0 ? static_cast<float>(num / den) : m.global_mean;
}

// The given items' rows summed, each weighted by its value (1 for models that read 0/1 input).
void item_fold_in(const Model& m, const std::vector<std::int32_t>& items, const std::vector<float>& values, float* out) {
  std::fill(out, out + m.n_items(), 0.0f);
  const AlgorithmSpec* spec = find_algorithm(m.algorithm);
  const bool binary = values.empty() || (spec != nullptr && spec->binary_input);
  const std::vector<float> weights = binary ? std::vector<float>(items.size(), 1.0f) : values;
  add_rows(m.neighbors, items.data(), weights.data(), items.size(), out);
}

// The given items' cosine against every user picks the neighbours, then as for a known user.
void user_fold_in(const Model& m, const std::vector<std::int32_t>& items, const std::vector<float>& values, float* out) {
  std::fill(out, out + m.n_items(), 0.0f);
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
}

// The item's kept neighbours, 0 elsewhere.
void item_similar(const Model& m, std::int32_t item, float* out) {
  std::fill(out, out + m.n_items(), 0.0f);
  const Csr& nb = m.neighbors;
  for (std::int64_t q = nb.offsets[item]; q < nb.offsets[item + 1]; ++q) out[nb.indices[q]] = nb.values[q];
}

// Only the kept neighbours, not every item at similarity 0.
std::vector<Scored> item_similar_top(const Model& m, std::int32_t item, std::int32_t k, const ItemFilter* filter) {
  const bool filtered = filter != nullptr && !filter->empty();
  std::vector<Scored> row;
  const Csr& nb = m.neighbors;
  for (std::int64_t q = nb.offsets[item]; q < nb.offsets[item + 1]; ++q)
    if (nb.indices[q] != item && (!filtered || filter->keeps(nb.indices[q]))) row.push_back({nb.indices[q], nb.values[q]});
  std::vector<float> scores(row.size());
  for (std::size_t j = 0; j < row.size(); ++j) scores[j] = row[j].score;
  std::vector<Scored> best = top_k(scores.data(), static_cast<std::int32_t>(scores.size()), k);
  for (Scored& s : best) s.index = row[static_cast<std::size_t>(s.index)].index;
  return best;
}

// User neighbourhoods say nothing about items' similarity.
void user_similar(const Model& m, std::int32_t, float*) {
  not_supported(m.algorithm + " models have no notion of similar items");
}

// Each of the user's items j contributes value_j × sim(j, item): exactly the score's terms.
Explanation item_explain(const Model& m, std::int32_t user, std::int32_t item, std::int32_t n) {
  std::vector<std::int32_t> items;
  std::vector<float> weights;
  seen_items(m, user, &items, &weights);
  std::vector<float> contrib(items.size());
  for (std::size_t k = 0; k < items.size(); ++k) contrib[k] = weights[k] * at(m.neighbors, items[k], item);
  return top_contributions(items, contrib, n);
}

// User neighbourhoods score from other users, not from the user's items.
Explanation user_explain(const Model&, std::int32_t, std::int32_t, std::int32_t) {
  not_supported("user_knn scores come from similar users, not from the user's own items");
}

}  // namespace

const KindOps kItemNeighborsKind = {false,      false,        NeighborRows::Items, false,            NetUse::None,
                                    nullptr,    item_score,   item_ratings,        item_predict,     item_fold_in,
                                    item_similar, item_similar_top, item_explain};

const KindOps kUserNeighborsKind = {false,   false,      NeighborRows::Users, false,        NetUse::None,
                                    nullptr, user_score, user_ratings,        user_predict, user_fold_in,
                                    user_similar, nullptr, user_explain};

}  // namespace pgrec
