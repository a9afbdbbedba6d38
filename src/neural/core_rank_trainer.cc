// One rank of a data-parallel training of a CPU trainer of the core (BPR, SGD-MF, SVD++): the core
// trainer sums its item side's changes through the ranks' Gloo group, and rank 0 gathers every
// rank's users into the stored model.
#include "torch_includes.h"

#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>

#include "algorithms.h"
#include "collective.h"
#include "shard.h"
#include "torch_api.h"

namespace pgrec::neural {

namespace {

// Sums `n` values of `type` at `data` over the ranks, in place.
void sum_in_place(Collective* ranks, void* data, std::size_t n, torch::ScalarType type) {
  if (n == 0) return;
  torch::Tensor t = torch::from_blob(data, {static_cast<std::int64_t>(n)}, type);
  ranks->sum(t);
}

// The core trainer of one rank, with rank 0 gathering the model at the end.
class CoreRankTrainer : public Trainer {
 public:
  CoreRankTrainer(std::unique_ptr<Trainer> inner, Collective* ranks, std::string rows, IdMap items)
      : inner_(std::move(inner)), ranks_(ranks), rows_(std::move(rows)), items_(std::move(items)) {}

  void step(CancelToken& token) override { inner_->step(token); }
  std::int32_t parts() const override { return inner_->parts(); }
  void step_part(std::int32_t part, CancelToken& token) override { inner_->step_part(part, token); }
  double loss(CancelToken& token) const override { return inner_->loss(token); }
  bool loss_is_cheap() const override { return inner_->loss_is_cheap(); }
  std::int32_t done() const override { return inner_->done(); }
  std::int32_t total() const override { return inner_->total(); }
  bool converged() const override { return inner_->converged(); }
  std::string history_json() const override { return inner_->history_json(); }
  // Rank 0 returns the whole model; the others their part (not stored).
  Model finish(const std::string& user_type, const std::string& item_type) override {
    Model mine = inner_->finish(user_type, item_type);
    const std::vector<std::string> parts = ranks_->gather_bytes(factor_part_bytes(mine, rows_));
    if (ranks_->rank() != 0) return mine;
    return gather_factor_model(std::move(mine), parts, items_);
  }

 private:
  std::unique_ptr<Trainer> inner_;
  Collective* ranks_;
  std::string rows_;
  IdMap items_;
};

}  // namespace

}  // namespace pgrec::neural

pgrec::Trainer* pgrec_torch_distributed_core_trainer(pgrec::InteractionBuilder* rows, const pgrec::AlgorithmConfig* config,
                                                     pgrec::neural::Collective* ranks, int threads, char* error,
                                                     std::size_t error_size) {
  try {
    const pgrec::IdMap items = pgrec::agreed_items(ranks->all_bytes(pgrec::item_ids_bytes(*rows)), rows->item_kind());
    std::string bytes = rows->serialize();
    std::unique_ptr<pgrec::Trainer> t = pgrec::make_trainer(*config, pgrec::shard_over(*rows, items), threads);
    pgrec::RankSums sums;
    sums.rank = ranks->rank();
    sums.size = ranks->size();
    sums.floats = [ranks](float* data, std::size_t n) { pgrec::neural::sum_in_place(ranks, data, n, torch::kFloat32); };
    sums.doubles = [ranks](double* data, std::size_t n) { pgrec::neural::sum_in_place(ranks, data, n, torch::kFloat64); };
    t->share_items(sums);
    return new pgrec::neural::CoreRankTrainer(std::move(t), ranks, std::move(bytes), items);
  } catch (const std::exception& e) {
    std::snprintf(error, error_size, "%s", e.what());
  } catch (...) {
    std::snprintf(error, error_size, "unknown error creating the trainer");
  }
  return nullptr;
}
