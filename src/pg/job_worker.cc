// The processes behind rec.train_async: the launcher (one, static), a dispatcher per database
// (reaps dead jobs, starts queued ones), and a job worker per job, connected as the job's owner.
#include <cmath>
#include <cstring>

#include "jobs.h"

#include "boundary.h"
#include "model_files.h"
#include "model_store.h"
#include "module.h"
#include "train_run.h"
#include "worker_registry.h"

extern "C" {
PGDLLEXPORT void pgrec_job_worker_main(Datum arg);
PGDLLEXPORT void pgrec_dispatcher_main(Datum arg);
PGDLLEXPORT void pgrec_launcher_main(Datum arg);
}

namespace pgrec::pg {

bool preloaded = false;

namespace {

// Fills the fields every pgrec worker shares.
void worker_defaults(BackgroundWorker* w, const char* function) {
  memset(w, 0, sizeof *w);
  w->bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
  w->bgw_start_time = BgWorkerStart_RecoveryFinished;
  w->bgw_restart_time = BGW_NEVER_RESTART;
  snprintf(w->bgw_library_name, BGW_MAXLEN, "pgrec");
  snprintf(w->bgw_function_name, BGW_MAXLEN, "%s", function);
}

// Starts a transaction with a snapshot and an SPI connection.
void begin_work() {
  SetCurrentStatementStartTimestamp();  // now() of this transaction
  StartTransactionCommand();
  SPI_connect();
  PushActiveSnapshot(GetTransactionSnapshot());
}

// Ends what begin_work started, committing.
void commit_work() {
  SPI_finish();
  PopActiveSnapshot();
  CommitTransactionCommand();
}

// Runs a statement on the job's row: $1 is the job id, then `n` more arguments.
void update_job(const char* sql, int64 job, int n, Oid* types, Datum* values, const char* nulls) {
  Oid all_types[8] = {INT8OID};
  Datum all_values[8] = {Int64GetDatum(job)};
  char all_nulls[8] = {' '};
  for (int i = 0; i < n; ++i) {
    all_types[i + 1] = types[i];
    all_values[i + 1] = values[i];
    all_nulls[i + 1] = nulls != nullptr ? nulls[i] : ' ';
  }
  const int rc = SPI_execute_with_args(sql, n + 1, all_types, all_values, all_nulls, false, 0);
  if (rc < 0) elog(ERROR, "pgrec: job update failed: %s", SPI_result_code_string(rc));
}

// Copies a text column of the current SPI row into `cxt` (null stays null).
char* column(int n, MemoryContext cxt) {
  char* v = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, n);
  return v == nullptr ? nullptr : MemoryContextStrdup(cxt, v);
}

// A training job's progress sink: the job row (epoch, progress, loss), committed at most five
// times a second, within epochs too, and always at the end.
class JobRowSink : public ProgressSink {
 public:
  explicit JobRowSink(int64 job) : job_(job) {}

  // Updates the job row after a part when 0.2 s have passed or training ends.
  void report(TrainState* state, const TrainProgress& p) override {
    const double now = now_seconds();
    if (!p.last && now - last_ < 0.2) return;
    last_ = now;
    double loss = p.loss;
    if (p.epoch_done() && std::isnan(loss)) loss = train_loss(state);
    begin_work();
    Oid t[4] = {INT4OID, INT4OID, FLOAT4OID, FLOAT8OID};
    const double done = (p.epoch - 1) + static_cast<double>(p.part + 1) / p.parts;
    Datum v[4] = {Int32GetDatum(p.epoch_done() ? p.epoch : p.epoch - 1), Int32GetDatum(p.total),
                  Float4GetDatum(static_cast<float>(done / p.total)), Float8GetDatum(loss)};
    char nulls[4] = {' ', ' ', ' ', p.epoch_done() ? ' ' : 'n'};
    update_job(p.epoch_done() ? "UPDATE rec.job_queue SET epoch = $2, epochs = $3, progress = $4, loss = $5 WHERE id = $1"
                              : "UPDATE rec.job_queue SET epoch = $2, epochs = $3, progress = $4, loss = COALESCE($5, loss) WHERE id = $1",
               job_, 4, t, v, nulls);
    commit_work();
  }

 private:
  int64 job_;
  double last_ = 0;
};

// Runs a training job: read (one transaction), train (progress committed as it goes), store
// (one transaction). The state is owned by `job_cxt`; `owner` lets the caller free it.
void run_train_job(int64 job, const char* model, const char* algorithm, const char* params_text,
                   const SourceSpec* spec,
                   const char* device, MemoryContext job_cxt, Owned<TrainState>** owner) {
  const double started = now_seconds();
  TrainState* state = nullptr;
  PGREC_CXX(state = new TrainState());
  *owner = own(state, job_cxt);
  state->model_name = model;
  state->job = job;
  begin_work();
  const char* used = resolve_device(device, algorithm);
  {
    Oid t[1] = {TEXTOID};
    Datum v[1] = {CStringGetTextDatum(used)};
    update_job("UPDATE rec.job_queue SET device_used = $2 WHERE id = $1", job, 1, t, v, nullptr);
  }
  train_prepare(state, algorithm, spec, DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(params_text))));
  train_start(state, used);
  commit_work();

  JobRowSink sink(job);
  train_iterate(state, &sink);
  begin_work();
  const int32 version = train_save(state, model, algorithm, spec, now_seconds() - started);
  Oid t[1] = {INT4OID};
  Datum v[1] = {Int32GetDatum(version)};
  update_job("UPDATE rec.job_queue SET state = 'succeeded', version = $2, progress = 1, finished_at = now() "
             "WHERE id = $1", job, 1, t, v, nullptr);
  commit_work();
}

// Runs a tune job: rec.tune in one transaction, with the submitter's search_path, its table kept
// as the job's result. Its trainings are rec.train calls: on the CPU.
void run_tune_job(int64 job, const char* search_path) {
  begin_work();
  update_job("UPDATE rec.job_queue SET device_used = 'cpu' WHERE id = $1", job, 0, nullptr, nullptr, nullptr);
  (void)use_search_path(search_path);  // undone when the transaction ends
  update_job("UPDATE rec.job_queue q SET result = (SELECT pg_catalog.jsonb_agg(pg_catalog.to_jsonb(t)) "
             "FROM rec.job_queue j, LATERAL rec.tune(j.model, j.source, j.user_col, j.item_col, j.rating_col, "
             "j.algorithm, j.args->'grid', j.params, (j.args->>'folds')::int, "
             "(j.args->>'validation_fraction')::float8, j.args->>'metric', (j.args->>'k')::int, "
             "(j.args->>'seed')::int) t WHERE j.id = $1) WHERE q.id = $1",
             job, 0, nullptr, nullptr, nullptr);
  update_job("UPDATE rec.job_queue q SET state = 'succeeded', progress = 1, finished_at = now(), "
             "version = (SELECT m.version FROM rec.models m WHERE m.model = q.model) WHERE q.id = $1",
             job, 0, nullptr, nullptr, nullptr);
  commit_work();
}

}  // namespace

bool is_training_worker(int pid) {
  if (pid <= 0 || BackendPidGetProc(pid) == nullptr) return false;
  const char* type = GetBackgroundWorkerTypeByPid(pid);
  return type != nullptr && strcmp(type, kTrainingWorkerType) == 0;
}

bool launch_job_worker(std::int64_t job, const JobLaunch* launch) {
  // At most pgrec.max_workers of pgrec's workers hold worker slots, waiting or running: jobs
  // submitted in a transaction that stays open cannot take the slots parallel query needs.
  if (worker_registry_count(false) >= guc_max_workers) return false;
  BackgroundWorker w;
  worker_defaults(&w, "pgrec_job_worker_main");
  snprintf(w.bgw_name, BGW_MAXLEN, "pgrec training job %lld", static_cast<long long>(job));
  snprintf(w.bgw_type, BGW_MAXLEN, "%s", kTrainingWorkerType);
  w.bgw_main_arg = Int64GetDatum(job);
  memcpy(w.bgw_extra, launch, sizeof *launch);
  BackgroundWorkerHandle* handle;
  if (!worker_registry_reserve(job)) return false;
  if (RegisterDynamicBackgroundWorker(&w, &handle)) return true;
  worker_registry_release(job);
  return false;
}

bool launch_dispatcher(Oid database) {
  BackgroundWorker w;
  worker_defaults(&w, "pgrec_dispatcher_main");
  snprintf(w.bgw_name, BGW_MAXLEN, "pgrec dispatcher for database %u", database);
  snprintf(w.bgw_type, BGW_MAXLEN, "pgrec dispatcher");
  w.bgw_main_arg = ObjectIdGetDatum(database);
  BackgroundWorkerHandle* handle;
  return RegisterDynamicBackgroundWorker(&w, &handle);
}

namespace {

// Starts a dispatcher for `database` and waits (up to 10 s) for it to finish, so that the
// launcher's passes take at most one background-worker slot whatever the number of databases.
void dispatch_and_wait(Oid database) {
  BackgroundWorker w;
  worker_defaults(&w, "pgrec_dispatcher_main");
  snprintf(w.bgw_name, BGW_MAXLEN, "pgrec dispatcher for database %u", database);
  snprintf(w.bgw_type, BGW_MAXLEN, "pgrec dispatcher");
  w.bgw_main_arg = ObjectIdGetDatum(database);
  w.bgw_notify_pid = MyProcPid;
  BackgroundWorkerHandle* handle;
  if (!RegisterDynamicBackgroundWorker(&w, &handle)) return;
  for (int waited = 0; waited < 100; ++waited) {
    pid_t pid;
    if (GetBackgroundWorkerPid(handle, &pid) == BGWH_STOPPED) return;
    (void)WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, 100L, PG_WAIT_EXTENSION);
    ResetLatch(MyLatch);
    CHECK_FOR_INTERRUPTS();
  }
}

}  // namespace

void register_launcher() {
  BackgroundWorker w;
  worker_defaults(&w, "pgrec_launcher_main");
  w.bgw_restart_time = 5;
  snprintf(w.bgw_name, BGW_MAXLEN, "pgrec launcher");
  snprintf(w.bgw_type, BGW_MAXLEN, "pgrec launcher");
  RegisterBackgroundWorker(&w);
}

}  // namespace pgrec::pg

using namespace pgrec::pg;

// Runs one job: claim it, read the source, train (progress committed as it goes), store.
void pgrec_job_worker_main(Datum arg) {
  const int64 job = DatumGetInt64(arg);
  JobLaunch launch;
  memcpy(&launch, MyBgworkerEntry->bgw_extra, sizeof launch);
  pqsignal(SIGTERM, die);
  BackgroundWorkerUnblockSignals();
  BackgroundWorkerInitializeConnectionByOid(launch.database, launch.role, 0);
  pgstat_report_appname("pgrec training worker");
  // Counted by the slot checks from now on (and no longer once this process exits).
  (void)worker_registry_enter(job);

  // The job row becomes visible when the submitting transaction ends.
  if (TransactionIdIsValid(launch.submitter)) {
    StartTransactionCommand();
    XactLockTableWait(launch.submitter, nullptr, nullptr, XLTW_None);
    CommitTransactionCommand();
  }

  MemoryContext job_cxt = AllocSetContextCreate(TopMemoryContext, "pgrec job", ALLOCSET_DEFAULT_SIZES);
  begin_work();
  {
    Oid t[1] = {TEXTOID};
    Datum v[1] = {CStringGetTextDatum("pgrec:claim")};
    SPI_execute_with_args("SELECT pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext($1))", 1, t, v,
                          nullptr, false, 0);
  }
  if (worker_registry_count(true) >= guc_max_workers) {  // no free slot yet: the dispatcher retries
    commit_work();
    proc_exit(0);
  }
  update_job(
      "UPDATE rec.job_queue SET state = 'running', pid = pg_catalog.pg_backend_pid(), started_at = now() "
      "WHERE id = (SELECT q.id FROM rec.job_queue q WHERE q.id = $1 AND q.state = 'queued' FOR UPDATE SKIP LOCKED) "
      "RETURNING model, algorithm, params::text, source, user_col, item_col, rating_col, device, kind, "
      "args OPERATOR(pg_catalog.->>) 'search_path'",
      job, 0, nullptr, nullptr, nullptr);
  if (SPI_processed != 1) {  // cancelled, or claimed by another worker
    commit_work();
    proc_exit(0);
  }
  // Counted as running before the claim lock is released.
  worker_registry_claimed();
  pgstat_report_appname(kClaimedJobName);
  const char* model = column(1, job_cxt);
  const char* algorithm = column(2, job_cxt);
  const char* params_text = column(3, job_cxt);
  SourceSpec spec;
  spec.source = column(4, job_cxt);
  spec.user_col = column(5, job_cxt);
  spec.item_col = column(6, job_cxt);
  spec.rating_col = column(7, job_cxt);
  const char* device = column(8, job_cxt);
  const bool tune = strcmp(column(9, job_cxt), "tune") == 0;
  // Feature queries run with the submitter's search_path (the source is qualified at submission).
  spec.search_path = column(10, job_cxt);
  commit_work();

  Owned<TrainState>* volatile owner = nullptr;
  PG_TRY();
  {
    if (tune)
      run_tune_job(job, spec.search_path);
    else
      run_train_job(job, model, algorithm, params_text, &spec, device, job_cxt, const_cast<Owned<TrainState>**>(&owner));
  }
  PG_CATCH();
  {
    MemoryContextSwitchTo(job_cxt);
    ErrorData* e = CopyErrorData();
    FlushErrorState();
    AbortCurrentTransaction();
    // The first line only: a LibTorch error carries its C++ backtrace after it.
    char* message = pstrdup(e->message != nullptr ? e->message : "unknown error");
    message[strcspn(message, "\n")] = '\0';
    begin_work();
    Oid t[3] = {BOOLOID, TEXTOID, TEXTOID};
    Datum v[3] = {BoolGetDatum(e->sqlerrcode == ERRCODE_QUERY_CANCELED),
                  CStringGetTextDatum(message),
                  CStringGetTextDatum(unpack_sql_state(e->sqlerrcode))};
    update_job("UPDATE rec.job_queue SET state = CASE WHEN $2 THEN 'cancelled' ELSE 'failed' END, "
               "error = CASE WHEN $2 THEN 'cancelled' ELSE $3 END, error_code = $4, finished_at = now() "
               "WHERE id = $1",
               job, 3, t, v, nullptr);
    commit_work();
  }
  PG_END_TRY();
  if (owner != nullptr) release(const_cast<Owned<TrainState>*>(owner));
  launch_dispatcher(MyDatabaseId);  // a slot is free: start what waits
  proc_exit(0);
}

// For one database: marks jobs whose worker is gone as failed, starts workers for queued jobs,
// and submits the jobs of due schedules.
void pgrec_dispatcher_main(Datum arg) {
  const Oid database = DatumGetObjectId(arg);
  pqsignal(SIGTERM, die);
  BackgroundWorkerUnblockSignals();
  BackgroundWorkerInitializeConnectionByOid(database, InvalidOid, 0);
  begin_work();
  SPI_execute("SELECT 1 WHERE pg_catalog.to_regclass('rec.job_queue') IS NOT NULL", true, 1);
  const bool installed = SPI_processed == 1;
  // Model files of versions (or of a pgrec) dropped here since.
  prune_model_files(nullptr, 0, installed);
  if (!installed) {  // pgrec (with jobs) is not installed here
    commit_work();
    proc_exit(0);
  }
  // Jobs whose worker is gone (pgrec's shared state says which pids are its workers).
  SPI_execute("SELECT id, pid FROM rec.job_queue WHERE state IN ('running', 'cancelling')", true, 0);
  SPITupleTable* running = SPI_tuptable;
  const uint64 n_running = SPI_processed;
  for (uint64 r = 0; r < n_running; ++r) {
    bool null_pid, isnull;
    const Datum pid = SPI_getbinval(running->vals[r], running->tupdesc, 2, &null_pid);
    if (!null_pid && is_training_worker(DatumGetInt32(pid))) continue;
    update_job("UPDATE rec.job_queue SET state = CASE WHEN state = 'cancelling' THEN 'cancelled' ELSE 'failed' END, "
               "error = 'worker crashed or was stopped before the job finished', error_code = 'XX000', "
               "finished_at = now() WHERE id = $1 AND state IN ('running', 'cancelling')",
               DatumGetInt64(SPI_getbinval(running->vals[r], running->tupdesc, 1, &isnull)), 0, nullptr, nullptr, nullptr);
  }
  // Grants to roles that were dropped (by OID they never pass to a new role of the same name).
  if (owners_by_oid())
    SPI_execute("DELETE FROM rec.model_grants g WHERE g.grantee::pg_catalog.oid OPERATOR(pg_catalog.<>) 0 AND NOT EXISTS "
                "(SELECT 1 FROM pg_catalog.pg_roles r WHERE r.oid OPERATOR(pg_catalog.=) g.grantee::pg_catalog.oid)",
                false, 0);
  // Jobs that can never start: their role was dropped or may not log in (a worker connects as it).
  SPI_execute(
      "UPDATE rec.job_queue q SET state = 'failed', finished_at = now(), "
      "error_code = CASE WHEN r.oid IS NULL THEN '42704' ELSE '28000' END, "
      "error = CASE WHEN r.oid IS NULL THEN 'the role that submitted the job no longer exists' "
      "ELSE pg_catalog.format('role %s cannot log in, and a job runs as the role that submitted it', r.rolname) END "
      "FROM rec.job_queue j LEFT JOIN pg_catalog.pg_roles r ON r.oid OPERATOR(pg_catalog.=) j.submitted_by "
      "WHERE q.id OPERATOR(pg_catalog.=) j.id AND j.state = 'queued' AND (r.oid IS NULL OR NOT r.rolcanlogin)",
      false, 0);
  SPI_execute("SELECT id, submitted_by FROM rec.job_queue WHERE state = 'queued' ORDER BY id LIMIT 64", true, 0);
  const uint64 n = SPI_processed;
  int64 ids[64];
  Oid roles[64];
  for (uint64 r = 0; r < n && r < 64; ++r) {
    bool isnull;
    ids[r] = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 1, &isnull));
    roles[r] = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 2, &isnull));
  }
  commit_work();
  for (uint64 r = 0; r < n && r < static_cast<uint64>(guc_max_workers); ++r) {
    JobLaunch launch{database, roles[r], InvalidTransactionId};
    launch_job_worker(ids[r], &launch);
  }
  // Schedules that are due submit their jobs (the queue's trigger starts them, as their owners).
  begin_work();
  SPI_execute("SELECT 1 WHERE pg_catalog.to_regprocedure('rec._run_schedules()') IS NOT NULL", true, 1);
  if (SPI_processed == 1) SPI_execute("SELECT rec._run_schedules()", false, 0);
  commit_work();
  proc_exit(0);
}

// Starts a dispatcher for every database that allows connections, one after the other, at start
// and every naptime.
void pgrec_launcher_main(Datum) {
  pqsignal(SIGTERM, die);
  BackgroundWorkerUnblockSignals();
  BackgroundWorkerInitializeConnection(nullptr, nullptr, 0);
  for (;;) {
    Oid databases[256];
    Oid all[256];
    int n = 0, n_all = 0;
    StartTransactionCommand();
    Relation rel = table_open(DatabaseRelationId, AccessShareLock);
    TableScanDesc scan = table_beginscan_catalog(rel, 0, nullptr);
    HeapTuple tuple;
    bool complete = true;
    while ((tuple = heap_getnext(scan, ForwardScanDirection)) != nullptr) {
      Form_pg_database db = reinterpret_cast<Form_pg_database>(GETSTRUCT(tuple));
      if (n_all == 256) {
        complete = false;
        break;
      }
      all[n_all++] = db->oid;
      if (db->datallowconn && !db->datistemplate) databases[n++] = db->oid;
    }
    table_endscan(scan);
    table_close(rel, AccessShareLock);
    // Model files of dropped databases (only when every database was read).
    if (complete && n_all > 0) prune_model_files(all, n_all, false);
    CommitTransactionCommand();
    for (int i = 0; i < n; ++i) dispatch_and_wait(databases[i]);
    (void)WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, guc_naptime * 1000L,
                    PG_WAIT_EXTENSION);
    ResetLatch(MyLatch);
    CHECK_FOR_INTERRUPTS();
  }
}
