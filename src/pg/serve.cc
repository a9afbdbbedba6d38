// Serving: rec.recommend, rec.recommend_keys, rec.predict, rec.similar_items(_keys).
#include <cstring>
#include <vector>

#include "boundary.h"
#include "ids.h"
#include "model_store.h"
#include "ranking.h"

extern "C" {
PG_FUNCTION_INFO_V1(pgrec_recommend);
PG_FUNCTION_INFO_V1(pgrec_recommend_default);
PG_FUNCTION_INFO_V1(pgrec_predict);
PG_FUNCTION_INFO_V1(pgrec_similar_items);
}

namespace {

using pgrec::Model;
using pgrec::Scored;

constexpr int kMaxK = 100000;

// The rows of one ranked answer, ready to be returned one per call.
struct RankedRows {
  int count;
  Datum* ids;
  float* scores;
};

// Raises 22023 unless 1 <= k <= kMaxK.
void check_k(int32 k) {
  if (k < 1 || k > kMaxK)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("k must be between 1 and %d, not %d", kMaxK, k)));
}

// Looks an id argument up in an id map; -1 when the model does not know it.
int32 find_id(FunctionCallInfo fcinfo, int arg, const pgrec::IdMap& ids) {
  const Oid type = get_fn_expr_argtype(fcinfo->flinfo, arg);
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
    if (id_type == INT8OID) {
      if (!pgrec::pg::id_as_int8(model->items, ranked[j].index, &rows.ids[j]))
        ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH),
                        errmsg("this model's item ids are %s, not integers", model->item_type.c_str()),
                        errhint("Use the _keys variant of the function, which returns ids as text.")));
    } else {
      rows.ids[j] = pgrec::pg::id_as_text(model->items, ranked[j].index);
    }
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

// Computes a recommend answer for a model version and a user argument.
RankedRows recommend_rows(FunctionCallInfo fcinfo, int64 version_id, int user_arg, int32 k,
                          bool exclude_seen, Oid id_type, MemoryContext cxt) {
  const Model* model = pgrec::pg::load_model(version_id);
  const int32 user = find_id(fcinfo, user_arg, model->users);
  Scored* ranked = static_cast<Scored*>(palloc(sizeof(Scored) * (k + 1)));
  int count = 0;
  PGREC_CXX({
    const std::vector<Scored> top = pgrec::recommend(*model, user, k, exclude_seen);
    count = static_cast<int>(top.size());
    std::memcpy(ranked, top.data(), sizeof(Scored) * top.size());
  });
  return to_rows(fcinfo, model, ranked, count, id_type, cxt);
}

}  // namespace

// rec.recommend(model, user, k, exclude_seen) and rec.recommend_keys(...)
Datum pgrec_recommend(PG_FUNCTION_ARGS) {
  return ranked_srf(fcinfo, [fcinfo](Oid id_type, MemoryContext cxt) {
    const int32 k = PG_GETARG_INT32(2);
    check_k(k);
    const char* name = text_to_cstring(PG_GETARG_TEXT_PP(0));
    const int64 version = pgrec::pg::resolve_model(name);
    return recommend_rows(fcinfo, version, 1, k, PG_GETARG_BOOL(3), id_type, cxt);
  });
}

// rec.recommend(user, k, exclude_seen) with the default model
Datum pgrec_recommend_default(PG_FUNCTION_ARGS) {
  return ranked_srf(fcinfo, [fcinfo](Oid id_type, MemoryContext cxt) {
    const int32 k = PG_GETARG_INT32(1);
    check_k(k);
    const int64 version = pgrec::pg::resolve_default_model();
    return recommend_rows(fcinfo, version, 0, k, PG_GETARG_BOOL(2), id_type, cxt);
  });
}

// rec.similar_items(model, item, k) and rec.similar_items_keys(...)
Datum pgrec_similar_items(PG_FUNCTION_ARGS) {
  return ranked_srf(fcinfo, [fcinfo](Oid id_type, MemoryContext cxt) {
    const int32 k = PG_GETARG_INT32(2);
    check_k(k);
    const char* name = text_to_cstring(PG_GETARG_TEXT_PP(0));
    const Model* model = pgrec::pg::load_model(pgrec::pg::resolve_model(name));
    const int32 item = find_id(fcinfo, 1, model->items);
    Scored* ranked = static_cast<Scored*>(palloc(sizeof(Scored) * (k + 1)));
    int count = 0;
    if (item >= 0) {
      PGREC_CXX({
        const std::vector<Scored> top = pgrec::similar_items(*model, item, k);
        count = static_cast<int>(top.size());
        std::memcpy(ranked, top.data(), sizeof(Scored) * top.size());
      });
    }
    return to_rows(fcinfo, model, ranked, count, id_type, cxt);
  });
}

// rec.predict(model, user, item) -> real, NULL for an unknown user or item
Datum pgrec_predict(PG_FUNCTION_ARGS) {
  const char* name = text_to_cstring(PG_GETARG_TEXT_PP(0));
  const Model* model = pgrec::pg::load_model(pgrec::pg::resolve_model(name));
  const int32 user = find_id(fcinfo, 1, model->users);
  const int32 item = find_id(fcinfo, 2, model->items);
  if (user < 0 || item < 0) PG_RETURN_NULL();
  float score = 0;
  PGREC_CXX(score = pgrec::predict(*model, user, item));
  PG_RETURN_FLOAT4(score);
}
