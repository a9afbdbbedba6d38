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

// Returns the k best of scores[0..n), highest first, ties to the lower index; indices in
// `excluded` (ascending) are skipped.
std::vector<Scored> top_k(const float* scores, std::int32_t n, std::int32_t k,
                          const std::int32_t* excluded = nullptr, std::size_t n_excluded = 0);

// Writes the model's score of every item for a known user into out[0..n_items).
void score_items(const Model& model, std::int32_t user, float* out);

// Returns the k best items for a known user (index >= 0), or the most popular items when the
// user is unknown (index < 0); `exclude_seen` drops the user's training items.
std::vector<Scored> recommend(const Model& model, std::int32_t user, std::int32_t k,
                              bool exclude_seen);

// Returns the k most popular items (score: training interactions).
std::vector<Scored> popular(const Model& model, std::int32_t k);

// Returns the model's score for a known user and item.
float predict(const Model& model, std::int32_t user, std::int32_t item);

// Returns the k items most similar to `item`, itself excluded: cosine of factors, or the kept
// neighbour similarities; popularity models have none (0A000).
std::vector<Scored> similar_items(const Model& model, std::int32_t item, std::int32_t k);

}  // namespace pgrec
