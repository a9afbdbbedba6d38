// The module: magic block, GUCs, and what every backend sets up when it loads pgrec.
#include "module.h"

extern "C" {
PG_MODULE_MAGIC;
void _PG_init(void);
}

namespace pgrec::pg {
int guc_threads = 1;
}

// Defines pgrec's settings; torch is never touched here.
void _PG_init(void) {
  DefineCustomIntVariable("pgrec.threads", "Threads one pgrec call may use for training.",
                          "Worker threads of ALS and other training loops in this session.",
                          &pgrec::pg::guc_threads, 1, 1, 64, PGC_USERSET, 0, nullptr, nullptr,
                          nullptr);
  MarkGUCPrefixReserved("pgrec");
}
