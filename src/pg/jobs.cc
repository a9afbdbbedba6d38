// rec.train_async: validate, queue the job, and start a worker for it.
#include <cstring>

#include "jobs.h"
#include "distributed.h"

#include "boundary.h"
#include "module.h"
#include "source_reader.h"
#include "train_run.h"

extern "C" {
PG_FUNCTION_INFO_V1(pgrec_train_async);
PG_FUNCTION_INFO_V1(pgrec_launch_job);
PG_FUNCTION_INFO_V1(pgrec_job_worker_alive);
PG_FUNCTION_INFO_V1(pgrec_jobs_queued);
PG_FUNCTION_INFO_V1(pgrec_jobs_available);
}

namespace pgrec::pg {

void check_device(const char* device) {
  if (device_name_ok(device)) return;
  ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("unknown device \"%s\"", device),
                  errhint("Devices: auto, cpu, cuda, cuda:N (N up to 1023), torch-cpu.")));
}

void require_login_role(Oid role) {
  HeapTuple tuple = SearchSysCache1(AUTHOID, ObjectIdGetDatum(role));
  if (!HeapTupleIsValid(tuple))
    ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT), errmsg("role %u does not exist", role)));
  const Form_pg_authid form = reinterpret_cast<Form_pg_authid>(GETSTRUCT(tuple));
  const bool can_login = form->rolcanlogin;
  const char* name = pstrdup(NameStr(form->rolname));
  ReleaseSysCache(tuple);
  if (!can_login)
    ereport(ERROR, (errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
                    errmsg("role %s cannot log in, and a background job runs as the role that submits it",
                           quote_identifier(name)),
                    errhint("Submit the job as a role with LOGIN (RESET ROLE), or train in this session with rec.train.")));
}

}  // namespace pgrec::pg

namespace {

// Raises 55000 unless pgrec was preloaded (background workers need it).
void require_preloaded() {
  if (!pgrec::pg::preloaded)
    ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                    errmsg("background training needs pgrec in shared_preload_libraries"),
                    errhint("Add shared_preload_libraries = 'pgrec' to postgresql.conf and restart; "
                            "rec.train trains in this session meanwhile.")));
}

}  // namespace

// rec._launch_job(job) -> whether a worker slot was free; the worker starts once this commits
Datum pgrec_launch_job(PG_FUNCTION_ARGS) {
  using namespace pgrec::pg;
  require_preloaded();
  require_login_role(GetUserId());
  JobLaunch launch{MyDatabaseId, GetUserId(), GetTopTransactionId()};
  PG_RETURN_BOOL(launch_job_worker(PG_GETARG_INT64(0), &launch));
}

// rec.train_async(model, source, user_col, item_col, rating_col, algorithm, params, device) -> job
Datum pgrec_train_async(PG_FUNCTION_ARGS) {
  using namespace pgrec::pg;
  require_preloaded();
  require_login_role(GetUserId());
  SourceSpec spec;
  const char* algorithm;
  Jsonb* params;
  const char* model = train_arguments(fcinfo, &spec, &algorithm, &params);
  params = with_named_params(fcinfo, 8, params);
  spec.source = qualified_source(spec.source);
  const char* device = PG_ARGISNULL(7) ? guc_device : text_to_cstring(PG_GETARG_TEXT_PP(7));
  check_device(device);

  // Fail at submission on bad parameters rather than in the worker.
  TrainState* state = nullptr;
  PGREC_CXX(state = new TrainState());
  Owned<TrainState>* owner = own(state, CurrentMemoryContext);
  SPI_connect();
  train_parse_params(state, algorithm, spec.rating_col != nullptr, params);
  const bool distributed = state->ranks > 0;
  if (distributed) check_distributable(state);
  release(owner);

  Oid types[9] = {TEXTOID, TEXTOID, JSONBOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, INT4OID};
  Datum values[9] = {CStringGetTextDatum(model),
                     CStringGetTextDatum(algorithm),
                     params != nullptr ? JsonbPGetDatum(params) : (Datum)0,
                     CStringGetTextDatum(spec.source),
                     CStringGetTextDatum(spec.user_col),
                     CStringGetTextDatum(spec.item_col),
                     spec.rating_col != nullptr ? CStringGetTextDatum(spec.rating_col) : (Datum)0,
                     CStringGetTextDatum(device),
                     Int32GetDatum(0)};
  char nulls[9] = {' ', ' ', params != nullptr ? ' ' : 'n', ' ', ' ', ' ',
                   spec.rating_col != nullptr ? ' ' : 'n', ' ', ' '};
  // A distributed job's secret (two random UUIDs, 244 random bits) is stored with its parameters,
  // which row-level security shows to its submitter only: a rank proves it knows it (an HMAC over
  // every rank's nonce) before any data is exchanged.
  const char* stored_params =
      distributed ? "pg_catalog.jsonb_set($3, '{distributed,secret}', pg_catalog.to_jsonb(pg_catalog.replace("
                    "pg_catalog.gen_random_uuid()::pg_catalog.text OPERATOR(pg_catalog.||) "
                    "pg_catalog.gen_random_uuid()::pg_catalog.text, '-', '')))"
                  : "COALESCE($3, '{}')";
  if (SPI_execute_with_args(
          psprintf("INSERT INTO rec.job_queue (model, algorithm, params, source, user_col, item_col, rating_col, device, args) "
                   "VALUES ($1, $2, %s, $4, $5, $6, $7, $8, "
                   "pg_catalog.jsonb_build_object('search_path', pg_catalog.current_setting('search_path'))) RETURNING id",
                   stored_params),
          8, types, values, nulls, false, 1) != SPI_OK_INSERT_RETURNING)
    elog(ERROR, "pgrec: could not queue the job");
  bool isnull;
  const int64 job = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
  // pgrec's SQL from 0.4.0 on starts the worker from a trigger on the queue.
  SPI_execute("SELECT 1 FROM pg_catalog.pg_trigger WHERE tgrelid OPERATOR(pg_catalog.=) 'rec.job_queue'::pg_catalog.regclass "
              "AND tgname OPERATOR(pg_catalog.=) 'jobs_queued'", true, 1);
  const bool launched_by_trigger = SPI_processed == 1;
  SPI_finish();
  if (launched_by_trigger) PG_RETURN_INT64(job);

  JobLaunch launch{MyDatabaseId, GetUserId(), GetTopTransactionId()};
  if (!launch_job_worker(job, &launch))
    ereport(NOTICE, (errmsg("no background worker slot is free: job %lld waits in the queue",
                            static_cast<long long>(job)),
                     errhint("Raise max_worker_processes to run more jobs at once.")));
  PG_RETURN_INT64(job);
}

// rec.training_worker_alive(pid) -> whether pid is a live pgrec training worker (rec.jobs, rec.wait)
Datum pgrec_job_worker_alive(PG_FUNCTION_ARGS) {
  PG_RETURN_BOOL(pgrec::pg::is_training_worker(PG_GETARG_INT32(0)));
}

// rec._jobs_queued(): row trigger on rec.job_queue; starts a worker for each new queued job once
// the submitting transaction commits (or leaves it to the dispatcher when no slot is free)
Datum pgrec_jobs_queued(PG_FUNCTION_ARGS) {
  using namespace pgrec::pg;
  if (!CALLED_AS_TRIGGER(fcinfo)) elog(ERROR, "pgrec: rec._jobs_queued must be called as a trigger");
  TriggerData* trigger = reinterpret_cast<TriggerData*>(fcinfo->context);
  HeapTuple row = trigger->tg_trigtuple;
  TupleDesc desc = trigger->tg_relation->rd_att;
  bool isnull;
  const int64 job = DatumGetInt64(heap_getattr(row, 1, desc, &isnull));
  // The job runs as the role the row names: the submitter (row-level security makes a role name
  // itself), or a schedule's owner when the scheduler queued it.
  const AttrNumber role_column = SPI_fnumber(desc, "submitted_by");
  if (role_column <= 0) elog(ERROR, "pgrec: rec.job_queue has no submitted_by column");
  const Oid role = DatumGetObjectId(heap_getattr(row, role_column, desc, &isnull));
  require_preloaded();
  require_login_role(role);
  JobLaunch launch{MyDatabaseId, role, GetTopTransactionId()};
  if (!launch_job_worker(job, &launch))
    ereport(NOTICE, (errmsg("no background worker slot is free: job %lld waits in the queue", static_cast<long long>(job)),
                     errhint("Raise pgrec.max_workers (and max_worker_processes) to run more jobs at once.")));
  return PointerGetDatum(row);
}

// rec.jobs_available() -> whether background jobs and schedules can run here (pgrec preloaded)
Datum pgrec_jobs_available(PG_FUNCTION_ARGS) {
  (void)fcinfo;
  PG_RETURN_BOOL(pgrec::pg::preloaded);
}
