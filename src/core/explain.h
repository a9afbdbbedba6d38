// Explanations: which of a user's items drove the score of an item, and by how much.
#pragma once
#include <cstdint>
#include <vector>

#include "model.h"
#include "ranking.h"

namespace pgrec {

struct Explanation {
  std::vector<Scored> top;  // the user's items, largest contribution first
  double total = 0;         // the sum of every contribution (the explained score)
};

// Splits the user's score of `item` over the user's items. Factor models (ALS, sgd_mf, svdpp):
// the fold-in solve makes the score linear in the user's items, contribution_j =
// weight_j * y_i^T A^-1 y_j (as implicit's ALS explain); BPR: cosine of item factors times the
// weight; item_knn: weight_j * sim(j, item). Popularity models have none (0A000).
Explanation explain(const Model& model, std::int32_t user, std::int32_t item, std::int32_t n);

// The n largest of the contributions `contrib` of `items`, in order, with their total.
Explanation top_contributions(const std::vector<std::int32_t>& items, const std::vector<float>& contrib, std::int32_t n);

}  // namespace pgrec
