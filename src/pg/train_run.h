// The phases of one training run, shared by rec.train (one transaction) and the background
// worker (a transaction per phase, so progress is visible and no snapshot is held while training).
#pragma once

#include "postgres_includes.h"
#include "source_reader.h"
#include "train_state.h"

namespace pgrec::pg {

// Raises 22023 unless the algorithm is one pgrec can train, listing the ones it can.
void check_algorithm(const char* algorithm);

// Returns a required text argument as a C string, or raises 22023 naming it (null or empty).
char* required_text(FunctionCallInfo fcinfo, int arg, const char* name);

// Returns the model name in argument `arg`, raising 22023 when it is null, empty or too long.
const char* model_name_argument(FunctionCallInfo fcinfo, int arg);

// Checks rec.train-style arguments (model, source, user_col, item_col, rating_col, algorithm,
// params) of a SQL call, filling the source spec; returns the model name.
const char* train_arguments(FunctionCallInfo fcinfo, SourceSpec* spec, const char** algorithm,
                            Jsonb** params);

// Adds the named arguments time_col, item_features and user_features (arguments first, first + 1,
// first + 2, where present and not null) to params; they win over keys params already has.
Jsonb* with_named_params(FunctionCallInfo fcinfo, int first, Jsonb* params);

// Reads params and the source into the state. Call inside SPI_connect.
void train_prepare(TrainState* state, const char* algorithm, const SourceSpec* spec, Jsonb* params);

// Reads and checks `algorithm`'s params into the state without reading data. Call inside SPI_connect.
void train_parse_params(TrainState* state, const char* algorithm, bool has_ratings, Jsonb* params);

// Picks the device a job of `algorithm` trains on for a requested one (auto, cpu, torch-cpu,
// cuda, cuda:N): "cpu" (Eigen), or a LibTorch device; auto picks a GPU only for algorithms that
// can use one. Raises 0A000 for a GPU that is not there.
const char* resolve_device(const char* requested, const char* algorithm);

// Hands the data read to a trainer on `device` (a resolve_device result).
void train_start(TrainState* state, const char* device);

// Where one training run reports its progress: after every part of every epoch.
struct TrainProgress {
  std::int32_t epoch;  // 1-based, the epoch the part belongs to
  std::int32_t total;  // epochs asked for (training may stop earlier: Trainer::converged)
  std::int32_t part;   // 0-based part of the epoch (Trainer::parts)
  std::int32_t parts;
  double loss;         // the epoch's objective when the part ended it and it was computed, else NaN
  bool last;           // the part ended training (the last epoch, or the trainer converged)
  bool epoch_done() const { return part == parts - 1; }
};

// A progress sink: NOTICEs (rec.train), the job row (background jobs) or nothing (rec.train_agg).
// Runs PostgreSQL code, outside any C++ frame.
class ProgressSink {
 public:
  virtual ~ProgressSink() = default;
  // Called after each part; may raise (an interrupt, a failed update).
  virtual void report(TrainState* state, const TrainProgress& progress) = 0;
};

// The one training loop: runs the trainer's epochs in parts until its total or until it says it
// converged, recording the training curve, and reports to `sink` after every part. Interrupts
// (cancel, timeout, termination) are processed after every part.
void train_iterate(TrainState* state, ProgressSink* sink);

// Returns the trainer's objective per interaction (for progress reports).
double train_loss(TrainState* state);

// Reports progress (NOTICE) every pgrec.progress_interval seconds: rec.train's sink.
class NoticeSink : public ProgressSink {
 public:
  // `began` is when training started (now_seconds()).
  explicit NoticeSink(double began) : began_(began), last_(began) {}
  void report(TrainState* state, const TrainProgress& progress) override;

 private:
  double began_;
  double last_;
};

// Gives a factor model of pgrec.ann_min_items items or more its IVF index, calibrated to
// pgrec.ann_recall, and records the index in its params (C++ work: call inside PGREC_CXX).
void index_large_catalog(Model* m, std::string* params_json, CancelToken& token);

// Finishes, serializes and stores a new version of `model`, deploying it; returns the version.
// Call inside SPI_connect.
std::int32_t train_save(TrainState* state, const char* model, const char* algorithm,
                        const SourceSpec* spec, double train_seconds);

// Seconds on a monotonic clock.
double now_seconds();

}  // namespace pgrec::pg
