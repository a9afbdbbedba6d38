// Hybrid models: a weighted mix of trained models, each part's scores normalised before mixing.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "explain.h"
#include "model.h"

namespace pgrec {

// A trained model to put in a hybrid, under its name, with its weight.
struct HybridInput {
  std::string name;
  double weight = 0;
  std::shared_ptr<const Model> model;
};

// Builds a hybrid of trained models. `mix` is "zscore", "raw", or "" (raw when every part
// predicts ratings, else zscore). The hybrid knows the union of its parts' users and items.
// 22023 for no parts, a weight that is not positive, a hybrid part, or parts whose id types differ.
Model make_hybrid(std::vector<HybridInput> parts, const std::string& mix);

// Writes the hybrid's score of every item for a known user: per item, the weighted mean over
// the parts that know the user and the item of their (z-normalised, for ZScore) scores.
void hybrid_score_items(const Model& hybrid, std::int32_t user, float* out);

// The hybrid's score of one item: Raw mixes the parts' predictions; ZScore needs the user's
// whole score vector (each part's mean and spread over all its items).
float hybrid_predict(const Model& hybrid, std::int32_t user, std::int32_t item);

// Writes the fold-in score of every item for someone with the given items (hybrid indices).
void hybrid_fold_in_scores(const Model& hybrid, const std::vector<std::int32_t>& items,
                           const std::vector<float>& values, float* out);

// Writes the weighted mean similarity of every item to `item` over the parts that have one.
void hybrid_similarities(const Model& hybrid, std::int32_t item, float* out);

// Mixes the parts' explanations: each part's contributions as shares of its total, weighted.
Explanation hybrid_explain(const Model& hybrid, std::int32_t user, std::int32_t item, std::int32_t n);

}  // namespace pgrec
