#include "ranking.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "errors.h"
#include "hybrid.h"
#include "ivf.h"
#include "kernels.h"
#include "neumf.h"
#include "sequence_model.h"

namespace pgrec {

namespace {

// True when a ranks before b: higher score, then lower index.
inline bool better(const Scored& a, const Scored& b) {
  return a.score > b.score || (a.score == b.score && a.index < b.index);
}

}  // namespace

std::vector<Scored> top_k(const float* scores, std::int32_t n, std::int32_t k,
                          const std::int32_t* excluded, std::size_t n_excluded) {
  std::vector<Scored> heap;
  if (k <= 0) return heap;
  heap.reserve(static_cast<std::size_t>(std::min(k, n)));
  // A heap whose front is the worst kept entry.
  std::size_t next_excluded = 0;
  for (std::int32_t i = 0; i < n; ++i) {
    while (next_excluded < n_excluded && excluded[next_excluded] < i) ++next_excluded;
    if (next_excluded < n_excluded && excluded[next_excluded] == i) continue;
    const Scored s{i, scores[i]};
    if (std::isnan(s.score)) continue;
    if (heap.size() < static_cast<std::size_t>(k)) {
      heap.push_back(s);
      std::push_heap(heap.begin(), heap.end(), better);
    } else if (better(s, heap.front())) {
      std::pop_heap(heap.begin(), heap.end(), better);
      heap.back() = s;
      std::push_heap(heap.begin(), heap.end(), better);
    }
  }
  std::sort(heap.begin(), heap.end(), better);
  return heap;
}

void ItemFilter::apply(float* scores, std::int32_t n) const {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  if (has_candidates) {
    std::int32_t next = 0;
    for (std::int32_t c : candidates) {
      for (; next < c && next < n; ++next) scores[next] = nan;
      next = c + 1;
    }
    for (; next < n; ++next) scores[next] = nan;
  }
  for (std::int32_t e : exclude)
    if (e >= 0 && e < n) scores[e] = nan;
}

bool ItemFilter::keeps(std::int32_t i) const {
  if (has_candidates && !std::binary_search(candidates.begin(), candidates.end(), i)) return false;
  return !std::binary_search(exclude.begin(), exclude.end(), i);
}

std::vector<Scored> popular(const Model& model, std::int32_t k, const ItemFilter* filter) {
  if (filter == nullptr || filter->empty())
    return top_k(model.popularity.data(), static_cast<std::int32_t>(model.popularity.size()), k);
  std::vector<float> scores = model.popularity.to_vector();
  filter->apply(scores.data(), static_cast<std::int32_t>(scores.size()));
  return top_k(scores.data(), static_cast<std::int32_t>(scores.size()), k);
}

void score_items(const Model& model, std::int32_t user, float* out) {
  const std::int32_t n = model.n_items();
  switch (model.kind) {
    case ModelKind::Factors: {
      kernels::score_rows(model.item_factors.data(), n, static_cast<std::int32_t>(model.item_factors.cols()),
                          model.user_factors.row(user).data(), out);
      if (model.explicit_ratings)
        for (std::int32_t i = 0; i < n; ++i) out[i] += model.global_mean;
      return;
    }
    case ModelKind::ItemNeighbors: {
      std::fill(out, out + n, 0.0f);
      const Csr& seen = model.seen;
      const Csr& nb = model.neighbors;
      for (std::int64_t p = seen.offsets[user]; p < seen.offsets[user + 1]; ++p) {
        const std::int32_t j = seen.indices[p];
        const float w = seen.values[p];
        for (std::int64_t q = nb.offsets[j]; q < nb.offsets[j + 1]; ++q) out[nb.indices[q]] += w * nb.values[q];
      }
      return;
    }
    case ModelKind::ItemScores:
      std::copy(model.item_scores.begin(), model.item_scores.end(), out);
      return;
    case ModelKind::UserNeighbors: {
      std::fill(out, out + n, 0.0f);
      const Csr& seen = model.seen;
      const Csr& nb = model.neighbors;
      for (std::int64_t q = nb.offsets[user]; q < nb.offsets[user + 1]; ++q) {
        const std::int32_t v = nb.indices[q];
        const float s = nb.values[q];
        for (std::int64_t p = seen.offsets[v]; p < seen.offsets[v + 1]; ++p) out[seen.indices[p]] += s * seen.values[p];
      }
      return;
    }
    case ModelKind::Hybrid:
      hybrid_score_items(model, user, out);
      return;
    case ModelKind::Sequence: {
      const Csr& seq = model.net.sequences;
      const std::int64_t lo = seq.offsets[user], hi = seq.offsets[user + 1];
      sequence_scores(model, seq.indices.data() + lo, static_cast<std::size_t>(hi - lo), out);
      return;
    }
    case ModelKind::NeuralMf:
      neumf_scores(model, user, out);
      return;
  }
}

void rating_scores(const Model& model, std::int32_t user, float* out) {
  const bool neighbors = model.kind == ModelKind::ItemNeighbors || model.kind == ModelKind::UserNeighbors;
  if (!model.explicit_ratings || !neighbors) {
    score_items(model, user, out);
    return;
  }
  // The similarity-weighted mean rating of every item, as predict computes one at a time.
  const std::int32_t n = model.n_items();
  std::vector<double> num(static_cast<std::size_t>(n), 0.0), den(static_cast<std::size_t>(n), 0.0);
  const Csr& seen = model.seen;
  const Csr& nb = model.neighbors;
  if (model.kind == ModelKind::ItemNeighbors) {
    for (std::int64_t p = seen.offsets[user]; p < seen.offsets[user + 1]; ++p) {
      const std::int32_t j = seen.indices[p];
      for (std::int64_t q = nb.offsets[j]; q < nb.offsets[j + 1]; ++q) {
        num[static_cast<std::size_t>(nb.indices[q])] += static_cast<double>(nb.values[q]) * seen.values[p];
        den[static_cast<std::size_t>(nb.indices[q])] += std::abs(nb.values[q]);
      }
    }
  } else {
    for (std::int64_t q = nb.offsets[user]; q < nb.offsets[user + 1]; ++q) {
      const std::int32_t v = nb.indices[q];
      for (std::int64_t p = seen.offsets[v]; p < seen.offsets[v + 1]; ++p) {
        if (seen.values[p] == 0.0f) continue;
        num[static_cast<std::size_t>(seen.indices[p])] += static_cast<double>(nb.values[q]) * seen.values[p];
        den[static_cast<std::size_t>(seen.indices[p])] += std::abs(nb.values[q]);
      }
    }
  }
  for (std::int32_t i = 0; i < n; ++i)
    out[i] = den[static_cast<std::size_t>(i)] > 0 ? static_cast<float>(num[static_cast<std::size_t>(i)] / den[static_cast<std::size_t>(i)])
                                                  : model.global_mean;
}

namespace {

// Approximate top-k through the model's IVF index, skipping seen and excluded items.
std::vector<Scored> recommend_approximate(const Model& model, std::int32_t user, std::int32_t k, bool exclude_seen,
                                          const ItemFilter* filter, std::int32_t probes) {
  // Items to pass over, flagged in a per-thread buffer that is cleared again afterwards.
  thread_local std::vector<char> skip;
  if (skip.size() < static_cast<std::size_t>(model.n_items())) skip.assign(static_cast<std::size_t>(model.n_items()), 0);
  std::vector<std::int32_t> flagged;
  if (exclude_seen)
    for (std::int64_t p = model.seen.offsets[user]; p < model.seen.offsets[user + 1]; ++p) flagged.push_back(model.seen.indices[p]);
  if (filter != nullptr)
    for (std::int32_t e : filter->exclude)
      if (e >= 0 && e < model.n_items()) flagged.push_back(e);
  for (std::int32_t i : flagged) skip[static_cast<std::size_t>(i)] = 1;
  std::vector<Scored> top;
  try {
    top = ivf_top_k(model.item_factors, model.ivf, model.user_factors.row(user).data(), k, probes, &skip,
                    model.explicit_ratings ? model.global_mean : 0.0f);
  } catch (...) {
    for (std::int32_t i : flagged) skip[static_cast<std::size_t>(i)] = 0;
    throw;
  }
  for (std::int32_t i : flagged) skip[static_cast<std::size_t>(i)] = 0;
  return top;
}

}  // namespace

std::vector<Scored> recommend(const Model& model, std::int32_t user, std::int32_t k,
                              bool exclude_seen, const ItemFilter* filter, std::int32_t probes) {
  if (user < 0) return popular(model, k, filter);
  // Scanning every list is slower than the exact product: then rank exactly.
  if (probes > 0 && probes < model.ivf.lists() && model.kind == ModelKind::Factors && !model.ivf.empty() &&
      (filter == nullptr || !filter->has_candidates))
    return recommend_approximate(model, user, k, exclude_seen, filter, probes);
  std::vector<float> scores(static_cast<std::size_t>(model.n_items()));
  score_items(model, user, scores.data());
  if (filter != nullptr) filter->apply(scores.data(), model.n_items());
  const std::int64_t lo = model.seen.offsets[user], hi = model.seen.offsets[user + 1];
  const std::int32_t* seen = exclude_seen ? model.seen.indices.data() + lo : nullptr;
  return top_k(scores.data(), model.n_items(), k, seen, exclude_seen ? static_cast<std::size_t>(hi - lo) : 0);
}

namespace {

// The value in row `j` at column `i` of a sorted CSR matrix (a kept similarity, a rating), or 0.
float neighbor_similarity(const Csr& nb, std::int32_t j, std::int32_t i) {
  const auto first = nb.indices.begin() + nb.offsets[j], last = nb.indices.begin() + nb.offsets[j + 1];
  const auto it = std::lower_bound(first, last, i);
  return it != last && *it == i ? nb.values[static_cast<std::size_t>(it - nb.indices.begin())] : 0.0f;
}

}  // namespace

float predict(const Model& model, std::int32_t user, std::int32_t item) {
  switch (model.kind) {
    case ModelKind::Factors: {
      const float dot = model.user_factors.row(user).dot(model.item_factors.row(item));
      return model.explicit_ratings ? dot + model.global_mean : dot;
    }
    case ModelKind::ItemNeighbors: {
      // Implicit: the ranking score. Explicit: the similarity-weighted mean of the user's ratings.
      double num = 0, den = 0;
      const Csr& seen = model.seen;
      for (std::int64_t p = seen.offsets[user]; p < seen.offsets[user + 1]; ++p) {
        const float s = neighbor_similarity(model.neighbors, seen.indices[p], item);
        num += static_cast<double>(s) * seen.values[p];
        den += std::abs(s);
      }
      if (!model.explicit_ratings) return static_cast<float>(num);
      return den > 0 ? static_cast<float>(num / den) : model.global_mean;
    }
    case ModelKind::ItemScores:
      return model.item_scores[static_cast<std::size_t>(item)];
    case ModelKind::UserNeighbors: {
      // Implicit: the ranking score. Explicit: the similarity-weighted mean of the neighbours' ratings.
      double num = 0, den = 0;
      const Csr& nb = model.neighbors;
      for (std::int64_t q = nb.offsets[user]; q < nb.offsets[user + 1]; ++q) {
        const float r = neighbor_similarity(model.seen, nb.indices[q], item);  // the neighbour's value, or 0
        if (r == 0.0f) continue;
        num += static_cast<double>(nb.values[q]) * r;
        den += std::abs(nb.values[q]);
      }
      if (!model.explicit_ratings) return static_cast<float>(num);
      return den > 0 ? static_cast<float>(num / den) : model.global_mean;
    }
    case ModelKind::Hybrid:
      return hybrid_predict(model, user, item);
    case ModelKind::Sequence: {
      const Csr& seq = model.net.sequences;
      const std::int64_t lo = seq.offsets[user], hi = seq.offsets[user + 1];
      return model.item_factors.row(item).dot(
          sequence_state(model, seq.indices.data() + lo, static_cast<std::size_t>(hi - lo)));
    }
    case ModelKind::NeuralMf:
      return neumf_predict(model, user, item);
  }
  return 0.0f;
}

void item_similarities(const Model& model, std::int32_t item, float* out) {
  const std::int32_t n = model.n_items();
  switch (model.kind) {
    case ModelKind::ItemNeighbors: {
      std::fill(out, out + n, 0.0f);
      const Csr& nb = model.neighbors;
      for (std::int64_t q = nb.offsets[item]; q < nb.offsets[item + 1]; ++q) out[nb.indices[q]] = nb.values[q];
      return;
    }
    case ModelKind::Factors:
    case ModelKind::Sequence:
    case ModelKind::NeuralMf: {
      // Cosine of the item embeddings (both NeuMF branches for neumf).
      Eigen::Map<Eigen::VectorXf> scores(out, n);
      scores.noalias() = model.item_factors * model.item_factors.row(item).transpose();
      const std::vector<float>& norms = model.norms();
      const float self = norms[static_cast<std::size_t>(item)];
      for (std::int32_t i = 0; i < n; ++i) {
        const float denom = self * norms[static_cast<std::size_t>(i)];
        out[i] = denom > 0 ? out[i] / denom : 0.0f;
      }
      return;
    }
    case ModelKind::Hybrid:
      hybrid_similarities(model, item, out);
      return;
    case ModelKind::ItemScores:
    case ModelKind::UserNeighbors:
      break;
  }
  throw Error(ErrorKind::NotSupported, model.algorithm + " models have no notion of similar items");
}

std::vector<Scored> similar_items(const Model& model, std::int32_t item, std::int32_t k, const ItemFilter* filter) {
  const bool filtered = filter != nullptr && !filter->empty();
  if (model.kind == ModelKind::ItemNeighbors) {
    // Only the kept neighbours, not every item at similarity 0.
    std::vector<Scored> row;
    const Csr& nb = model.neighbors;
    for (std::int64_t q = nb.offsets[item]; q < nb.offsets[item + 1]; ++q)
      if (nb.indices[q] != item && (!filtered || filter->keeps(nb.indices[q]))) row.push_back({nb.indices[q], nb.values[q]});
    std::vector<float> scores(row.size());
    for (std::size_t j = 0; j < row.size(); ++j) scores[j] = row[j].score;
    std::vector<Scored> best = top_k(scores.data(), static_cast<std::int32_t>(scores.size()), k);
    for (Scored& s : best) s.index = row[static_cast<std::size_t>(s.index)].index;
    return best;
  }
  std::vector<float> scores(static_cast<std::size_t>(model.n_items()));
  item_similarities(model, item, scores.data());
  if (filtered) filter->apply(scores.data(), model.n_items());
  const std::int32_t self_index = item;
  return top_k(scores.data(), model.n_items(), k, &self_index, 1);
}

}  // namespace pgrec
