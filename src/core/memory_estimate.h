// What training a model will need in memory, estimated before anything large is allocated, so that
// a training that cannot fit is refused with 53200 instead of being killed by the kernel (with
// overcommit, an allocation that cannot be backed does not fail: the process dies when it touches it).
#pragma once
#include <cstdint>
#include <string>

#include "algorithms.h"

namespace pgrec {

// The shape of the data a model is trained on.
struct TrainingShape {
  std::int64_t users = 0;
  std::int64_t items = 0;
  std::int64_t interactions = 0;
  int threads = 1;
  std::int64_t longest_user = 0;  // the most interactions of one user (0: unknown, assume interactions)
};

// Peak bytes one training of `config` on data of `shape` takes, the data read included: parameters
// and optimiser state, working buffers (normal equations, neighbour accumulators, a batch's
// activations and logits), and the model and its serialized copy at the end. An upper estimate
// (within a small factor); LibTorch's own runtime is counted for the neural families.
std::uint64_t estimate_training_bytes(const AlgorithmConfig& config, const TrainingShape& shape);

// The most entries of one row of a CSR matrix.
std::int64_t longest_row(const Csr& m);

// Throws an OutOfMemory error (53200) with the estimate when it exceeds `limit` bytes (0: no limit).
void require_training_memory(const AlgorithmConfig& config, const TrainingShape& shape, std::uint64_t limit);

// "1.5 GB", "320 MB": a byte count for a message.
std::string show_bytes(std::uint64_t bytes);

}  // namespace pgrec
