#include "worker_registry.h"

namespace pgrec::pg {

namespace {

constexpr int kSlots = 128;
constexpr int kReservedPid = -1;
constexpr long kReservationMs = 10000;  // a worker that has not started by then never will

struct Slot {
  int pid;  // 0: free; kReservedPid: launched, not started yet
  std::int64_t job;
  bool claimed;
  TimestampTz reserved_at;
};

struct Registry {
  LWLock* lock;  // held while slots are read or changed (liveness checks take ProcArrayLock)
  Slot slots[kSlots];
};

Registry* registry = nullptr;
shmem_request_hook_type previous_request = nullptr;
shmem_startup_hook_type previous_startup = nullptr;

// Reserves the registry's shared memory.
void request_memory() {
  if (previous_request != nullptr) previous_request();
  RequestAddinShmemSpace(sizeof(Registry));
  RequestNamedLWLockTranche("pgrec worker registry", 1);
}

// Creates (in the postmaster) or attaches to the registry.
void attach() {
  if (previous_startup != nullptr) previous_startup();
  LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
  bool found;
  registry = static_cast<Registry*>(ShmemInitStruct("pgrec worker registry", sizeof(Registry), &found));
  if (!found) {
    registry->lock = &(GetNamedLWLockTranche("pgrec worker registry"))->lock;
    memset(registry->slots, 0, sizeof registry->slots);
  }
  LWLockRelease(AddinShmemInitLock);
}

// Whether a slot holds a worker: a live process (one killed with SIGKILL never cleared its slot,
// but then the postmaster reinitialises shared memory), or a launch too recent to have started.
bool held(const Slot& s, TimestampTz now) {
  if (s.pid == kReservedPid) return !TimestampDifferenceExceeds(s.reserved_at, now, kReservationMs);
  return s.pid > 0 && BackendPidGetProc(s.pid) != nullptr;
}

// Frees this process's slot (before_shmem_exit callback).
void leave(int, Datum) {
  if (registry == nullptr) return;
  LWLockAcquire(registry->lock, LW_EXCLUSIVE);
  for (Slot& s : registry->slots)
    if (s.pid == MyProcPid) s = Slot{0, 0, false, 0};
  LWLockRelease(registry->lock);
}

}  // namespace

void worker_registry_init() {
  previous_request = shmem_request_hook;
  shmem_request_hook = request_memory;
  previous_startup = shmem_startup_hook;
  shmem_startup_hook = attach;
}

bool worker_registry_reserve(std::int64_t job) {
  if (registry == nullptr) return false;
  const TimestampTz now = GetCurrentTimestamp();
  bool reserved = false;
  LWLockAcquire(registry->lock, LW_EXCLUSIVE);
  for (Slot& s : registry->slots)
    if (!held(s, now)) {
      s = Slot{kReservedPid, job, false, now};
      reserved = true;
      break;
    }
  LWLockRelease(registry->lock);
  return reserved;
}

void worker_registry_release(std::int64_t job) {
  if (registry == nullptr) return;
  LWLockAcquire(registry->lock, LW_EXCLUSIVE);
  for (Slot& s : registry->slots)
    if (s.pid == kReservedPid && s.job == job) {
      s = Slot{0, 0, false, 0};
      break;
    }
  LWLockRelease(registry->lock);
}

bool worker_registry_enter(std::int64_t job) {
  if (registry == nullptr) return false;
  const TimestampTz now = GetCurrentTimestamp();
  Slot* mine = nullptr;
  LWLockAcquire(registry->lock, LW_EXCLUSIVE);
  for (Slot& s : registry->slots)  // the slot reserved at launch, else any free one
    if (s.pid == kReservedPid && s.job == job) {
      mine = &s;
      break;
    }
  for (Slot& s : registry->slots)
    if (mine == nullptr && !held(s, now)) mine = &s;
  if (mine != nullptr) *mine = Slot{MyProcPid, job, false, now};
  LWLockRelease(registry->lock);
  if (mine != nullptr) before_shmem_exit(leave, 0);
  return mine != nullptr;
}

void worker_registry_claimed() {
  if (registry == nullptr) return;
  LWLockAcquire(registry->lock, LW_EXCLUSIVE);
  for (Slot& s : registry->slots)
    if (s.pid == MyProcPid) s.claimed = true;
  LWLockRelease(registry->lock);
}

int worker_registry_count(bool claimed_only) {
  if (registry == nullptr) return 0;
  Slot copy[kSlots];
  LWLockAcquire(registry->lock, LW_SHARED);
  memcpy(copy, registry->slots, sizeof copy);
  LWLockRelease(registry->lock);
  const TimestampTz now = GetCurrentTimestamp();
  int n = 0;
  for (const Slot& s : copy)
    if (s.pid != MyProcPid && held(s, now) && (!claimed_only || s.claimed)) ++n;
  return n;
}

}  // namespace pgrec::pg
