// Inference of the sequential models (sasrec, gru4rec) in Eigen: the user's state after a
// sequence of items, whose dot product with an item's embedding is that item's score.
#pragma once
#include <Eigen/Core>
#include <cstdint>

#include "model.h"

namespace pgrec {

// The state after items[0..n) (oldest first; only the last max_len count) of a Sequence model.
Eigen::VectorXf sequence_state(const Model& m, const std::int32_t* items, std::size_t n);

// Writes every item's score after items[0..n) into out[0..n_items).
void sequence_scores(const Model& m, const std::int32_t* items, std::size_t n, float* out);

// Raises 22000 unless the network holds every weight its architecture reads, shaped right.
void check_sequence_net(const Model& m);

}  // namespace pgrec
