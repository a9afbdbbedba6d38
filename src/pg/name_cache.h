// A per-backend cache of which version serves a model name for a role, so that rec.recommend
// does not query rec.deployments on every call. Emptied whenever deployments, owners or grants
// change (a trigger sends a relcache invalidation at commit) or role memberships do.
#pragma once

#include <cstdint>

#include "postgres_includes.h"

namespace pgrec::pg {

// The cached version of `model` ("" for the default model) for the current role, if any.
bool name_cache_get(const char* model, std::int64_t* version_id);

// Remembers the version serving `model` for the current role.
void name_cache_put(const char* model, std::int64_t version_id);

// Whether the current role was found, since the last change, to be allowed to use a version.
bool access_cache_get(std::int64_t version_id);

// Remembers that the current role may use a version.
void access_cache_put(std::int64_t version_id);

}  // namespace pgrec::pg
