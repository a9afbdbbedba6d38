// A fixed score per item (popularity): every user ranked alike, the user's own items excluded.
#include <algorithm>

#include "model_kind.h"

namespace pgrec {

namespace {

// The same scores for everyone.
void fixed_score(const Model& m, std::int32_t, float* out) { std::copy(m.item_scores.begin(), m.item_scores.end(), out); }

// The item's fixed score.
float fixed_predict(const Model& m, std::int32_t, std::int32_t item) { return m.item_scores[static_cast<std::size_t>(item)]; }

// A new user ranks as everyone does.
void fixed_fold_in(const Model& m, const std::vector<std::int32_t>&, const std::vector<float>&, float* out) { fixed_score(m, 0, out); }

// A fixed score per item relates no item to another.
void fixed_similar(const Model& m, std::int32_t, float*) { not_supported(m.algorithm + " models have no notion of similar items"); }

// Nothing of the user's enters the score.
Explanation fixed_explain(const Model& m, std::int32_t, std::int32_t, std::int32_t) {
  not_supported(m.algorithm + " models rank every user alike: there is nothing to explain");
}

}  // namespace

const KindOps kItemScoresKind = {false,         false,       NeighborRows::None, true,          NetUse::None,
                                 nullptr,       fixed_score, fixed_score,        fixed_predict, fixed_fold_in,
                                 fixed_similar, nullptr,     fixed_explain};

}  // namespace pgrec
