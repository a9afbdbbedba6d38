#include "model_kind.h"

#include "errors.h"

namespace pgrec {

const KindOps& kind_ops(ModelKind kind) {
  switch (kind) {
    case ModelKind::Factors:
      return kFactorsKind;
    case ModelKind::ItemNeighbors:
      return kItemNeighborsKind;
    case ModelKind::ItemScores:
      return kItemScoresKind;
    case ModelKind::UserNeighbors:
      return kUserNeighborsKind;
    case ModelKind::Hybrid:
      return kHybridKind;
    case ModelKind::Sequence:
      return kSequenceKind;
    case ModelKind::NeuralMf:
      return kNeuralMfKind;
  }
  throw Error(ErrorKind::Internal, "unknown model kind");
}

void seen_items(const Model& m, std::int32_t user, std::vector<std::int32_t>* items, std::vector<float>* values) {
  items->clear();
  values->clear();
  for (std::int64_t p = m.seen.offsets[user]; p < m.seen.offsets[user + 1]; ++p) {
    items->push_back(m.seen.indices[p]);
    values->push_back(m.seen.values[p]);
  }
}

void cosine_similarities(const Model& m, std::int32_t item, float* out) {
  const std::int32_t n = m.n_items();
  Eigen::Map<Eigen::VectorXf> scores(out, n);
  scores.noalias() = m.item_factors * m.item_factors.row(item).transpose();
  const std::vector<float>& norms = m.norms();
  const float self = norms[static_cast<std::size_t>(item)];
  for (std::int32_t i = 0; i < n; ++i) {
    const float denom = self * norms[static_cast<std::size_t>(i)];
    out[i] = denom > 0 ? out[i] / denom : 0.0f;
  }
}

void not_supported(const std::string& why) { throw Error(ErrorKind::NotSupported, why); }

}  // namespace pgrec
