// rec.train(model, 'hybrid', params): a weighted mix of models already trained, stored as a
// new version that holds a copy of each part (so retraining or dropping a part leaves it as it is).
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "hybrid.h"

#include "boundary.h"
#include "model_store.h"
#include "train_run.h"

extern "C" {
PG_FUNCTION_INFO_V1(pgrec_train_mix);
}

namespace pgrec::pg {

namespace {

// What a hybrid call holds in C++: its parts, then the model and its bytes.
struct HybridState {
  std::vector<HybridInput> inputs;
  std::unique_ptr<Model> model;
  std::string bytes;
};

// The source columns of a model version, to tell whether a hybrid's parts share one.
struct VersionSource {
  char* source;
  char* user_col;
  char* item_col;
  char* rating_col;
};

// A part as named in params.
struct PartArg {
  char* name;
  double weight;
  std::int64_t version_id;
  std::int32_t version;
};

// Reads params: {"models": {name: weight, ...}, "normalize": "zscore" | "raw"}, in name order;
// returns the number of parts, in a palloc'd array.
int read_hybrid_params(Jsonb* params, PartArg** parts, char** mix) {
  if (params == nullptr || !JB_ROOT_IS_OBJECT(params) || JB_ROOT_IS_SCALAR(params))
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("params must be a JSON object, like '{\"models\": {\"knn\": 0.3, \"mf\": 0.7}}'")));
  Oid types[1] = {JSONBOID};
  Datum values[1] = {JsonbPGetDatum(params)};
  if (SPI_execute_with_args("SELECT key, pg_catalog.jsonb_typeof(value), value OPERATOR(pg_catalog.#>>) '{}' "
                            "FROM pg_catalog.jsonb_each($1) ORDER BY key",
                            1, types, values, nullptr, true, 0) != SPI_OK_SELECT)
    elog(ERROR, "pgrec: could not read params");
  bool has_models = false;
  for (uint64 r = 0; r < SPI_processed; ++r) {
    const char* key = SPI_getvalue(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 1);
    const char* type = SPI_getvalue(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 2);
    char* value = SPI_getvalue(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 3);
    if (strcmp(key, "models") == 0 && strcmp(type, "object") == 0) {
      has_models = true;
    } else if (strcmp(key, "normalize") == 0 && strcmp(type, "string") == 0) {
      *mix = value;
    } else {
      ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                      errmsg("hybrid does not take parameter \"%s\" of type %s", key, type),
                      errhint("A hybrid takes \"models\" (an object of model names and weights) and \"normalize\" "
                              "(\"zscore\" or \"raw\").")));
    }
  }
  if (!has_models)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("a hybrid needs \"models\", like '{\"models\": {\"knn\": 0.3, \"mf\": 0.7}}'")));
  if (SPI_execute_with_args("SELECT key, pg_catalog.jsonb_typeof(value), value OPERATOR(pg_catalog.#>>) '{}' "
                            "FROM pg_catalog.jsonb_each($1 OPERATOR(pg_catalog.->) 'models') ORDER BY key",
                            1, types, values, nullptr, true, 0) != SPI_OK_SELECT)
    elog(ERROR, "pgrec: could not read params");
  *parts = static_cast<PartArg*>(palloc0(sizeof(PartArg) * (SPI_processed + 1)));
  for (uint64 r = 0; r < SPI_processed; ++r) {
    char* name = SPI_getvalue(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 1);
    const char* type = SPI_getvalue(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 2);
    const char* value = SPI_getvalue(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 3);
    if (strcmp(type, "number") != 0)
      ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                      errmsg("the weight of model \"%s\" must be a number, not %s", name, type)));
    (*parts)[r].name = name;
    (*parts)[r].weight = strtod(value, nullptr);
  }
  return static_cast<int>(SPI_processed);
}

// Reads where a model version came from, and its version number.
VersionSource version_source(std::int64_t version_id, std::int32_t* version) {
  Oid types[1] = {INT8OID};
  Datum values[1] = {Int64GetDatum(version_id)};
  if (SPI_execute_with_args("SELECT source, user_col, item_col, rating_col, version FROM rec.model_versions "
                            "WHERE id OPERATOR(pg_catalog.=) $1",
                            1, types, values, nullptr, true, 1) != SPI_OK_SELECT ||
      SPI_processed != 1)
    elog(ERROR, "pgrec: model version %lld vanished", static_cast<long long>(version_id));
  HeapTuple row = SPI_tuptable->vals[0];
  TupleDesc desc = SPI_tuptable->tupdesc;
  bool isnull;
  *version = DatumGetInt32(SPI_getbinval(row, desc, 5, &isnull));
  return VersionSource{SPI_getvalue(row, desc, 1), SPI_getvalue(row, desc, 2), SPI_getvalue(row, desc, 3),
                       SPI_getvalue(row, desc, 4)};
}

// True when two optional strings are equal (both null counts as equal).
bool same(const char* a, const char* b) {
  return (a == nullptr && b == nullptr) || (a != nullptr && b != nullptr && strcmp(a, b) == 0);
}

// The effective parameters as JSON: weights, the mix, and the version each part was taken from.
char* hybrid_params_json(const PartArg* parts, int n, pgrec::HybridMix mix) {
  StringInfoData json;
  initStringInfo(&json);
  appendStringInfoString(&json, "{\"models\": {");
  for (int p = 0; p < n; ++p) {
    appendStringInfoString(&json, p == 0 ? "" : ", ");
    escape_json(&json, parts[p].name);
    appendStringInfo(&json, ": %g", parts[p].weight);
  }
  appendStringInfo(&json, "}, \"normalize\": \"%s\", \"versions\": {", mix == pgrec::HybridMix::Raw ? "raw" : "zscore");
  for (int p = 0; p < n; ++p) {
    appendStringInfoString(&json, p == 0 ? "" : ", ");
    escape_json(&json, parts[p].name);
    appendStringInfo(&json, ": %d", parts[p].version);
  }
  appendStringInfoString(&json, "}}");
  return json.data;
}

}  // namespace

}  // namespace pgrec::pg

// rec.train(model, algorithm, params) -> version: models made of trained models (hybrid)
Datum pgrec_train_mix(PG_FUNCTION_ARGS) {
  using namespace pgrec::pg;
  const char* name = model_name_argument(fcinfo, 0);
  if (PG_ARGISNULL(1) || strcmp(text_to_cstring(PG_GETARG_TEXT_PP(1)), "hybrid") != 0)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("rec.train(model, algorithm, params) builds hybrids only; algorithm must be 'hybrid'"),
                    errhint("Other algorithms read a source: rec.train(model, source, user_col, item_col, ...).")));
  Jsonb* params = PG_ARGISNULL(2) ? nullptr : PG_GETARG_JSONB_P(2);
  const double started = now_seconds();

  HybridState* state = nullptr;
  PGREC_CXX(state = new HybridState());
  Owned<HybridState>* owner = own(state, CurrentMemoryContext);
  SPI_connect();
  PartArg* parts = nullptr;
  char* mix = nullptr;
  const int n = read_hybrid_params(params, &parts, &mix);
  // Every part's serving version; the hybrid keeps the source only when all parts share it.
  VersionSource shared{};
  bool one_source = true;
  for (int p = 0; p < n; ++p) {
    parts[p].version_id = resolve_model(parts[p].name);
    // A hybrid stores a copy of each part: copying a model is its owner's right, not a grantee's
    // (a grant that is revoked must take the model back).
    require_model_owner(parts[p].name, "a hybrid stores a copy of its models, so only their owner may mix them");
    const VersionSource from = version_source(parts[p].version_id, &parts[p].version);
    if (p == 0) shared = from;
    one_source = one_source && same(shared.source, from.source) && same(shared.user_col, from.user_col) &&
                 same(shared.item_col, from.item_col) && same(shared.rating_col, from.rating_col);
    const pgrec::Model* part = load_model(parts[p].version_id);
    PGREC_CXX(state->inputs.push_back(
        pgrec::HybridInput{parts[p].name, parts[p].weight, std::make_shared<pgrec::Model>(*part)}));
  }
  PGREC_CXX(state->model = std::make_unique<pgrec::Model>(pgrec::make_hybrid(std::move(state->inputs), mix ? mix : "")));
  const char* json = hybrid_params_json(parts, n, state->model->mix);
  PGREC_CXX({
    state->model->params_json = json;
    state->bytes = pgrec::serialize_model(*state->model);
  });
  const std::int32_t version =
      save_built_model(name, state->model.get(), &state->bytes, one_source ? shared.source : "(rec.hybrid)",
                       one_source ? shared.user_col : "(hybrid)", one_source ? shared.item_col : "(hybrid)",
                       one_source ? shared.rating_col : nullptr, now_seconds() - started);
  SPI_finish();
  release(owner);
  PG_RETURN_INT32(version);
}
