#include "neural_net.h"

#include <cmath>

#include "byte_io.h"

namespace pgrec {

bool is_training_weight(const std::string& name) { return name.rfind(kTrainingWeightPrefix, 0) == 0; }

bool NeuralNet::empty() const {
  for (const NetTensor& t : tensors)
    if (!is_training_weight(t.name)) return false;
  return true;
}

const NetTensor& NeuralNet::tensor(const std::string& name, const std::vector<std::int64_t>& shape) const {
  for (const NetTensor& t : tensors) {
    if (t.name != name) continue;
    if (t.shape != shape) ByteReader::corrupt("tensor " + name + " has another shape");
    return t;
  }
  ByteReader::corrupt("tensor " + name + " is missing");
}

RowMatrixMap NeuralNet::matrix(const std::string& name, std::int64_t rows, std::int64_t cols) const {
  return RowMatrixMap(tensor(name, {rows, cols}).data.data(), rows, cols);
}

VectorMap NeuralNet::vector(const std::string& name, std::int64_t n) const {
  return VectorMap(tensor(name, {n}).data.data(), n);
}

void put_net(ByteWriter& w, const NeuralNet& net) {
  w.put<std::int32_t>(net.max_len);
  w.put<std::int32_t>(net.blocks);
  w.put<std::int32_t>(net.heads);
  w.put<std::int32_t>(net.gmf_factors);
  w.put_string(net.time_col);
  w.put<std::uint32_t>(static_cast<std::uint32_t>(net.tensors.size()));
  for (const NetTensor& t : net.tensors) {
    w.put_string(t.name);
    w.put_array(t.shape.data(), t.shape.size());
    w.put_array(t.data.data(), t.data.size());
  }
  const Csr& s = net.sequences;
  w.put<std::int32_t>(s.rows);
  w.put_array(s.offsets.data(), s.offsets.size());
  w.put_array(s.indices.data(), s.indices.size());
}

NeuralNet get_net(ByteReader& r, std::int64_t n_users, std::int64_t n_items, bool training_weights) {
  NeuralNet net;
  net.max_len = r.get<std::int32_t>();
  net.blocks = r.get<std::int32_t>();
  net.heads = r.get<std::int32_t>();
  net.gmf_factors = r.get<std::int32_t>();
  if (net.max_len < 0 || net.max_len > 100000 || net.blocks < 0 || net.blocks > 64 || net.heads < 1 ||
      net.heads > 1024 || net.gmf_factors < 0)
    ByteReader::corrupt("network settings");
  net.time_col = r.get_string();
  const auto n = r.get<std::uint32_t>();
  if (n > 4096) ByteReader::corrupt("tensor count");
  for (std::uint32_t k = 0; k < n; ++k) {
    NetTensor t;
    t.name = r.get_string();
    t.shape = r.get_array<std::int64_t>();
    if (t.shape.empty() || t.shape.size() > 4) ByteReader::corrupt("tensor shape");
    std::uint64_t size = 1;
    for (std::int64_t d : t.shape) {
      if (d < 0 || d > (1LL << 31)) ByteReader::corrupt("tensor shape");
      size *= static_cast<std::uint64_t>(d);
      if (size > r.remaining()) ByteReader::corrupt("truncated tensor");
    }
    t.data = r.get_array<float>(size);
    for (float v : t.data)
      if (!std::isfinite(v)) ByteReader::corrupt("tensor " + t.name + " holds a non-finite weight");
    if (training_weights || !is_training_weight(t.name)) net.tensors.push_back(std::move(t));
  }
  Csr& s = net.sequences;
  s.rows = r.get<std::int32_t>();
  s.cols = static_cast<std::int32_t>(n_items);
  if (s.rows != 0 && s.rows != n_users) ByteReader::corrupt("sequence rows");
  s.offsets = r.get_array<std::int64_t>(s.rows == 0 ? 0 : static_cast<std::uint64_t>(s.rows) + 1);
  s.indices = r.get_array<std::int32_t>();
  if (s.rows > 0) {
    if (s.offsets.front() != 0 || s.offsets.back() != static_cast<std::int64_t>(s.indices.size()))
      ByteReader::corrupt("sequence offsets");
    for (std::size_t u = 0; u + 1 < s.offsets.size(); ++u)
      if (s.offsets[u] > s.offsets[u + 1]) ByteReader::corrupt("sequence offsets");
  } else if (!s.indices.empty()) {
    ByteReader::corrupt("sequence items");
  }
  for (std::int32_t i : s.indices)
    if (i < 0 || i >= n_items) ByteReader::corrupt("sequence item");
  return net;
}

}  // namespace pgrec
