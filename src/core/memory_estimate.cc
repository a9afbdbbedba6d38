#include "memory_estimate.h"

#include <algorithm>
#include <cstdio>

#include "bpr.h"
#include "errors.h"

namespace pgrec {

namespace {

constexpr double kFloat = 4, kDouble = 8;
// A CSR matrix of the interactions in one orientation: column index and value per entry, offsets.
double csr_bytes(const TrainingShape& s, std::int64_t rows) { return s.interactions * (kFloat + kFloat) + (rows + 1) * 8.0; }
// The interactions as read (both orientations) plus the seen matrix the model keeps.
double data_bytes(const TrainingShape& s) { return 3 * csr_bytes(s, s.users) + (s.users + s.items) * 48.0; }

// A factor model (users and items x f floats) held three times at its peak: trained, finished, serialized.
double factor_model_bytes(const TrainingShape& s, double f) { return 3 * (s.users + s.items) * f * kFloat; }

// The neural families: parameters with Adam's two moments and gradient, one batch's activations
// and logits (forward and backward), and LibTorch's runtime.
double neural_bytes(const NeuralParams& p, const TrainingShape& s) {
  // A batch holds at most every user's sequence, each at most the longest user's rows.
  const double longest = static_cast<double>(s.longest_user > 0 ? s.longest_user : s.interactions);
  const double d = p.factors, batch = std::min<double>(p.batch_size, std::max<std::int64_t>(s.users, 1));
  const double items = static_cast<double>(s.items);
  double params, activations;
  if (p.sequential()) {
    const double len = std::min<double>(p.max_len, longest + 1), blocks = std::max(1, p.blocks);
    params = (items + len) * d + blocks * 12 * d * d;
    const double softmax_width = p.sampled_loss(s.items) ? p.sampled : items;
    activations = batch * len * (blocks * 16 * d + 3 * softmax_width) * kFloat +
                  (p.algorithm == "sasrec" ? batch * p.heads * len * len * blocks * 3 * kFloat : 0);
  } else if (p.algorithm == "neumf") {
    params = (s.users + items) * (d + p.mlp_factors) + 8.0 * p.mlp_factors * p.mlp_factors;
    activations = batch * (1 + p.negatives) * (d + 4 * p.mlp_factors) * 4 * kFloat;
  } else if (p.algorithm == "autorec") {
    // The dense items x users ratings and mask; a batch of item vectors through both layers.
    const double users = static_cast<double>(s.users);
    params = 2 * users * d + users + d;
    activations = 2 * items * users * kFloat + batch * (users * 6 + d * 3) * kFloat;
  } else if (p.algorithm == "multvae") {
    // Encoder items x hidden, decoder factors x items; a batch of dense item vectors and logits.
    params = items * (p.hidden + d + 1) + p.hidden * 2 * d;
    activations = batch * items * 6 * kFloat + batch * p.hidden * 4 * kFloat;
  } else if (p.algorithm == "lightgcn") {
    // The graph (two entries per interaction), every node's embedding per layer, forward and backward.
    params = (s.users + items) * d;
    activations = 2.0 * s.interactions * 24 + (s.users + items) * d * (p.layers + 2) * 2 * kFloat;
  } else {  // two_tower: a softmax over the items of a batch's users
    params = (s.users + items) * d + 16 * d * d;
    activations = batch * (items + 8 * d) * 3 * kFloat;
  }
  const double torch_runtime = 256.0 * (1 << 20);
  return 4 * params * kFloat + activations + 3 * items * d * kFloat + torch_runtime;
}

}  // namespace

std::uint64_t estimate_training_bytes(const AlgorithmConfig& c, const TrainingShape& s) {
  const double threads = std::max(1, s.threads);
  double bytes = data_bytes(s);
  const std::string& a = c.algorithm;
  if (a == "als") {
    const double f = c.als.factors + (c.als.implicit ? 0 : 2);
    bytes += factor_model_bytes(s, f) + threads * (f * f * kDouble * 3 + f * 16 * kDouble) + (s.users + s.items) * kDouble;
  } else if (a == "bpr") {
    bytes += factor_model_bytes(s, c.bpr.factors + 1) + s.items * kDouble;
    // Per-thread copies of the item rows (and the copy they are merged against), small catalogs only.
    if (bpr_item_replicas(s.items, c.bpr.factors, s.threads)) bytes += (threads + 1) * s.items * (c.bpr.factors + 1) * kFloat;
  } else if (a == "sgd_mf" || a == "svdpp") {
    const double f = c.sgd.factors + 2;
    bytes += factor_model_bytes(s, f) + (c.sgd.svdpp ? 2 * s.items * f * kFloat : 0) + s.interactions * kDouble;
  } else if (a == "item_knn" || a == "user_knn") {
    const double rows = a == "item_knn" ? static_cast<double>(s.items) : static_cast<double>(s.users);
    // The neighbour graph (kept twice: built and stored), a dense accumulator per thread.
    bytes += 2 * rows * std::min<double>(c.knn.neighbors, rows) * (kFloat + kFloat) + threads * rows * kDouble * 2;
  } else if (a == "ease") {
    // The dense Gram matrix inverted in place, each thread's row of B, and B kept (built and stored).
    const double n = static_cast<double>(s.items);
    const double kept = c.ease.neighbors > 0 ? std::min<double>(c.ease.neighbors, n) : n;
    bytes += n * n * kFloat + threads * n * 8 + 2 * n * kept * (kFloat + kFloat);
  } else if (a == "popularity") {
    bytes += s.items * kDouble * 2;
  } else if (is_neural(c)) {
    bytes += neural_bytes(c.neural, s);
  }
  return static_cast<std::uint64_t>(bytes);
}

std::int64_t longest_row(const Csr& m) {
  std::int64_t longest = 0;
  for (std::int32_t r = 0; r < m.rows; ++r) longest = std::max<std::int64_t>(longest, m.offsets[r + 1] - m.offsets[r]);
  return longest;
}

void require_training_memory(const AlgorithmConfig& config, const TrainingShape& shape, std::uint64_t limit) {
  const std::uint64_t need = estimate_training_bytes(config, shape);
  if (limit == 0 || need <= limit) return;
  throw Error(ErrorKind::OutOfMemory,
              "training " + config.algorithm + " on " + std::to_string(shape.users) + " users x " +
                  std::to_string(shape.items) + " items (" + std::to_string(shape.interactions) +
                  " interactions) would need about " + show_bytes(need) + " of memory, more than pgrec.max_training_memory (" +
                  show_bytes(limit) + "); lower factors (or batch_size, max_len, neighbors), or ask a superuser to raise the limit");
}

std::string show_bytes(std::uint64_t bytes) {
  char out[32];
  const double b = static_cast<double>(bytes);
  if (b >= 1e9)
    std::snprintf(out, sizeof out, "%.1f GB", b / 1e9);
  else if (b >= 1e6)
    std::snprintf(out, sizeof out, "%.0f MB", b / 1e6);
  else
    std::snprintf(out, sizeof out, "%.0f kB", b / 1e3);
  return out;
}

}  // namespace pgrec
