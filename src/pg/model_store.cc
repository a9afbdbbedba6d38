#include <algorithm>
#include <cstring>
#include <memory>
#include <vector>

#include "model_store.h"

#include "boundary.h"
#include "model_files.h"
#include "module.h"
#include "name_cache.h"
#include "source_reader.h"

namespace pgrec::pg {

namespace {

constexpr std::size_t kChunkBytes = 1 << 20;
constexpr std::size_t kCacheEntries = 8;

struct CacheEntry {
  std::int64_t version_id;
  std::shared_ptr<const Model> model;
  std::uint64_t last_used;
};

// The backend's loaded models, keyed by immutable version id; never destroyed.
std::vector<CacheEntry>* cache = nullptr;
std::uint64_t cache_clock = 0;

// Returns a cached model or null.
std::shared_ptr<const Model> cache_find(std::int64_t version_id) {
  if (cache == nullptr) return nullptr;
  for (auto& e : *cache)
    if (e.version_id == version_id) {
      e.last_used = ++cache_clock;
      return e.model;
    }
  return nullptr;
}

// Adds a model to the cache, evicting the least recently used entry when full (a pinned model
// lives on until its pins are released).
void cache_put(std::int64_t version_id, std::shared_ptr<const Model> model) {
  if (cache == nullptr) cache = new std::vector<CacheEntry>();
  if (cache->size() >= kCacheEntries) {
    auto oldest = std::min_element(cache->begin(), cache->end(),
                                   [](const auto& a, const auto& b) { return a.last_used < b.last_used; });
    cache->erase(oldest);
  }
  cache->push_back(CacheEntry{version_id, std::move(model), ++cache_clock});
}

// A model kept alive for as long as a memory context.
struct Pin {
  std::shared_ptr<const Model> model;
};

// Releases a pin (a memory context reset callback; never throws).
void unpin(void* arg) { delete static_cast<Pin*>(arg); }

// Keeps `model` alive until `cxt` is reset or deleted; returns it.
const Model* pin(std::shared_ptr<const Model> model, MemoryContext cxt) {
  auto* callback = static_cast<MemoryContextCallback*>(MemoryContextAlloc(cxt, sizeof(MemoryContextCallback)));
  Pin* p = nullptr;
  PGREC_CXX(p = new Pin{std::move(model)});
  callback->func = unpin;
  callback->arg = p;
  MemoryContextRegisterResetCallback(cxt, callback);
  return p->model.get();
}

// Runs a saved one-parameter lookup that returns one bigint or nothing.
bool lookup_bigint(SPIPlanPtr* plan, const char* sql, int nargs, Oid* types, Datum* values,
                   std::int64_t* out) {
  if (*plan == nullptr) {
    SPIPlanPtr p = SPI_prepare(sql, nargs, types);
    if (p == nullptr) elog(ERROR, "pgrec: SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
    SPI_keepplan(p);
    *plan = p;
  }
  const int rc = SPI_execute_plan(*plan, values, nullptr, true, 1);
  if (rc != SPI_OK_SELECT) elog(ERROR, "pgrec: catalog lookup failed: %s", SPI_result_code_string(rc));
  if (SPI_processed == 0) return false;
  bool isnull;
  const Datum d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
  if (isnull) return false;
  *out = DatumGetInt64(d);
  return true;
}

// Raises 42501 unless the current role may read the version (row-level security on
// rec.model_versions decides); a yes is remembered per role until models, grants or roles change.
void check_version_access(std::int64_t version_id) {
  if (!has_model_owners() || access_cache_get(version_id)) return;
  static SPIPlanPtr plan = nullptr;
  Oid types[1] = {INT8OID};
  Datum values[1] = {Int64GetDatum(version_id)};
  std::int64_t found = 0;
  SPI_connect();
  const bool visible = lookup_bigint(&plan, "SELECT id FROM rec.model_versions WHERE id OPERATOR(pg_catalog.=) $1",
                                     1, types, values, &found);
  SPI_finish();
  if (!visible)
    ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                    errmsg("model version %lld does not exist or is not yours to use", static_cast<long long>(version_id))));
  access_cache_put(version_id);
}

// The owner of a model name, or null when nobody trained it (model names are public).
const char* model_owner(Datum name) {
  Oid types[1] = {TEXTOID};
  Datum values[1] = {name};
  if (SPI_execute_with_args(psprintf("SELECT %s FROM rec.model_owners WHERE model OPERATOR(pg_catalog.=) $1",
                                     owner_name_sql("owner")), 1, types,
                            values, nullptr, true, 1) != SPI_OK_SELECT)
    elog(ERROR, "pgrec: could not read the model's owner");
  return SPI_processed == 1 ? SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1) : nullptr;
}

// Makes the caller the owner of a new model name; raises 42501 unless the caller acts as the
// owner of an existing one.
void claim_model(Datum name, const char* model) {
  if (!has_model_owners()) return;
  Oid types[1] = {TEXTOID};
  Datum values[1] = {name};
  // The owner column's default is the current role (by OID from 0.4.0's catalog on).
  if (SPI_execute_with_args("INSERT INTO rec.model_owners (model) VALUES ($1) ON CONFLICT (model) DO NOTHING",
                            1, types, values, nullptr, false, 0) != SPI_OK_INSERT)
    elog(ERROR, "pgrec: could not record the model's owner");
  if (SPI_execute_with_args(psprintf("SELECT %s, %s FROM rec.model_owners WHERE model OPERATOR(pg_catalog.=) $1",
                                     owner_name_sql("owner"), owner_oid_sql("owner")),
                            1, types, values, nullptr, false, 1) != SPI_OK_SELECT ||
      SPI_processed != 1)
    elog(ERROR, "pgrec: could not read the model's owner");
  bool isnull;
  const Datum owner = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);
  if (isnull || !is_member_of_role(GetUserId(), DatumGetObjectId(owner)))
    ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE), errmsg("permission denied for model \"%s\"", model),
                    errdetail("Only its owner, role %s, and members of that role may train new versions of it.",
                              SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1))));
}

}  // namespace

bool has_model_owners() { return OidIsValid(get_relname_relid("model_owners", get_namespace_oid("rec", false))); }

bool owners_by_oid() {
  const Oid rel = get_relname_relid("model_owners", get_namespace_oid("rec", false));
  const AttrNumber att = OidIsValid(rel) ? get_attnum(rel, "owner") : InvalidAttrNumber;
  return att != InvalidAttrNumber && get_atttype(rel, att) == REGROLEOID;
}

const char* owner_name_sql(const char* column) {
  if (owners_by_oid()) return psprintf("%s::pg_catalog.text", column);
  return psprintf("pg_catalog.quote_ident(%s)", column);
}

const char* owner_oid_sql(const char* column) {
  if (owners_by_oid()) return psprintf("%s::pg_catalog.oid", column);
  return psprintf("pg_catalog.to_regrole(pg_catalog.quote_ident(%s))::pg_catalog.oid", column);
}

void require_model_owner(const char* model, const char* why) {
  if (!has_model_owners()) return;
  Oid types[1] = {TEXTOID};
  Datum values[1] = {CStringGetTextDatum(model)};
  SPI_connect();
  if (SPI_execute_with_args(psprintf("SELECT %s FROM rec.model_owners o WHERE o.model OPERATOR(pg_catalog.=) $1",
                                     owner_oid_sql("o.owner")),
                            1, types, values, nullptr, true, 1) != SPI_OK_SELECT)
    elog(ERROR, "pgrec: could not read the model's owner");
  bool isnull = true;
  const Datum owner = SPI_processed == 1 ? SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull) : 0;
  SPI_finish();
  if (isnull || !is_member_of_role(GetUserId(), DatumGetObjectId(owner)))
    ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE), errmsg("permission denied for model \"%s\"", model),
                    errdetail("%s.", why)));
}

void raise_if_hidden(const char* model) {
  if (!has_model_owners()) return;
  SPI_connect();
  const char* owner = model_owner(CStringGetTextDatum(model));
  if (owner != nullptr)
    ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE), errmsg("permission denied for model \"%s\"", model),
                    errhint("Ask its owner, role %s, to run: SELECT rec.grant_model(%s, %s);", owner,
                            quote_literal_cstr(model),
                            quote_literal_cstr(GetUserNameFromId(GetUserId(), false)))));
  SPI_finish();
}

std::int32_t save_built_model(const char* name, const Model* model, const std::string* bytes, const char* source,
                              const char* user_col, const char* item_col, const char* rating_col, double seconds) {
  SaveRequest save;
  save.model = name;
  save.algorithm = model->algorithm.c_str();
  save.params_json = model->params_json.empty() ? "{}" : model->params_json.c_str();
  save.source = source;
  save.user_col = user_col;
  save.item_col = item_col;
  save.rating_col = rating_col;
  save.user_type = model->user_type.c_str();
  save.item_type = model->item_type.c_str();
  save.n_users = static_cast<std::int32_t>(model->users.size());
  save.n_items = static_cast<std::int32_t>(model->items.size());
  save.n_interactions = model->seen.nnz();
  save.rows_read = model->seen.nnz();
  save.rows_skipped = 0;
  save.train_seconds = seconds;
  save.bytes = bytes;
  return save_model(&save);
}

std::int64_t resolve_model(const char* model) {
  static SPIPlanPtr plan = nullptr;
  std::int64_t id = 0;
  if (name_cache_get(model, &id)) return id;
  Oid types[1] = {TEXTOID};
  Datum values[1] = {CStringGetTextDatum(model)};
  SPI_connect();
  const bool found = lookup_bigint(
      &plan,
      "SELECT d.version_id FROM rec.deployments d WHERE d.model OPERATOR(pg_catalog.=) $1 "
      "ORDER BY d.id DESC LIMIT 1",
      1, types, values, &id);
  SPI_finish();
  if (!found) raise_if_hidden(model);
  if (!found)
    ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT), errmsg("model \"%s\" does not exist", model),
                    errhint("rec.models lists the trained models.")));
  name_cache_put(model, id);
  return id;
}

const char* default_model_name() {
  if (guc_default_model != nullptr && guc_default_model[0] != '\0') return guc_default_model;
  MemoryContext caller = CurrentMemoryContext;
  SPI_connect();
  const char* found = nullptr;
  if (!has_model_owners()) {  // 0.1.0's SQL: no owners, the last deployment
    if (SPI_execute("SELECT model FROM rec.deployments ORDER BY id DESC LIMIT 1", true, 1) == SPI_OK_SELECT &&
        SPI_processed == 1)
      found = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
  } else if (SPI_execute(psprintf("SELECT %s, (pg_catalog.array_agg(d.model ORDER BY d.id DESC))[1] "
                                  "FROM rec.deployments d JOIN rec.model_owners o ON o.model OPERATOR(pg_catalog.=) d.model "
                                  "GROUP BY o.owner ORDER BY pg_catalog.max(d.id) DESC", owner_oid_sql("o.owner")),
                         true, 0) == SPI_OK_SELECT) {
    // The newest deployment of a model the caller owns: membership without a superuser's bypass,
    // so a model another role granted to public never becomes a superuser's default.
    for (uint64 r = 0; r < SPI_processed && found == nullptr; ++r) {
      bool isnull;
      const Datum owner = SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 1, &isnull);
      if (!isnull && is_member_of_role_nosuper(GetUserId(), DatumGetObjectId(owner)))
        found = SPI_getvalue(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 2);
    }
  }
  const char* name = found != nullptr ? MemoryContextStrdup(caller, found) : nullptr;
  SPI_finish();
  return name;
}

std::int64_t resolve_default_model() {
  const bool chosen = guc_default_model != nullptr && guc_default_model[0] != '\0';
  std::int64_t id = 0;
  if (!chosen && name_cache_get("", &id)) return id;
  const char* name = default_model_name();
  if (name == nullptr)
    ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT), errmsg("no default model: you own no trained model"),
                    errhint("Train one with rec.train(), name the model, or set pgrec.default_model.")));
  id = resolve_model(name);
  if (!chosen) name_cache_put("", id);
  return id;
}

namespace {

// Reads a version's model from its mapped file when that is sound, else from the stored chunks
// (writing the file for later sessions); a LibTorch family's training weights only when
// `training_weights`.
std::shared_ptr<const Model> read_version(std::int64_t version_id, bool training_weights) {
  static SPIPlanPtr header_plan = nullptr;
  static SPIPlanPtr plan = nullptr;
  SPI_connect();
  Oid types[1] = {INT8OID};
  Datum values[1] = {Int64GetDatum(version_id)};
  // The header names the version's file; a sound file is mapped, not read from the table.
  if (header_plan == nullptr) {
    header_plan = SPI_prepare("SELECT pg_catalog.substring(data, 1, 32) FROM rec.model_chunks "
                              "WHERE version_id OPERATOR(pg_catalog.=) $1 AND seq OPERATOR(pg_catalog.=) 0",
                              1, types);
    if (header_plan == nullptr) elog(ERROR, "pgrec: SPI_prepare failed");
    SPI_keepplan(header_plan);
  }
  if (SPI_execute_plan(header_plan, values, nullptr, true, 1) != SPI_OK_SELECT)
    elog(ERROR, "pgrec: reading the model header failed");
  if (SPI_processed == 0)
    ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                    errmsg("model version %lld has no stored data", static_cast<long long>(version_id))));
  bool isnull;
  bytea* header = DatumGetByteaPP(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
  if (!isnull && VARSIZE_ANY_EXHDR(header) == kModelHeaderBytes) {
    std::unique_ptr<Model> mapped = map_model_file(version_id, VARDATA_ANY(header), training_weights);
    if (mapped != nullptr) {
      std::shared_ptr<const Model> loaded;
      PGREC_CXX(loaded = std::shared_ptr<const Model>(std::move(mapped)));
      SPI_finish();
      return loaded;
    }
  }

  if (plan == nullptr) {
    plan = SPI_prepare(
        "SELECT data FROM rec.model_chunks WHERE version_id OPERATOR(pg_catalog.=) $1 ORDER BY seq",
        1, types);
    if (plan == nullptr) elog(ERROR, "pgrec: SPI_prepare failed");
    SPI_keepplan(plan);
  }
  if (SPI_execute_plan(plan, values, nullptr, true, 0) != SPI_OK_SELECT)
    elog(ERROR, "pgrec: reading model chunks failed");
  Size total = 0;
  const uint64 n = SPI_processed;
  for (uint64 r = 0; r < n; ++r) {
    Datum d = SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 1, &isnull);
    if (!isnull) total += toast_raw_datum_size(d) - VARHDRSZ;
  }
  char* bytes = static_cast<char*>(MemoryContextAllocHuge(CurrentMemoryContext, total + 1));
  Size at = 0;
  for (uint64 r = 0; r < n; ++r) {
    Datum d = SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 1, &isnull);
    if (isnull) continue;
    bytea* chunk = DatumGetByteaPP(d);
    const Size len = VARSIZE_ANY_EXHDR(chunk);
    memcpy(bytes + at, VARDATA_ANY(chunk), len);
    at += len;
  }
  std::shared_ptr<const Model> loaded;
  PGREC_CXX(loaded = std::make_shared<const Model>(deserialize_model(bytes, at, training_weights)));
  // Checked: later sessions map it instead.
  write_model_file(version_id, bytes, at);
  SPI_finish();
  return loaded;
}

}  // namespace

const Model* load_model(std::int64_t version_id, MemoryContext pin_cxt) {
  // Cached models were loaded by whichever role asked first: check this one may see it.
  check_version_access(version_id);
  std::shared_ptr<const Model> loaded;
  PGREC_CXX(loaded = cache_find(version_id));
  if (loaded == nullptr) {
    loaded = read_version(version_id, false);
    PGREC_CXX(cache_put(version_id, loaded));
  }
  return pin(std::move(loaded), pin_cxt);
}

const Model* load_model_for_warm_start(std::int64_t version_id, MemoryContext pin_cxt) {
  check_version_access(version_id);
  return pin(read_version(version_id, true), pin_cxt);
}

std::int32_t save_model(const SaveRequest* r) {
  Datum name = CStringGetTextDatum(r->model);
  {
    Oid types[1] = {TEXTOID};
    Datum values[1] = {name};
    if (SPI_execute_with_args(
            "SELECT pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('pgrec:' OPERATOR(pg_catalog.||) $1))",
            1, types, values, nullptr, false, 0) != SPI_OK_SELECT)
      elog(ERROR, "pgrec: could not lock the model name");
  }
  claim_model(name, r->model);
  // The search_path the source was read with: fold-in and sequential serving read it again, as
  // the owner, with this path (0.4.0's catalog on).
  const bool keeps_path = catalog_has_column("model_versions", "search_path");
  // Under REPEATABLE READ a version committed by a concurrent train is invisible to max(version):
  // the conflict is then a serialization failure (40001), as PostgreSQL reports it, not a 23505.
  const char* insert = psprintf(
      "INSERT INTO rec.model_versions (model, version, algorithm, params, source, user_col, "
      "item_col, rating_col, user_type, item_type, n_users, n_items, n_interactions, rows_read, "
      "rows_skipped, train_seconds, size_bytes, format_version, metrics%s) "
      "SELECT $1, COALESCE(max(version), 0) OPERATOR(pg_catalog.+) 1, $2, $3::pg_catalog.jsonb, "
      "$4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, "
      "COALESCE($18::pg_catalog.jsonb, '{}'::pg_catalog.jsonb)%s "
      "FROM rec.model_versions WHERE model OPERATOR(pg_catalog.=) $1 "
      "ON CONFLICT (model, version) DO NOTHING RETURNING id, version",
      keeps_path ? ", search_path" : "",
      keeps_path ? ", COALESCE($19, pg_catalog.current_setting('search_path'))" : "");
  Oid types[19] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID,
                   INT4OID, INT4OID, INT8OID, INT8OID, INT8OID, FLOAT8OID, INT8OID, INT4OID, TEXTOID, TEXTOID};
  Datum values[19] = {name,
                      CStringGetTextDatum(r->algorithm),
                      CStringGetTextDatum(r->params_json),
                      CStringGetTextDatum(r->source),
                      CStringGetTextDatum(r->user_col),
                      CStringGetTextDatum(r->item_col),
                      r->rating_col ? CStringGetTextDatum(r->rating_col) : (Datum)0,
                      CStringGetTextDatum(r->user_type),
                      CStringGetTextDatum(r->item_type),
                      Int32GetDatum(r->n_users),
                      Int32GetDatum(r->n_items),
                      Int64GetDatum(r->n_interactions),
                      Int64GetDatum(r->rows_read),
                      Int64GetDatum(r->rows_skipped),
                      Float8GetDatum(r->train_seconds),
                      Int64GetDatum(static_cast<int64>(r->bytes->size())),
                      Int32GetDatum(static_cast<int32>(kModelFormatVersion)),
                      r->metrics_json ? CStringGetTextDatum(r->metrics_json) : (Datum)0,
                      r->search_path ? CStringGetTextDatum(r->search_path) : (Datum)0};
  char nulls[19];
  memset(nulls, ' ', sizeof nulls);
  if (r->rating_col == nullptr) nulls[6] = 'n';
  if (r->metrics_json == nullptr) nulls[17] = 'n';
  if (r->search_path == nullptr) nulls[18] = 'n';
  if (SPI_execute_with_args(insert, keeps_path ? 19 : 18, types, values, nulls, false, 0) != SPI_OK_INSERT_RETURNING)
    elog(ERROR, "pgrec: could not record the model version");
  if (SPI_processed != 1)
    ereport(ERROR, (errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
                    errmsg("could not serialize access: model \"%s\" was trained by a concurrent transaction", r->model),
                    errhint("Retry the transaction.")));
  bool isnull;
  const int64 version_id =
      DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
  const int32 version =
      DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));

  SPIPlanPtr chunk_plan;
  {
    Oid chunk_types[3] = {INT8OID, INT4OID, BYTEAOID};
    chunk_plan = SPI_prepare("INSERT INTO rec.model_chunks (version_id, seq, data) VALUES ($1, $2, $3)",
                             3, chunk_types);
    if (chunk_plan == nullptr) elog(ERROR, "pgrec: SPI_prepare failed");
  }
  const std::string& bytes = *r->bytes;
  int32 seq = 0;
  for (std::size_t at = 0; at < bytes.size(); at += kChunkBytes, ++seq) {
    const std::size_t len = std::min(kChunkBytes, bytes.size() - at);
    bytea* chunk = static_cast<bytea*>(palloc(len + VARHDRSZ));
    SET_VARSIZE(chunk, len + VARHDRSZ);
    memcpy(VARDATA(chunk), bytes.data() + at, len);
    Datum cv[3] = {Int64GetDatum(version_id), Int32GetDatum(seq), PointerGetDatum(chunk)};
    if (SPI_execute_plan(chunk_plan, cv, nullptr, false, 0) != SPI_OK_INSERT)
      elog(ERROR, "pgrec: could not store the model data");
    pfree(chunk);
  }
  if (r->version_id != nullptr) *r->version_id = version_id;
  if (!r->deploy) return version;
  {
    Oid dt[2] = {TEXTOID, INT8OID};
    Datum dv[2] = {name, Int64GetDatum(version_id)};
    if (SPI_execute_with_args("INSERT INTO rec.deployments (model, version_id) VALUES ($1, $2)", 2, dt,
                              dv, nullptr, false, 0) != SPI_OK_INSERT)
      elog(ERROR, "pgrec: could not deploy the model version");
  }
  // The new version's file now; the files of the model's other versions go (a version deployed
  // again later is written again on its first load).
  write_model_file(version_id, bytes.data(), bytes.size(), true);
  {
    Oid t[2] = {TEXTOID, INT8OID};
    Datum v[2] = {name, Int64GetDatum(version_id)};
    if (SPI_execute_with_args("SELECT id FROM rec.model_versions WHERE model OPERATOR(pg_catalog.=) $1 "
                              "AND id OPERATOR(pg_catalog.<>) $2",
                              2, t, v, nullptr, true, 0) == SPI_OK_SELECT &&
        SPI_processed > 0) {
      std::int64_t* others = static_cast<std::int64_t*>(palloc(sizeof(std::int64_t) * SPI_processed));
      for (uint64 r = 0; r < SPI_processed; ++r) {
        bool null_id;
        others[r] = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 1, &null_id));
      }
      forget_model_files(others, static_cast<int>(SPI_processed));
    }
  }
  return version;
}

}  // namespace pgrec::pg

extern "C" {
PG_FUNCTION_INFO_V1(pgrec_default_model);
PG_FUNCTION_INFO_V1(pgrec_acts_as);
}

// rec.acts_as(role) -> whether the current role is `role` or a member of it (a superuser acts as
// every role); false for a role that no longer exists (its OID is never a name's)
Datum pgrec_acts_as(PG_FUNCTION_ARGS) {
  const Oid role = PG_GETARG_OID(0);
  if (!OidIsValid(role) || !SearchSysCacheExists1(AUTHOID, ObjectIdGetDatum(role))) PG_RETURN_BOOL(false);
  PG_RETURN_BOOL(is_member_of_role(GetUserId(), role));
}

// rec.default_model() -> the model rec.recommend(user, k) serves the current role, or NULL
Datum pgrec_default_model(PG_FUNCTION_ARGS) {
  const char* name = pgrec::pg::default_model_name();
  if (name == nullptr) PG_RETURN_NULL();
  PG_RETURN_TEXT_P(cstring_to_text(name));
}
