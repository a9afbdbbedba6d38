// rec._evaluate: score a model version against a held-out source (the SQL wrapper rec.evaluate
// fills in defaults and stores the result with the version).
#include <memory>
#include <vector>

#include "metrics.h"
#include "row_sink.h"

#include "boundary.h"
#include "model_store.h"
#include "module.h"
#include "source_reader.h"

extern "C" {
PG_FUNCTION_INFO_V1(pgrec_evaluate);
}

namespace {

// Collects test rows mapped onto a model's users and items.
struct EvalState : pgrec::pg::RowSink {
  const pgrec::Model* model = nullptr;
  std::unique_ptr<pgrec::IdMap> test_users;
  std::vector<pgrec::TestRow> rows;
  pgrec::MetricList result;
  pgrec::CancelToken token{&pgrec::pg::interrupt_pending};

  // Numbers the test's users in their own id kind.
  void start(pgrec::IdKind user_kind, pgrec::IdKind, bool) override {
    test_users = std::make_unique<pgrec::IdMap>(user_kind);
  }
  // Maps one test row onto the model.
  void add(const pgrec::IdRef& user, const pgrec::IdRef& item, float value) override {
    rows.push_back({test_users->intern(user), model->users.find(user), model->items.find(item), value});
  }
};

// Raises 22023 unless lo <= v <= hi.
void check_range(const char* name, int64 v, int64 lo, int64 hi) {
  if (v < lo || v > hi)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("%s must be between %lld and %lld, not %lld", name, static_cast<long long>(lo),
                           static_cast<long long>(hi), static_cast<long long>(v))));
}

}  // namespace

// rec._evaluate(version_id, test_source, user_col, item_col, rating_col, k, exclude_seen,
//               sampled_negatives, seed, search_path) -> (metric, value)
Datum pgrec_evaluate(PG_FUNCTION_ARGS) {
  using namespace pgrec::pg;
  for (int a : {0, 1, 2, 3, 5, 6, 7, 8})
    if (PG_ARGISNULL(a))
      ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("arguments of rec.evaluate must not be null")));
  pgrec::EvalOptions options;
  const int64 version_id = PG_GETARG_INT64(0);
  SourceSpec spec;
  spec.source = text_to_cstring(PG_GETARG_TEXT_PP(1));
  spec.user_col = text_to_cstring(PG_GETARG_TEXT_PP(2));
  spec.item_col = text_to_cstring(PG_GETARG_TEXT_PP(3));
  spec.rating_col = PG_ARGISNULL(4) ? nullptr : text_to_cstring(PG_GETARG_TEXT_PP(4));
  if (PG_NARGS() > 9 && !PG_ARGISNULL(9)) spec.search_path = text_to_cstring(PG_GETARG_TEXT_PP(9));
  check_range("k", PG_GETARG_INT32(5), 1, 100000);
  check_range("sampled_negatives", PG_GETARG_INT32(7), 0, 100000);
  options.k = PG_GETARG_INT32(5);
  options.exclude_seen = PG_GETARG_BOOL(6);
  options.sampled_negatives = PG_GETARG_INT32(7);
  options.seed = static_cast<std::uint64_t>(PG_GETARG_INT64(8));
  options.has_ratings = spec.rating_col != nullptr;
  options.threads = guc_threads;

  InitMaterializedSRF(fcinfo, 0);
  ReturnSetInfo* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);

  EvalState* state = nullptr;
  PGREC_CXX(state = new EvalState());
  MemoryContext call_cxt = CurrentMemoryContext;
  Owned<EvalState>* owner = own(state, call_cxt);
  // Pinned for the whole call: the test source's SQL may load (and evict) other models.
  state->model = load_model(version_id, call_cxt);
  SPI_connect();
  SourceStats stats;
  read_source(&spec, state, &stats);
  SPI_finish();
  PGREC_CXX(state->result = pgrec::evaluate(*state->model, state->rows, options, state->token));
  CHECK_FOR_INTERRUPTS();

  for (const auto& metric : state->result) {
    Datum values[2] = {CStringGetTextDatum(metric.first.c_str()), Float8GetDatum(metric.second)};
    bool nulls[2] = {false, false};
    tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
  }
  release(owner);
  return (Datum)0;
}
