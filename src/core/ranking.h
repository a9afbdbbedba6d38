// Scoring and exact top-k: recommend, predict, similar items, popular items.
#pragma once
#include <cstdint>
#include <vector>

#include "model.h"

namespace pgrec {

struct Scored {
  std::int32_t index;
  float score;
};

// Which items a ranking may return: only `candidates` (when given), never `exclude`. Both hold
// model indices, sorted and unique.
struct ItemFilter {
  bool has_candidates = false;
  std::vector<std::int32_t> candidates;
  std::vector<std::int32_t> exclude;

  bool empty() const { return !has_candidates && exclude.empty(); }
  // Marks the scores of items the filter rejects as NaN (which top_k skips).
  void apply(float* scores, std::int32_t n) const;
  // Whether the filter lets item `i` through (the lists are sorted).
  bool keeps(std::int32_t i) const;
};

// Returns the k best of scores[0..n), highest first, ties to the lower index; indices in
// `excluded` (ascending) are skipped.
std::vector<Scored> top_k(const float* scores, std::int32_t n, std::int32_t k,
                          const std::int32_t* excluded = nullptr, std::size_t n_excluded = 0);

// Writes the model's score of every item for a known user into out[0..n_items).
void score_items(const Model& model, std::int32_t user, float* out);

// Writes the model's predicted rating of every item for a known user (explicit models; implicit
// ones write their ranking scores): what predict returns, for all items at once.
void rating_scores(const Model& model, std::int32_t user, float* out);

// Writes every item's similarity to `item` (cosine of factors; kept neighbour similarities, 0
// elsewhere); models without a notion of similarity raise 0A000.
void item_similarities(const Model& model, std::int32_t item, float* out);

// Returns the k best items for a known user (index >= 0), or the most popular items when the
// user is unknown (index < 0); `exclude_seen` drops the user's training items. With probes > 0
// (and fewer than its lists) on a model that has an IVF index, searches only the best `probes`
// lists (approximate; a candidate list always ranks exactly).
std::vector<Scored> recommend(const Model& model, std::int32_t user, std::int32_t k,
                              bool exclude_seen, const ItemFilter* filter = nullptr, std::int32_t probes = 0);

// Returns the k most popular items (score: training interactions) that pass the filter.
std::vector<Scored> popular(const Model& model, std::int32_t k, const ItemFilter* filter = nullptr);

// Returns the model's score for a known user and item.
float predict(const Model& model, std::int32_t user, std::int32_t item);

// Returns the k items most similar to `item`, itself excluded: cosine of factors, or the kept
// neighbour similarities; popularity models have none (0A000).
std::vector<Scored> similar_items(const Model& model, std::int32_t item, std::int32_t k,
                                  const ItemFilter* filter = nullptr);

}  // namespace pgrec
