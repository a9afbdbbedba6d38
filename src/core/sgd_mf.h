// Biased matrix factorisation trained by SGD (Funk/Koren), and SVD++ (implicit user terms), for
// explicit ratings; early stopping on a held-out fraction, learning-rate decay per epoch.
#pragma once
#include <cstdint>
#include <random>
#include <utility>
#include <string>
#include <vector>

#include "interactions.h"
#include "model.h"
#include "params.h"
#include "trainer.h"

namespace pgrec {

struct SgdMfParams {
  bool svdpp = false;           // add the implicit terms of SVD++
  std::int32_t factors = 100;    // svdpp: 20
  std::int32_t epochs = 20;
  double learning_rate = 0.01;   // svdpp: 0.007
  double lr_decay = 1.0;         // learning rate times this after each epoch
  double regularization = 0.08;  // factors; svdpp: 0.05
  double bias_regularization = 0.02;
  double init_std = 0.1;
  double validation = 0.0;      // fraction of ratings held out for early stopping (0: none)
  std::int32_t patience = 3;    // epochs without improvement before stopping
  std::uint64_t seed = 42;

  // Reads and checks the "sgd_mf" / "svdpp" parameters (both need ratings).
  static SgdMfParams parse(const std::vector<Param>& params, bool has_ratings, bool svdpp);
  // Writes the effective parameters as a JSON object.
  std::string to_json() const;
};

// One epoch per step; the model keeps the epoch with the best validation error.
class SgdMfTrainer : public Trainer {
 public:
  SgdMfTrainer(Interactions data, const SgdMfParams& params);
  void step(CancelToken& token) override;
  // Validation RMSE when a validation fraction is held out, else training RMSE.
  double loss(CancelToken&) const override { return last_loss_; }
  std::int32_t done() const override { return done_; }
  std::int32_t total() const override { return params_.epochs; }
  // Whether the validation error stopped improving for `patience` epochs.
  bool converged() const override { return stopped_; }
  Model finish(const std::string& user_type, const std::string& item_type) override;
  // Starts from the previous version's factors and biases (SVD++: its users' effective vectors,
  // the implicit item factors from zero).
  WarmStart warm_start(const Model& previous) override;
  // Distributed: every rank starts from rank 0's item factors and biases, and the mean rating is
  // every rank's; each epoch runs in ten slices of the users, after each of which the item side's
  // changes are summed over the ranks; the errors (training and validation) are every rank's.
  void share_items(const RankSums& sums) override;

 private:
  // The prediction for (user, item) with the current parameters and user vector `pu`.
  float predict_with(const float* pu, std::int32_t u, std::int32_t i) const;
  // Fills `out` with the user's effective vector (SVD++ adds its implicit sum).
  void user_vector(std::int32_t u, float* out) const;
  // The squared error summed over the held-out ratings, and their count.
  std::pair<double, double> validation_errors() const;
  // Trains on the users order_[first, last) (their ratings not held out); adds to the squared
  // error and the count of ratings trained on.
  void train_users(std::size_t first, std::size_t last, float lr, std::mt19937_64& rng, CancelToken& token,
                   double& se, std::int64_t& trained);
  // The mean rating and its count over the ratings not held out.
  std::pair<double, double> rating_sum() const;

  Interactions data_;
  SgdMfParams params_;
  float mean_ = 0;
  FactorMatrix p_, q_, y_;  // users, items, implicit item factors (SVD++)
  std::vector<float> bu_, bi_;
  std::vector<char> held_out_;  // per entry of data_.by_user
  std::vector<std::int32_t> order_;
  std::uint64_t rng_state_;
  double last_loss_ = 0;
  double best_ = -1;
  std::int32_t since_best_ = 0;
  bool stopped_ = false;
  std::int32_t done_ = 0;
  // The parameters of the best epoch so far.
  FactorMatrix best_p_, best_q_, best_y_;
  std::vector<float> best_bu_, best_bi_;
  RankSums ranks_;  // distributed only (size > 1)
};

}  // namespace pgrec
