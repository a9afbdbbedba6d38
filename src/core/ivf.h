// The inverted-file (IVF) index over item factors (IvfIndex, in model.h), for approximate top-k in large catalogs: items
// are grouped by their nearest of L k-means centroids; a query scores the centroids and ranks
// only the items of the best-scoring lists.
#pragma once
#include <cstdint>
#include <vector>

#include "cancel.h"
#include "ranking.h"

namespace pgrec {

// Builds the index over the rows of `factors` with `lists` lists (0: about sqrt(rows)) by k-means
// on a sample, then assigns every row; deterministic for a seed and thread count.
IvfIndex build_ivf(const FactorsRef& factors, std::int32_t lists, int threads, CancelToken& token,
                   std::uint32_t seed = 42);

// The k best rows of `factors` for query q (scores q . row + offset) among the rows of the
// `probes` lists whose centroids score highest; rows with skip[row] != 0 are passed over. When
// fewer than k rows qualify, the number of lists probed doubles until k do or all were scanned,
// so filters never cost rows.
std::vector<Scored> ivf_top_k(const FactorsRef& factors, const IvfIndex& index, const float* q, std::int32_t k,
                              std::int32_t probes, const std::vector<char>* skip, float offset = 0.0f);

// Sets index.probes to the fewest lists (doubling from 1) whose search finds, on average over a
// sample of up to `sample` of the model's users, at least `target` of the exact top 10; to all
// lists (the index unused) when that takes more than an eighth of them.
void calibrate_ivf(Model& model, double target, std::int32_t sample, CancelToken& token, std::uint32_t seed = 42);

}  // namespace pgrec
