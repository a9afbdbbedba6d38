// Re-weighting of implicit interactions before training: tf-idf and BM25 (as in implicit).
#pragma once
#include <string>

#include "interactions.h"

namespace pgrec {

// Applies `scheme` ("none", "tfidf" or "bm25") to the values of both orientations of `data`.
// tfidf: v * log(users / users_of_item); bm25: v * (k1 + 1) / (k1 * (1 - b + b * len / avg_len) + v)
// * log(users / (1 + users_of_item)), len being the user's number of items.
void apply_weighting(Interactions& data, const std::string& scheme, double k1, double b);

}  // namespace pgrec
