// What every LibTorch family shares: one epoch per step with Adam, a validation score (NDCG@10
// over every item, one held-out interaction per user) after each, early stopping that keeps the
// best epoch's weights, and the training curve.
#pragma once
#include "torch_includes.h"

#include <algorithm>
#include <cstring>
#include <new>
#include <random>
#include <string>
#include <vector>

#include "id_map.h"
#include "neural_input.h"
#include "neural_params.h"
#include "trainer.h"

namespace pgrec::neural {

class Collective;

// Runs torch work, turning allocation failures into std::bad_alloc.
template <typename Work>
void guarded(Work&& work) {
  try {
    work();
  } catch (const c10::Error& e) {
    if (std::strstr(e.what(), "out of memory") != nullptr) throw std::bad_alloc();
    throw;
  }
}

// Copies a 2-d float tensor into a row-major factor matrix.
FactorMatrix to_matrix(const torch::Tensor& t);

// Copies a tensor into a named weight of the core's network.
NetTensor to_net_tensor(const std::string& name, const torch::Tensor& t);

// A 1-d int64 tensor of `values` on `device`.
torch::Tensor index_tensor(const std::vector<std::int64_t>& values, const torch::Device& device);

// One held-out interaction per user with at least two, drawn with `seed`: -1 for the others.
std::vector<std::int32_t> hold_out_one(const Csr& by_user, std::uint64_t seed);

// NDCG@10 summed over rows: scores [rows, items], the (row, item) pairs to skip, each row's target
// (never skipped, even when it repeats a skipped item).
double ndcg_of_targets(const torch::Tensor& scores, const std::vector<std::int64_t>& skip_rows,
                       const std::vector<std::int64_t>& skip_cols, const std::vector<std::int64_t>& targets);

// Users scored per validation block: up to `most`, fewer for large catalogs, so that a block's
// scores (users x items x `floats_per_item`) stay near 2^25 floats (128 MB).
inline std::size_t validation_block(std::int64_t n_items, std::int64_t floats_per_item, std::size_t most) {
  const std::int64_t fit = (std::int64_t{1} << 25) / std::max<std::int64_t>(1, n_items * floats_per_item);
  return static_cast<std::size_t>(std::clamp<std::int64_t>(fit, 1, static_cast<std::int64_t>(most)));
}

// The interactions trained on (every one but the held-out ones) and the users with one held out
// (a shuffled sample of at most 2000, for validation).
struct HeldOutSplit {
  std::vector<std::int32_t> held;  // per user: the held-out item, or -1
  std::vector<std::int32_t> users, items;
  std::vector<std::int32_t> valid_users;
};
HeldOutSplit split_held_out(const Csr& by_user, bool validation, std::uint64_t seed, std::mt19937_64& rng);

// NDCG@10 of the held-out items of split.valid_users, `block` users at a time; `score` maps a
// block of user indices ([B] int64) to scores over every item ([B, items]).
template <typename Score>
double validate_held_out(const Csr& by_user, const HeldOutSplit& split, std::size_t block, const torch::Device& device,
                         CancelToken& token, Score&& score) {
  const std::vector<std::int32_t>& users = split.valid_users;
  double sum = 0;
  for (std::size_t first = 0; first < users.size(); first += block) {
    token.check();
    const std::size_t last = std::min(users.size(), first + block);
    std::vector<std::int64_t> ids, targets, skip_rows, skip_cols;
    for (std::size_t j = first; j < last; ++j) {
      const std::int32_t u = users[j];
      ids.push_back(u);
      targets.push_back(split.held[static_cast<std::size_t>(u)]);
      for (std::int64_t p = by_user.offsets[u]; p < by_user.offsets[u + 1]; ++p) {
        skip_rows.push_back(static_cast<std::int64_t>(j - first));
        skip_cols.push_back(by_user.indices[static_cast<std::size_t>(p)]);
      }
    }
    sum += ndcg_of_targets(score(index_tensor(ids, device)), skip_rows, skip_cols, targets);
  }
  return users.empty() ? 0.0 : sum / static_cast<double>(users.size());
}

// How a weight's positions along one dimension follow the users' or the items' ids, so that a warm
// start copies them by id.
struct IdAxis {
  bool items = false;        // the items' ids, else the users'
  std::int64_t dim = 0;      // the dimension they index
  std::int64_t base = 0;     // positions before the first id (padding), copied as they are
  bool after_users = false;  // the ids start after the users' (one table of users, then items)
};

// How a weight starts warm: copied whole (no axes), by id along its axes, or left as drawn (cold).
struct WarmLayout {
  std::vector<IdAxis> axes;
  bool cold = false;
};

class NeuralTrainer : public Trainer {
 public:
  NeuralTrainer(NeuralInput input, NeuralParams params, const torch::Device& device);

  void step(CancelToken& token) override;
  double loss(CancelToken&) const override { return last_loss_; }
  bool converged() const override { return stopped_; }
  std::int32_t done() const override { return done_; }
  std::int32_t total() const override { return params_.epochs; }
  std::string device() const override { return device_.str(); }
  std::string history_json() const override;
  // Puts back the best epoch's weights, then exports the model with its training weights (kept
  // for the next warm start).
  Model finish(const std::string& user_type, const std::string& item_type) override;
  // Starts from the serving version's training weights: id rows by id, the other weights whole;
  // weights it lacks stay as drawn, and a version without any (older than 0.5.0) starts cold.
  WarmStart warm_start(const Model& previous) override;
  // Makes this trainer one rank of a data-parallel training (DistributedDataParallel's scheme):
  // every rank holds the whole network, starts from rank 0's weights, trains on its own users
  // with its share of each batch and averages the gradients over the ranks before every step;
  // at the end rank 0 gathers every rank's `rows` over the agreed `users` and `items`.
  void distribute(Collective* ranks, std::string rows, IdMap users, IdMap items);

 protected:
  // Trains one epoch; returns the mean training loss.
  virtual double train_epoch(CancelToken& token) = 0;
  // Returns the validation score (NDCG@10 on the held-out interactions).
  virtual double validate(CancelToken& token) = 0;
  // Whether a validation set exists (some user had two interactions and validation is on).
  virtual bool has_validation() const = 0;
  // The validation metric's name, and whether lower is better (an error, as RMSE) rather than higher.
  virtual const char* score_name() const { return "ndcg@10"; }
  virtual bool lower_is_better() const { return false; }
  // The network whose weights are trained.
  virtual torch::nn::Module& network() = 0;
  // Builds the served model from the trained network.
  virtual Model export_model() = 0;
  // How the weight `name` (a torch parameter name) starts warm; by default copied whole.
  virtual WarmLayout warm_layout(const std::string& name) const {
    (void)name;
    return {};
  }

  // The validation users scored (weights the ranks' scores when distributed).
  virtual std::size_t validation_users() const = 0;

  // Calls step(first, last) on each run of batch_size positions in [0, n), checking the token
  // before each. Distributed, every rank then takes as many steps as the rank with the most:
  // its extra steps add no gradient to the others'.
  template <typename Step>
  void for_each_range(std::size_t n, CancelToken& token, Step&& step) {
    const auto batch = static_cast<std::size_t>(params_.batch_size);
    const std::size_t steps = (n + batch - 1) / batch;
    const std::size_t all = agreed_steps(steps);  // before any step: every rank's calls pair up
    for (std::size_t first = 0; first < n; first += batch) {
      token.check();
      step(first, std::min(n, first + batch));
    }
    for (std::size_t extra = all - steps; extra > 0; --extra) {
      token.check();
      idle_step();
    }
  }

  // Shuffles `order` with the trainer's generator, then calls step(first, last) on each run of
  // batch_size entries (iterators into `order`), as for_each_range.
  template <typename T, typename Step>
  void for_each_batch(std::vector<T>& order, CancelToken& token, Step&& step) {
    std::shuffle(order.begin(), order.end(), rng_);
    for_each_range(order.size(), token, [&](std::size_t first, std::size_t last) {
      step(order.begin() + static_cast<std::ptrdiff_t>(first), order.begin() + static_cast<std::ptrdiff_t>(last));
    });
  }

  // Every rank's interactions per item (this rank's alone when not distributed).
  std::vector<float> item_counts() const;

  // Creates the optimiser once the network's parameters exist.
  void make_optimizer();
  // One Adam step on a batch's mean `loss` over `n` examples; returns the loss summed over them.
  double descend(const torch::Tensor& loss, std::int64_t n);

  NeuralInput in_;
  NeuralParams params_;
  torch::Device device_;
  std::unique_ptr<torch::optim::Adam> optimizer_;
  std::mt19937_64 rng_;

 private:
  // The most steps any rank takes this epoch (`mine` when not distributed).
  std::size_t agreed_steps(std::size_t mine);
  // A step without a batch: this rank adds nothing, the others' gradients still apply.
  void idle_step();
  // Distributed: replaces every gradient by its mean over the ranks. Id tables go as the rows
  // touched when that moves fewer bytes than the whole table (or as `gradient_exchange` says).
  void share_gradients();

  struct Epoch {
    std::int32_t epoch;
    double loss;
    double score;  // NaN without validation
  };
  std::vector<Epoch> history_;
  std::vector<torch::Tensor> best_;
  double best_score_ = -1;
  std::int32_t best_epoch_ = 0;
  double last_loss_ = 0;
  std::int32_t done_ = 0;
  bool stopped_ = false;
  // Distributed only.
  Collective* ranks_ = nullptr;
  std::string rows_;
  IdMap users_{IdKind::Int}, items_{IdKind::Int};
  std::int32_t global_batch_ = 0;
  std::vector<std::string> id_tables_;  // weights indexed by id along dimension 0
};

}  // namespace pgrec::neural
