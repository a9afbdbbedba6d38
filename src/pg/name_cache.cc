#include <cstring>

#include "name_cache.h"

#include "model_store.h"

extern "C" {
PG_FUNCTION_INFO_V1(pgrec_models_changed);
}

namespace pgrec::pg {

namespace {

constexpr int kEntries = 64;
constexpr int kNameBytes = 201;  // model names have at most 200 characters

struct Entry {
  Oid role;
  char name[kNameBytes];
  std::int64_t version_id;
};

Entry entries[kEntries];
int used = 0;
int next_slot = 0;
bool registered = false;

// Versions a role was found allowed to use.
struct Access {
  Oid role;
  std::int64_t version_id;
};
Access allowed[kEntries];
int allowed_used = 0;
int allowed_next = 0;

// Forgets everything (an invalidation callback).
void clear_cache(Datum, Oid) { used = allowed_used = 0; }

// Forgets everything (a syscache invalidation callback: role memberships changed).
void clear_cache_syscache(Datum, int, uint32) { used = allowed_used = 0; }

// Hooks the cache to relcache and role invalidations, once per backend.
void ensure_registered() {
  if (registered) return;
  CacheRegisterRelcacheCallback(clear_cache, 0);
  CacheRegisterSyscacheCallback(AUTHMEMROLEMEM, clear_cache_syscache, 0);
  CacheRegisterSyscacheCallback(AUTHOID, clear_cache_syscache, 0);
  registered = true;
}

}  // namespace

bool name_cache_get(const char* model, std::int64_t* version_id) {
  if (used == 0) return false;
  AcceptInvalidationMessages();  // deployments committed since this statement began
  const Oid role = GetUserId();
  for (int i = 0; i < used; ++i)
    if (entries[i].role == role && strcmp(entries[i].name, model) == 0) {
      *version_id = entries[i].version_id;
      return true;
    }
  return false;
}

void name_cache_put(const char* model, std::int64_t version_id) {
  // Under 0.1.0's SQL (before ALTER EXTENSION UPDATE) no trigger invalidates: never cache.
  if (strlen(model) >= kNameBytes || !has_model_owners()) return;
  ensure_registered();
  Entry& e = used < kEntries ? entries[used++] : entries[next_slot++ % kEntries];
  e.role = GetUserId();
  strlcpy(e.name, model, kNameBytes);
  e.version_id = version_id;
}

bool access_cache_get(std::int64_t version_id) {
  if (allowed_used == 0) return false;
  AcceptInvalidationMessages();  // grants or owners changed since this statement began
  const Oid role = GetUserId();
  for (int i = 0; i < allowed_used; ++i)
    if (allowed[i].role == role && allowed[i].version_id == version_id) return true;
  return false;
}

void access_cache_put(std::int64_t version_id) {
  ensure_registered();
  Access& a = allowed_used < kEntries ? allowed[allowed_used++] : allowed[allowed_next++ % kEntries];
  a.role = GetUserId();
  a.version_id = version_id;
}

}  // namespace pgrec::pg

// rec._models_changed(): statement trigger on deployments, owners and grants; makes every
// backend drop its cached name resolutions when the change commits.
Datum pgrec_models_changed(PG_FUNCTION_ARGS) {
  if (!CALLED_AS_TRIGGER(fcinfo)) elog(ERROR, "pgrec: rec._models_changed must be called as a trigger");
  CacheInvalidateRelcache(reinterpret_cast<TriggerData*>(fcinfo->context)->tg_relation);
  return PointerGetDatum(nullptr);
}
