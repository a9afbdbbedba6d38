// The module: magic block, GUCs, and what every backend sets up when it loads pgrec.
#include <climits>
#include <string>
#include <cstdio>
#include <cstdlib>
#include <unistd.h>
#include <cstring>

#include "module.h"

#include "jobs.h"
#include "worker_registry.h"

extern "C" {
PG_MODULE_MAGIC;
void _PG_init(void);
}

namespace pgrec::pg {
int guc_threads = 1;
int guc_max_workers = 2;
int guc_naptime = 10;
char* guc_device = nullptr;
int guc_ann_min_items = 200000;
int guc_ann_probes = 0;
bool guc_log_recommendations = false;
double guc_log_sample_rate = 1.0;
double guc_ann_recall = 0.95;
double guc_progress_interval = 2.0;
char* guc_default_model = nullptr;
int guc_max_training_memory = 0;

namespace {

// Lowers `memory` to the number in `path` (a cgroup's memory limit file) when there is a smaller one.
void lower_to_limit_in(const std::string& path, std::uint64_t* memory) {
  FILE* f = fopen(path.c_str(), "r");
  if (f == nullptr) return;
  unsigned long long limit = 0;
  if (fscanf(f, "%llu", &limit) == 1 && limit > 0 && limit < *memory) *memory = limit;  // "max": none
  fclose(f);
}

// The memory this process may use: the machine's, or the smallest limit of its memory cgroup and
// the cgroups above it (cgroup v2 "0::/path", or v1 "N:memory:/path" in /proc/self/cgroup).
std::uint64_t usable_memory() {
  std::uint64_t memory = static_cast<std::uint64_t>(sysconf(_SC_PHYS_PAGES)) * static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE));
  FILE* f = fopen("/proc/self/cgroup", "r");
  if (f == nullptr) return memory;
  char line[1024];
  while (fgets(line, sizeof line, f) != nullptr) {
    std::string entry(line);
    while (!entry.empty() && entry.back() == '\n') entry.pop_back();
    const bool v2 = entry.rfind("0::", 0) == 0;
    const std::size_t v1 = entry.find(":memory:");
    if (!v2 && v1 == std::string::npos) continue;
    std::string dir = v2 ? entry.substr(3) : entry.substr(v1 + 8);
    const std::string root = v2 ? "/sys/fs/cgroup" : "/sys/fs/cgroup/memory";
    const char* file = v2 ? "/memory.max" : "/memory.limit_in_bytes";
    for (;;) {  // this cgroup and every one above it
      lower_to_limit_in(root + (dir == "/" ? "" : dir) + file, &memory);
      if (dir.empty() || dir == "/") break;
      dir = dir.substr(0, dir.rfind('/'));
    }
  }
  fclose(f);
  return memory;
}

}  // namespace

uint64 training_memory_limit() {
  if (guc_max_training_memory > 0) return static_cast<std::uint64_t>(guc_max_training_memory) * 1024;
  // Auto: the memory this server may use, shared by the sessions and the pgrec.max_workers jobs
  // that may train at once.
  return usable_memory() / static_cast<std::uint64_t>(guc_max_workers + 1);
}

bool device_name_ok(const char* v) {
  if (strcmp(v, "auto") == 0 || strcmp(v, "cpu") == 0 || strcmp(v, "cuda") == 0 || strcmp(v, "torch-cpu") == 0)
    return true;
  // cuda:N with N a device number LibTorch can hold (at most 1023, no sign, no overflow).
  const char* n = v + 5;
  return strncmp(v, "cuda:", 5) == 0 && n[0] != '\0' && strlen(n) <= 4 && strspn(n, "0123456789") == strlen(n) &&
         atoi(n) <= 1023;
}
}

namespace {

// Accepts only device names pgrec knows.
bool check_device_guc(char** value, void**, GucSource) {
  if (*value == nullptr || pgrec::pg::device_name_ok(*value)) return true;
  GUC_check_errdetail("Devices: auto, cpu, cuda, cuda:N (N up to 1023), torch-cpu.");
  return false;
}

}  // namespace

// Defines pgrec's settings; torch is never touched here.
void _PG_init(void) {
  DefineCustomIntVariable("pgrec.threads", "Threads one pgrec call may use: training and rec.recommend_all.",
                          "Worker threads of the training loops and of batch serving (rec.recommend_all) in this session.",
                          &pgrec::pg::guc_threads, 1, 1, 64, PGC_USERSET, 0, nullptr, nullptr,
                          nullptr);
  DefineCustomIntVariable("pgrec.max_workers", "Training jobs that may run at once.",
                          "Background workers running rec.train_async jobs; more wait in the queue.",
                          &pgrec::pg::guc_max_workers, 2, 1, 64, PGC_SIGHUP, 0, nullptr, nullptr,
                          nullptr);
  DefineCustomIntVariable("pgrec.naptime", "Seconds between the launcher's passes over databases.",
                          "Each pass reaps jobs whose worker died and starts queued jobs.",
                          &pgrec::pg::guc_naptime, 10, 1, 3600, PGC_SIGHUP, GUC_UNIT_S, nullptr,
                          nullptr, nullptr);
  DefineCustomStringVariable("pgrec.device", "Default device of training jobs.",
                             "auto (a GPU when one is visible, else the CPU), cpu, cuda or cuda:N.",
                             &pgrec::pg::guc_device, "auto", PGC_USERSET, 0, check_device_guc,
                             nullptr, nullptr);
  DefineCustomIntVariable("pgrec.ann_min_items", "Catalog size from which training builds an approximate index.",
                          "Factor models (als, bpr, sgd_mf, svdpp) with at least this many items get an IVF "
                          "index over their item factors, used by rec.recommend unless exact => true; 0 never builds one.",
                          &pgrec::pg::guc_ann_min_items, 200000, 0, INT_MAX, PGC_USERSET, 0, nullptr, nullptr,
                          nullptr);
  DefineCustomIntVariable("pgrec.ann_probes", "IVF lists an approximate recommend scans; 0: the model's calibrated number.",
                          "More lists: higher recall, slower; the search widens by itself when filters leave fewer than k items.",
                          &pgrec::pg::guc_ann_probes, 0, 0, 1000000, PGC_USERSET, 0, nullptr, nullptr, nullptr);
  DefineCustomRealVariable("pgrec.ann_recall", "Recall@10 an approximate index is calibrated to when trained.",
                           "Training picks the fewest IVF lists to scan that find this share of the exact top 10 for a "
                           "sample of users; an index that cannot do better than a full scan is not used.",
                           &pgrec::pg::guc_ann_recall, 0.95, 0.0, 1.0, PGC_USERSET, 0, nullptr, nullptr, nullptr);
  DefineCustomRealVariable("pgrec.progress_interval", "Seconds between the progress NOTICEs of rec.train.",
                           "A NOTICE with the epoch, the loss and the estimated time left; 0 reports every epoch. "
                           "client_min_messages = warning silences them.",
                           &pgrec::pg::guc_progress_interval, 2.0, 0.0, 86400.0, PGC_USERSET, GUC_UNIT_S, nullptr,
                           nullptr, nullptr);
  DefineCustomStringVariable("pgrec.default_model", "The model rec.recommend(user, k) serves.",
                             "Empty: the model deployed last among those the current role owns. Set it per role or "
                             "database (ALTER ROLE ... SET) to serve a model granted by another role.",
                             &pgrec::pg::guc_default_model, "", PGC_USERSET, 0, nullptr, nullptr, nullptr);
  DefineCustomIntVariable("pgrec.max_training_memory", "Memory one training may need; 0: automatic.",
                          "Training estimates its peak memory before it allocates and refuses (53200) what would need "
                          "more. 0: the server's memory (or its cgroup's limit) divided by pgrec.max_workers + 1.",
                          &pgrec::pg::guc_max_training_memory, 0, 0, INT_MAX, PGC_SUSET, GUC_UNIT_KB, nullptr, nullptr,
                          nullptr);
  DefineCustomBoolVariable("pgrec.log_recommendations", "Whether rec.recommend records what it served in rec.served.",
                           "One row per call (model, version, user, items in rank order, time), sampled by "
                           "pgrec.log_sample_rate; rec.online_metrics joins them with later interactions. Calls on a "
                           "standby, in a read-only transaction or in a parallel worker record nothing.",
                           &pgrec::pg::guc_log_recommendations, false, PGC_USERSET, 0, nullptr, nullptr, nullptr);
  DefineCustomRealVariable("pgrec.log_sample_rate", "The share of rec.recommend calls recorded when logging is on.",
                           "Each call is recorded with this probability (1: every call).",
                           &pgrec::pg::guc_log_sample_rate, 1.0, 0.0, 1.0, PGC_USERSET, 0, nullptr, nullptr, nullptr);
  MarkGUCPrefixReserved("pgrec");
  if (process_shared_preload_libraries_in_progress) {
    pgrec::pg::preloaded = true;
    pgrec::pg::worker_registry_init();
    pgrec::pg::register_launcher();
  }
}
