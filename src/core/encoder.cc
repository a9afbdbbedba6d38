#include "encoder.h"

#include <algorithm>
#include <cmath>

#include "byte_io.h"

namespace pgrec {

namespace {

// The encoder's hidden width (its input bias's length); 22000 when absent.
std::int64_t hidden_width(const Model& m) {
  for (const NetTensor& t : m.net.tensors)
    if (t.name == kEncoderInputBias && t.shape.size() == 1) return t.shape[0];
  ByteReader::corrupt("encoder tensors are missing");
}

}  // namespace

void check_encoder(const Model& m) {
  const std::int64_t h = hidden_width(m);
  const std::int64_t f = m.item_factors.cols() - 1;
  if (f < 1 || m.fixed_user_columns != 1) ByteReader::corrupt("encoder on a model without a bias column");
  m.net.tensor(kEncoderInput, {m.n_items(), h});
  m.net.tensor(kEncoderMean, {f, h});
  m.net.tensor(kEncoderMeanBias, {f});
}

Eigen::VectorXf encode_items(const Model& m, const std::vector<std::int32_t>& items) {
  const std::int64_t h = hidden_width(m);
  const std::int64_t f = m.item_factors.cols() - 1;
  std::vector<std::int32_t> unique = items;
  std::sort(unique.begin(), unique.end());
  unique.erase(std::unique(unique.begin(), unique.end()), unique.end());
  const RowMatrixMap w1 = m.net.matrix(kEncoderInput, m.n_items(), h);
  Eigen::VectorXf hidden = Eigen::VectorXf::Zero(h);
  for (std::int32_t i : unique) hidden += w1.row(i).transpose();
  if (!unique.empty()) hidden /= std::sqrt(static_cast<float>(unique.size()));
  hidden = (hidden + m.net.vector(kEncoderInputBias, h)).array().tanh().matrix();
  Eigen::VectorXf x(f + 1);
  x.head(f) = m.net.matrix(kEncoderMean, f, h) * hidden + m.net.vector(kEncoderMeanBias, f);
  x(f) = 1.0f;
  return x;
}

}  // namespace pgrec
