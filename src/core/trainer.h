// What every iterative trainer offers the SQL layer: one step at a time, a loss, the model.
#pragma once
#include <cstdint>
#include <functional>
#include <string>

#include "cancel.h"
#include "errors.h"
#include "model.h"
#include "warm_start.h"

namespace pgrec {

// How the ranks of a data-parallel training add numbers up, whatever carries the bytes: each
// function replaces `n` values at `data` by their sum over every rank.
struct RankSums {
  int rank = 0;
  int size = 1;
  std::function<void(float* data, std::size_t n)> floats;
  std::function<void(double* data, std::size_t n)> doubles;
};

class Trainer {
 public:
  virtual ~Trainer() = default;
  // Runs one iteration (epoch); throws Cancelled if the token fires.
  virtual void step(CancelToken& token) = 0;
  // An epoch may run in parts, so that progress shows within long epochs: parts() of them, in
  // order; the last one completes the epoch. By default the epoch is one part.
  virtual std::int32_t parts() const { return 1; }
  virtual void step_part(std::int32_t part, CancelToken& token) {
    (void)part;
    step(token);
  }
  // Returns the training objective per interaction.
  virtual double loss(CancelToken& token) const = 0;
  // Whether loss() is cheap (kept from the last epoch) rather than a pass over the data.
  virtual bool loss_is_cheap() const { return true; }
  // Whether the trainer has an objective at all (not one-pass counting, as neighbours and popularity).
  virtual bool has_loss() const { return true; }
  virtual std::int32_t done() const = 0;
  virtual std::int32_t total() const = 0;
  // Whether training stopped early (the validation score stopped improving): no more steps.
  virtual bool converged() const { return false; }
  // The training curve as a JSON array of {"epoch", "loss"[, "ndcg@10"]} objects ("" when none).
  virtual std::string history_json() const { return ""; }
  // The device the trainer runs on, as shown to users ("cpu", "cuda:0").
  virtual std::string device() const { return "cpu"; }
  // Hands over the trained model; the trainer is spent afterwards.
  virtual Model finish(const std::string& user_type, const std::string& item_type) = 0;
  // Before the first step: starts from `previous`'s rows for the ids it knows (the others stay as
  // a cold start drew them); 22023 when `previous` does not fit, 0A000 where there is no warm start.
  virtual WarmStart warm_start(const Model& previous) {
    (void)previous;
    throw Error(ErrorKind::NotSupported, "this algorithm has no warm start: it trains from scratch each time");
  }
  // Before the first step: makes this trainer one rank of a data-parallel training whose ranks
  // hold disjoint users over the same items; the item side's changes are summed over `sums`.
  // 0A000 where the algorithm cannot.
  virtual void share_items(const RankSums& sums) {
    (void)sums;
    throw Error(ErrorKind::NotSupported, "this algorithm does not train distributed");
  }
};

// Sums the changes every rank made to `m` since `start` and applies them all: m = start + Σ (m_r − start).
template <typename Matrix>
void sum_changes(Matrix& m, const Matrix& start, const RankSums& sums) {
  Matrix delta = m - start;
  sums.floats(delta.data(), static_cast<std::size_t>(delta.size()));
  m = start + delta;
}

// Makes every rank's `m` rank 0's.
template <typename Matrix>
void take_rank0(Matrix& m, const RankSums& sums) {
  if (sums.rank != 0) m.setZero();
  sums.floats(m.data(), static_cast<std::size_t>(m.size()));
}

// A trainer that is done in one counting or closed-form step (neighbours, popularity, EASE): no
// objective to report; step() sets done_ to 1.
class OneStepTrainer : public Trainer {
 public:
  bool has_loss() const override { return false; }
  double loss(CancelToken&) const override { return 0.0; }
  std::int32_t done() const override { return done_; }
  std::int32_t total() const override { return 1; }

 protected:
  std::int32_t done_ = 0;
};

// Trains to the end outside PostgreSQL (tests, benchmarks): steps until total() or converged().
inline void train_to_end(Trainer& t, CancelToken& token) {
  while (t.done() < t.total() && !t.converged()) t.step(token);
}

}  // namespace pgrec
