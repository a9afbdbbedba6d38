// Inference of NeuMF (He et al. 2017) in Eigen: a GMF branch and an MLP branch fused by one
// output layer. The item half of the MLP's first layer is computed once per loaded model.
#pragma once
#include <cstdint>

#include "model.h"

namespace pgrec {

// Computes what NeuMF scoring reuses for every user (the items' first-layer MLP inputs); 22000
// when the network lacks a weight its architecture reads.
void neumf_prepare(Model& m);

// Writes every item's predicted probability of interaction for a known user into out[0..n_items).
void neumf_scores(const Model& m, std::int32_t user, float* out);

// Returns the predicted probability of interaction of one user and item.
float neumf_predict(const Model& m, std::int32_t user, std::int32_t item);

}  // namespace pgrec
