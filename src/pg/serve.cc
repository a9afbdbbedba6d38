// Serving: rec.recommend, rec.recommend_keys, rec.predict, rec.similar_items(_keys).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "boundary.h"
#include "ids.h"
#include "model_store.h"
#include "module.h"
#include "explain.h"
#include "fold_in.h"
#include "ranking.h"
#include "serve_args.h"
#include "served_log.h"
#include "source_reader.h"
#include "stored_source.h"

extern "C" {
PG_FUNCTION_INFO_V1(pgrec_recommend);
PG_FUNCTION_INFO_V1(pgrec_recommend_default);
PG_FUNCTION_INFO_V1(pgrec_predict);
PG_FUNCTION_INFO_V1(pgrec_similar_items);
PG_FUNCTION_INFO_V1(pgrec_recommend_for_items);
PG_FUNCTION_INFO_V1(pgrec_explain);
}

namespace {

using pgrec::Model;
using pgrec::Scored;
using pgrec::pg::check_k;


// The rows of one ranked answer, ready to be returned one per call.
struct RankedRows {
  int count;
  Datum* ids;
  float* scores;
};

// Looks a user (`users`) or item id argument up in the model; -1 when the model does not know it,
// 42804 when the argument's type cannot name the model's ids.
int32 find_id(FunctionCallInfo fcinfo, int arg, const Model* model, bool users) {
  const Oid type = get_fn_expr_argtype(fcinfo->flinfo, arg);
  const pgrec::IdMap& ids = users ? model->users : model->items;
  pgrec::pg::check_id_type(type, ids, (users ? model->user_type : model->item_type).c_str(), users ? "user" : "item");
  const pgrec::IdRef ref = pgrec::pg::id_from_datum(PG_GETARG_DATUM(arg), type, nullptr);
  int32 index = -1;
  PGREC_CXX(index = ids.find(ref));
  return index;
}

// Converts ranked items to output rows in `cxt`: bigint ids or text keys, per the result type.
RankedRows to_rows(FunctionCallInfo fcinfo, const Model* model, const Scored* ranked, int count,
                   Oid id_type, MemoryContext cxt) {
  MemoryContext old = MemoryContextSwitchTo(cxt);
  RankedRows rows{count, static_cast<Datum*>(palloc(sizeof(Datum) * (count + 1))),
                  static_cast<float*>(palloc(sizeof(float) * (count + 1)))};
  for (int j = 0; j < count; ++j) {
    rows.scores[j] = ranked[j].score;
    rows.ids[j] = pgrec::pg::output_id(model->items, ranked[j].index, id_type, "item", model->item_type.c_str());
  }
  MemoryContextSwitchTo(old);
  (void)fcinfo;
  return rows;
}

// Returns the next (item, score, rank) row of a ranked answer computed by `compute` on the
// first call.
template <typename Compute>
Datum ranked_srf(FunctionCallInfo fcinfo, Compute compute) {
  FuncCallContext* fc;
  if (SRF_IS_FIRSTCALL()) {
    fc = SRF_FIRSTCALL_INIT();
    TupleDesc desc;
    if (get_call_result_type(fcinfo, nullptr, &desc) != TYPEFUNC_COMPOSITE)
      elog(ERROR, "pgrec: function returning a row called in a context that cannot accept one");
    fc->tuple_desc = BlessTupleDesc(CreateTupleDescCopy(desc));
    const Oid id_type = TupleDescAttr(fc->tuple_desc, 0)->atttypid;
    RankedRows* rows = static_cast<RankedRows*>(MemoryContextAlloc(fc->multi_call_memory_ctx, sizeof(RankedRows)));
    *rows = compute(id_type, fc->multi_call_memory_ctx);
    fc->user_fctx = rows;
    fc->max_calls = static_cast<uint64>(rows->count);
  }
  fc = SRF_PERCALL_SETUP();
  if (fc->call_cntr < fc->max_calls) {
    const RankedRows* rows = static_cast<RankedRows*>(fc->user_fctx);
    const uint64 j = fc->call_cntr;
    Datum values[3] = {rows->ids[j], Float4GetDatum(rows->scores[j]), Int32GetDatum(static_cast<int32>(j + 1))};
    bool nulls[3] = {false, false, false};
    SRF_RETURN_NEXT(fc, HeapTupleGetDatum(heap_form_tuple(fc->tuple_desc, values, nulls)));
  }
  SRF_RETURN_DONE(fc);
}

// Items (model indices) and values someone has, gathered before a fold-in.
struct Given {
  int count;
  int32* items;
  float* values;
};

// The candidates / exclude arrays of a call, mapped to model indices (unknown ids dropped).
struct FilterArgs {
  bool has_candidates;
  int n_candidates;
  int32* candidates;
  int n_exclude;
  int32* exclude;
};

// The elements of an array argument of ids (any element type).
struct IdArray {
  Oid elem;
  Datum* values;
  bool* nulls;
  int n;
};

// Deconstructs an array argument of ids.
IdArray id_array(FunctionCallInfo fcinfo, int arg) {
  ArrayType* array = PG_GETARG_ARRAYTYPE_P(arg);
  IdArray a;
  a.elem = ARR_ELEMTYPE(array);
  int16 len;
  bool byval;
  char align;
  get_typlenbyvalalign(a.elem, &len, &byval, &align);
  deconstruct_array(array, a.elem, len, byval, align, &a.values, &a.nulls, &a.n);
  return a;
}

// Maps the elements of an id array argument to model indices; returns how many were known.
int map_id_array(FunctionCallInfo fcinfo, int arg, const Model* model, int32** out) {
  const IdArray ids = id_array(fcinfo, arg);
  *out = static_cast<int32*>(palloc(sizeof(int32) * (ids.n + 1)));
  FmgrInfo output;
  pgrec::pg::prepare_id_output(ids.elem, &output, CurrentMemoryContext);
  int known = 0;
  for (int j = 0; j < ids.n; ++j) {
    if (ids.nulls[j]) continue;
    const pgrec::IdRef ref = pgrec::pg::id_from_datum(ids.values[j], ids.elem, &output);
    int32 index = -1;
    PGREC_CXX(index = model->items.find(ref));
    if (index >= 0) (*out)[known++] = index;
  }
  return known;
}

// Reads the optional candidates and exclude arguments (argument numbers; -1 when absent).
FilterArgs filter_args(FunctionCallInfo fcinfo, int candidates_arg, int exclude_arg, const Model* model) {
  FilterArgs f{false, 0, nullptr, 0, nullptr};
  if (candidates_arg >= 0 && PG_NARGS() > candidates_arg && !PG_ARGISNULL(candidates_arg)) {
    f.has_candidates = true;
    f.n_candidates = map_id_array(fcinfo, candidates_arg, model, &f.candidates);
  }
  if (exclude_arg >= 0 && PG_NARGS() > exclude_arg && !PG_ARGISNULL(exclude_arg))
    f.n_exclude = map_id_array(fcinfo, exclude_arg, model, &f.exclude);
  return f;
}

// Builds the core filter (sorted, unique indices) from the arguments read.
pgrec::ItemFilter make_filter(const FilterArgs* a) {
  pgrec::ItemFilter f;
  f.has_candidates = a->has_candidates;
  f.candidates.assign(a->candidates, a->candidates + a->n_candidates);
  f.exclude.assign(a->exclude, a->exclude + a->n_exclude);
  for (auto* v : {&f.candidates, &f.exclude}) {
    std::sort(v->begin(), v->end());
    v->erase(std::unique(v->begin(), v->end()), v->end());
  }
  return f;
}

// Ranks by folding `given` into the model (C++ work at the boundary), into `ranked`.
int fold_in_ranked(const Model* model, const Given* given, int32 k, bool exclude_given,
                   const FilterArgs* filter, Scored* ranked) {
  int count = 0;
  PGREC_CXX({
    const std::vector<std::int32_t> items(given->items, given->items + given->count);
    const std::vector<float> values(given->values, given->values + given->count);
    const pgrec::ItemFilter f = make_filter(filter);
    const std::vector<Scored> top = pgrec::recommend_for_items(*model, items, values, k, exclude_given, &f);
    count = static_cast<int>(top.size());
    std::memcpy(ranked, top.data(), sizeof(Scored) * top.size());
  });
  return count;
}

// Reads the user's current rows from the source the model version was trained on (in time order
// for a sequential model). The stored source is the owner's SQL, not the caller's: it runs as the
// owner, security-restricted, on the owner's search_path (see "Security model" in the README).
Given current_rows(int64 version_id, const Model* model, FunctionCallInfo fcinfo, int user_arg) {
  Given given{0, nullptr, nullptr};
  const Oid type = get_fn_expr_argtype(fcinfo->flinfo, user_arg);
  pgrec::pg::check_id_type(type, model->users, model->user_type.c_str(), "user");
  const pgrec::IdRef user = pgrec::pg::id_from_datum(PG_GETARG_DATUM(user_arg), type, nullptr);
  const char* user_text = user.is_text() ? pnstrdup(user.text, user.length)
                                         : psprintf("%lld", static_cast<long long>(user.number));
  MemoryContext caller = CurrentMemoryContext;
  SPI_connect();
  pgrec::pg::StoredSource stored = pgrec::pg::stored_source(version_id, "fold_in");
  // A sequential model reads the user's rows oldest first.
  if (model->kind == pgrec::ModelKind::Sequence) stored.spec.time_col = pstrdup(model->net.time_col.c_str());
  const char* sql = pgrec::pg::build_source_query(&stored.spec, pstrdup(model->user_type.c_str()));
  Oid tt[1] = {TEXTOID};
  Datum tv[1] = {CStringGetTextDatum(user_text)};
  pgrec::pg::OwnerContext as_owner;
  pgrec::pg::enter_owner_context(stored.owner, stored.search_path, &as_owner);
  const int rc = SPI_execute_with_args(sql, 1, tt, tv, nullptr, true, 0);
  pgrec::pg::leave_owner_context(&as_owner);
  if (rc != SPI_OK_SELECT) elog(ERROR, "pgrec: reading the user's current rows failed");
  const uint64 n = SPI_processed;
  given.items = static_cast<int32*>(MemoryContextAlloc(caller, sizeof(int32) * (n + 1)));
  given.values = static_cast<float*>(MemoryContextAlloc(caller, sizeof(float) * (n + 1)));
  const Oid item_type = SPI_gettypeid(SPI_tuptable->tupdesc, 2);
  FmgrInfo item_out;
  pgrec::pg::prepare_id_output(item_type, &item_out, CurrentMemoryContext);
  for (uint64 r = 0; r < n; ++r) {
    bool null_item, null_value = false;
    const Datum item = SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 2, &null_item);
    float value = 1.0f;
    if (stored.spec.rating_col != nullptr) {
      const Datum d = SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 3, &null_value);
      if (!null_value) value = static_cast<float>(DatumGetFloat8(d));
    }
    if (null_item || null_value || !std::isfinite(value)) continue;
    const pgrec::IdRef ref = pgrec::pg::id_from_datum(item, item_type, &item_out);
    int32 index = -1;
    PGREC_CXX(index = model->items.find(ref));
    if (index < 0) continue;  // an item the model does not know
    given.items[given.count] = index;
    given.values[given.count] = value;
    ++given.count;
  }
  SPI_finish();
  return given;
}

// Says (NOTICE) that a model (`name`, or the default model when null) does not know the user of
// argument `user_arg` (with `fold_in`: found no rows of theirs it knows), and that its most popular
// items are what the call returns.
void notice_popular_fallback(FunctionCallInfo fcinfo, const char* name, int user_arg, bool fold_in) {
  const Oid type = get_fn_expr_argtype(fcinfo->flinfo, user_arg);
  Oid out;
  bool varlena;
  getTypeOutputInfo(type, &out, &varlena);
  const char* user = OidOutputFunctionCall(out, PG_GETARG_DATUM(user_arg));
  if (name == nullptr) name = pgrec::pg::default_model_name();
  if (fold_in)
    ereport(NOTICE, (errmsg("user %s has no rows of items model \"%s\" knows in its source: returning its most "
                            "popular items", user, name)));
  else
    ereport(NOTICE, (errmsg("model \"%s\" does not know user %s: returning its most popular items", name, user),
                   errhint("fold_in => true scores a user's current rows in the model's source; "
                           "rec.recommend_for_items() scores a list of items.")));
}

// Computes a recommend answer for a model version (`name`; null for the default model) and a user
// Records the list served to the user of argument `user_arg` when pgrec.log_recommendations is on.
void log_user_list(FunctionCallInfo fcinfo, int user_arg, int64 version_id, const Model* model, const Scored* ranked,
                   int count) {
  if (!pgrec::pg::guc_log_recommendations) return;
  const Oid type = get_fn_expr_argtype(fcinfo->flinfo, user_arg);
  const pgrec::IdRef user = pgrec::pg::id_from_datum(PG_GETARG_DATUM(user_arg), type, nullptr);
  pgrec::pg::log_served(version_id, model, user, ranked, count);
}

// argument; the optional arguments (exclude_seen, fold_in, candidates, exclude) follow k.
RankedRows recommend_rows(FunctionCallInfo fcinfo, const char* name, int64 version_id, int user_arg, Oid id_type,
                          MemoryContext cxt) {
  for (int a = user_arg + 1; a <= user_arg + 3 && a < PG_NARGS(); ++a)
    if (PG_ARGISNULL(a))
      ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("k, exclude_seen and fold_in must not be null")));
  const int32 k = PG_GETARG_INT32(user_arg + 1);
  check_k(k);
  const bool exclude_seen = PG_GETARG_BOOL(user_arg + 2);
  const bool fold_in = PG_NARGS() > user_arg + 3 && PG_GETARG_BOOL(user_arg + 3);
  // exact: NULL (auto) and false use a model's approximate index when it has one.
  const bool exact = PG_NARGS() > user_arg + 6 && !PG_ARGISNULL(user_arg + 6) && PG_GETARG_BOOL(user_arg + 6);
  const Model* model = pgrec::pg::load_model(version_id);
  Scored* ranked = static_cast<Scored*>(palloc(sizeof(Scored) * (k + 1)));
  int count = 0;
  // A sequential model always scores the user's current sequence; one without rows now falls
  // back to the sequence it was trained with (a known user) or to popular items.
  if (fold_in || model->kind == pgrec::ModelKind::Sequence) {
    const Given given = current_rows(version_id, model, fcinfo, user_arg);
    if (given.count > 0) {
      const FilterArgs filter = filter_args(fcinfo, user_arg + 4, user_arg + 5, model);
      count = fold_in_ranked(model, &given, k, exclude_seen, &filter, ranked);
      log_user_list(fcinfo, user_arg, version_id, model, ranked, count);
      return to_rows(fcinfo, model, ranked, count, id_type, cxt);
    }
  }
  const FilterArgs filter = filter_args(fcinfo, user_arg + 4, user_arg + 5, model);
  const int32 user = fold_in ? -1 : find_id(fcinfo, user_arg, model, true);
  if (user < 0) notice_popular_fallback(fcinfo, name, user_arg, fold_in);
  PGREC_CXX({
    const pgrec::ItemFilter f = make_filter(&filter);
    const std::int32_t probes = exact ? 0 : pgrec::pg::guc_ann_probes > 0 ? pgrec::pg::guc_ann_probes : model->ivf.probes;
    const std::vector<Scored> top = pgrec::recommend(*model, user, k, exclude_seen, &f, probes);
    count = static_cast<int>(top.size());
    std::memcpy(ranked, top.data(), sizeof(Scored) * top.size());
  });
  log_user_list(fcinfo, user_arg, version_id, model, ranked, count);
  return to_rows(fcinfo, model, ranked, count, id_type, cxt);
}

}  // namespace

// rec.recommend(model, user, k, exclude_seen) and rec.recommend_keys(...)
Datum pgrec_recommend(PG_FUNCTION_ARGS) {
  return ranked_srf(fcinfo, [fcinfo](Oid id_type, MemoryContext cxt) {
    if (PG_ARGISNULL(0) || PG_ARGISNULL(1)) return RankedRows{0, nullptr, nullptr};
    const char* name = text_to_cstring(PG_GETARG_TEXT_PP(0));
    return recommend_rows(fcinfo, name, pgrec::pg::resolve_model(name), 1, id_type, cxt);
  });
}

// rec.recommend(user, k, exclude_seen) with the default model
Datum pgrec_recommend_default(PG_FUNCTION_ARGS) {
  return ranked_srf(fcinfo, [fcinfo](Oid id_type, MemoryContext cxt) {
    if (PG_ARGISNULL(0)) return RankedRows{0, nullptr, nullptr};
    return recommend_rows(fcinfo, nullptr, pgrec::pg::resolve_default_model(), 0, id_type, cxt);
  });
}

// rec.similar_items(model, item, k, candidates, exclude) and rec.similar_items_keys(...)
Datum pgrec_similar_items(PG_FUNCTION_ARGS) {
  return ranked_srf(fcinfo, [fcinfo](Oid id_type, MemoryContext cxt) {
    if (PG_ARGISNULL(0) || PG_ARGISNULL(1)) return RankedRows{0, nullptr, nullptr};
    if (PG_ARGISNULL(2)) ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("k must not be null")));
    const int32 k = PG_GETARG_INT32(2);
    check_k(k);
    const char* name = text_to_cstring(PG_GETARG_TEXT_PP(0));
    const Model* model = pgrec::pg::load_model(pgrec::pg::resolve_model(name));
    const int32 item = find_id(fcinfo, 1, model, false);
    Scored* ranked = static_cast<Scored*>(palloc(sizeof(Scored) * (k + 1)));
    int count = 0;
    if (item >= 0) {
      const FilterArgs filter = filter_args(fcinfo, 3, 4, model);
      PGREC_CXX({
        const pgrec::ItemFilter f = make_filter(&filter);
        const std::vector<Scored> top = pgrec::similar_items(*model, item, k, &f);
        count = static_cast<int>(top.size());
        std::memcpy(ranked, top.data(), sizeof(Scored) * top.size());
      });
    }
    return to_rows(fcinfo, model, ranked, count, id_type, cxt);
  });
}

// rec.recommend_for_items(model, items, ratings, k, exclude_given): fold-in for anyone
Datum pgrec_recommend_for_items(PG_FUNCTION_ARGS) {
  return ranked_srf(fcinfo, [fcinfo](Oid id_type, MemoryContext cxt) {
    RankedRows none{0, nullptr, nullptr};
    if (PG_ARGISNULL(0) || PG_ARGISNULL(1)) return none;
    if (PG_ARGISNULL(3) || PG_ARGISNULL(4))
      ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("k and exclude_given must not be null")));
    const int32 k = PG_GETARG_INT32(3);
    check_k(k);
    const Model* model = pgrec::pg::load_model(pgrec::pg::resolve_model(text_to_cstring(PG_GETARG_TEXT_PP(0))));
    const IdArray items = id_array(fcinfo, 1);
    pgrec::pg::check_id_type(items.elem, model->items, model->item_type.c_str(), "item");
    const int n_items = items.n;
    Datum* rating_values = nullptr;
    bool* rating_nulls = nullptr;
    int n_ratings = 0;
    if (!PG_ARGISNULL(2)) {
      ArrayType* ratings = PG_GETARG_ARRAYTYPE_P(2);
      deconstruct_array(ratings, FLOAT4OID, 4, true, TYPALIGN_INT, &rating_values, &rating_nulls, &n_ratings);
      if (n_ratings != n_items)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("items and ratings must have the same length (%d and %d)", n_items, n_ratings)));
    }
    Given given{0, static_cast<int32*>(palloc(sizeof(int32) * (n_items + 1))),
                static_cast<float*>(palloc(sizeof(float) * (n_items + 1)))};
    FmgrInfo out;
    pgrec::pg::prepare_id_output(items.elem, &out, CurrentMemoryContext);
    for (int j = 0; j < n_items; ++j) {
      if (items.nulls[j] || (rating_values != nullptr && rating_nulls[j])) continue;
      const float value = rating_values != nullptr ? DatumGetFloat4(rating_values[j]) : 1.0f;
      if (!std::isfinite(value))
        ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION), errmsg("ratings[%d] is not a finite number", j + 1)));
      const pgrec::IdRef ref = pgrec::pg::id_from_datum(items.values[j], items.elem, &out);
      int32 index = -1;
      PGREC_CXX(index = model->items.find(ref));
      if (index < 0) continue;  // unknown to the model: ignored
      given.items[given.count] = index;
      given.values[given.count] = value;
      ++given.count;
    }
    Scored* ranked = static_cast<Scored*>(palloc(sizeof(Scored) * (k + 1)));
    int count = 0;
    const FilterArgs filter = filter_args(fcinfo, 5, 6, model);
    if (given.count == 0) {
      ereport(NOTICE, (errmsg("model \"%s\" knows none of the items given: returning its most popular items",
                              text_to_cstring(PG_GETARG_TEXT_PP(0)))));
      PGREC_CXX({
        const pgrec::ItemFilter f = make_filter(&filter);
        const std::vector<Scored> top = pgrec::popular(*model, k, &f);
        count = static_cast<int>(top.size());
        std::memcpy(ranked, top.data(), sizeof(Scored) * top.size());
      });
    } else {
      count = fold_in_ranked(model, &given, k, PG_GETARG_BOOL(4), &filter, ranked);
    }
    return to_rows(fcinfo, model, ranked, count, id_type, cxt);
  });
}

// rec.explain(model, user, item, n) and rec.explain_keys: the user's items behind a score
Datum pgrec_explain(PG_FUNCTION_ARGS) {
  InitMaterializedSRF(fcinfo, 0);
  ReturnSetInfo* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
  if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2)) return (Datum)0;
  if (PG_ARGISNULL(3)) ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("n must not be null")));
  const int32 n = PG_GETARG_INT32(3);
  check_k(n, "n");
  const Model* model = pgrec::pg::load_model(pgrec::pg::resolve_model(text_to_cstring(PG_GETARG_TEXT_PP(0))));
  const int32 user = find_id(fcinfo, 1, model, true);
  const int32 item = find_id(fcinfo, 2, model, false);
  if (user < 0 || item < 0) return (Datum)0;
  Scored* top = static_cast<Scored*>(palloc(sizeof(Scored) * (n + 1)));
  int count = 0;
  double total = 0;
  PGREC_CXX({
    const pgrec::Explanation e = pgrec::explain(*model, user, item, n);
    count = static_cast<int>(e.top.size());
    total = e.total;
    std::memcpy(top, e.top.data(), sizeof(Scored) * e.top.size());
  });
  const RankedRows rows = to_rows(fcinfo, model, top, count, TupleDescAttr(rsinfo->setDesc, 0)->atttypid,
                                  CurrentMemoryContext);
  for (int j = 0; j < count; ++j) {
    Datum values[4] = {rows.ids[j], Float4GetDatum(rows.scores[j]),
                       Float4GetDatum(total != 0 ? static_cast<float>(rows.scores[j] / total) : 0.0f),
                       Int32GetDatum(j + 1)};
    bool nulls[4] = {false, false, false, false};
    tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
  }
  return (Datum)0;
}

// rec.predict(model, user, item) -> real, NULL for an unknown user or item
Datum pgrec_predict(PG_FUNCTION_ARGS) {
  const char* name = text_to_cstring(PG_GETARG_TEXT_PP(0));
  const Model* model = pgrec::pg::load_model(pgrec::pg::resolve_model(name));
  const int32 user = find_id(fcinfo, 1, model, true);
  const int32 item = find_id(fcinfo, 2, model, false);
  if (user < 0 || item < 0) PG_RETURN_NULL();
  float score = 0;
  PGREC_CXX(score = pgrec::predict(*model, user, item));
  PG_RETURN_FLOAT4(score);
}
