// pgrec's own record, in shared memory, of the training workers it started: which process runs
// which job and whether it has claimed it. Job slots are counted here, never from what a session
// can say about itself (application_name) or from a transaction's snapshot of pg_stat_activity.
#pragma once

#include <cstdint>

#include "postgres_includes.h"

namespace pgrec::pg {

// Asks for the registry's shared memory (from _PG_init of the preloaded library).
void worker_registry_init();

// Reserves a slot for the worker about to be launched for `job` (it counts from now on; a worker
// that has not started within ten seconds never will). False when every slot is held.
bool worker_registry_reserve(std::int64_t job);

// Gives back the reservation of `job` (its worker could not be launched).
void worker_registry_release(std::int64_t job);

// Enters this process (a job worker) for `job`, in its reserved slot when there is one; it leaves the registry when the process exits.
// False when the registry is full or absent (pgrec not preloaded).
bool worker_registry_enter(std::int64_t job);

// Marks this process's entry as running its job (it claimed the job's row).
void worker_registry_claimed();

// Live workers in the registry other than this process: all, or only those that claimed a job.
int worker_registry_count(bool claimed_only);

}  // namespace pgrec::pg
