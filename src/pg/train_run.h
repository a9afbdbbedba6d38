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

// Runs one part of the current iteration (see Trainer::parts); interrupts (cancel, timeout,
// termination) are processed afterwards.
void train_step_part(TrainState* state, std::int32_t part);

// The number of parts an iteration runs in.
std::int32_t train_parts(TrainState* state);

// Whether the trainer stopped early (no more iterations are needed).
bool train_converged(TrainState* state);

// Returns the trainer's objective per interaction (for progress reports).
double train_loss(TrainState* state);

// Ends iteration `epoch`: records its loss in the training curve (rec.training_curve) when the
// trainer keeps no curve of its own and its loss is cheap, or ALS's track_loss asks for it;
// returns that loss, or NaN when it was not computed.
double train_epoch_end(TrainState* state, std::int32_t epoch);

// Reports progress (NOTICE) after iteration `epoch` of `total` when pgrec.progress_interval
// seconds have passed since `*last` (updated); `began` is when training started, `loss` NaN
// when not computed yet.
void train_notice_progress(TrainState* state, std::int32_t epoch, std::int32_t total, double loss, double began,
                           double* last);

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
