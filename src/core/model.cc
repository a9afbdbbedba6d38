#include "model.h"

#include <cmath>
#include <cstring>
#include <utility>

#include "byte_io.h"
#include "model_kind.h"

namespace pgrec {

namespace {

constexpr char kMagic[8] = {'P', 'G', 'R', 'E', 'C', 'M', 'D', 'L'};
constexpr std::size_t kHeaderSize = 8 + 4 + 4 + 8 + 8;
constexpr std::uint32_t kFlagIvf = 1;  // an IVF index follows the popularity array
constexpr std::uint32_t kFlagNet = 2;  // a network follows (Sequence and NeuralMf models; multvae's encoder)

// Whether a model of this kind must keep a network.
bool has_net(ModelKind kind) { return kind_ops(kind).net == NetUse::Required; }

// Whether a model of `kind` may carry a network: the kinds that need one, and factor models whose
// user vectors an encoder computes (multvae).
bool may_have_net(ModelKind kind) { return kind_ops(kind).net != NetUse::None; }

// Writes an id map: kind, then the ids.
void put_ids(ByteWriter& w, const IdMap& ids) {
  w.put<std::uint8_t>(static_cast<std::uint8_t>(ids.kind()));
  if (ids.kind() == IdKind::Int) {
    w.put_array(ids.ints().data(), ids.ints().size());
  } else {
    w.put<std::uint64_t>(ids.texts().size());
    for (const auto& s : ids.texts()) w.put_string(s);
  }
}

template <typename T>
Array<T> get_array_in_place(ByteReader& r, std::int64_t expected, const std::shared_ptr<const void>& keep);

// Reads an id map written by put_ids (checked and indexed unless `keep` is given: then the bytes
// were checked before, integer ids are viewed in place where aligned, and the map is indexed on
// first use).
IdMap get_ids(ByteReader& r, const std::shared_ptr<const void>& keep = nullptr) {
  const bool lazy = keep != nullptr;
  const auto kind = r.get<std::uint8_t>();
  if (kind == static_cast<std::uint8_t>(IdKind::Int)) return IdMap::from_ints(get_array_in_place<std::int64_t>(r, -1, keep), !lazy);
  if (kind != static_cast<std::uint8_t>(IdKind::Text)) ByteReader::corrupt("id kind");
  const auto n = r.get<std::uint64_t>();
  std::vector<std::string> texts;
  for (std::uint64_t i = 0; i < n; ++i) texts.push_back(r.get_string());
  return IdMap::from_texts(std::move(texts), !lazy);
}

// Writes a dense row-major matrix with its shape.
void put_matrix(ByteWriter& w, const FactorsRef& m) {
  w.put<std::int64_t>(m.rows());
  w.put<std::int64_t>(m.cols());
  w.put_array(m.data(), static_cast<std::size_t>(m.size()));
}

// Reads a matrix written by put_matrix, checking its shape (rows < 0: any number of rows).
FactorMatrix get_matrix(ByteReader& r, std::int64_t rows, std::int64_t cols) {
  const auto got_rows = r.get<std::int64_t>();
  const auto got_cols = r.get<std::int64_t>();
  if ((rows >= 0 && got_rows != rows) || got_rows < 0 || (cols >= 0 && got_cols != cols) || got_cols < 0 || got_cols > 100000)
    ByteReader::corrupt("matrix shape");
  if (static_cast<std::uint64_t>(got_rows) * static_cast<std::uint64_t>(got_cols) > r.remaining() / sizeof(float))
    ByteReader::corrupt("truncated matrix");
  FactorMatrix m(got_rows, got_cols);
  r.get_into(m.data(), static_cast<std::uint64_t>(m.size()));
  return m;
}

// Writes a sparse matrix: shape, offsets, indices, values.
void put_csr(ByteWriter& w, const Csr& m) {
  w.put<std::int32_t>(m.rows);
  w.put<std::int32_t>(m.cols);
  w.put_array(m.offsets.data(), m.offsets.size());
  w.put_array(m.indices.data(), m.indices.size());
  w.put_array(m.values.data(), m.values.size());
}

// Reads a length-prefixed array (of `expected` values; any number when expected < 0): a copy, or
// with `keep` a view of the bytes when they are aligned for T.
template <typename T>
Array<T> get_array_in_place(ByteReader& r, std::int64_t expected, const std::shared_ptr<const void>& keep) {
  if (!keep) return expected < 0 ? r.get_array<T>() : r.get_array<T>(static_cast<std::uint64_t>(expected));
  ByteReader probe = r;
  const auto n = probe.get<std::uint64_t>();
  if ((expected >= 0 && n != static_cast<std::uint64_t>(expected)) || n > probe.remaining() / sizeof(T))
    ByteReader::corrupt("array length");
  const char* at = probe.get_span(n * sizeof(T));
  if (reinterpret_cast<std::uintptr_t>(at) % alignof(T) != 0)
    return expected < 0 ? r.get_array<T>() : r.get_array<T>(static_cast<std::uint64_t>(expected));
  r = probe;
  return Array<T>::view(reinterpret_cast<const T*>(at), n, keep);
}

// Reads a sparse matrix written by put_csr, checking its shape, offsets and indices (with `keep`,
// indices and values are viewed in place where aligned).
Csr get_csr(ByteReader& r, std::int64_t rows, std::int64_t cols, const std::shared_ptr<const void>& keep = nullptr) {
  Csr m;
  m.rows = r.get<std::int32_t>();
  m.cols = r.get<std::int32_t>();
  if (m.rows != rows || m.cols != cols) ByteReader::corrupt("sparse shape");
  m.offsets = r.get_array<std::int64_t>();
  if (m.offsets.size() != static_cast<std::size_t>(rows) + 1 && !(rows == 0 && m.offsets.empty()))
    ByteReader::corrupt("sparse offsets");
  m.indices = get_array_in_place<std::int32_t>(r, -1, keep);
  m.values = get_array_in_place<float>(r, static_cast<std::int64_t>(m.indices.size()), keep);
  if (!m.offsets.empty() &&
      (m.offsets.front() != 0 || m.offsets.back() != static_cast<std::int64_t>(m.indices.size())))
    ByteReader::corrupt("sparse offsets");
  for (std::size_t u = 0; u + 1 < m.offsets.size(); ++u)
    if (m.offsets[u] > m.offsets[u + 1]) ByteReader::corrupt("sparse offsets");
  // Read through const: a view is never copied to be checked.
  for (std::int32_t i : std::as_const(m.indices))
    if (i < 0 || i >= cols) ByteReader::corrupt("sparse index");
  return m;
}

Model read_model(const char* data, std::size_t size, bool allow_hybrid, const std::shared_ptr<const void>& keep,
                 bool training_weights);

// Reads a matrix written by put_matrix: a copy, or with `keep` a view of the bytes when they are
// float-aligned.
FactorStore get_factors(ByteReader& r, std::int64_t rows, std::int64_t cols, const std::shared_ptr<const void>& keep) {
  if (!keep) return get_matrix(r, rows, cols);
  ByteReader probe = r;
  const auto got_rows = probe.get<std::int64_t>();
  const auto got_cols = probe.get<std::int64_t>();
  const auto count = probe.get<std::uint64_t>();
  if (got_rows != rows || got_cols < 0 || got_cols > 100000 || (cols >= 0 && got_cols != cols) ||
      count != static_cast<std::uint64_t>(got_rows) * static_cast<std::uint64_t>(got_cols) ||
      count > probe.remaining() / sizeof(float))
    ByteReader::corrupt("matrix shape");
  const char* at = probe.get_span(count * sizeof(float));
  if (reinterpret_cast<std::uintptr_t>(at) % alignof(float) != 0) return get_matrix(r, rows, cols);
  r = probe;
  return FactorStore::view(reinterpret_cast<const float*>(at), got_rows, got_cols, keep);
}

// Reads an IVF index and checks that it fits its model: every item in exactly one list.
IvfIndex read_ivf(ByteReader& r, std::int64_t items, std::int64_t factors, const std::shared_ptr<const void>& keep) {
  IvfIndex index;
  index.centroids = get_matrix(r, -1, factors);
  const auto lists = static_cast<std::uint64_t>(index.centroids.rows());
  if (lists == 0) ByteReader::corrupt("ivf lists");
  index.offsets = r.get_array<std::int64_t>(lists + 1);
  index.items = get_array_in_place<std::int32_t>(r, items, keep);
  index.probes = r.get<std::int32_t>();
  if (index.probes < 1 || static_cast<std::uint64_t>(index.probes) > lists) ByteReader::corrupt("ivf probes");
  if (index.offsets.front() != 0 || index.offsets.back() != items) ByteReader::corrupt("ivf offsets");
  for (std::size_t l = 0; l + 1 < index.offsets.size(); ++l)
    if (index.offsets[l] > index.offsets[l + 1]) ByteReader::corrupt("ivf offsets");
  std::vector<char> listed(static_cast<std::size_t>(items), 0);
  for (std::int32_t i : std::as_const(index.items)) {
    if (i < 0 || i >= items || listed[static_cast<std::size_t>(i)]) ByteReader::corrupt("ivf item");
    listed[static_cast<std::size_t>(i)] = 1;
  }
  return index;
}

// Reads a hybrid's parts (each a complete model that is not itself a hybrid) and links them.
void read_parts(ByteReader& r, Model& m) {
  const auto mix = r.get<std::uint8_t>();
  if (mix > static_cast<std::uint8_t>(HybridMix::Raw)) ByteReader::corrupt("hybrid mix");
  m.mix = static_cast<HybridMix>(mix);
  const auto n = r.get<std::uint32_t>();
  if (n == 0 || n > 64) ByteReader::corrupt("hybrid parts");
  for (std::uint32_t p = 0; p < n; ++p) {
    HybridPart part;
    part.name = r.get_string();
    part.weight = r.get<float>();
    const std::string bytes = r.get_string();
    if (!(part.weight > 0) || !std::isfinite(part.weight)) ByteReader::corrupt("hybrid weight");
    auto model = std::make_shared<Model>(read_model(bytes.data(), bytes.size(), false, nullptr, false));
    part.model = std::move(model);
    m.parts.push_back(std::move(part));
  }
  link_hybrid_parts(m);
}

}  // namespace

void link_hybrid_parts(Model& h) {
  // The index of every id of `ids` in `part`, or -1.
  const auto find_all = [](const IdMap& part, const IdMap& ids) {
    std::vector<std::int32_t> index(ids.size());
    for (std::size_t i = 0; i < ids.size(); ++i) index[i] = part.find(ids.ref(static_cast<std::int32_t>(i)));
    return index;
  };
  for (HybridPart& part : h.parts) {
    part.user_index = find_all(part.model->users, h.users);
    part.item_index = find_all(part.model->items, h.items);
  }
}

const std::vector<float>& Model::norms() const {
  if (!item_norms_ready) {
    item_norms.resize(static_cast<std::size_t>(item_factors.rows()));
    for (Eigen::Index i = 0; i < item_factors.rows(); ++i)
      item_norms[static_cast<std::size_t>(i)] = item_factors.row(i).norm();
    item_norms_ready = true;
  }
  return item_norms;
}

void Model::prepare() {
  item_norms_ready = false;
  item_gram_ready = false;
  seen_by_item_ready = false;
  const KindOps& ops = kind_ops(kind);
  if (ops.prepare != nullptr) ops.prepare(*this);
}

void check_finite(const Model& m) {
  const auto finite = [](const float* p, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i)
      if (!std::isfinite(p[i])) return false;
    return true;
  };
  bool ok = std::isfinite(m.global_mean) &&
            finite(m.user_factors.data(), static_cast<std::size_t>(m.user_factors.size())) &&
            finite(m.item_factors.data(), static_cast<std::size_t>(m.item_factors.size())) &&
            finite(m.item_scores.data(), m.item_scores.size()) &&
            finite(m.neighbors.values.data(), m.neighbors.values.size());
  for (const NetTensor& t : m.net.tensors) ok = ok && finite(t.data.data(), t.data.size());
  for (const HybridPart& p : m.parts) ok = ok && std::isfinite(p.weight);
  if (!ok)
    throw Error(ErrorKind::DataException,
                "training of " + (m.algorithm.empty() ? std::string("the model") : m.algorithm) +
                    " diverged: its weights are not finite numbers, and it was not stored (lower \"learning_rate\""
                    " or \"init_std\", or raise \"regularization\")");
}

std::string serialize_model(const Model& m) {
  ByteWriter w;
  w.put_bytes(kMagic, sizeof kMagic);
  w.put<std::uint32_t>(kModelFormatVersion);
  w.put<std::uint32_t>((m.ivf.empty() ? 0 : kFlagIvf) | (has_net(m.kind) || !m.net.tensors.empty() ? kFlagNet : 0));
  w.put<std::uint64_t>(0);  // payload size, patched below
  w.put<std::uint64_t>(0);  // checksum, patched below

  w.put<std::uint8_t>(static_cast<std::uint8_t>(m.kind));
  w.put_string(m.algorithm);
  w.put<std::uint8_t>(m.explicit_ratings ? 1 : 0);
  w.put_string(m.user_type);
  w.put_string(m.item_type);
  w.put_string(m.params_json);
  put_ids(w, m.users);
  put_ids(w, m.items);
  w.put<float>(m.global_mean);
  w.put<float>(m.fold_in_reg);
  w.put<float>(m.fold_in_alpha);
  w.put<std::int32_t>(m.fixed_user_columns);
  put_matrix(w, m.user_factors);
  put_matrix(w, m.item_factors);
  put_csr(w, m.seen);
  put_csr(w, m.neighbors);
  w.put_array(m.item_scores.data(), m.item_scores.size());
  w.put_array(m.popularity.data(), m.popularity.size());
  if (!m.ivf.empty()) {
    put_matrix(w, m.ivf.centroids);
    w.put_array(m.ivf.offsets.data(), m.ivf.offsets.size());
    w.put_array(m.ivf.items.data(), m.ivf.items.size());
    w.put<std::int32_t>(m.ivf.probes);
  }
  if (has_net(m.kind) || !m.net.tensors.empty()) put_net(w, m.net);
  if (m.kind == ModelKind::Hybrid) {
    w.put<std::uint8_t>(static_cast<std::uint8_t>(m.mix));
    w.put<std::uint32_t>(static_cast<std::uint32_t>(m.parts.size()));
    for (const HybridPart& part : m.parts) {
      w.put_string(part.name);
      w.put<float>(part.weight);
      w.put_string(serialize_model(*part.model));
    }
  }

  std::string& bytes = w.bytes();
  const std::uint64_t payload = bytes.size() - kHeaderSize;
  const std::uint64_t sum = checksum64(bytes.data() + kHeaderSize, payload);
  std::memcpy(&bytes[16], &payload, 8);
  std::memcpy(&bytes[24], &sum, 8);
  return std::move(bytes);
}

Model deserialize_model(const char* data, std::size_t size, bool training_weights) {
  return read_model(data, size, true, nullptr, training_weights);
}

Model deserialize_model_in_place(const char* data, std::size_t size, std::shared_ptr<const void> keep,
                                 bool training_weights) {
  return read_model(data, size, true, keep, training_weights);
}

namespace {

// A reader of bytes written by serialize_model, placed at the user id map.
ByteReader reader_at_ids(const char* data, std::size_t size) {
  if (size < kHeaderSize) bad_data("model data is not a pgrec model");
  ByteReader r(data + kHeaderSize, size - kHeaderSize);
  r.get<std::uint8_t>();
  r.get_string();
  r.get<std::uint8_t>();
  for (int s = 0; s < 3; ++s) r.get_string();
  return r;
}

}  // namespace

std::size_t item_ids_data_offset(const char* data, std::size_t size) {
  ByteReader r = reader_at_ids(data, size);
  get_ids(r);
  if (r.get<std::uint8_t>() != static_cast<std::uint8_t>(IdKind::Int)) return 0;
  return size - r.remaining() + sizeof(std::uint64_t);  // after the array's length
}

std::size_t factor_data_offset(const char* data, std::size_t size) {
  ByteReader r = reader_at_ids(data, size);
  get_ids(r);
  get_ids(r);
  for (int f = 0; f < 3; ++f) r.get<float>();
  r.get<std::int32_t>();
  return size - r.remaining() + 3 * sizeof(std::int64_t);  // rows, cols, then the array's length
}

namespace {

// Reads a model; a hybrid only where `allow_hybrid` (its parts may not nest further). With
// `keep`, the bytes were checked before: no checksum, factor matrices viewed in place. The
// network's training weights are kept only when `training_weights`.
Model read_model(const char* data, std::size_t size, bool allow_hybrid, const std::shared_ptr<const void>& keep,
                 bool training_weights) {
  if (size < kHeaderSize || std::memcmp(data, kMagic, sizeof kMagic) != 0)
    bad_data("model data is not a pgrec model");
  ByteReader header(data + 8, kHeaderSize - 8);
  const auto version = header.get<std::uint32_t>();
  if (version != kModelFormatVersion)
    throw Error(ErrorKind::NotSupported,
                "model format version " + std::to_string(version) +
                    " is not supported by this build (it reads version " +
                    std::to_string(kModelFormatVersion) + ")");
  const auto flags = header.get<std::uint32_t>();
  if ((flags & ~(kFlagIvf | kFlagNet)) != 0) ByteReader::corrupt("unknown flags");
  const auto payload = header.get<std::uint64_t>();
  const auto sum = header.get<std::uint64_t>();
  if (payload != size - kHeaderSize) ByteReader::corrupt("size mismatch");
  if (!keep && checksum64(data + kHeaderSize, payload) != sum) ByteReader::corrupt("checksum mismatch");

  ByteReader r(data + kHeaderSize, payload);
  Model m;
  const auto kind = r.get<std::uint8_t>();
  if (kind > static_cast<std::uint8_t>(ModelKind::NeuralMf)) ByteReader::corrupt("model kind");
  m.kind = static_cast<ModelKind>(kind);
  if (m.kind == ModelKind::Hybrid && !allow_hybrid) ByteReader::corrupt("nested hybrid");
  m.algorithm = r.get_string();
  m.explicit_ratings = r.get<std::uint8_t>() != 0;
  m.user_type = r.get_string();
  m.item_type = r.get_string();
  m.params_json = r.get_string();
  // Checked bytes (a mapped file) index their items only when an item is looked up.
  m.users = get_ids(r);
  m.items = get_ids(r, keep);
  m.global_mean = r.get<float>();
  m.fold_in_reg = r.get<float>();
  m.fold_in_alpha = r.get<float>();
  m.fixed_user_columns = r.get<std::int32_t>();
  const auto n_users = static_cast<std::int64_t>(m.users.size());
  const auto n_items = static_cast<std::int64_t>(m.items.size());
  const KindOps& ops = kind_ops(m.kind);
  m.user_factors = get_factors(r, ops.user_factors ? n_users : 0, -1, keep);
  m.item_factors = get_factors(r, ops.item_factors ? n_items : 0, m.user_factors.cols(), keep);
  m.seen = get_csr(r, n_users, n_items, keep);
  const std::int64_t nb = ops.neighbors == NeighborRows::Items ? n_items : ops.neighbors == NeighborRows::Users ? n_users : 0;
  m.neighbors = get_csr(r, nb, nb, keep);
  m.item_scores = r.get_array<float>(ops.item_scores ? static_cast<std::uint64_t>(n_items) : 0);
  if (m.fixed_user_columns < 0 || m.fixed_user_columns > m.item_factors.cols()) ByteReader::corrupt("fixed columns");
  m.popularity = get_array_in_place<float>(r, n_items, keep);
  if (flags & kFlagIvf) {
    if (m.kind != ModelKind::Factors) ByteReader::corrupt("ivf index on a model without factors");
    m.ivf = read_ivf(r, n_items, m.item_factors.cols(), keep);
  }
  if ((flags & kFlagNet) != 0 ? !may_have_net(m.kind) : has_net(m.kind)) ByteReader::corrupt("network section");
  if (flags & kFlagNet) m.net = get_net(r, n_users, n_items, training_weights);
  if (m.kind == ModelKind::Hybrid) read_parts(r, m);
  if (!r.at_end()) ByteReader::corrupt("trailing bytes");
  m.prepare();
  return m;
}

}  // namespace

}  // namespace pgrec
