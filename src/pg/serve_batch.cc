// rec.recommend_all and rec.recommend_all_keys: the top-k of every user (or of a list of users),
// computed a block of users at a time and streamed out row by row.
#include <string>
#include <vector>

#include "batch.h"

#include "boundary.h"
#include "ids.h"
#include "model_store.h"
#include "module.h"
#include "serve_args.h"

extern "C" {
PG_FUNCTION_INFO_V1(pgrec_recommend_all);
}

namespace {

using pgrec::Scored;
using pgrec::pg::guc_threads;

constexpr std::size_t kUsersPerThreadBlock = 256;

// What one recommend_all call holds between rows (C++ state owned by the SRF's memory context).
struct BatchState {
  std::int64_t version_id = 0;
  std::int32_t k = 10;
  bool exclude_seen = true;
  bool given = false;                 // users came from the call (their ids are echoed back)
  std::vector<std::int32_t> users;    // model indices; -1 - j for the j-th listed id the model lacks
  std::vector<pgrec::IdRef> unknown;  // those ids, to echo back (text points into unknown_text)
  std::vector<std::string> unknown_text;
  std::size_t next_block = 0;         // first user of the next block to compute
  std::vector<std::vector<Scored>> lists;  // the current block's lists
  std::size_t block_first = 0;        // users[] index of lists[0]
  std::size_t user = 0, rank = 0;     // the next row: lists[user][rank]
  pgrec::CancelToken token{&pgrec::pg::interrupt_pending};
};

// Computes the next block of users' lists into the state.
void compute_block(BatchState* s, const pgrec::Model* model) {
  const std::size_t block = kUsersPerThreadBlock * static_cast<std::size_t>(std::max(guc_threads, 1));
  PGREC_CXX({
    const std::size_t end = std::min(s->users.size(), s->next_block + block);
    const std::vector<std::int32_t> slice(s->users.begin() + static_cast<std::ptrdiff_t>(s->next_block),
                                          s->users.begin() + static_cast<std::ptrdiff_t>(end));
    s->lists = pgrec::recommend_many(*model, slice, s->k, s->exclude_seen, guc_threads, s->token);
    s->block_first = s->next_block;
    s->next_block = end;
    s->user = 0;
    s->rank = 0;
  });
}

}  // namespace

// rec.recommend_all(model, k, exclude_seen, users) and rec.recommend_all_keys(...)
//   -> (user_id, item_id, score, rank)
Datum pgrec_recommend_all(PG_FUNCTION_ARGS) {
  using namespace pgrec::pg;
  FuncCallContext* fc;
  if (SRF_IS_FIRSTCALL()) {
    fc = SRF_FIRSTCALL_INIT();
    MemoryContext old = MemoryContextSwitchTo(fc->multi_call_memory_ctx);
    TupleDesc desc;
    if (get_call_result_type(fcinfo, nullptr, &desc) != TYPEFUNC_COMPOSITE)
      elog(ERROR, "pgrec: function returning a row called in a context that cannot accept one");
    fc->tuple_desc = BlessTupleDesc(CreateTupleDescCopy(desc));
    if (PG_ARGISNULL(0)) {
      MemoryContextSwitchTo(old);
      SRF_RETURN_DONE(fc);
    }
    if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
      ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("k and exclude_seen must not be null")));
    const int32 k = PG_GETARG_INT32(1);
    check_k(k);
    const std::int64_t version_id = resolve_model(text_to_cstring(PG_GETARG_TEXT_PP(0)));
    const pgrec::Model* model = load_model(version_id);
    BatchState* s = nullptr;
    PGREC_CXX(s = new BatchState());
    own(s, fc->multi_call_memory_ctx);
    s->version_id = version_id;
    s->k = k;
    s->exclude_seen = PG_GETARG_BOOL(2);
    if (PG_NARGS() > 3 && !PG_ARGISNULL(3)) {
      // The listed users, in order; ids the model does not know get popular items.
      ArrayType* array = PG_GETARG_ARRAYTYPE_P(3);
      const Oid elem = ARR_ELEMTYPE(array);
      int16 len;
      bool byval;
      char align;
      get_typlenbyvalalign(elem, &len, &byval, &align);
      Datum* values;
      bool* nulls;
      int n;
      deconstruct_array(array, elem, len, byval, align, &values, &nulls, &n);
      FmgrInfo output;
      prepare_id_output(elem, &output, CurrentMemoryContext);
      s->given = true;
      PGREC_CXX(s->users.reserve(static_cast<std::size_t>(n)));
      for (int j = 0; j < n; ++j) {
        if (nulls[j]) continue;
        const pgrec::IdRef ref = id_from_datum(values[j], elem, &output);
        PGREC_CXX({
          const std::int32_t index = model->users.find(ref);
          if (index >= 0) {
            s->users.push_back(index);
          } else {
            s->users.push_back(-1 - static_cast<std::int32_t>(s->unknown.size()));
            s->unknown.push_back(ref);
            s->unknown_text.emplace_back(ref.is_text() ? std::string(ref.text, ref.length) : std::string());
          }
        });
      }
    } else {
      PGREC_CXX({
        s->users.resize(model->users.size());
        for (std::size_t u = 0; u < s->users.size(); ++u) s->users[u] = static_cast<std::int32_t>(u);
      });
    }
    fc->user_fctx = s;
    MemoryContextSwitchTo(old);
  }
  fc = SRF_PERCALL_SETUP();
  BatchState* s = static_cast<BatchState*>(fc->user_fctx);
  const pgrec::Model* model = load_model(s->version_id);
  for (;;) {
    while (s->user < s->lists.size() && s->rank >= s->lists[s->user].size()) {
      ++s->user;
      s->rank = 0;
    }
    if (s->user < s->lists.size()) break;
    if (s->next_block >= s->users.size()) SRF_RETURN_DONE(fc);
    CHECK_FOR_INTERRUPTS();
    compute_block(s, model);
  }
  const Scored& row = s->lists[s->user][s->rank];
  const std::int32_t user = s->users[s->block_first + s->user];
  const Oid user_type = TupleDescAttr(fc->tuple_desc, 0)->atttypid;
  const Oid item_type = TupleDescAttr(fc->tuple_desc, 1)->atttypid;
  Datum values[4];
  bool nulls[4] = {false, false, false, false};
  if (user >= 0) {
    values[0] = output_id(model->users, user, user_type, "user", model->user_type.c_str());
  } else {
    // A listed id the model does not know (its rows are the popular items), as it was given.
    const std::size_t j = static_cast<std::size_t>(-1 - user);
    const std::string& text = s->unknown_text[j];
    values[0] = user_type == INT8OID ? Int64GetDatum(s->unknown[j].number)
                                     : PointerGetDatum(cstring_to_text_with_len(text.data(), static_cast<int>(text.size())));
  }
  values[1] = output_id(model->items, row.index, item_type, "item", model->item_type.c_str());
  values[2] = Float4GetDatum(row.score);
  values[3] = Int32GetDatum(static_cast<int32>(s->rank + 1));
  ++s->rank;
  SRF_RETURN_NEXT(fc, HeapTupleGetDatum(heap_form_tuple(fc->tuple_desc, values, nulls)));
}
