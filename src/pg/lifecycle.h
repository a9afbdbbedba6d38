// Retraining a model that serves: a warm start from its serving version, and the gate that
// decides whether the new version replaces it.
#pragma once

#include "postgres_includes.h"
#include "source_reader.h"
#include "train_state.h"

namespace pgrec::pg {

// The version id serving `model` for the current role, or 0 when none serves. Call inside SPI_connect.
std::int64_t serving_version_id(const char* model);

// Takes "warm_start" and "gate" (not the algorithm's own) out of the parsed params into the state.
// Call inside SPI_connect.
void take_lifecycle_params(TrainState* state, bool has_ratings);

// With a gate, the part of the source training reads (the gate holds the rest out), remembering
// the held-out part in the state; without one, the source unchanged. Call inside SPI_connect.
const char* gate_training_source(TrainState* state, const SourceSpec* spec);

// With warm_start, starts the state's trainer from the model's serving version (a cold start when
// none serves yet). Call inside SPI_connect.
void apply_warm_start(TrainState* state);

// With a gate: scores the stored, undeployed version `version_id` and the serving one on the held-out
// rows the serving one never trained on, deploys the new version when it is not worse by more than
// the tolerance, and records both scores and the decision under metrics->'gate'. `rows_trained` is
// what training read (the source's size counts both parts). Call inside SPI_connect.
void gate_decide(TrainState* state, std::int64_t version_id, const SourceSpec* spec, std::int64_t rows_trained);

}  // namespace pgrec::pg
