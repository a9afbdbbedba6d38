// Warm starts from the serving version and the champion/challenger gate.
#include "lifecycle.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>

#include "json_out.h"
#include "metrics.h"

#include "boundary.h"
#include "model_store.h"
#include "module.h"

namespace pgrec::pg {

namespace {

// Held-out rows mapped onto the challenger and the champion; rows the champion trained on are
// left out of both, so that neither is scored on what it learnt from.
struct GateRows : RowSink {
  const Model* challenger = nullptr;
  const Model* champion = nullptr;  // null on a first version
  std::unique_ptr<IdMap> test_users;
  std::vector<TestRow> for_challenger;
  std::vector<TestRow> for_champion;
  std::int64_t read = 0;
  std::int64_t known_to_champion = 0;

  // Numbers the held-out users in their own id kind.
  void start(IdKind user_kind, IdKind, bool) override { test_users = std::make_unique<IdMap>(user_kind); }
  // Maps one held-out row onto both models, unless the champion trained on it.
  void add(const IdRef& user, const IdRef& item, float value) override {
    ++read;
    const std::int32_t cu = champion != nullptr ? champion->users.find(user) : -1;
    const std::int32_t ci = champion != nullptr ? champion->items.find(item) : -1;
    if (champion != nullptr && trained_on(*champion, cu, ci)) {
      ++known_to_champion;
      return;
    }
    const std::int32_t group = test_users->intern(user);
    for_challenger.push_back({group, challenger->users.find(user), challenger->items.find(item), value});
    if (champion != nullptr) for_champion.push_back({group, cu, ci, value});
  }
};

// The value of `key` in an evaluation's list (NaN when absent).
double metric_value(const MetricList& list, const std::string& key) {
  for (const auto& m : list)
    if (m.first == key) return m.second;
  return std::nan("");
}

// Runs a statement with text arguments, raising on failure; returns SPI_processed.
uint64 run_sql(const char* sql, int n, const char* const* args, bool read_only) {
  Oid types[8];
  Datum values[8];
  char nulls[8];
  for (int i = 0; i < n; ++i) {
    types[i] = TEXTOID;
    values[i] = args[i] != nullptr ? CStringGetTextDatum(args[i]) : (Datum)0;
    nulls[i] = args[i] != nullptr ? ' ' : 'n';
  }
  if (SPI_execute_with_args(sql, n, types, values, nulls, read_only, 0) < 0)
    elog(ERROR, "pgrec: could not run \"%s\"", sql);
  return SPI_processed;
}

}  // namespace

std::int64_t serving_version_id(const char* model) {
  const char* args[1] = {model};
  if (run_sql("SELECT version_id FROM rec.deployments WHERE model OPERATOR(pg_catalog.=) $1 ORDER BY id DESC LIMIT 1",
              1, args, true) == 0)
    return 0;
  bool isnull;
  return DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

void take_lifecycle_params(TrainState* state, bool has_ratings) {
  std::vector<Param>& params = state->params;
  for (std::size_t p = 0; p < params.size();) {
    const Param& param = params[p];
    if (param.key == "warm_start") {
      if (param.type != ParamType::Bool)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("warm_start must be true or false")));
      state->warm_start = param.boolean;
    } else if (param.key == "gate") {
      if (param.type == ParamType::Other && param.text.size() > 0 && param.text[0] == '{') {
        read_params(DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(param.text.c_str()))),
                    &state->gate_params);
        PGREC_CXX(state->gate = parse_gate(state->gate_params, has_ratings));
        state->gated = true;
      } else if (param.type != ParamType::Null) {
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("gate must be a JSON object, like '{\"metric\": \"ndcg\", \"tolerance\": 0.01}'")));
      }
    } else {
      ++p;
      continue;
    }
    PGREC_CXX(params.erase(params.begin() + static_cast<std::ptrdiff_t>(p)));
  }
}

const char* gate_training_source(TrainState* state, const SourceSpec* spec) {
  if (!state->gated) return spec->source;
  const GateParams& g = state->gate;
  const char* source = qualified_source(spec->source);
  const char* time_col = g.time_col.empty() ? nullptr : g.time_col.c_str();
  const char* fraction = psprintf("%.17g", g.test_fraction);
  const char* seed = psprintf("%d", g.seed);
  const char* args[7] = {source, spec->user_col, spec->item_col, time_col != nullptr ? "temporal" : "per_user",
                         fraction, seed, time_col};
  const int nest = use_search_path(spec->search_path);
  run_sql("SELECT rec.split_query($1, $2, $3, $4, $5::pg_catalog.float8, $6::pg_catalog.int4, $7)", 7, args, true);
  const char* split = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
  if (nest >= 0) AtEOXact_GUC(true, nest);
  const char* held_out = psprintf("SELECT (q.pgrec_row).* FROM (%s) q WHERE q.pgrec_is_test", split);
  PGREC_CXX(state->held_out_query = held_out);  // kept by the state: a job reads it in a later transaction
  return psprintf("SELECT (q.pgrec_row).* FROM (%s) q WHERE NOT q.pgrec_is_test", split);
}

void apply_warm_start(TrainState* state) {
  if (!state->warm_start) return;
  if (state->model_name == nullptr)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("warm_start needs a model to start from")));
  state->warm_from = serving_version_id(state->model_name);
  if (state->warm_from == 0) return;  // the first version starts cold
  // Its own context: the previous version (training weights included) is freed once copied.
  MemoryContext warm_cxt = AllocSetContextCreate(CurrentMemoryContext, "pgrec warm start", ALLOCSET_SMALL_SIZES);
  const Model* previous = load_model_for_warm_start(state->warm_from, warm_cxt);
  if (previous->user_type != state->user_type || previous->item_type != state->item_type)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("warm_start needs the same id types as the serving version (%s, %s), not %s, %s",
                           previous->user_type.c_str(), previous->item_type.c_str(), state->user_type.c_str(),
                           state->item_type.c_str())));
  CxxError err;
  if (!cxx_try(&err, [&] { state->warm = state->trainer->warm_start(*previous); })) {
    if (err.sqlstate == ERRCODE_FEATURE_NOT_SUPPORTED) {
      char warm[512] = "";
      PGREC_CXX(std::snprintf(warm, sizeof warm, "%s", pgrec::algorithm_list(true).c_str()));
      ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                      errmsg("%s has no warm start: it trains from scratch each time (train without warm_start)",
                             state->config.algorithm.c_str()),
                      errhint("Warm starts: %s.", warm)));
    }
    raise_cxx_error(&err);
  }
  MemoryContextDelete(warm_cxt);
}

void gate_decide(TrainState* state, std::int64_t version_id, const SourceSpec* spec, std::int64_t rows_trained) {
  const GateParams& g = state->gate;
  const std::int64_t champion_id = serving_version_id(state->model_name);
  // The new version's rows, written by this command, become visible to the lookups that follow.
  CommandCounterIncrement();
  PushActiveSnapshot(GetTransactionSnapshot());
  GateRows* rows = nullptr;
  PGREC_CXX(rows = new GateRows());
  Owned<GateRows>* owner = own(rows, CurrentMemoryContext);
  rows->challenger = load_model(version_id);
  if (champion_id != 0) rows->champion = load_model(champion_id);
  SourceSpec held_out = *spec;
  held_out.source = pstrdup(state->held_out_query.c_str());
  SourceStats stats;
  read_source(&held_out, rows, &stats);
  EvalOptions options;
  options.k = g.k;
  options.has_ratings = spec->rating_col != nullptr;
  options.threads = guc_threads;
  double challenger = std::nan(""), champion = std::nan("");
  char key[32];
  PGREC_CXX(snprintf(key, sizeof key, "%s", g.metric_key().c_str()));
  PGREC_CXX({
    if (!rows->for_challenger.empty()) {
      const std::string k = key;
      challenger = metric_value(evaluate(*rows->challenger, rows->for_challenger, options, state->token), k);
      if (rows->champion != nullptr)
        champion = metric_value(evaluate(*rows->champion, rows->for_champion, options, state->token), k);
    }
  });
  CHECK_FOR_INTERRUPTS();
  const char* reason;
  bool deploy;
  if (champion_id == 0) {
    deploy = true;
    reason = "no version served: the first one is deployed";
  } else if (rows->for_challenger.empty()) {
    deploy = false;
    reason = "no held-out rows are new to the serving version: nothing to compare on, it keeps serving";
  } else if (std::isnan(challenger) || std::isnan(champion)) {
    deploy = false;
    reason = "the metric could not be computed on the held-out rows: the serving version keeps serving";
  } else {
    deploy = gate_passes(g, challenger, champion);
    reason = deploy ? "not worse than the serving version by more than the tolerance"
                    : "worse than the serving version by more than the tolerance";
  }
  int32 champion_version = 0;
  if (champion_id != 0) {
    const char* args[1] = {psprintf("%lld", static_cast<long long>(champion_id))};
    if (run_sql("SELECT version FROM rec.model_versions WHERE id OPERATOR(pg_catalog.=) $1::pg_catalog.int8", 1, args, true) == 1) {
      bool isnull;
      champion_version = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
    }
  }
  PGREC_CXX({
    JsonOut out;
    out << "{\"params\": " << g.to_json() << ", \"metric\": \"" << key << "\", \"challenger\": ";
    if (std::isnan(challenger)) out << "null"; else out << challenger;
    out << ", \"champion\": ";
    if (std::isnan(champion)) out << "null"; else out << champion;
    out << ", \"champion_version\": ";
    if (champion_version > 0) out << champion_version; else out << "null";
    out << ", \"held_out_rows\": " << rows->for_challenger.size() << ", \"held_out_known_to_champion\": "
        << rows->known_to_champion << ", \"source_rows\": " << rows_trained + stats.rows_read
        << ", \"deployed\": " << (deploy ? "true" : "false") << ", \"reason\": " << json_string(reason) << "}";
    state->gate_json = out.str();
  });
  release(owner);
  PopActiveSnapshot();
  const char* args[2] = {psprintf("%lld", static_cast<long long>(version_id)), state->gate_json.c_str()};
  run_sql("UPDATE rec.model_versions SET metrics = metrics OPERATOR(pg_catalog.||) "
          "pg_catalog.jsonb_build_object('gate', $2::pg_catalog.jsonb) WHERE id OPERATOR(pg_catalog.=) $1::pg_catalog.int8",
          2, args, false);
  if (deploy) {
    const char* deployment[2] = {state->model_name, args[0]};
    run_sql("INSERT INTO rec.deployments (model, version_id) VALUES ($1, $2::pg_catalog.int8)", 2, deployment, false);
  }
  if (deploy && champion_id == 0)
    ereport(NOTICE, (errmsg("gate: %s", reason)));
  else if (deploy)
    ereport(NOTICE, (errmsg("gate: deployed: %s %.4f against %.4f for version %d", key, challenger, champion,
                            champion_version)));
  else
    ereport(NOTICE, (errmsg("gate: not deployed: %s", reason),
                     std::isnan(champion) ? 0 : errdetail("%s %.4f against %.4f for version %d (tolerance %g).", key,
                                                          challenger, champion, champion_version, g.tolerance)));
}

}  // namespace pgrec::pg
