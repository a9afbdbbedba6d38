// Data-parallel training across servers: the "distributed" parameters, the shard, the handshake,
// and rec.join_training.
#include "distributed.h"

#include <cstring>

#include "abi.h"
#include "boundary.h"
#include "module.h"
#include "torch_module.h"
#include "train_run.h"

extern "C" {
#include "common/hmac.h"

PG_FUNCTION_INFO_V1(pgrec_join_training);
}

namespace pgrec::pg {

namespace {

constexpr std::size_t kProofBytes = 32;  // SHA-256

[[noreturn]] void bad_distributed(const char* message) {
  ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("%s", message),
                  errhint("Like {\"distributed\": {\"ranks\": 2, \"rendezvous\": \"10.0.0.5:29500\"}}.")));
}

// Reads the "distributed" object's keys into the state.
void read_distributed(TrainState* state, const std::vector<Param>& keys) {
  for (const Param& k : keys) {
    if (k.key == "ranks") {
      if (k.type != ParamType::Number || k.number != static_cast<int>(k.number) || k.number < 1 || k.number > 256)
        bad_distributed("distributed.ranks must be a whole number from 1 to 256");
      state->ranks = static_cast<int>(k.number);
    } else if (k.key == "rendezvous") {
      const std::size_t colon = k.text.rfind(':');
      char* end = nullptr;
      const long port = colon == std::string::npos ? 0 : strtol(k.text.c_str() + colon + 1, &end, 10);
      if (k.type != ParamType::String || colon == 0 || colon == std::string::npos || end == nullptr || *end != '\0' ||
          port < 1 || port > 65535 || k.text.size() > 255)
        bad_distributed("distributed.rendezvous must be \"host:port\", the address rank 0 listens on");
      PGREC_CXX(state->rendezvous_host = k.text.substr(0, colon));
      state->rendezvous_port = static_cast<int>(port);
    } else if (k.key == "timeout") {
      if (k.type != ParamType::Number || k.number < 1 || k.number > 3600)
        bad_distributed("distributed.timeout must be a number of seconds from 1 to 3600");
      state->timeout_ms = static_cast<int>(k.number * 1000);
    } else if (k.key == "secret") {
      if (k.type != ParamType::String || k.text.size() < 32) bad_distributed("distributed.secret is set by rec.train_async");
      PGREC_CXX(state->secret = k.text);
    } else {
      ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                      errmsg("unknown distributed parameter \"%s\"", k.key.c_str()),
                      errhint("Distributed parameters: ranks, rendezvous, timeout.")));
    }
  }
  if (state->ranks == 0) bad_distributed("distributed needs ranks");
  if (state->rendezvous_port == 0) bad_distributed("distributed needs a rendezvous");
}

// The HMAC-SHA-256, under the job's secret, of what rank `rank` proves: the job and every rank's nonce.
void proof_of(const TrainState* state, const char* nonces, int rank, unsigned char* out) {
  pg_hmac_ctx* ctx = pg_hmac_create(PG_SHA256);
  const char* job = psprintf("pgrec distributed training %lld rank %d", static_cast<long long>(state->job), rank);
  const bool ok = ctx != nullptr &&
                  pg_hmac_init(ctx, reinterpret_cast<const uint8*>(state->secret.data()), state->secret.size()) == 0 &&
                  pg_hmac_update(ctx, reinterpret_cast<const uint8*>(job), strlen(job)) == 0 &&
                  pg_hmac_update(ctx, reinterpret_cast<const uint8*>(nonces), kProofBytes * state->ranks) == 0 &&
                  pg_hmac_final(ctx, out, kProofBytes) == 0;
  if (ctx != nullptr) pg_hmac_free(ctx);
  if (!ok) elog(ERROR, "pgrec: could not compute the handshake's HMAC");
}

// Exchanges `len` bytes with every rank; raises the torch error on failure.
void exchange(const TorchModule* torch, TrainState* state, const char* mine, char* all) {
  char error[512] = "";
  int ok = 0;
  PGREC_CXX(ok = torch->allgather(state->collective.get(), mine, kProofBytes, all, error, sizeof error));
  if (!ok)
    ereport(ERROR, (errcode(ERRCODE_CONNECTION_FAILURE),
                    errmsg("the ranks of job %lld lost each other during the handshake: %s",
                           static_cast<long long>(state->job), error)));
}

// Every rank sends a fresh nonce, then proves it knows the job's secret over all of them, then
// shows its build; a rank that cannot prove the secret, or runs another build, aborts the job
// here, before any data is exchanged.
void handshake(const TorchModule* torch, TrainState* state) {
  char nonce[kProofBytes];
  if (!pg_strong_random(nonce, sizeof nonce)) elog(ERROR, "pgrec: no strong random numbers for the handshake");
  char* nonces = static_cast<char*>(palloc(kProofBytes * state->ranks));
  exchange(torch, state, nonce, nonces);
  unsigned char mine[kProofBytes];
  proof_of(state, nonces, state->rank, mine);
  char* proofs = static_cast<char*>(palloc(kProofBytes * state->ranks));
  exchange(torch, state, reinterpret_cast<const char*>(mine), proofs);
  for (int r = 0; r < state->ranks; ++r) {
    unsigned char expected[kProofBytes];
    proof_of(state, nonces, r, expected);
    if (memcmp(expected, proofs + kProofBytes * r, kProofBytes) != 0)
      ereport(ERROR, (errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
                      errmsg("rank %d of job %lld does not know the job's secret: the training stops", r,
                             static_cast<long long>(state->job)),
                      errdetail("Only the job's submitter can read the secret (rec.job_queue) to join it.")));
  }
  // The ranks take their collective steps in lockstep only if they run the same build of pgrec:
  // compare the core's fingerprints before any training step.
  char build[kProofBytes] = {};
  const std::uint64_t abi = pgrec::core_abi();
  memcpy(build, &abi, sizeof abi);
  char* builds = static_cast<char*>(palloc(kProofBytes * state->ranks));
  exchange(torch, state, build, builds);
  for (int r = 0; r < state->ranks; ++r) {
    std::uint64_t theirs = 0;
    memcpy(&theirs, builds + kProofBytes * r, sizeof theirs);
    if (theirs != abi)
      ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                      errmsg("rank %d of job %lld runs another build of pgrec: the training stops", r,
                             static_cast<long long>(state->job)),
                      errdetail("Its core fingerprint is %016llx, this rank's %016llx.",
                                static_cast<unsigned long long>(theirs), static_cast<unsigned long long>(abi)),
                      errhint("Install the same pgrec version on every server that trains.")));
  }
}

}  // namespace

void take_distributed_params(TrainState* state) {
  std::vector<Param>& params = state->params;
  for (std::size_t p = 0; p < params.size(); ++p) {
    if (params[p].key != "distributed") continue;
    if (params[p].type != ParamType::Other || params[p].text.empty() || params[p].text[0] != '{')
      bad_distributed("distributed must be a JSON object");
    read_params(DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(params[p].text.c_str()))),
                &state->distributed_params);
    PGREC_CXX(params.erase(params.begin() + static_cast<std::ptrdiff_t>(p)));
    read_distributed(state, state->distributed_params);
    return;
  }
}

const char* shard_source(const SourceSpec* spec, int rank, int ranks) {
  const char* from = looks_like_query(spec->source) ? psprintf("(%s\n)", spec->source) : qualified_source(spec->source);
  return psprintf("SELECT pgrec_shard.* FROM %s AS pgrec_shard WHERE pg_catalog.mod(pg_catalog.mod("
                  "pg_catalog.hashtextextended(pgrec_shard.%s::pg_catalog.text, 0), %d) OPERATOR(pg_catalog.+) %d, %d) "
                  "OPERATOR(pg_catalog.=) %d",
                  from, quote_identifier(spec->user_col), ranks, ranks, ranks, rank);
}

void check_distributable(const TrainState* state) {
  const std::string& algorithm = state->config.algorithm;
  const bool neural = is_neural(state->config);
  const bool core = algorithm == "als" || algorithm == "bpr" || algorithm == "sgd_mf" || algorithm == "svdpp";
  if (!core && !neural)
    ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                    errmsg("%s does not train distributed", algorithm.c_str()),
                    errdetail("Its model is not a sum over users' terms: it does not split across servers."),
                    errhint("Distributed: als, bpr, sgd_mf, svdpp and the LibTorch families; train %s on one server.",
                            algorithm.c_str())));
  if (state->gated || state->warm_start)
    ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                    errmsg("a distributed training runs without a gate or a warm start")));
  const NeuralParams& p = state->config.neural;
  if (neural && (!p.item_features.empty() || !p.user_features.empty() || !p.init_from.empty()))
    ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                    errmsg("a distributed %s training reads no item_features, user_features or init_from",
                           algorithm.c_str())));
}

void start_distributed(TrainState* state, const char* device) {
  const char* why = "";
  const TorchModule* torch = torch_module(&why);
  if (torch == nullptr)
    ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                    errmsg("distributed training runs on LibTorch, and the LibTorch module could not be loaded"),
                    errdetail("%s", why)));
  char error[512] = "";
  const char* group = psprintf("pgrec-job-%lld", static_cast<long long>(state->job));
  neural::Collective* ranks = nullptr;
  const char* address = state->address.empty() ? state->rendezvous_host.c_str() : state->address.c_str();
  // Rank 0 waits here up to the timeout for every other rank to join.
  ranks = torch->join(state->rendezvous_host.c_str(), state->rendezvous_port, address, state->rank, state->ranks, group,
                      state->timeout_ms, &state->token, error, sizeof error);
  if (ranks == nullptr) CHECK_FOR_INTERRUPTS();  // a cancel while waiting for the others
  if (ranks == nullptr)
    ereport(ERROR, (errcode(ERRCODE_CONNECTION_FAILURE),
                    errmsg("rank %d of job %lld could not join the other %d at %s:%d: %s", state->rank,
                           static_cast<long long>(state->job), state->ranks - 1, state->rendezvous_host.c_str(),
                           state->rendezvous_port, error),
                    errhint("Every rank must join within distributed.timeout seconds (rec.join_training on its server).")));
  PGREC_CXX(state->collective = std::shared_ptr<neural::Collective>(ranks, torch->leave));
  handshake(torch, state);
  const char* torch_device = strcmp(device, "torch-cpu") == 0 ? "cpu" : device;
  Trainer* trainer = nullptr;
  PGREC_CXX({
    if (is_neural(state->config))
      trainer = torch->distributed_neural_trainer(state->builder.get(), &state->config.neural, ranks, torch_device,
                                                  guc_threads, error, sizeof error);
    else if (state->config.algorithm == "als")
      trainer = torch->distributed_als_trainer(state->builder.get(), &state->config.als, ranks, torch_device,
                                               guc_threads, error, sizeof error);
    else  // on the CPU, summing through the same ranks
      trainer = torch->distributed_core_trainer(state->builder.get(), &state->config, ranks, guc_threads, error,
                                                sizeof error);
    state->trainer.reset(trainer);
    if (trainer != nullptr) state->builder.reset();
  });
  if (trainer == nullptr)
    ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                    errmsg("could not start rank %d of job %lld: %s", state->rank, static_cast<long long>(state->job), error)));
}

}  // namespace pgrec::pg

// rec.join_training(job, rank, address) -> jsonb: trains rank `rank` of distributed job `job` in
// this session (on this server's copy of the source), as the job's submitter; returns what it read
Datum pgrec_join_training(PG_FUNCTION_ARGS) {
  using namespace pgrec::pg;
  if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("job and rank must not be null")));
  const int64 job = PG_GETARG_INT64(0);
  const int32 rank = PG_GETARG_INT32(1);
  const char* address = PG_ARGISNULL(2) ? nullptr : text_to_cstring(PG_GETARG_TEXT_PP(2));
  if (rank <= 0)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("rank must be 1 or more, not %d: rank 0 is the job's background worker", rank)));
  const double started = now_seconds();
  TrainState* state = nullptr;
  PGREC_CXX(state = new TrainState());
  Owned<TrainState>* owner = own(state, CurrentMemoryContext);
  state->job = job;
  state->rank = rank;
  if (address != nullptr) PGREC_CXX(state->address = address);
  SPI_connect();
  // The job as this role sees it: the queue's row-level security shows a role its own jobs only.
  Oid types[1] = {INT8OID};
  Datum values[1] = {Int64GetDatum(job)};
  if (SPI_execute_with_args("SELECT model, algorithm, params::pg_catalog.text, source, user_col, item_col, rating_col, device, "
                            "state, kind, submitted_by, args OPERATOR(pg_catalog.->>) 'search_path', "
                            "params OPERATOR(pg_catalog.?) 'distributed' "
                            "FROM rec.job_queue WHERE id OPERATOR(pg_catalog.=) $1",
                            1, types, values, nullptr, true, 1) != SPI_OK_SELECT)
    elog(ERROR, "pgrec: could not read the job");
  if (SPI_processed != 1)
    ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT), errmsg("job %lld does not exist", static_cast<long long>(job)),
                    errhint("A role sees its own jobs only; on a standby, the job appears once its row has replicated.")));
  HeapTuple row = SPI_tuptable->vals[0];
  TupleDesc desc = SPI_tuptable->tupdesc;
  const char* algorithm = SPI_getvalue(row, desc, 2);
  const char* params = SPI_getvalue(row, desc, 3);
  SourceSpec spec;
  spec.source = SPI_getvalue(row, desc, 4);
  spec.user_col = SPI_getvalue(row, desc, 5);
  spec.item_col = SPI_getvalue(row, desc, 6);
  spec.rating_col = SPI_getvalue(row, desc, 7);
  const char* device = SPI_getvalue(row, desc, 8);
  const char* job_state = SPI_getvalue(row, desc, 9);
  const char* kind = SPI_getvalue(row, desc, 10);
  bool isnull;
  const Oid submitter = DatumGetObjectId(SPI_getbinval(row, desc, 11, &isnull));
  spec.search_path = SPI_getvalue(row, desc, 12);
  const bool distributed = DatumGetBool(SPI_getbinval(row, desc, 13, &isnull));
  // The rank reads the source with this session's rights: those of the job's submitter only.
  if (submitter != GetUserId())
    ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                    errmsg("only the role that submitted job %lld can join it", static_cast<long long>(job))));
  if (strcmp(kind, "train") != 0)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("job %lld is a %s job, not a training", static_cast<long long>(job), kind)));
  if (!distributed)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("job %lld is not a distributed training", static_cast<long long>(job))));
  if (strcmp(job_state, "queued") != 0 && strcmp(job_state, "running") != 0)
    ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                    errmsg("job %lld has %s", static_cast<long long>(job), job_state)));
  train_prepare(state, algorithm, &spec, DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(params))));
  train_start(state, resolve_device(device, algorithm));
  NoticeSink notices(started);
  train_iterate(state, &notices);
  // Sends this rank's users and rows to rank 0, which stores the model.
  PGREC_CXX((void)state->trainer->finish(state->user_type, state->item_type));
  SPI_finish();
  const char* result = psprintf("{\"job\": %lld, \"rank\": %d, \"ranks\": %d, \"users\": %d, \"rows\": %lld, \"seconds\": %.3f}",
                                static_cast<long long>(job), rank, state->ranks, state->n_users,
                                static_cast<long long>(state->n_interactions), now_seconds() - started);
  release(owner);
  PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(result)));
}
