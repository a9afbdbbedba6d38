// rec.train: read the source, train, store and deploy a new model version, in one transaction;
// and the training phases the background worker shares.
#include <cmath>
#include <cstring>
#include <memory>

#include "json_out.h"
#include "train_run.h"

#include "ivf.h"
#include "memory_estimate.h"

#include "boundary.h"
#include "feature_reader.h"
#include "distributed.h"
#include "lifecycle.h"
#include "model_store.h"
#include "module.h"
#include "torch_module.h"

extern "C" {
PG_FUNCTION_INFO_V1(pgrec_train);
}

namespace pgrec::pg {

namespace {

// Rethrows an allocation failure as 53200 saying roughly how much training needs.
[[noreturn]] void out_of_memory(const TrainState* state) {
  const pgrec::AlgorithmSpec* spec = pgrec::find_algorithm(state->config.algorithm);
  const double factors = spec != nullptr ? spec->width(state->config) : 1;
  const double model_mb = (state->n_users + static_cast<double>(state->n_items)) * factors * 4 / 1048576.0;
  const double data_mb = static_cast<double>(state->n_interactions) * 24 / 1048576.0;
  char message[256];
  snprintf(message, sizeof message,
           "out of memory while training: %d users x %d items need about %.0f MB for the model and %.0f MB "
           "for the interactions (more on a GPU, which also gathers factors per interaction)",
           state->n_users, state->n_items, model_mb, data_mb);
  throw pgrec::Error(pgrec::ErrorKind::OutOfMemory, message);
}


constexpr int kMaxModelName = 200;


}  // namespace

char* required_text(FunctionCallInfo fcinfo, int arg, const char* name) {
  if (PG_ARGISNULL(arg))
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("%s must not be null", name)));
  char* s = text_to_cstring(PG_GETARG_TEXT_PP(arg));
  if (s[0] == '\0')
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("%s must not be empty", name)));
  return s;
}

double now_seconds() {
  instr_time t;
  INSTR_TIME_SET_CURRENT(t);
  return INSTR_TIME_GET_DOUBLE(t);
}

void check_algorithm(const char* algorithm) {
  if (strcmp(algorithm, "hybrid") == 0)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("a hybrid mixes trained models and reads no source"),
                    errhint("Use rec.train(model, 'hybrid', '{\"models\": {\"knn\": 0.3, \"mf\": 0.7}}').")));
  bool known = false;
  char list[256] = "";
  PGREC_CXX({
    known = is_algorithm(algorithm);
    snprintf(list, sizeof list, "%s", algorithm_list().c_str());
  });
  if (!known)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("unknown algorithm \"%s\"", algorithm),
                    errhint("Available algorithms: %s; hybrids of trained models are built by rec.train(model, 'hybrid', params).", list)));
}

void train_parse_params(TrainState* state, const char* algorithm, bool has_ratings, Jsonb* params) {
  if (params != nullptr) read_params(params, &state->params);
  take_lifecycle_params(state, has_ratings);
  take_distributed_params(state);
  PGREC_CXX({
    state->config = parse_algorithm(algorithm, state->params, has_ratings);
    state->params_json = state->config.params_json;
  });
}

namespace {

// Starts a neumf's GMF branch from a trained factor model's factors (matched by id; others 0).
void read_initial_factors(TrainState* state) {
  NeuralParams& p = state->config.neural;
  const Model* init = load_model(resolve_model(p.init_from.c_str()));
  // The new model starts from a copy of these factors: copying is the owner's right, as for hybrids.
  require_model_owner(p.init_from.c_str(), "init_from starts a model from a copy of another's factors, so only their owner may use it");
  if (init->kind != pgrec::ModelKind::Factors)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("init_from must name a matrix-factorisation model, and \"%s\" is a %s model",
                           p.init_from.c_str(), init->algorithm.c_str())));
  PGREC_CXX({
    const InteractionBuilder& b = *state->builder;
    const std::int32_t f = init->factors();
    state->init_users = FactorMatrix::Zero(b.user_count(), f);
    state->init_items = FactorMatrix::Zero(b.item_count(), f);
    for (std::int32_t u = 0; u < b.user_count(); ++u) {
      const std::int32_t at = init->users.find(b.user_ids().ref(u));
      if (at >= 0) state->init_users.row(u) = init->user_factors.row(at);
    }
    for (std::int32_t i = 0; i < b.item_count(); ++i) {
      const std::int32_t at = init->items.find(b.item_ids().ref(i));
      if (at >= 0) state->init_items.row(i) = init->item_factors.row(at);
    }
    // The GMF branch takes the initial model's width.
    p.factors = f;
    state->params_json = state->config.params_json = p.to_json();
  });
}

// Reads what a neural family needs besides the interactions: sequences, side features, an
// initial model.
void read_neural_inputs(TrainState* state, const char* search_path) {
  const NeuralParams& p = state->config.neural;
  if (p.sequential()) PGREC_CXX(state->sequences = state->builder->sequences());
  if (!p.item_features.empty())
    read_features(p.item_features.c_str(), "item_features", true, state->builder.get(), search_path,
                  &state->item_features);
  if (!p.user_features.empty())
    read_features(p.user_features.c_str(), "user_features", false, state->builder.get(), search_path,
                  &state->user_features);
  if (!p.init_from.empty()) read_initial_factors(state);
}

}  // namespace

void train_prepare(TrainState* state, const char* algorithm, const SourceSpec* spec, Jsonb* params) {
  train_parse_params(state, algorithm, spec->rating_col != nullptr, params);
  const bool neural = is_neural(state->config);
  SourceSpec read = *spec;
  // A gate holds the most recent rows (or a share of each user's) out of training.
  read.source = gate_training_source(state, spec);
  if (state->ranks > 0) {
    if (state->job == 0)
      ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED), errmsg("a distributed training runs as a background job"),
                      errhint("Submit it with rec.train_async; the other ranks join it with rec.join_training.")));
    if (state->rank < 0 || state->rank >= state->ranks)
      ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                      errmsg("job %lld has ranks 0 to %d, not %d", static_cast<long long>(state->job), state->ranks - 1,
                             state->rank)));
    check_distributable(state);
    read.source = shard_source(spec, state->rank, state->ranks);  // this rank's users only
  }
  // Sequences are the rows in time order.
  if (neural && state->config.neural.sequential()) read.time_col = pstrdup(state->config.neural.time_col.c_str());
  SourceStats stats;
  read_source(&read, state, &stats);
  if (neural && state->ranks == 0) read_neural_inputs(state, spec->search_path);  // distributed: sequences by the trainer
  state->rows_read = stats.rows_read;
  state->rows_skipped = stats.rows_skipped;
  const char* user_type = format_type_be(stats.user_type);
  const char* item_type = format_type_be(stats.item_type);
  PGREC_CXX({
    state->user_type = user_type;
    state->item_type = item_type;
    if (state->ranks > 0) {  // kept as rows: the trainer agrees on the items with the other ranks first
      state->n_users = state->builder->user_count();
      state->n_items = state->builder->item_count();
      state->n_interactions = state->builder->rows();
      return;  // from this block
    }
    state->data = std::make_unique<Interactions>(state->builder->build());
    state->builder.reset();
    state->n_users = state->data->by_user.rows;
    state->n_items = state->data->by_item.rows;
    state->n_interactions = state->data->by_user.nnz();
  });
}

const char* resolve_device(const char* requested, const char* algorithm) {
  if (strcmp(requested, "cpu") == 0) return "cpu";
  const pgrec::AlgorithmSpec* spec = pgrec::find_algorithm(algorithm);
  const bool gpu_capable = spec != nullptr && spec->gpu;
  if (strcmp(requested, "auto") == 0 && !gpu_capable) return "cpu";
  const char* why = "";
  const TorchModule* torch = torch_module(&why);
  if (strcmp(requested, "auto") == 0)
    return torch != nullptr && torch->cuda_devices() > 0 ? "cuda:0" : "cpu";
  if (torch == nullptr)
    ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                    errmsg("device \"%s\" is not available: the LibTorch module could not be loaded", requested),
                    errdetail("%s", why)));
  if (strcmp(requested, "torch-cpu") == 0) return "torch-cpu";
  const int index = strcmp(requested, "cuda") == 0 ? 0 : atoi(requested + 5);
  const int gpus = torch->cuda_devices();
  if (index >= gpus)
    ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                    errmsg("device \"%s\" is not available: LibTorch sees %d GPU%s", requested, gpus,
                           gpus == 1 ? "" : "s"),
                    errhint("Use device => 'auto' or 'cpu' to train on the CPU.")));
  return psprintf("cuda:%d", index);
}

namespace {

// Hands the data read to the LibTorch trainer of a neural family on `device`.
void start_neural(TrainState* state, const char* device) {
  const char* why = "";
  const TorchModule* torch = torch_module(&why);
  if (torch == nullptr)
    ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                    errmsg("%s trains with LibTorch, and the LibTorch module could not be loaded",
                           state->config.algorithm.c_str()),
                    errdetail("%s", why)));
  const char* torch_device = strcmp(device, "torch-cpu") == 0 ? "cpu" : device;
  char error[512] = "";
  Trainer* trainer = nullptr;
  PGREC_CXX({
    NeuralInput input;
    input.data = std::move(*state->data);
    input.sequences = std::move(state->sequences);
    input.user_features = std::move(state->user_features);
    input.item_features = std::move(state->item_features);
    input.init_users = std::move(state->init_users);
    input.init_items = std::move(state->init_items);
    state->data.reset();
    trainer = torch->neural_trainer(&input, &state->config.neural, torch_device, guc_threads, error, sizeof error);
    if (trainer == nullptr && strstr(error, "out of memory") != nullptr) out_of_memory(state);
    state->trainer.reset(trainer);
  });
  if (trainer == nullptr)
    ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                    errmsg("could not train %s on device \"%s\": %s", state->config.algorithm.c_str(), device, error)));
}

}  // namespace

namespace {

// Creates the trainer of the state's algorithm on `device` and hands it the data.
void start_trainer(TrainState* state, const char* device) {
  // Before the trainer allocates anything large: refused with the estimate, not killed by the kernel.
  const std::uint64_t limit = training_memory_limit();
  PGREC_CXX({
    if (state->data) {
      pgrec::fit_defaults_to_data(&state->config, *state->data);
      state->params_json = state->config.params_json;
    }
    pgrec::TrainingShape shape{state->n_users, state->n_items, state->n_interactions, guc_threads};
    shape.longest_user = state->data ? pgrec::longest_row(state->data->by_user) : 0;
    if (state->ranks > 1 && is_neural(state->config)) {
      // Every rank holds the whole network (every rank's users; the shards are about equal), and
      // LightGCN's and AutoRec's ranks every rank's rows too.
      shape.users *= state->ranks;
      const std::string& a = state->config.algorithm;
      if (a == "lightgcn" || a == "autorec") shape.interactions *= state->ranks;
    }
    pgrec::require_training_memory(state->config, shape, limit);
  });
  if (state->ranks > 0) {
    start_distributed(state, device);
    return;
  }
  if (is_neural(state->config)) {
    start_neural(state, device);
    return;
  }
  if (strcmp(device, "cpu") == 0) {
    PGREC_CXX({
      try {
        state->trainer = make_trainer(state->config, std::move(*state->data), guc_threads);
      } catch (const std::bad_alloc&) {
        out_of_memory(state);
      }
      state->data.reset();
    });
    return;
  }
  if (state->config.algorithm != "als")
    ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                    errmsg("algorithm %s trains on the CPU only, not on device \"%s\"",
                           state->config.algorithm.c_str(), device),
                    errhint("Use device => 'cpu' or 'auto'.")));
  const TorchModule* torch = torch_module(nullptr);
  char error[512] = "";
  Trainer* trainer = nullptr;
  const char* torch_device = strcmp(device, "torch-cpu") == 0 ? "cpu" : device;
  PGREC_CXX({
    trainer = torch->als_trainer(state->data.get(), &state->config.als, torch_device, guc_threads, error, sizeof error);
    if (trainer == nullptr && strstr(error, "out of memory") != nullptr) out_of_memory(state);
    if (trainer != nullptr) {
      state->trainer.reset(trainer);
      state->data.reset();
    }
  });
  if (trainer == nullptr)
    ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                    errmsg("could not train on device \"%s\": %s", device, error)));
}

}  // namespace

void train_start(TrainState* state, const char* device) {
  start_trainer(state, device);
  apply_warm_start(state);
}

namespace {

// Runs one part of the current epoch; interrupts are processed afterwards.
void train_step_part(TrainState* state, std::int32_t part) {
  CxxError err;
  const bool ok = cxx_try(&err, [&] {
    try {
      state->trainer->step_part(part, state->token);
    } catch (const std::bad_alloc&) {
      out_of_memory(state);
    }
  });
  // A distributed step fails when another rank died, was cancelled or stopped answering.
  if (!ok && state->ranks > 1 && !err.cancelled && err.sqlstate == ERRCODE_INTERNAL_ERROR) {
    err.message[strcspn(err.message, "\n")] = '\0';  // LibTorch appends its C++ backtrace
    ereport(ERROR, (errcode(ERRCODE_CONNECTION_FAILURE),
                    errmsg("rank %d of job %lld lost the other ranks: %s", state->rank,
                           static_cast<long long>(state->job), err.message)));
  }
  if (!ok) raise_cxx_error(&err);
  CHECK_FOR_INTERRUPTS();
}

// Ends epoch `epoch`: records its loss in the training curve (rec.training_curve) when the
// trainer keeps no curve of its own and its loss is cheap, or ALS's track_loss asks for it;
// returns that loss, or NaN when it was not computed.
double train_epoch_end(TrainState* state, std::int32_t epoch) {
  bool record = false;
  PGREC_CXX(record = state->trainer->total() > 1 && state->trainer->has_loss() && state->trainer->history_json().empty() &&
                     (state->trainer->loss_is_cheap() || state->config.als.track_loss));
  if (!record) return std::nan("");
  const double loss = train_loss(state);
  PGREC_CXX(state->curve.emplace_back(epoch, loss));
  return loss;
}

}  // namespace

void train_iterate(TrainState* state, ProgressSink* sink) {
  std::int32_t total = 0, parts = 1;
  PGREC_CXX({
    total = state->trainer->total();
    parts = state->trainer->parts();
  });
  bool converged = false;
  for (std::int32_t epoch = 1; epoch <= total && !converged; ++epoch) {
    for (std::int32_t part = 0; part < parts; ++part) {
      train_step_part(state, part);
      TrainProgress progress{epoch, total, part, parts, std::nan(""), false};
      if (progress.epoch_done()) {
        progress.loss = train_epoch_end(state, epoch);
        PGREC_CXX(converged = state->trainer->converged());
        progress.last = epoch == total || converged;
      }
      sink->report(state, progress);
    }
  }
}

double train_loss(TrainState* state) {
  double loss = 0;
  PGREC_CXX(loss = state->trainer->loss(state->token));
  CHECK_FOR_INTERRUPTS();
  return loss;
}

void index_large_catalog(Model* m, std::string* params_json, CancelToken& token) {
  if (m->kind != pgrec::ModelKind::Factors || guc_ann_min_items <= 0 || m->n_items() < guc_ann_min_items) return;
  m->ivf = pgrec::build_ivf(m->item_factors, 0, guc_threads, token);
  pgrec::calibrate_ivf(*m, guc_ann_recall, 200, token);
  // Recorded with the parameters: {..., "ann_lists": L, "ann_probes": P}.
  std::string& json = *params_json;
  if (json.size() >= 2 && json.back() == '}')
    json.insert(json.size() - 1, std::string(json.size() > 2 ? ", " : "") + "\"ann_lists\": " +
                                     std::to_string(m->ivf.lists()) + ", \"ann_probes\": " + std::to_string(m->ivf.probes));
  m->params_json = json;
}

void NoticeSink::report(TrainState* state, const TrainProgress& progress) {
  if (!progress.epoch_done()) return;
  const double now = now_seconds();
  if (now - last_ < guc_progress_interval) return;
  last_ = now;
  bool has_loss = true;
  PGREC_CXX(has_loss = state->trainer->has_loss());
  if (!has_loss) {
    ereport(NOTICE, (errmsg("%s trained in %.1f s", state->config.algorithm.c_str(), now - began_)));
    return;
  }
  const double loss = std::isnan(progress.loss) ? train_loss(state) : progress.loss;
  const double left = (now - began_) / progress.epoch * (progress.total - progress.epoch);
  ereport(NOTICE, (errmsg("%s epoch %d/%d: loss %.4f, %.1f s, about %.1f s left", state->config.algorithm.c_str(),
                          progress.epoch, progress.total, loss, now - began_, left)));
}

std::int32_t train_save(TrainState* state, const char* model, const char* algorithm,
                        const SourceSpec* spec, double train_seconds) {
  PGREC_CXX({
    std::string curve = state->trainer->history_json();
    if (curve.empty() && !state->curve.empty()) {
      pgrec::JsonOut j;
      j << "[";
      for (std::size_t e = 0; e < state->curve.size(); ++e)
        j << (e ? ", " : "") << "{\"epoch\": " << state->curve[e].first << ", \"loss\": " << state->curve[e].second << "}";
      j << "]";
      curve = j.str();
    }
    pgrec::JsonOut metrics;
    if (!curve.empty()) metrics << "\"training\": " << curve;
    if (state->warm_from != 0)
      metrics << (curve.empty() ? "" : ", ") << "\"warm_start\": {\"from_version_id\": " << state->warm_from
              << ", \"users\": " << state->warm.users << ", \"items\": " << state->warm.items << "}";
    if (state->ranks > 0)
      metrics << (metrics.str().empty() ? "" : ", ") << "\"distributed\": {\"ranks\": " << state->ranks
              << ", \"rows_read_by_rank_0\": " << state->rows_read << "}";
    if (!metrics.str().empty()) state->history_json = "{" + metrics.str() + "}";
    state->model = std::make_unique<Model>(state->trainer->finish(state->user_type, state->item_type));
    if (state->ranks > 0) {  // rank 0's model holds every rank's users and rows
      if (!state->model->params_json.empty()) state->params_json = state->model->params_json;  // settled over the ranks
      state->n_users = static_cast<std::int32_t>(state->model->users.size());
      state->n_items = state->model->n_items();
      state->n_interactions = state->model->seen.nnz();
      state->rows_read = state->n_interactions;
    }
    state->model->params_json = state->params_json;
    state->trainer.reset();
    Model& m = *state->model;
    pgrec::check_finite(m);  // a diverged model is refused; the serving version stays
    index_large_catalog(&m, &state->params_json, state->token);
    state->bytes = serialize_model(*state->model);
  });
  SaveRequest save;
  save.model = model;
  save.algorithm = algorithm;
  save.params_json = state->params_json.c_str();
  save.source = qualified_source(spec->source);  // what it meant to the caller, for fold-in and rec.models
  save.user_col = spec->user_col;
  save.item_col = spec->item_col;
  save.rating_col = spec->rating_col;
  save.user_type = state->user_type.c_str();
  save.item_type = state->item_type.c_str();
  save.n_users = state->n_users;
  save.n_items = state->n_items;
  save.n_interactions = state->n_interactions;
  save.rows_read = state->rows_read;
  save.rows_skipped = state->rows_skipped;
  save.train_seconds = train_seconds;
  save.bytes = &state->bytes;
  save.metrics_json = state->history_json.empty() ? nullptr : state->history_json.c_str();
  save.search_path = spec->search_path;
  save.deploy = !state->gated;
  std::int64_t version_id = 0;
  save.version_id = &version_id;
  const std::int32_t version = save_model(&save);
  if (state->gated) gate_decide(state, version_id, spec, state->rows_read);
  return version;
}

// Checks rec.train's arguments, filling the source spec; returns the model name.
const char* model_name_argument(FunctionCallInfo fcinfo, int arg) {
  const char* model = required_text(fcinfo, arg, "model");
  if (strlen(model) > kMaxModelName)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("model name is longer than %d characters", kMaxModelName)));
  return model;
}

Jsonb* with_named_params(FunctionCallInfo fcinfo, int first, Jsonb* params) {
  static const char* const keys[] = {"time_col", "item_features", "user_features"};
  StringInfoData json;
  initStringInfo(&json);
  appendStringInfoChar(&json, '{');
  for (int k = 0; k < 3; ++k) {
    const int arg = first + k;
    if (PG_NARGS() <= arg || PG_ARGISNULL(arg)) continue;
    if (json.len > 1) appendStringInfoString(&json, ", ");
    escape_json(&json, keys[k]);
    appendStringInfoString(&json, ": ");
    escape_json(&json, text_to_cstring(PG_GETARG_TEXT_PP(arg)));
  }
  if (json.len == 1) return params;
  appendStringInfoChar(&json, '}');
  const Datum named = DirectFunctionCall1(jsonb_in, CStringGetDatum(json.data));
  if (params == nullptr) return DatumGetJsonbP(named);
  return DatumGetJsonbP(DirectFunctionCall2(jsonb_concat, JsonbPGetDatum(params), named));
}

const char* train_arguments(FunctionCallInfo fcinfo, SourceSpec* spec, const char** algorithm,
                            Jsonb** params) {
  const char* model = model_name_argument(fcinfo, 0);
  spec->source = required_text(fcinfo, 1, "source");
  spec->user_col = required_text(fcinfo, 2, "user_col");
  spec->item_col = required_text(fcinfo, 3, "item_col");
  spec->rating_col = PG_ARGISNULL(4) ? nullptr : required_text(fcinfo, 4, "rating_col");
  *algorithm = required_text(fcinfo, 5, "algorithm");
  check_algorithm(*algorithm);
  *params = PG_ARGISNULL(6) ? nullptr : PG_GETARG_JSONB_P(6);
  return model;
}

}  // namespace pgrec::pg

// rec.train(model, source, user_col, item_col, rating_col, algorithm, params) -> version
Datum pgrec_train(PG_FUNCTION_ARGS) {
  using namespace pgrec::pg;
  SourceSpec spec;
  const char* algorithm;
  Jsonb* params;
  const char* model = train_arguments(fcinfo, &spec, &algorithm, &params);
  params = with_named_params(fcinfo, 7, params);
  const double started = now_seconds();

  TrainState* state = nullptr;
  PGREC_CXX(state = new TrainState());
  Owned<TrainState>* owner = own(state, CurrentMemoryContext);
  state->model_name = model;
  SPI_connect();
  train_prepare(state, algorithm, &spec, params);
  train_start(state, "cpu");
  // Progress NOTICEs every pgrec.progress_interval seconds (2 by default).
  NoticeSink notices(now_seconds());
  train_iterate(state, &notices);
  const std::int32_t version = train_save(state, model, algorithm, &spec, now_seconds() - started);
  SPI_finish();
  release(owner);
  PG_RETURN_INT32(version);
}
