// Settings of the module, read by the SQL entry points.
#pragma once

#include "postgres_includes.h"

namespace pgrec::pg {
extern int guc_threads;  // pgrec.threads
}
