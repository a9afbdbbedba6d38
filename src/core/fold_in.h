// Fold-in: recommendations for a user given only a list of items (a new user, or a user whose
// history changed since training), without retraining.
#pragma once
#include <cstdint>
#include <vector>

#include "model.h"
#include "ranking.h"

namespace pgrec {

// Returns the k best items for someone who has the given items (model indices) with the given
// values (ratings, or interaction weights; empty means 1 each). Factors models solve one
// regularised least-squares problem for the user vector (implicit: with the model's confidence
// weighting; BPR: gradient steps instead); neighbourhood models sum neighbour similarities;
// popularity ranks as usual.
// `exclude_given` drops the given items from the result.
std::vector<Scored> recommend_for_items(const Model& model, const std::vector<std::int32_t>& items,
                                        const std::vector<float>& values, std::int32_t k, bool exclude_given,
                                        const ItemFilter* filter = nullptr);

// Writes the fold-in score of every item (model.n_items() of them) for someone with the given items.
void fold_in_scores(const Model& model, const std::vector<std::int32_t>& items, const std::vector<float>& values,
                    float* out);

// The folded-in user vector of a Factors model (all columns, fixed ones set to 1).
Eigen::VectorXf fold_in_vector(const Model& model, const std::vector<std::int32_t>& items,
                               const std::vector<float>& values);

}  // namespace pgrec
