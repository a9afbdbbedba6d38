// rec.train_agg: training as an aggregate over any query (transition, combine and serial
// functions for parallel plans; the final function trains), and rec.save_model to store its value.
#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "algorithms.h"
#include "byte_io.h"
#include "interactions.h"
#include "memory_estimate.h"

#include "boundary.h"
#include "ids.h"
#include "model_store.h"
#include "module.h"
#include "source_reader.h"
#include "train_run.h"

extern "C" {
PG_FUNCTION_INFO_V1(pgrec_train_agg_step);
PG_FUNCTION_INFO_V1(pgrec_train_agg_final);
PG_FUNCTION_INFO_V1(pgrec_train_agg_combine);
PG_FUNCTION_INFO_V1(pgrec_train_agg_serialize);
PG_FUNCTION_INFO_V1(pgrec_train_agg_deserialize);
PG_FUNCTION_INFO_V1(pgrec_save_model);
}

namespace {

using pgrec::pg::Owned;

// The aggregate's state: the rows so far and how to train on them.
struct TrainAggState {
  std::string algorithm;
  std::vector<pgrec::Param> params;
  std::string user_type;
  std::string item_type;
  std::int64_t rows_skipped = 0;
  std::unique_ptr<pgrec::InteractionBuilder> builder;
};

// The aggregate reports no progress: it is one expression in someone's query.
class SilentSink : public pgrec::pg::ProgressSink {
 public:
  void report(pgrec::pg::TrainState*, const pgrec::pg::TrainProgress&) override {}
};

// Returns the aggregate memory context, or raises if not called as an aggregate.
MemoryContext aggregate_context(FunctionCallInfo fcinfo) {
  MemoryContext cxt;
  if (!AggCheckCallContext(fcinfo, &cxt))
    ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED), errmsg("rec.train_agg must be called as an aggregate")));
  return cxt;
}

// Creates an empty state owned by the aggregate context.
TrainAggState* new_state(MemoryContext cxt) {
  TrainAggState* state = nullptr;
  PGREC_CXX(state = new TrainAggState());
  pgrec::pg::own(state, cxt);
  return state;
}

// Writes a state as bytes (for parallel aggregation).
std::string state_bytes(const TrainAggState& s) {
  pgrec::ByteWriter w;
  w.put_string(s.algorithm);
  w.put<std::uint64_t>(s.params.size());
  for (const auto& p : s.params) {
    w.put_string(p.key);
    w.put<std::uint8_t>(static_cast<std::uint8_t>(p.type));
    w.put_string(p.text);
    w.put<double>(p.number);
    w.put<std::uint8_t>(p.boolean ? 1 : 0);
  }
  w.put_string(s.user_type);
  w.put_string(s.item_type);
  w.put<std::int64_t>(s.rows_skipped);
  w.put_string(s.builder ? s.builder->serialize() : std::string());
  return std::move(w.bytes());
}

// Reads a state written by state_bytes.
void read_state(TrainAggState* s, const char* data, std::size_t size) {
  pgrec::ByteReader r(data, size);
  s->algorithm = r.get_string();
  const auto n = r.get<std::uint64_t>();
  for (std::uint64_t k = 0; k < n; ++k) {
    pgrec::Param p;
    p.key = r.get_string();
    p.type = static_cast<pgrec::ParamType>(r.get<std::uint8_t>());
    p.text = r.get_string();
    p.number = r.get<double>();
    p.boolean = r.get<std::uint8_t>() != 0;
    s->params.push_back(std::move(p));
  }
  s->user_type = r.get_string();
  s->item_type = r.get_string();
  s->rows_skipped = r.get<std::int64_t>();
  const std::string rows = r.get_string();
  if (!rows.empty())
    s->builder = std::make_unique<pgrec::InteractionBuilder>(pgrec::InteractionBuilder::deserialize(rows.data(), rows.size()));
}

}  // namespace

// rec.train_agg(algorithm, user, item [, rating] [, params]) transition
Datum pgrec_train_agg_step(PG_FUNCTION_ARGS) {
  using namespace pgrec::pg;
  MemoryContext cxt = aggregate_context(fcinfo);
  TrainAggState* state = PG_ARGISNULL(0) ? nullptr : reinterpret_cast<TrainAggState*>(PG_GETARG_POINTER(0));
  const int nargs = PG_NARGS();
  int rating_arg = -1, params_arg = -1;
  for (int a = 4; a < nargs; ++a) {
    const Oid t = get_fn_expr_argtype(fcinfo->flinfo, a);
    if (t == JSONBOID) params_arg = a; else rating_arg = a;
  }
  if (state == nullptr) {
    if (PG_ARGISNULL(1))
      ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("algorithm must not be null")));
    const char* algorithm = text_to_cstring(PG_GETARG_TEXT_PP(1));
    check_algorithm(algorithm);
    const Oid user_type = get_fn_expr_argtype(fcinfo->flinfo, 2);
    const Oid item_type = get_fn_expr_argtype(fcinfo->flinfo, 3);
    const char* user_type_name = format_type_be(user_type);
    const char* item_type_name = format_type_be(item_type);
    state = new_state(cxt);
    if (params_arg >= 0 && !PG_ARGISNULL(params_arg)) {
      SPI_connect();
      read_params(PG_GETARG_JSONB_P(params_arg), &state->params);
      SPI_finish();
    }
    const bool has_rating = rating_arg >= 0;
    PGREC_CXX({
      state->algorithm = algorithm;
      state->user_type = user_type_name;
      state->item_type = item_type_name;
      if (pgrec::is_neural_algorithm(state->algorithm))
        throw pgrec::Error(pgrec::ErrorKind::NotSupported,
                           "rec.train_agg trains the Eigen families only; " + state->algorithm +
                               " trains with LibTorch through rec.train or rec.train_async");
      pgrec::parse_algorithm(state->algorithm, state->params, has_rating);  // fail on the first row
      state->builder = std::make_unique<pgrec::InteractionBuilder>(
          is_integer_id_type(user_type) ? pgrec::IdKind::Int : pgrec::IdKind::Text,
          is_integer_id_type(item_type) ? pgrec::IdKind::Int : pgrec::IdKind::Text, has_rating);
    });
  }
  if (PG_ARGISNULL(2) || PG_ARGISNULL(3) || (rating_arg >= 0 && PG_ARGISNULL(rating_arg))) {
    ++state->rows_skipped;
    PG_RETURN_POINTER(state);
  }
  float value = 1.0f;
  if (rating_arg >= 0) {
    const double rating = PG_GETARG_FLOAT8(rating_arg);
    if (!std::isfinite(static_cast<float>(rating)))
      ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION), errmsg("rating has a non-finite value in rec.train_agg")));
    value = static_cast<float>(rating);
  }
  MemoryContext old = MemoryContextSwitchTo(CurrentMemoryContext);
  const pgrec::IdRef user = id_from_datum(PG_GETARG_DATUM(2), get_fn_expr_argtype(fcinfo->flinfo, 2), nullptr);
  const pgrec::IdRef item = id_from_datum(PG_GETARG_DATUM(3), get_fn_expr_argtype(fcinfo->flinfo, 3), nullptr);
  MemoryContextSwitchTo(old);
  PGREC_CXX(state->builder->add(user, item, value));
  PG_RETURN_POINTER(state);
}

// combine: merges the rows of two partial states
Datum pgrec_train_agg_combine(PG_FUNCTION_ARGS) {
  MemoryContext cxt = aggregate_context(fcinfo);
  TrainAggState* a = PG_ARGISNULL(0) ? nullptr : reinterpret_cast<TrainAggState*>(PG_GETARG_POINTER(0));
  TrainAggState* b = PG_ARGISNULL(1) ? nullptr : reinterpret_cast<TrainAggState*>(PG_GETARG_POINTER(1));
  if (b == nullptr) {
    if (a == nullptr) PG_RETURN_NULL();
    PG_RETURN_POINTER(a);
  }
  if (a == nullptr) {
    a = new_state(cxt);
    PGREC_CXX({
      a->algorithm = b->algorithm;
      a->params = b->params;
      a->user_type = b->user_type;
      a->item_type = b->item_type;
    });
  }
  PGREC_CXX({
    a->rows_skipped += b->rows_skipped;
    if (!a->builder) {
      a->builder = std::move(b->builder);
    } else if (b->builder) {
      a->builder->merge(std::move(*b->builder));
    }
  });
  PG_RETURN_POINTER(a);
}

// serialize: state -> bytea
Datum pgrec_train_agg_serialize(PG_FUNCTION_ARGS) {
  aggregate_context(fcinfo);
  const TrainAggState* state = reinterpret_cast<TrainAggState*>(PG_GETARG_POINTER(0));
  std::string* bytes = nullptr;
  PGREC_CXX(bytes = new std::string(state_bytes(*state)));
  Owned<std::string>* owner = pgrec::pg::own(bytes, CurrentMemoryContext);
  bytea* out = static_cast<bytea*>(palloc(bytes->size() + VARHDRSZ));
  SET_VARSIZE(out, bytes->size() + VARHDRSZ);
  memcpy(VARDATA(out), bytes->data(), bytes->size());
  pgrec::pg::release(owner);
  PG_RETURN_BYTEA_P(out);
}

// deserialize: bytea -> state
Datum pgrec_train_agg_deserialize(PG_FUNCTION_ARGS) {
  MemoryContext cxt = aggregate_context(fcinfo);
  bytea* in = PG_GETARG_BYTEA_PP(0);
  TrainAggState* state = new_state(cxt);
  PGREC_CXX(read_state(state, VARDATA_ANY(in), VARSIZE_ANY_EXHDR(in)));
  PG_RETURN_POINTER(state);
}

// final: trains on the collected rows and returns the model as bytea
Datum pgrec_train_agg_final(PG_FUNCTION_ARGS) {
  using namespace pgrec::pg;
  aggregate_context(fcinfo);
  if (PG_ARGISNULL(0))
    ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION), errmsg("no interactions: rec.train_agg saw no rows")));
  TrainAggState* state = reinterpret_cast<TrainAggState*>(PG_GETARG_POINTER(0));
  if (!state->builder)
    ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION), errmsg("no interactions: rec.train_agg saw no rows")));
  TrainState* train = nullptr;
  PGREC_CXX(train = new TrainState());
  Owned<TrainState>* owner = own(train, CurrentMemoryContext);
  const std::uint64_t limit = training_memory_limit();
  PGREC_CXX({
    train->config = pgrec::parse_algorithm(state->algorithm, state->params, state->builder->explicit_ratings());
    pgrec::Interactions data = state->builder->build();
    pgrec::fit_defaults_to_data(&train->config, data);
    pgrec::TrainingShape shape{data.by_user.rows, data.by_item.rows, data.by_user.nnz(), guc_threads};
    shape.longest_user = pgrec::longest_row(data.by_user);
    pgrec::require_training_memory(train->config, shape, limit);
    train->trainer = pgrec::make_trainer(train->config, std::move(data), guc_threads);
  });
  SilentSink silent;
  train_iterate(train, &silent);
  PGREC_CXX({
    pgrec::Model model = train->trainer->finish(state->user_type, state->item_type);
    train->trainer.reset();
    model.params_json = train->config.params_json;
    pgrec::check_finite(model);
    train->bytes = pgrec::serialize_model(model);
  });
  const std::string& bytes = train->bytes;
  bytea* out = static_cast<bytea*>(palloc(bytes.size() + VARHDRSZ));
  SET_VARSIZE(out, bytes.size() + VARHDRSZ);
  memcpy(VARDATA(out), bytes.data(), bytes.size());
  release(owner);
  PG_RETURN_BYTEA_P(out);
}

// rec.save_model(name, model bytea) -> version: stores and deploys a model value
Datum pgrec_save_model(PG_FUNCTION_ARGS) {
  using namespace pgrec::pg;
  if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("name and model must not be null")));
  const char* name = text_to_cstring(PG_GETARG_TEXT_PP(0));
  if (name[0] == '\0' || strlen(name) > 200)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("model name must have 1 to 200 characters")));
  bytea* in = PG_GETARG_BYTEA_PP(1);
  std::string* bytes = nullptr;
  pgrec::Model* model = nullptr;
  PGREC_CXX({
    bytes = new std::string(VARDATA_ANY(in), VARSIZE_ANY_EXHDR(in));
    model = new pgrec::Model(pgrec::deserialize_model(bytes->data(), bytes->size()));
  });
  Owned<std::string>* bytes_owner = own(bytes, CurrentMemoryContext);
  Owned<pgrec::Model>* model_owner = own(model, CurrentMemoryContext);
  SPI_connect();
  const std::int32_t version =
      save_built_model(name, model, bytes, "(rec.train_agg)", "(aggregate)", "(aggregate)", nullptr, 0);
  SPI_finish();
  release(model_owner);
  release(bytes_owner);
  PG_RETURN_INT32(version);
}
