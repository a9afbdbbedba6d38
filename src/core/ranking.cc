#include "ranking.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "errors.h"
#include "ivf.h"
#include "model_kind.h"

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

void score_items(const Model& model, std::int32_t user, float* out) { kind_ops(model.kind).score(model, user, out); }

void rating_scores(const Model& model, std::int32_t user, float* out) { kind_ops(model.kind).ratings(model, user, out); }

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

float predict(const Model& model, std::int32_t user, std::int32_t item) { return kind_ops(model.kind).predict(model, user, item); }

void item_similarities(const Model& model, std::int32_t item, float* out) { kind_ops(model.kind).similar(model, item, out); }

std::vector<Scored> similar_items(const Model& model, std::int32_t item, std::int32_t k, const ItemFilter* filter) {
  const KindOps& ops = kind_ops(model.kind);
  if (ops.similar_top != nullptr) return ops.similar_top(model, item, k, filter);
  std::vector<float> scores(static_cast<std::size_t>(model.n_items()));
  ops.similar(model, item, scores.data());
  if (filter != nullptr && !filter->empty()) filter->apply(scores.data(), model.n_items());
  const std::int32_t self_index = item;
  return top_k(scores.data(), model.n_items(), k, &self_index, 1);
}

}  // namespace pgrec
