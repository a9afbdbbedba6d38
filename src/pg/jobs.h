// Background training jobs: launching workers and what the workers run.
#pragma once

#include <cstdint>

#include "postgres_includes.h"

namespace pgrec::pg {

// True when pgrec was loaded through shared_preload_libraries (set in the postmaster).
extern bool preloaded;

// What a job worker needs before it can connect (passed in bgw_extra).
struct JobLaunch {
  Oid database;
  Oid role;
  TransactionId submitter;  // the transaction that inserted the job, or invalid
};

// Registers a background worker that runs job `job`; false when no worker slot was free.
bool launch_job_worker(std::int64_t job, const JobLaunch* launch);

// Registers a worker that reaps dead jobs of a database and starts its queued ones.
bool launch_dispatcher(Oid database);

// Registers the launcher (called from _PG_init in the postmaster).
void register_launcher();

// Raises 22023 unless `device` is auto, cpu, cuda or cuda:N.
void check_device(const char* device);

}  // namespace pgrec::pg
