// Model versions in the catalog tables: save, find, load (with the per-backend cache).
#pragma once

#include <string>

#include "model.h"
#include "postgres_includes.h"

namespace pgrec::pg {

// What rec.train records with a new version (plain data; the bytes are the serialized model).
struct SaveRequest {
  const char* model;
  const char* algorithm;
  const char* params_json;
  const char* source;
  const char* user_col;
  const char* item_col;
  const char* rating_col;  // may be null
  const char* user_type;
  const char* item_type;
  std::int32_t n_users;
  std::int32_t n_items;
  std::int64_t n_interactions;
  std::int64_t rows_read;
  std::int64_t rows_skipped;
  double train_seconds;
  const std::string* bytes;
  const char* metrics_json = nullptr;  // starting metrics (a training curve), or null for {}
  const char* search_path = nullptr;   // the path the source was read with, or null for the current one
  bool deploy = true;                  // false: stored, not deployed (a gate decides after)
  std::int64_t* version_id = nullptr;  // where to put the new version's id, or null
};

// Stores a new version of a model and deploys it (unless the request says not to); returns the
// version number.
// Call inside SPI_connect.
std::int32_t save_model(const SaveRequest* request);

// Stores a model built without training on a source of its own (an aggregate's, a hybrid's)
// under `source` and the column names given, and deploys it; returns the version number.
// Call inside SPI_connect.
std::int32_t save_built_model(const char* name, const Model* model, const std::string* bytes, const char* source,
                              const char* user_col, const char* item_col, const char* rating_col, double seconds);

// Whether the database's pgrec SQL has model owners (0.2.0 on); a newer library under older SQL,
// before ALTER EXTENSION UPDATE, skips owners, grants and name caching.
bool has_model_owners();

// Whether owners and grants are kept by role OID (0.4.0's catalog on), not by name.
bool owners_by_oid();

// The SQL expression of a model_owners-typed `column` as a role name for messages, quoted as an
// identifier when it needs to be.
const char* owner_name_sql(const char* column);

// The SQL expression of the role OID a model_owners-typed `column` holds: regrole from 0.4.0's
// catalog on, a role name before.
const char* owner_oid_sql(const char* column);

// Raises 42501, saying `why`, unless the caller acts as the owner of `model`.
void require_model_owner(const char* model, const char* why);

// Raises 42501 when `model` exists but row-level security hides it from the caller.
void raise_if_hidden(const char* model);

// Returns the version id that serves `model`; raises 42704 when there is none.
std::int64_t resolve_model(const char* model);

// The name of the model rec.recommend(user, k) serves: pgrec.default_model when set, else the
// model deployed last among those the current role owns (null when there is none).
const char* default_model_name();

// Returns the version id of the default model; raises 42704 when there is none.
std::int64_t resolve_default_model();

// Returns the model of a version from this backend's cache, loading it on first use; raises
// 42501 unless the current role may use the version. The model stays valid until `pin_cxt` is
// reset or deleted, whatever the cache evicts meanwhile (SQL run in between may load others).
const Model* load_model(std::int64_t version_id, MemoryContext pin_cxt = CurrentMemoryContext);

// Loads a version for a warm start, uncached and with the training weights that serving skips
// (a LibTorch family's); raises 42501 unless the current role may use the version.
const Model* load_model_for_warm_start(std::int64_t version_id, MemoryContext pin_cxt = CurrentMemoryContext);

}  // namespace pgrec::pg
