// Factors trained elsewhere (implicit, LightFM, PyTorch, pgvector columns) made into a served
// factor model: ids with vectors, and optionally what each user has seen.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "interactions.h"
#include "model.h"
#include "params.h"

namespace pgrec {

// How an imported model scores and folds in: implicit preferences or explicit ratings.
struct ImportSettings {
  bool explicit_ratings = false;
  double global_mean = 0;       // explicit: added to every dot product
  double regularization = 0.1;  // fold-in ridge weight (explicit: times the number of ratings)
  double alpha = 1.0;           // implicit fold-in confidence 1 + alpha * value

  // Reads and checks rec.import_factors' params (regularization, alpha, global_mean).
  static ImportSettings parse(const std::vector<Param>& params, bool explicit_ratings);
  // Writes the settings as a JSON object (the model's params).
  std::string to_json() const;
};

// The most factors an imported vector may have.
constexpr std::int32_t kMaxImportedFactors = 4096;

class FactorImport {
 public:
  // Ids of the given kinds; `max_bytes` bounds the memory the import may use (53200 beyond it).
  FactorImport(IdKind user_kind, IdKind item_kind, bool explicit_ratings, std::uint64_t max_bytes);
  // Adds a user's or an item's vector; 22000 for a repeated id, a length unlike the others', or a
  // value that is not a finite number.
  void add_user(const IdRef& id, const float* values, std::int32_t n) { add_vector(true, id, values, n); }
  void add_item(const IdRef& id, const float* values, std::int32_t n) { add_vector(false, id, values, n); }
  // Records that a user has an item (with a rating for explicit models); false, ignoring the row,
  // when either has no vector.
  bool add_seen(const IdRef& user, const IdRef& item, float value);
  std::int32_t user_count() const { return builder_.user_count(); }
  std::int32_t item_count() const { return builder_.item_count(); }
  // Builds the model (22000 when there are no users or no items); the import is spent afterwards.
  Model build(const ImportSettings& settings, const std::string& user_type, const std::string& item_type);

 private:
  // Appends one vector to the users' or the items' values.
  void add_vector(bool users, const IdRef& id, const float* values, std::int32_t n);
  InteractionBuilder builder_;
  std::vector<float> user_values_;
  std::vector<float> item_values_;
  std::int32_t dims_ = -1;
  std::uint64_t max_bytes_;
};

}  // namespace pgrec
