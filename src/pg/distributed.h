// Data-parallel training across PostgreSQL servers (README "Scaling out"): params' "distributed"
// on rec.train_async, the shard of the source each rank reads, joining the ranks (c10d's
// rendezvous, then a handshake proving the job's secret), and rec.join_training.
#pragma once

#include "postgres_includes.h"
#include "source_reader.h"
#include "train_state.h"

namespace pgrec::pg {

// Takes params' "distributed" ({"ranks", "rendezvous": "host:port", "timeout", and the "secret"
// that rec.train_async adds}) out of the parsed params into the state; 22023 on a bad value.
void take_distributed_params(TrainState* state);

// The part of the source rank `rank` of `ranks` reads: the users whose id hashes to it
// (hashtextextended of the id as text, so every server and id type agree).
const char* shard_source(const SourceSpec* spec, int rank, int ranks);

// Refuses (0A000) a distributed training of what cannot train distributed: the algorithms whose
// model is not a sum over users' terms (neighbours, EASE, popularity...), a gate, a warm
// start, side features, init_from.
void check_distributable(const TrainState* state);

// Joins the job's ranks (rank 0 serves the rendezvous), checks that every rank knows the job's
// secret, and creates this rank's trainer over the rows it read.
void start_distributed(TrainState* state, const char* device);

}  // namespace pgrec::pg
