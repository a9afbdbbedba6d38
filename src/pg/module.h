// Settings of the module, read by the SQL entry points.
#pragma once

#include "postgres_includes.h"

namespace pgrec::pg {
extern int guc_threads;      // pgrec.threads
extern int guc_max_workers;  // pgrec.max_workers
extern int guc_naptime;      // pgrec.naptime (seconds)
extern char* guc_device;     // pgrec.device
extern int guc_ann_min_items;  // pgrec.ann_min_items: factor models this large get an IVF index
extern int guc_ann_probes;     // pgrec.ann_probes: IVF lists an approximate search scans (0: calibrated)
extern double guc_ann_recall;
extern double guc_progress_interval;  // pgrec.progress_interval: seconds between rec.train's progress NOTICEs
extern char* guc_default_model;  // pgrec.default_model: the model rec.recommend(user, k) serves ("" : own latest)

extern bool guc_log_recommendations;  // pgrec.log_recommendations: rec.recommend records what it served
extern double guc_log_sample_rate;      // pgrec.log_sample_rate: the share of calls recorded
extern int guc_max_training_memory;  // pgrec.max_training_memory (kB; 0: automatic)

// The bytes one training may need: pgrec.max_training_memory, or the automatic share of memory.
uint64 training_memory_limit();

// Whether `device` names a device pgrec knows: auto, cpu, cuda, cuda:N (N <= 1023), torch-cpu.
bool device_name_ok(const char* device);  // pgrec.ann_recall: the recall@10 training calibrates the index to
}
