// rec.train: read the source, train, store and deploy a new model version, in one transaction.
#include <cstring>
#include <memory>

#include "boundary.h"
#include "model_store.h"
#include "module.h"
#include "source_reader.h"
#include "train_state.h"

extern "C" {
PG_FUNCTION_INFO_V1(pgrec_train);
}

namespace {

constexpr int kMaxModelName = 200;

// Returns a required text argument as a C string, or raises 22023 naming it.
char* required_text(FunctionCallInfo fcinfo, int arg, const char* name) {
  if (PG_ARGISNULL(arg))
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("%s must not be null", name)));
  char* s = text_to_cstring(PG_GETARG_TEXT_PP(arg));
  if (s[0] == '\0')
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("%s must not be empty", name)));
  return s;
}

// Seconds on a monotonic clock.
double now_seconds() {
  instr_time t;
  INSTR_TIME_SET_CURRENT(t);
  return INSTR_TIME_GET_DOUBLE(t);
}

}  // namespace

// rec.train(model, source, user_col, item_col, rating_col, algorithm, params) -> version
Datum pgrec_train(PG_FUNCTION_ARGS) {
  using namespace pgrec;
  using namespace pgrec::pg;
  const char* model = required_text(fcinfo, 0, "model");
  if (strlen(model) > kMaxModelName)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("model name is longer than %d characters", kMaxModelName)));
  SourceSpec spec;
  spec.source = required_text(fcinfo, 1, "source");
  spec.user_col = required_text(fcinfo, 2, "user_col");
  spec.item_col = required_text(fcinfo, 3, "item_col");
  spec.rating_col = PG_ARGISNULL(4) ? nullptr : required_text(fcinfo, 4, "rating_col");
  const char* algorithm = required_text(fcinfo, 5, "algorithm");
  if (strcmp(algorithm, "als") != 0)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("unknown algorithm \"%s\"", algorithm),
                    errhint("Available algorithms: als.")));
  Jsonb* params = PG_ARGISNULL(6) ? nullptr : PG_GETARG_JSONB_P(6);
  const double started = now_seconds();

  TrainState* state = nullptr;
  PGREC_CXX(state = new TrainState());
  Owned<TrainState>* owner = own(state, CurrentMemoryContext);

  SPI_connect();
  if (params != nullptr) read_params(params, algorithm, state);
  PGREC_CXX({
    state->als = AlsParams::parse(state->params, spec.rating_col != nullptr);
    state->params_json = state->als.to_json();
  });

  SourceStats stats;
  read_source(&spec, state, &stats);
  std::int32_t n_users = 0, n_items = 0;
  std::int64_t nnz = 0;
  PGREC_CXX({
    Interactions data = state->builder->build();
    state->builder.reset();
    n_users = data.by_user.rows;
    n_items = data.by_item.rows;
    nnz = data.by_user.nnz();
    state->trainer = std::make_unique<AlsTrainer>(std::move(data), state->als, guc_threads);
  });

  for (int it = 0; it < state->als.iterations; ++it) {
    PGREC_CXX(state->trainer->step(state->token));
    CHECK_FOR_INTERRUPTS();
    ereport(DEBUG1, (errmsg("pgrec: model \"%s\" iteration %d/%d (%.2f s)", model, it + 1,
                            state->als.iterations, now_seconds() - started)));
  }
  const char* user_type = format_type_be(stats.user_type);
  const char* item_type = format_type_be(stats.item_type);
  PGREC_CXX({
    state->model = std::make_unique<Model>(state->trainer->finish(user_type, item_type));
    state->trainer.reset();
    state->bytes = serialize_model(*state->model);
  });

  SaveRequest save;
  save.model = model;
  save.algorithm = algorithm;
  save.params_json = state->params_json.c_str();
  save.source = spec.source;
  save.user_col = spec.user_col;
  save.item_col = spec.item_col;
  save.rating_col = spec.rating_col;
  save.user_type = user_type;
  save.item_type = item_type;
  save.n_users = n_users;
  save.n_items = n_items;
  save.n_interactions = nnz;
  save.rows_read = stats.rows_read;
  save.rows_skipped = stats.rows_skipped;
  save.train_seconds = now_seconds() - started;
  save.bytes = &state->bytes;
  const std::int32_t version = save_model(&save);
  SPI_finish();
  release(owner);
  PG_RETURN_INT32(version);
}
