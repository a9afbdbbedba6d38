// Everything one rec.train call holds in C++ (and where its source rows go): owned by the call's memory context, so an error
// anywhere (a PostgreSQL one included) frees it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "algorithms.h"
#include "cancel.h"
#include "gate.h"
#include "interactions.h"
#include "model.h"
#include "neural_input.h"
#include "params.h"
#include "row_sink.h"
#include "trainer.h"

namespace pgrec::neural {
class Collective;  // the ranks of a data-parallel training, in the LibTorch module
}

namespace pgrec::pg {

bool interrupt_pending();

struct TrainState : RowSink {
  // Creates the builder for the source's id kinds.
  void start(IdKind user_kind, IdKind item_kind, bool has_rating) override {
    builder = std::make_unique<InteractionBuilder>(user_kind, item_kind, has_rating);
  }
  // Adds a row to the builder.
  void add(const IdRef& user, const IdRef& item, float value) override { builder->add(user, item, value); }

  std::vector<Param> params;
  const char* model_name = nullptr;  // the model being trained (warm start and gate read its serving version)
  bool warm_start = false;           // params' "warm_start": start from the serving version
  WarmStart warm;                    // what the warm start matched
  std::int64_t warm_from = 0;        // the version id it started from (0: none)
  bool gated = false;                // params' "gate": deploy only when the held-out metric allows
  GateParams gate;
  std::vector<Param> gate_params;    // the gate's own parameters, as read
  std::string gate_json;             // the gate's record, written to the version's metrics
  std::string held_out_query;        // the gate's held-out part of the source (a query)
  AlgorithmConfig config;
  std::string params_json;
  std::unique_ptr<InteractionBuilder> builder;
  std::unique_ptr<Interactions> data;  // read, not yet handed to a trainer
  // Neural families: what they read besides the interactions, not yet handed to a trainer.
  Csr sequences;
  FeatureTable user_features;
  FeatureTable item_features;
  FactorMatrix init_users;
  FactorMatrix init_items;
  std::string history_json;  // the trainer's curve, kept when it finishes
  std::vector<std::pair<std::int32_t, double>> curve;  // (epoch, loss) recorded by train_epoch_end
  // Data-parallel training (params' "distributed", distributed.h): the job, this rank, the ranks,
  // the rendezvous; the ranks' connections outlive the trainer that uses them (declared first).
  std::int64_t job = 0;
  int rank = 0;
  int ranks = 0;  // 0: not distributed
  std::string rendezvous_host;
  int rendezvous_port = 0;
  std::string address;  // where the other ranks reach this one
  std::string secret;
  int timeout_ms = 60000;
  std::vector<Param> distributed_params;  // the "distributed" object's keys, as read
  std::shared_ptr<neural::Collective> collective;
  std::unique_ptr<Trainer> trainer;
  std::unique_ptr<Model> model;
  std::string bytes;
  CancelToken token{&interrupt_pending};
  // What the source held, filled while reading.
  std::int32_t n_users = 0;
  std::int32_t n_items = 0;
  std::int64_t n_interactions = 0;
  std::int64_t rows_read = 0;
  std::int64_t rows_skipped = 0;
  std::string user_type;
  std::string item_type;
};

}  // namespace pgrec::pg
