// The opt-in log of served recommendations (rec.served), for online metrics.
#pragma once

#include "model.h"
#include "postgres_includes.h"
#include "ranking.h"

namespace pgrec::pg {

// Records the list served to `user` from version `version_id` in rec.served when
// pgrec.log_recommendations is on and the call is sampled; records nothing on a standby, in a
// read-only transaction or in a parallel worker, or before the catalog has rec.served.
void log_served(std::int64_t version_id, const Model* model, const IdRef& user, const Scored* ranked, int count);

}  // namespace pgrec::pg
