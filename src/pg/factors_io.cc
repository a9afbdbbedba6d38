// Factor vectors in and out: rec.user_factors / rec.item_factors (and _keys) and rec.import_factors.
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "boundary.h"
#include "factor_import.h"
#include "ids.h"
#include "model_store.h"
#include "module.h"
#include "serve_args.h"
#include "source_reader.h"
#include "train_run.h"

extern "C" {
PG_FUNCTION_INFO_V1(pgrec_user_factors);
PG_FUNCTION_INFO_V1(pgrec_item_factors);
PG_FUNCTION_INFO_V1(pgrec_import_factors);
PG_FUNCTION_INFO_V1(pgrec_global_mean);
}

namespace {

using pgrec::Model;

// Returns every user's (or item's) id and factor vector of a factor model as rows.
Datum factor_rows(FunctionCallInfo fcinfo, bool users) {
  InitMaterializedSRF(fcinfo, 0);
  ReturnSetInfo* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
  if (PG_ARGISNULL(0)) return (Datum)0;
  const char* name = text_to_cstring(PG_GETARG_TEXT_PP(0));
  const Model* model = pgrec::pg::load_model(pgrec::pg::resolve_model(name));
  if (model->kind != pgrec::ModelKind::Factors)
    ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                    errmsg("model \"%s\" (%s) has no %s vectors", name, model->algorithm.c_str(), users ? "user" : "item"),
                    errhint("Factor models have them: als, bpr, sgd_mf, svdpp, two_tower and imported ones.")));
  const pgrec::IdMap& ids = users ? model->users : model->items;
  const pgrec::FactorStore& factors = users ? model->user_factors : model->item_factors;
  const Oid id_type = TupleDescAttr(rsinfo->setDesc, 0)->atttypid;
  const int dims = static_cast<int>(factors.cols());
  Datum* elems = static_cast<Datum*>(palloc(sizeof(Datum) * (dims + 1)));
  MemoryContext row_cxt = AllocSetContextCreate(CurrentMemoryContext, "pgrec factor row", ALLOCSET_SMALL_SIZES);
  const std::int32_t n = static_cast<std::int32_t>(ids.size());
  for (std::int32_t r = 0; r < n; ++r) {
    MemoryContext old = MemoryContextSwitchTo(row_cxt);
    const float* row = factors.data() + static_cast<std::size_t>(r) * dims;
    for (int j = 0; j < dims; ++j) elems[j] = Float4GetDatum(row[j]);
    Datum values[2] = {pgrec::pg::output_id(ids, r, id_type, users ? "user" : "item",
                                            (users ? model->user_type : model->item_type).c_str()),
                       PointerGetDatum(construct_array(elems, dims, FLOAT4OID, 4, true, TYPALIGN_INT))};
    bool nulls[2] = {false, false};
    tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
    MemoryContextSwitchTo(old);
    MemoryContextReset(row_cxt);
    if ((r & 1023) == 0) CHECK_FOR_INTERRUPTS();
  }
  MemoryContextDelete(row_cxt);
  return (Datum)0;
}

// The SQL of a source argument: a relation's rows or the query itself.
const char* source_sql(const char* source) {
  if (pgrec::pg::looks_like_query(source)) return psprintf("SELECT * FROM (%s\n) AS pgrec_source", source);
  return psprintf("SELECT * FROM %s", pgrec::pg::qualified_source(source));
}

// Reads a vector column value (real[], double precision[], or anything whose text is a list of
// numbers in {} or [], such as pgvector's vector) into `out`; returns its length.
int read_vector(Datum value, Oid type, FmgrInfo* output, std::vector<float>* out, const char* what, int64 row) {
  out->clear();
  if (type == FLOAT4ARRAYOID || type == FLOAT8ARRAYOID) {
    ArrayType* array = DatumGetArrayTypeP(value);
    if (ARR_NDIM(array) > 1)
      ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION), errmsg("the %s query's vector in row %lld is not one-dimensional",
                                                              what, static_cast<long long>(row))));
    Datum* elems;
    bool* nulls;
    int n;
    const bool single = type == FLOAT4ARRAYOID;
    deconstruct_array(array, single ? FLOAT4OID : FLOAT8OID, single ? 4 : 8, FLOAT8PASSBYVAL || single,
                      single ? TYPALIGN_INT : TYPALIGN_DOUBLE, &elems, &nulls, &n);
    for (int j = 0; j < n; ++j) {
      if (nulls[j])
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
                        errmsg("the %s query's vector in row %lld has a NULL element", what, static_cast<long long>(row))));
      const float x = single ? DatumGetFloat4(elems[j]) : static_cast<float>(DatumGetFloat8(elems[j]));
      PGREC_CXX(out->push_back(x));  // may allocate: C++ work at the boundary
    }
    return n;
  }
  const char* text = OutputFunctionCall(output, value);
  const char* p = text;
  while (isspace(static_cast<unsigned char>(*p))) ++p;
  const char close = *p == '{' ? '}' : *p == '[' ? ']' : '\0';
  if (close == '\0')
    ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH),
                    errmsg("the %s query's second column is of type %s, not a vector", what, format_type_be(type)),
                    errhint("Give real[], double precision[] or pgvector's vector.")));
  ++p;
  for (;;) {
    while (isspace(static_cast<unsigned char>(*p))) ++p;
    if (*p == close && out->empty()) break;
    char* end;
    const double v = strtod(p, &end);
    if (end == p)
      ereport(ERROR, (errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
                      errmsg("the %s query's vector in row %lld is not a list of numbers: %.60s", what,
                             static_cast<long long>(row), text)));
    PGREC_CXX(out->push_back(static_cast<float>(v)));
    p = end;
    while (isspace(static_cast<unsigned char>(*p))) ++p;
    if (*p == ',') { ++p; continue; }
    if (*p == close) break;
    ereport(ERROR, (errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
                    errmsg("the %s query's vector in row %lld is not a list of numbers: %.60s", what,
                           static_cast<long long>(row), text)));
  }
  return static_cast<int>(out->size());
}

// The SQL type name of a column, for the model's record of its id types.
const char* type_name(Oid type) { return format_type_be(type); }

// Opens a read-only cursor over `sql` (the caller's rights); raises 42601-style errors as PostgreSQL does.
Portal open_cursor(const char* sql) {
  SPIPlanPtr plan = SPI_prepare(sql, 0, nullptr);
  if (plan == nullptr) elog(ERROR, "pgrec: could not plan the query");
  return SPI_cursor_open(nullptr, plan, nullptr, nullptr, true);
}

// Calls `row(tuple, number)` for every row of a cursor, fetched in batches whose allocations are
// freed batch by batch; closes the cursor.
template <typename Row>
void for_each_row(Portal portal, Row row) {
  MemoryContext batch = AllocSetContextCreate(CurrentMemoryContext, "pgrec import batch", ALLOCSET_DEFAULT_SIZES);
  int64 number = 0;
  for (;;) {
    SPI_cursor_fetch(portal, true, 10000);
    const uint64 n = SPI_processed;
    if (n == 0) break;
    MemoryContext outer = MemoryContextSwitchTo(batch);
    for (uint64 r = 0; r < n; ++r) row(SPI_tuptable->vals[r], ++number);
    MemoryContextSwitchTo(outer);
    SPI_freetuptable(SPI_tuptable);
    MemoryContextReset(batch);
    CHECK_FOR_INTERRUPTS();
  }
  SPI_cursor_close(portal);
  MemoryContextDelete(batch);
}

// Opens the cursor of a users or items query, checking that it has (id, vector) columns.
Portal open_vectors(const char* source, const char* what) {
  Portal portal = open_cursor(source_sql(source));
  if (portal->tupDesc->natts < 2)
    ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH), errmsg("the %s query must return (id, vector) columns, and it returns %d",
                                                              what, portal->tupDesc->natts)));
  return portal;
}

// The id kind of a vectors cursor's first column.
pgrec::IdKind id_kind(Portal portal) {
  return pgrec::pg::is_integer_id_type(TupleDescAttr(portal->tupDesc, 0)->atttypid) ? pgrec::IdKind::Int
                                                                                      : pgrec::IdKind::Text;
}

// Reads the (id, vector) rows of a users or items cursor into the import, and closes it.
void read_vectors(Portal portal, bool users, pgrec::FactorImport* import) {
  const char* what = users ? "users" : "items";
  TupleDesc desc = portal->tupDesc;
  const Oid id_type = TupleDescAttr(desc, 0)->atttypid;
  const Oid vector_type = TupleDescAttr(desc, 1)->atttypid;
  FmgrInfo id_out, vector_out;
  pgrec::pg::prepare_id_output(id_type, &id_out, CurrentMemoryContext);
  Oid out_fn;
  bool varlena;
  getTypeOutputInfo(vector_type, &out_fn, &varlena);
  fmgr_info(out_fn, &vector_out);
  // Owned by the memory context: an error (a longjmp) never skips a C++ destructor here.
  std::vector<float>* vec = nullptr;
  PGREC_CXX(vec = new std::vector<float>());
  pgrec::pg::Owned<std::vector<float>>* vec_owner = pgrec::pg::own(vec, CurrentMemoryContext);
  for_each_row(portal, [&](HeapTuple tuple, int64 row) {
    bool null_id, null_vector;
    const Datum id = SPI_getbinval(tuple, desc, 1, &null_id);
    const Datum v = SPI_getbinval(tuple, desc, 2, &null_vector);
    if (null_id || null_vector)
      ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
                      errmsg("the %s query returned a NULL %s in row %lld", what, null_id ? "id" : "vector",
                             static_cast<long long>(row))));
    const pgrec::IdRef ref = pgrec::pg::id_from_datum(id, id_type, &id_out);
    const int dims = read_vector(v, vector_type, &vector_out, vec, what, row);
    PGREC_CXX(users ? import->add_user(ref, vec->data(), dims) : import->add_item(ref, vec->data(), dims));
  });
  pgrec::pg::release(vec_owner);
}

// Reads the (user, item[, rating]) rows of the seen query; returns how many were kept.
int64 read_seen(const char* source, bool explicit_ratings, pgrec::FactorImport* import) {
  Portal portal = open_cursor(source_sql(source));
  TupleDesc desc = portal->tupDesc;
  if (desc->natts < 2 || (explicit_ratings && desc->natts < 3))
    ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH),
                    errmsg("the seen query must return (user, item%s) columns", explicit_ratings ? ", rating" : "")));
  const Oid user_type = TupleDescAttr(desc, 0)->atttypid;
  const Oid item_type = TupleDescAttr(desc, 1)->atttypid;
  const bool has_value = desc->natts >= 3;
  const Oid value_type = has_value ? TupleDescAttr(desc, 2)->atttypid : InvalidOid;
  if (has_value && value_type != FLOAT8OID && value_type != FLOAT4OID && value_type != INT4OID &&
      value_type != INT2OID && value_type != INT8OID && value_type != NUMERICOID)
    ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH),
                    errmsg("the seen query's third column (a rating or weight) is of type %s, not a number",
                           format_type_be(value_type))));
  FmgrInfo user_out, item_out;
  pgrec::pg::prepare_id_output(user_type, &user_out, CurrentMemoryContext);
  pgrec::pg::prepare_id_output(item_type, &item_out, CurrentMemoryContext);
  int64 kept = 0;
  for_each_row(portal, [&](HeapTuple tuple, int64) {
    bool null_user, null_item, null_value = false;
    const Datum u = SPI_getbinval(tuple, desc, 1, &null_user);
    const Datum i = SPI_getbinval(tuple, desc, 2, &null_item);
    float value = 1.0f;
    if (has_value) {
      const char* text = SPI_getvalue(tuple, desc, 3);
      null_value = text == nullptr;
      if (!null_value) value = strtof(text, nullptr);
    }
    if (null_user || null_item || null_value || !std::isfinite(value)) return;
    const pgrec::IdRef user = pgrec::pg::id_from_datum(u, user_type, &user_out);
    const pgrec::IdRef item = pgrec::pg::id_from_datum(i, item_type, &item_out);
    bool added = false;
    PGREC_CXX(added = import->add_seen(user, item, value));
    kept += added ? 1 : 0;
  });
  return kept;
}

}  // namespace

// rec.user_factors(model) and rec.user_factors_keys(model)
Datum pgrec_user_factors(PG_FUNCTION_ARGS) { return factor_rows(fcinfo, true); }

// rec.item_factors(model) and rec.item_factors_keys(model)
Datum pgrec_item_factors(PG_FUNCTION_ARGS) { return factor_rows(fcinfo, false); }

// rec.global_mean(model) -> real: what a factor model adds to every dot product
Datum pgrec_global_mean(PG_FUNCTION_ARGS) {
  const char* name = text_to_cstring(PG_GETARG_TEXT_PP(0));
  const Model* model = pgrec::pg::load_model(pgrec::pg::resolve_model(name));
  if (model->kind != pgrec::ModelKind::Factors)
    ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                    errmsg("model \"%s\" (%s) is not a factor model", name, model->algorithm.c_str())));
  PG_RETURN_FLOAT4(model->global_mean);
}

// rec.import_factors(model, users, items, kind, seen, params) -> version
Datum pgrec_import_factors(PG_FUNCTION_ARGS) {
  using namespace pgrec::pg;
  const char* name = model_name_argument(fcinfo, 0);
  const char* users = required_text(fcinfo, 1, "users");
  const char* items = required_text(fcinfo, 2, "items");
  const char* kind = required_text(fcinfo, 3, "kind");
  if (strcmp(kind, "implicit") != 0 && strcmp(kind, "explicit") != 0)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("kind must be 'implicit' or 'explicit', not '%s'", kind)));
  const bool explicit_ratings = strcmp(kind, "explicit") == 0;
  const char* seen = PG_ARGISNULL(4) ? nullptr : required_text(fcinfo, 4, "seen");
  const double started = now_seconds();
  SPI_connect();
  std::vector<pgrec::Param>* params = nullptr;
  PGREC_CXX(params = new std::vector<pgrec::Param>());
  Owned<std::vector<pgrec::Param>>* params_owner = own(params, CurrentMemoryContext);
  if (!PG_ARGISNULL(5)) read_params(PG_GETARG_JSONB_P(5), params);
  pgrec::ImportSettings settings;
  PGREC_CXX(settings = pgrec::ImportSettings::parse(*params, explicit_ratings));
  // Both cursors open first: the id kinds are their first columns' types.
  Portal user_rows = open_vectors(users, "users");
  Portal item_rows = open_vectors(items, "items");
  const char* user_type = type_name(TupleDescAttr(user_rows->tupDesc, 0)->atttypid);
  const char* item_type = type_name(TupleDescAttr(item_rows->tupDesc, 0)->atttypid);
  pgrec::FactorImport* import = nullptr;
  PGREC_CXX(import = new pgrec::FactorImport(id_kind(user_rows), id_kind(item_rows), explicit_ratings,
                                             training_memory_limit()));
  Owned<pgrec::FactorImport>* import_owner = own(import, CurrentMemoryContext);
  read_vectors(user_rows, true, import);
  read_vectors(item_rows, false, import);
  if (seen != nullptr) (void)read_seen(seen, explicit_ratings, import);
  pgrec::Model* model = nullptr;
  std::string* bytes = nullptr;
  pgrec::CancelToken token{&interrupt_pending};
  PGREC_CXX({
    auto built = std::make_unique<pgrec::Model>(import->build(settings, user_type, item_type));
    std::string params_json = built->params_json;
    index_large_catalog(built.get(), &params_json, token);  // a large catalog serves approximately, as trained ones do
    auto serialized = std::make_unique<std::string>(pgrec::serialize_model(*built));
    model = built.release();
    bytes = serialized.release();
  });
  Owned<pgrec::Model>* model_owner = own(model, CurrentMemoryContext);
  Owned<std::string>* bytes_owner = own(bytes, CurrentMemoryContext);
  const std::int32_t version = save_built_model(name, model, bytes, "(rec.import_factors)", "(import)", "(import)",
                                                explicit_ratings ? "(import)" : nullptr, now_seconds() - started);
  SPI_finish();
  release(bytes_owner);
  release(model_owner);
  release(import_owner);
  release(params_owner);
  PG_RETURN_INT32(version);
}
