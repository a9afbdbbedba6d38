#include "neumf.h"

#include <string>

#include "errors.h"
#include "model_kind.h"

namespace pgrec {

namespace {

// The number of hidden layers of the MLP branch (tensors mlp.0 .. mlp.L-1).
std::int32_t mlp_depth(const NeuralNet& net) {
  std::int32_t depth = 0;
  for (const NetTensor& t : net.tensors)
    if (t.name.rfind("mlp.", 0) == 0 && t.name.size() > 2 && t.name.compare(t.name.size() - 2, 2, ".w") == 0) ++depth;
  return depth;
}

// The MLP branch's last hidden layer for a block of item rows whose first-layer inputs are `z`.
Eigen::MatrixXf mlp_tail(const NeuralNet& net, Eigen::MatrixXf z) {
  const std::int32_t depth = mlp_depth(net);
  for (std::int32_t j = 1; j < depth; ++j) {
    const std::string name = "mlp." + std::to_string(j);
    const std::int64_t in = z.cols();
    std::int64_t out = -1;
    for (const NetTensor& t : net.tensors)
      if (t.name == name + ".w" && t.shape.size() == 2) out = t.shape[0];
    if (out < 0) bad_data("model data is corrupt (tensor " + name + ".w is missing)");
    z = z * net.matrix(name + ".w", out, in).transpose();
    z.rowwise() += net.vector(name + ".b", out).transpose();
    z = z.cwiseMax(0.0f);
  }
  return z;
}

// The first hidden layer's width.
std::int64_t first_width(const NeuralNet& net) {
  for (const NetTensor& t : net.tensors)
    if (t.name == "mlp.0.w" && t.shape.size() == 2) return t.shape[0];
  bad_data("model data is corrupt (tensor mlp.0.w is missing)");
}

// The logits of `rows` items for user vector p (GMF and MLP halves).
Eigen::VectorXf logits(const Model& m, const Eigen::RowVectorXf& p, Eigen::Index first, Eigen::Index rows) {
  const NeuralNet& net = m.net;
  const std::int64_t g = net.gmf_factors;
  const std::int64_t mf = m.item_factors.cols() - g;
  const std::int64_t h1 = first_width(net);
  const RowMatrixMap w1 = net.matrix("mlp.0.w", h1, 2 * mf);
  Eigen::MatrixXf z = m.item_hidden.middleRows(first, rows);
  z.rowwise() += (w1.leftCols(mf) * p.tail(mf).transpose()).transpose();
  z = mlp_tail(net, z.cwiseMax(0.0f));
  const std::int64_t last = z.cols();
  const RowMatrixMap out_w = net.matrix("out.w", 1, g + last);
  const float bias = net.vector("out.b", 1)(0);
  const Eigen::VectorXf gmf = out_w.row(0).head(g).cwiseProduct(p.head(g)).transpose();
  Eigen::VectorXf l = m.item_factors.middleRows(first, rows).leftCols(g) * gmf + z * out_w.row(0).tail(last).transpose();
  return l.array() + bias;
}

}  // namespace

void neumf_prepare(Model& m) {
  const NeuralNet& net = m.net;
  const std::int64_t g = net.gmf_factors;
  const std::int64_t mf = m.item_factors.cols() - g;
  if (g < 0 || mf < 1) bad_data("model data is corrupt (neumf factor split)");
  const std::int64_t h1 = first_width(net);
  const RowMatrixMap w1 = net.matrix("mlp.0.w", h1, 2 * mf);
  m.item_hidden = m.item_factors.rightCols(mf) * w1.rightCols(mf).transpose();
  m.item_hidden.rowwise() += net.vector("mlp.0.b", h1).transpose();
  if (m.n_items() > 0 && m.user_factors.rows() > 0) {
    // A dry run reads every weight once, so that a model missing one fails when it loads.
    std::vector<float> probe(static_cast<std::size_t>(m.n_items()));
    neumf_scores(m, 0, probe.data());
  }
}

void neumf_scores(const Model& m, std::int32_t user, float* out) {
  const Eigen::RowVectorXf p = m.user_factors.row(user);
  Eigen::Map<Eigen::VectorXf> scores(out, m.n_items());
  // Blocks of items keep the hidden layers small in memory.
  constexpr Eigen::Index kBlock = 4096;
  for (Eigen::Index first = 0; first < m.n_items(); first += kBlock) {
    const Eigen::Index rows = std::min<Eigen::Index>(kBlock, m.n_items() - first);
    scores.segment(first, rows) = (1.0f + (-logits(m, p, first, rows).array()).exp()).inverse().matrix();
  }
}

float neumf_predict(const Model& m, std::int32_t user, std::int32_t item) {
  const Eigen::RowVectorXf p = m.user_factors.row(user);
  const float l = logits(m, p, item, 1)(0);
  return 1.0f / (1.0f + std::exp(-l));
}

namespace {

// NeuMF has a learnt embedding per user and no way to make one from items.
void neumf_fold_in(const Model&, const std::vector<std::int32_t>&, const std::vector<float>&, float*) {
  not_supported("neumf learns an embedding per user and cannot score a list of items; use sasrec or gru4rec for "
                "users known only by their items");
}

// The MLP branch is not a sum over the user's items.
Explanation neumf_explain(const Model&, std::int32_t, std::int32_t, std::int32_t) {
  not_supported("neumf scores pass through a non-linear network: they are not a sum over the user's items");
}

}  // namespace

// Similar items: the cosine of both branches' item embeddings.
const KindOps kNeuralMfKind = {true, true, NeighborRows::None, false, NetUse::Required, neumf_prepare, neumf_scores,
                               neumf_scores, neumf_predict, neumf_fold_in, cosine_similarities, nullptr, neumf_explain};

}  // namespace pgrec
