#include "ranking.h"

#include <algorithm>
#include <cmath>

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

std::vector<Scored> popular(const Model& model, std::int32_t k) {
  return top_k(model.popularity.data(), static_cast<std::int32_t>(model.popularity.size()), k);
}

std::vector<Scored> recommend(const Model& model, std::int32_t user, std::int32_t k,
                              bool exclude_seen) {
  if (user < 0) return popular(model, k);
  Eigen::VectorXf scores = model.item_factors * model.user_factors.row(user).transpose();
  if (model.explicit_ratings) scores.array() += model.global_mean;
  const std::int64_t lo = model.seen.offsets[user], hi = model.seen.offsets[user + 1];
  const std::int32_t* seen = exclude_seen ? model.seen.indices.data() + lo : nullptr;
  return top_k(scores.data(), static_cast<std::int32_t>(scores.size()), k, seen,
               exclude_seen ? static_cast<std::size_t>(hi - lo) : 0);
}

float predict(const Model& model, std::int32_t user, std::int32_t item) {
  const float dot = model.user_factors.row(user).dot(model.item_factors.row(item));
  return model.explicit_ratings ? dot + model.global_mean : dot;
}

std::vector<Scored> similar_items(const Model& model, std::int32_t item, std::int32_t k) {
  Eigen::VectorXf scores = model.item_factors * model.item_factors.row(item).transpose();
  const float self = model.item_norms[static_cast<std::size_t>(item)];
  for (Eigen::Index i = 0; i < scores.size(); ++i) {
    const float denom = self * model.item_norms[static_cast<std::size_t>(i)];
    scores[i] = denom > 0 ? scores[i] / denom : 0.0f;
  }
  const std::int32_t self_index = item;
  return top_k(scores.data(), static_cast<std::int32_t>(scores.size()), k, &self_index, 1);
}

}  // namespace pgrec
