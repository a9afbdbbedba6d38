// rec.train_async: validate, queue the job, and start a worker for it.
#include <cstring>

#include "jobs.h"

#include "boundary.h"
#include "module.h"
#include "source_reader.h"
#include "train_run.h"

extern "C" {
PG_FUNCTION_INFO_V1(pgrec_train_async);
PG_FUNCTION_INFO_V1(pgrec_launch_job);
}

namespace pgrec::pg {

void check_device(const char* device) {
  if (strcmp(device, "auto") == 0 || strcmp(device, "cpu") == 0 || strcmp(device, "cuda") == 0 ||
      strcmp(device, "torch-cpu") == 0)
    return;
  if (strncmp(device, "cuda:", 5) == 0 && device[5] != '\0' && strspn(device + 5, "0123456789") == strlen(device + 5))
    return;
  ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("unknown device \"%s\"", device),
                  errhint("Devices: auto, cpu, cuda, cuda:N, torch-cpu.")));
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
  JobLaunch launch{MyDatabaseId, GetUserId(), GetTopTransactionId()};
  PG_RETURN_BOOL(launch_job_worker(PG_GETARG_INT64(0), &launch));
}

// rec.train_async(model, source, user_col, item_col, rating_col, algorithm, params, device) -> job
Datum pgrec_train_async(PG_FUNCTION_ARGS) {
  using namespace pgrec::pg;
  require_preloaded();
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
  if (SPI_execute_with_args(
          "INSERT INTO rec.job_queue (model, algorithm, params, source, user_col, item_col, rating_col, device, args) "
          "VALUES ($1, $2, COALESCE($3, '{}'), $4, $5, $6, $7, $8, "
          "pg_catalog.jsonb_build_object('search_path', pg_catalog.current_setting('search_path'))) RETURNING id",
          8, types, values, nulls, false, 1) != SPI_OK_INSERT_RETURNING)
    elog(ERROR, "pgrec: could not queue the job");
  bool isnull;
  const int64 job = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
  SPI_finish();

  JobLaunch launch{MyDatabaseId, GetUserId(), GetTopTransactionId()};
  if (!launch_job_worker(job, &launch))
    ereport(NOTICE, (errmsg("no background worker slot is free: job %lld waits in the queue",
                            static_cast<long long>(job)),
                     errhint("Raise max_worker_processes to run more jobs at once.")));
  PG_RETURN_INT64(job);
}
