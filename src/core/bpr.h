// Bayesian personalised ranking (Rendle et al.) for implicit feedback: SGD on sampled
// (user, seen item, unseen item) triples, with uniform or popularity-aware negative sampling.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "interactions.h"
#include "model.h"
#include "params.h"
#include "trainer.h"

namespace pgrec {

struct BprParams {
  std::int32_t factors = 64;
  std::int32_t epochs = 50;            // each samples as many triples as there are interactions
  double learning_rate = 0.05;
  double regularization = 0.01;
  std::string sampling = "uniform";    // uniform | popularity (negatives drawn by popularity^0.75)
  std::uint64_t seed = 42;
  bool validation = false;             // hold out one interaction per user; NDCG@10 on it per epoch

  // Reads and checks the "bpr" parameters.
  static BprParams parse(const std::vector<Param>& params);
  // Writes the effective parameters as a JSON object.
  std::string to_json() const;
};

// Item rows up to this size (all of them, in bytes) are copied per thread while training on
// several threads (see BprTrainer::step_part); larger catalogs are updated in place, lock-free.
constexpr double kBprReplicaBytes = 16.0 * 1024 * 1024;

// Whether BPR on `threads` threads gives each thread its own copy of the item rows.
bool bpr_item_replicas(std::int64_t items, std::int32_t factors, int threads);

// One epoch per step, in parts; `threads` threads sample and update in parallel without locks.
class BprTrainer : public Trainer {
 public:
  BprTrainer(Interactions data, const BprParams& params, int threads = 1);
  void step(CancelToken& token) override;
  // An epoch's samples in ten parts.
  std::int32_t parts() const override { return kParts; }
  void step_part(std::int32_t part, CancelToken& token) override;
  // The mean BPR loss (-log sigmoid of the score margin) of the last epoch.
  double loss(CancelToken&) const override { return last_loss_; }
  std::int32_t done() const override { return done_; }
  std::int32_t total() const override { return params_.epochs; }
  Model finish(const std::string& user_type, const std::string& item_type) override;
  // Starts from the previous version's user factors and item factors with their biases.
  WarmStart warm_start(const Model& previous) override;
  // The loss (and, with validation, the held-out NDCG@10) of every epoch so far.
  std::string history_json() const override;
  // Distributed: every rank starts from rank 0's item rows, draws negatives by every rank's
  // popularity, and the item rows' changes are summed over the ranks after each part (as the
  // per-thread copies' are); the loss and NDCG are every rank's.
  void share_items(const RankSums& sums) override;

 private:
  // The mean NDCG@10 of the held-out interactions, ranked among every item the user has not
  // trained on.
  double validation_ndcg() const;
  // Runs chunk `chunk` of part `part` (see step_part), updating the item rows in `items`.
  void run_chunk(std::int32_t part, std::size_t chunk, FactorMatrix& items);
  // Draws a negative item for user u (one the user has not seen, when one can be found).
  std::int32_t draw_negative(std::int32_t u, std::uint64_t& state) const;
  // Popularity sampling's cumulative weights over `counts` interactions per item.
  void set_popularity(const std::vector<float>& counts);

  Interactions data_;
  BprParams params_;
  FactorMatrix p_;
  FactorMatrix q_;  // item factors, and in the last column the item bias (kept in the row: one cache line fewer per update)
  std::vector<double> cumulative_;  // popularity sampling: cumulative weights
  std::vector<std::int32_t> entry_user_;
  int threads_;
  static constexpr std::int32_t kParts = 10;
  static constexpr std::size_t kChunks = 16;  // per part: the unit of work of a thread
  std::vector<double> chunk_loss_;            // this epoch's loss so far, per chunk
  std::vector<std::size_t> slice_start_;      // kChunks + 1 entry offsets at user boundaries
  std::vector<FactorMatrix> replicas_;        // per thread: its copy of the item rows (small catalogs)
  double last_loss_ = 0;
  std::int32_t done_ = 0;
  std::vector<char> held_;                        // per entry of data_.by_user: held out for validation
  std::vector<std::int64_t> held_entry_;           // the held-out entry of each validated user
  std::vector<std::pair<double, double>> history_;  // (loss, ndcg@10) per epoch
  RankSums ranks_;                                  // distributed only (size > 1)
};

}  // namespace pgrec
