// What serving does with each kind of model. A kind's operations live in one file (kind_*.cc, or
// the file of its inference: neumf.cc, sequence_model.cc, hybrid.cc) as one KindOps entry;
// ranking, fold-in, explanations and the model format dispatch through kind_ops(). An operation
// that does not apply to a kind throws NotSupported (0A000) saying why.
#pragma once
#include <cstdint>
#include <vector>

#include "explain.h"
#include "model.h"
#include "ranking.h"

namespace pgrec {

// Which rows a kind's neighbour matrix has.
enum class NeighborRows : std::uint8_t { None, Items, Users };
// Whether a kind's model carries a network.
enum class NetUse : std::uint8_t { None, Optional, Required };

struct KindOps {
  // The serialized layout: which parts a model of the kind holds.
  bool user_factors;
  bool item_factors;
  NeighborRows neighbors;
  bool item_scores;
  NetUse net;
  // Computes derived fields and checks the network after loading or training (null: nothing).
  void (*prepare)(Model& m);
  // Writes every item's score for a known user.
  void (*score)(const Model& m, std::int32_t user, float* out);
  // Writes every item's predicted rating for a known user (what predict returns, for all items).
  void (*ratings)(const Model& m, std::int32_t user, float* out);
  // Returns one user's score (explicit models: predicted rating) of one item.
  float (*predict)(const Model& m, std::int32_t user, std::int32_t item);
  // Writes every item's score for someone with the given items and values (empty: 1 each).
  void (*fold_in)(const Model& m, const std::vector<std::int32_t>& items, const std::vector<float>& values, float* out);
  // Writes every item's similarity to `item`.
  void (*similar)(const Model& m, std::int32_t item, float* out);
  // Returns the k items most similar to `item` when the kind lists them itself (null: from similar()).
  std::vector<Scored> (*similar_top)(const Model& m, std::int32_t item, std::int32_t k, const ItemFilter* filter);
  // Splits a user's score of `item` over the user's items, the n largest first.
  Explanation (*explain)(const Model& m, std::int32_t user, std::int32_t item, std::int32_t n);
};

// The operations of a kind.
const KindOps& kind_ops(ModelKind kind);

// The kinds' entries (each defined in its kind's file).
extern const KindOps kFactorsKind;
extern const KindOps kItemNeighborsKind;
extern const KindOps kUserNeighborsKind;
extern const KindOps kItemScoresKind;
extern const KindOps kHybridKind;
extern const KindOps kSequenceKind;
extern const KindOps kNeuralMfKind;

// The user's training items and their values (the seen row).
void seen_items(const Model& m, std::int32_t user, std::vector<std::int32_t>* items, std::vector<float>* values);

// Writes the cosine of every item's factors with `item`'s (kinds with item embeddings).
void cosine_similarities(const Model& m, std::int32_t item, float* out);

// An operation that does not apply: throws NotSupported with `why`.
[[noreturn]] void not_supported(const std::string& why);

}  // namespace pgrec
