// What a LibTorch trainer receives: the interactions and, per family, the users' sequences or
// the side features.
#pragma once

#include "side_features.h"
#include "interactions.h"
#include "model.h"

namespace pgrec {

struct NeuralInput {
  Interactions data;
  Csr sequences;               // sequential models: every user's items in time order (repeats kept)
  FeatureTable user_features;  // two_tower: one row per user (may be empty)
  FeatureTable item_features;  // two_tower: one row per item (may be empty)
  FactorMatrix init_users;     // neumf with init_from: starting GMF factors (empty otherwise)
  FactorMatrix init_items;
  // A distributed training's interactions per item over every rank (empty: count `data`'s).
  std::vector<float> item_counts;
  // A distributed training that holds every rank's rows (LightGCN: its graph is all of them;
  // AutoRec: an item's input is every user's rating): the users (LightGCN) or items (AutoRec)
  // [own_begin, own_end) are this rank's to train on (own_end < 0: all).
  std::int32_t own_begin = 0;
  std::int32_t own_end = -1;
};

}  // namespace pgrec
