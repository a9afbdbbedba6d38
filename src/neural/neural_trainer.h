// What every LibTorch family shares: one epoch per step with Adam, a validation score (NDCG@10
// over every item, one held-out interaction per user) after each, early stopping that keeps the
// best epoch's weights, and the training curve.
#pragma once
#include <torch/torch.h>

#include <cstring>
#include <new>
#include <random>
#include <string>
#include <vector>

#include "neural_input.h"
#include "neural_params.h"
#include "trainer.h"

namespace pgrec::neural {

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

// NDCG@10 of held-out items given scores [users, items] and a mask of items to skip (true).
double ndcg_at_10(const torch::Tensor& scores, const torch::Tensor& skip, const torch::Tensor& targets);

// One held-out interaction per user with at least two, drawn with `seed`: -1 for the others.
std::vector<std::int32_t> hold_out_one(const Csr& by_user, std::uint64_t seed);

class NeuralTrainer : public Trainer {
 public:
  NeuralTrainer(NeuralParams params, const torch::Device& device);

  void step(CancelToken& token) override;
  double loss(CancelToken&) const override { return last_loss_; }
  bool converged() const override { return stopped_; }
  std::int32_t done() const override { return done_; }
  std::int32_t total() const override { return params_.epochs; }
  std::string device() const override { return device_.str(); }
  std::string history_json() const override;
  // Puts back the best epoch's weights, then exports the model.
  Model finish(const std::string& user_type, const std::string& item_type) override;

 protected:
  // Trains one epoch; returns the mean training loss.
  virtual double train_epoch(CancelToken& token) = 0;
  // Returns the validation score (NDCG@10 on the held-out interactions).
  virtual double validate(CancelToken& token) = 0;
  // Whether a validation set exists (some user had two interactions and validation is on).
  virtual bool has_validation() const = 0;
  // The network whose weights are trained.
  virtual torch::nn::Module& network() = 0;
  // Builds the served model from the trained network.
  virtual Model export_model() = 0;

  // Creates the optimiser once the network's parameters exist.
  void make_optimizer();

  NeuralParams params_;
  torch::Device device_;
  std::unique_ptr<torch::optim::Adam> optimizer_;
  std::mt19937_64 rng_;

 private:
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
};

}  // namespace pgrec::neural
