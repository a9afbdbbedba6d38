// A trained model: id maps, factors, what each user has seen, item popularity; and its format.
#pragma once
#include <Eigen/Core>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "id_map.h"
#include "interactions.h"
#include "neural_net.h"

namespace pgrec {

using FactorMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
// A factor matrix argument read wherever it lives: a FactorMatrix or a FactorStore binds to it.
using FactorsRef = Eigen::Ref<const FactorMatrix>;

// A read-only factor matrix: its own storage (shared by copies, never changed once set) or a
// view of memory kept alive by `keep` (a mapped model file). Reads like the matrix it views.
class FactorStore : public Eigen::Map<const FactorMatrix> {
  using Base = Eigen::Map<const FactorMatrix>;

 public:
  FactorStore() : Base(nullptr, 0, 0) {}
  FactorStore(FactorMatrix m) : Base(nullptr, 0, 0) { *this = std::move(m); }  // NOLINT: implicit on purpose
  FactorStore(const FactorStore& o) : Base(o.data(), o.rows(), o.cols()), keep_(o.keep_) {}
  FactorStore& operator=(const FactorStore& o) {
    keep_ = o.keep_;
    bind(o.data(), o.rows(), o.cols());
    return *this;
  }
  // Takes over a matrix.
  FactorStore& operator=(FactorMatrix m) {
    auto owned = std::make_shared<FactorMatrix>(std::move(m));
    bind(owned->data(), owned->rows(), owned->cols());
    keep_ = std::move(owned);
    return *this;
  }
  // Views rows x cols floats at `data`, which `keep` keeps alive.
  static FactorStore view(const float* data, Eigen::Index rows, Eigen::Index cols, std::shared_ptr<const void> keep) {
    FactorStore f;
    f.bind(data, rows, cols);
    f.keep_ = std::move(keep);
    return f;
  }

 private:
  // Points the map at other memory (Eigen's documented way: placement new of the Map).
  void bind(const float* data, Eigen::Index rows, Eigen::Index cols) { new (static_cast<Base*>(this)) Base(data, rows, cols); }
  std::shared_ptr<const void> keep_;
};

// The version of the byte format written by serialize_model.
constexpr std::uint32_t kModelFormatVersion = 1;

// How a model scores: latent factors, item neighbourhoods, a fixed per-item score, a mix of
// models, a network over the user's recent items (the item factors are its embeddings), or NeuMF.
enum class ModelKind : std::uint8_t {
  Factors = 0,
  ItemNeighbors = 1,
  ItemScores = 2,
  UserNeighbors = 3,
  Hybrid = 4,
  Sequence = 5,
  NeuralMf = 6
};

// How a hybrid mixes its parts' scores: z-scores per user and part, or the raw scores (ratings).
enum class HybridMix : std::uint8_t { ZScore = 0, Raw = 1 };

struct Model;

// An inverted-file index over a factor model's items (see ivf.h): items grouped by the nearest
// of L k-means centroids, for approximate top-k in large catalogs.
struct IvfIndex {
  FactorMatrix centroids;              // lists x factors
  std::vector<std::int64_t> offsets;   // lists + 1: list l holds items[offsets[l], offsets[l + 1])
  Array<std::int32_t> items;           // item indices, list by list
  std::int32_t probes = 1;             // lists to scan for the recall the index was calibrated to
  bool empty() const { return centroids.rows() == 0; }
  std::int32_t lists() const { return static_cast<std::int32_t>(centroids.rows()); }
};

// One trained model inside a hybrid, with its weight and the hybrid's indices mapped onto its own.
struct HybridPart {
  std::string name;
  float weight = 0;
  std::shared_ptr<const Model> model;
  std::vector<std::int32_t> user_index;  // hybrid user -> part user, or -1
  std::vector<std::int32_t> item_index;  // hybrid item -> part item, or -1
};

struct Model {
  ModelKind kind = ModelKind::Factors;
  std::string algorithm;          // "als", "item_knn", "popularity"
  bool explicit_ratings = false;  // scores are predicted ratings, else preferences
  std::string user_type;          // SQL type of the source's user ids
  std::string item_type;          // SQL type of the source's item ids
  std::string params_json;        // the effective training parameters
  IdMap users;
  IdMap items;
  FactorStore user_factors;  // Factors: users x factors (empty otherwise)
  FactorStore item_factors;  // Factors: items x factors (empty otherwise)
  Csr neighbors;              // ItemNeighbors: items x items; UserNeighbors: users x users
  std::vector<float> item_scores;  // ItemScores: the score of every item
  float global_mean = 0;      // added to explicit predictions
  // Fold-in (a user vector from a list of items at query time), for Factors models.
  float fold_in_reg = 0.1f;          // ridge weight (explicit: times the number of ratings)
  float fold_in_alpha = 1.0f;        // implicit confidence 1 + alpha * value
  std::int32_t fixed_user_columns = 0;  // trailing user columns that are constant 1 (biases)
  Csr seen;                   // users x items of the training data
  Array<float> popularity;    // training interactions per item
  // Factors models of large catalogs: the approximate-search index (empty when not built).
  IvfIndex ivf;
  // Hybrid models: the parts (each a complete model, stored inside this one) and how they mix.
  std::vector<HybridPart> parts;
  HybridMix mix = HybridMix::ZScore;
  // Sequence and NeuralMf models: the network's weights (and the users' training sequences).
  NeuralNet net;

  // Derived, not stored: the item factors' norms, computed on first use (similar items).
  mutable std::vector<float> item_norms;
  mutable bool item_norms_ready = false;
  // NeuralMf models: every item's input to the MLP's first hidden layer.
  Eigen::MatrixXf item_hidden;
  // Implicit Factors models: Y^T Y over the free columns, computed on first fold-in.
  mutable Eigen::MatrixXf item_gram;
  mutable bool item_gram_ready = false;
  // UserNeighbors models: the seen matrix by item, built on first fold-in.
  mutable Csr seen_by_item;
  mutable bool seen_by_item_ready = false;

  // Computes the derived fields (and forgets the lazily built ones).
  void prepare();
  std::int32_t factors() const { return static_cast<std::int32_t>(item_factors.cols()); }
  // The norm of every item's factors (computed once, on first use; call from one thread).
  const std::vector<float>& norms() const;
  // The number of items the model ranks (every model keeps each item's popularity).
  std::int32_t n_items() const { return static_cast<std::int32_t>(popularity.size()); }
};

// Writes a model as versioned, checksummed bytes.
std::string serialize_model(const Model& model);

// Maps a hybrid's user and item indices onto each of its parts' (after building or loading).
void link_hybrid_parts(Model& hybrid);

// Reads bytes written by serialize_model; corrupt or foreign bytes raise 22000. A LibTorch
// family's training weights (kept for warm starts) are read only with `training_weights`.
Model deserialize_model(const char* data, std::size_t size, bool training_weights = false);

// Reads bytes written by serialize_model and checked before (their checksum is not recomputed),
// viewing the factor matrices in place where they are float-aligned; `keep` keeps the bytes
// alive (a mapped file) for as long as the model or a copy of it lives.
Model deserialize_model_in_place(const char* data, std::size_t size, std::shared_ptr<const void> keep,
                                 bool training_weights = false);

// Throws a DataException naming the parameters to change when a trained model holds a value that
// is not a finite number (training diverged): such a model ranks nothing and predicts NaN.
void check_finite(const Model& m);

// The offset, in bytes written by serialize_model, of the first integer item id (0 when the ids
// are text). It lies at the user factors' first float modulo 4, so a copy placed with the ids on an
// 8-byte boundary has its factors float-aligned too.
std::size_t item_ids_data_offset(const char* data, std::size_t size);

// The offset, in bytes written by serialize_model, of the user factors' first float (the item
// factors' first float lies at the same offset modulo 4), so that a copy can be placed aligned.
std::size_t factor_data_offset(const char* data, std::size_t size);

}  // namespace pgrec
