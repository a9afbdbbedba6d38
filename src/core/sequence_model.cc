#include "sequence_model.h"

#include <cmath>
#include <string>

#include "errors.h"
#include "model_kind.h"

namespace pgrec {

namespace {

using Matrix = Eigen::MatrixXf;

// Normalises every row of x to zero mean and unit variance, then scales and shifts it.
Matrix layer_norm(const Matrix& x, const VectorMap& gain, const VectorMap& bias) {
  Matrix out(x.rows(), x.cols());
  for (Eigen::Index t = 0; t < x.rows(); ++t) {
    const float mean = x.row(t).mean();
    const float var = (x.row(t).array() - mean).square().mean();
    out.row(t) = ((x.row(t).array() - mean) / std::sqrt(var + 1e-5f)).matrix();
    out.row(t) = out.row(t).cwiseProduct(gain.transpose()) + bias.transpose();
  }
  return out;
}

// x W^T + b for a torch Linear layer's weight [out, in] and bias [out].
Matrix linear(const Matrix& x, const NeuralNet& net, const std::string& name, std::int64_t out, std::int64_t in) {
  Matrix y = x * net.matrix(name + ".w", out, in).transpose();
  y.rowwise() += net.vector(name + ".b", out).transpose();
  return y;
}

// Causal multi-head self-attention over the rows of h (each position sees itself and earlier ones).
Matrix self_attention(const Matrix& h, const NeuralNet& net, const std::string& block, std::int64_t d) {
  const Matrix q = linear(h, net, block + "q", d, d);
  const Matrix k = linear(h, net, block + "k", d, d);
  const Matrix v = linear(h, net, block + "v", d, d);
  const Eigen::Index t_len = h.rows();
  const std::int64_t dh = d / net.heads;
  const float scale = 1.0f / std::sqrt(static_cast<float>(dh));
  Matrix out(t_len, d);
  for (std::int32_t head = 0; head < net.heads; ++head) {
    const auto qh = q.middleCols(head * dh, dh);
    const auto kh = k.middleCols(head * dh, dh);
    const auto vh = v.middleCols(head * dh, dh);
    Matrix s = (qh * kh.transpose()) * scale;
    for (Eigen::Index t = 0; t < t_len; ++t) {
      const float top = s.row(t).head(t + 1).maxCoeff();
      s.row(t).head(t + 1) = (s.row(t).head(t + 1).array() - top).exp().matrix();
      s.row(t).head(t + 1) /= s.row(t).head(t + 1).sum();
      s.row(t).tail(t_len - t - 1).setZero();
    }
    out.middleCols(head * dh, dh) = s * vh;
  }
  return linear(out, net, block + "o", d, d);
}

// SASRec: item embeddings (scaled) plus learned positions through pre-norm transformer blocks.
Eigen::VectorXf sasrec_state(const Model& m, const std::int32_t* items, std::size_t n) {
  const NeuralNet& net = m.net;
  const std::int64_t d = m.item_factors.cols();
  const std::int64_t len = net.max_len;
  if (d % net.heads != 0) bad_data("model data is corrupt (attention heads do not divide the factors)");
  const auto t_len = static_cast<Eigen::Index>(std::min<std::size_t>(n, static_cast<std::size_t>(len)));
  const std::size_t first = n - static_cast<std::size_t>(t_len);
  const RowMatrixMap pos = net.matrix("pos", len, d);
  const float scale = std::sqrt(static_cast<float>(d));
  Matrix x(t_len, d);
  for (Eigen::Index t = 0; t < t_len; ++t)
    x.row(t) = m.item_factors.row(items[first + static_cast<std::size_t>(t)]) * scale + pos.row(len - t_len + t);
  for (std::int32_t b = 0; b < net.blocks; ++b) {
    const std::string block = "block" + std::to_string(b) + ".";
    x += self_attention(layer_norm(x, net.vector(block + "ln1.w", d), net.vector(block + "ln1.b", d)), net, block, d);
    const Matrix h = layer_norm(x, net.vector(block + "ln2.w", d), net.vector(block + "ln2.b", d));
    x += linear(linear(h, net, block + "ff1", d, d).cwiseMax(0.0f), net, block + "ff2", d, d);
  }
  const Matrix last = layer_norm(x.bottomRows(1), net.vector("ln.w", d), net.vector("ln.b", d));
  return last.row(0).transpose();
}

// GRU4Rec: a one-layer GRU over the item embeddings, its final hidden state.
Eigen::VectorXf gru_state(const Model& m, const std::int32_t* items, std::size_t n) {
  const NeuralNet& net = m.net;
  const std::int64_t d = m.item_factors.cols();
  const RowMatrixMap w_ih = net.matrix("gru.w_ih", 3 * d, d), w_hh = net.matrix("gru.w_hh", 3 * d, d);
  const VectorMap b_ih = net.vector("gru.b_ih", 3 * d), b_hh = net.vector("gru.b_hh", 3 * d);
  const std::size_t first = n - std::min<std::size_t>(n, static_cast<std::size_t>(net.max_len));
  const auto sigmoid = [](const Eigen::ArrayXf& a) { return (1.0f + (-a).exp()).inverse(); };
  Eigen::VectorXf h = Eigen::VectorXf::Zero(d);
  for (std::size_t t = first; t < n; ++t) {
    const Eigen::VectorXf gi = w_ih * m.item_factors.row(items[t]).transpose() + b_ih;
    const Eigen::VectorXf gh = w_hh * h + b_hh;
    const Eigen::ArrayXf r = sigmoid(gi.head(d).array() + gh.head(d).array());
    const Eigen::ArrayXf z = sigmoid(gi.segment(d, d).array() + gh.segment(d, d).array());
    const Eigen::ArrayXf c = (gi.tail(d).array() + r * gh.tail(d).array()).tanh();
    h = ((1.0f - z) * c + z * h.array()).matrix();
  }
  return h;
}

}  // namespace

Eigen::VectorXf sequence_state(const Model& m, const std::int32_t* items, std::size_t n) {
  if (n == 0) return Eigen::VectorXf::Zero(m.item_factors.cols());
  for (std::size_t t = 0; t < n; ++t)
    if (items[t] < 0 || items[t] >= m.n_items()) throw Error(ErrorKind::Internal, "sequence item out of range");
  if (m.algorithm == "sasrec") return sasrec_state(m, items, n);
  if (m.algorithm == "gru4rec") return gru_state(m, items, n);
  bad_data("model data is corrupt (unknown sequential model " + m.algorithm + ")");
}

void sequence_scores(const Model& m, const std::int32_t* items, std::size_t n, float* out) {
  Eigen::Map<Eigen::VectorXf> scores(out, m.n_items());
  scores.noalias() = m.item_factors * sequence_state(m, items, n);
}

namespace {

// A known user's scores from the sequence stored with the model (the last max_len items at training).
void stored_sequence_scores(const Model& m, std::int32_t user, float* out) {
  const Csr& seq = m.net.sequences;
  const std::int64_t lo = seq.offsets[user], hi = seq.offsets[user + 1];
  sequence_scores(m, seq.indices.data() + lo, static_cast<std::size_t>(hi - lo), out);
}

// One item against the state of the user's stored sequence.
float sequence_predict(const Model& m, std::int32_t user, std::int32_t item) {
  const Csr& seq = m.net.sequences;
  const std::int64_t lo = seq.offsets[user], hi = seq.offsets[user + 1];
  return m.item_factors.row(item).dot(sequence_state(m, seq.indices.data() + lo, static_cast<std::size_t>(hi - lo)));
}

// The given items are the sequence, oldest first.
void sequence_fold_in(const Model& m, const std::vector<std::int32_t>& items, const std::vector<float>&, float* out) {
  sequence_scores(m, items.data(), items.size(), out);
}

// Checks the network and the stored sequences.
void sequence_prepare(Model& m) { check_sequence_net(m); }

// Attention and recurrent states are not sums over single items.
Explanation sequence_explain(const Model& m, std::int32_t, std::int32_t, std::int32_t) {
  not_supported(m.algorithm + " scores come from the order of the user's recent items through attention or a "
                "recurrent state, not from a sum over single items");
}

}  // namespace

const KindOps kSequenceKind = {false, true, NeighborRows::None, false, NetUse::Required, sequence_prepare,
                               stored_sequence_scores, stored_sequence_scores, sequence_predict, sequence_fold_in,
                               cosine_similarities, nullptr, sequence_explain};

void check_sequence_net(const Model& m) {
  if (m.n_items() == 0 || m.net.max_len < 1) bad_data("model data is corrupt (empty sequential model)");
  if (m.net.sequences.rows != static_cast<std::int32_t>(m.users.size()))
    bad_data("model data is corrupt (a sequential model needs every user's sequence)");
  const std::int32_t one = 0;
  (void)sequence_state(m, &one, 1);
}

}  // namespace pgrec
