// New and changed items without retraining: item vectors solved against a factor model's fixed
// user factors (implicit's partial_fit_items), the mirror of a user's fold-in.
#pragma once
#include <cstdint>
#include <utility>
#include <vector>

#include "model.h"

namespace pgrec {

// What one update changed.
struct ItemUpdateStats {
  std::int32_t updated = 0;  // items the model knew, solved again
  std::int32_t added = 0;    // items it did not know, appended
  std::int64_t rows = 0;     // interactions with users the model knows
};

// The users (model indices) who interacted with each item to update, and their values.
using ItemUsers = std::vector<std::vector<std::pair<std::int32_t, float>>>;

// Returns a copy of the factor model `m` in which each item of `ids` (with `users[i]` its
// interactions) has its vector solved against the fixed user factors -- implicit: the ALS item
// step with confidence 1 + alpha * value; explicit: ridge regression on the rating less the mean
// and the user's bias -- known items replaced, new ones appended and marked seen by their users.
// 0A000 for models whose items are not plain least-squares vectors (BPR-like, encoders).
Model update_items(const Model& m, const IdMap& ids, const ItemUsers& users, ItemUpdateStats* stats);

}  // namespace pgrec
