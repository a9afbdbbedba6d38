// Alternating least squares: implicit (Hu-Koren-Volinsky, conjugate gradient) and explicit.
#pragma once
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "cancel.h"
#include "interactions.h"
#include "kernels.h"
#include "model.h"
#include "params.h"
#include "trainer.h"

namespace pgrec {

struct AlsParams {
  // `regularization` until the data decides it (implicit ALS's default scales with the data).
  static constexpr double kFromData = -1;

  std::int32_t factors = 32;
  std::int32_t iterations = 15;
  double regularization = kFromData;  // implicit: 0.1 x interactions per user; explicit: 0.1 (times ratings per row)
  double alpha = 1.0;            // implicit confidence: c = 1 + alpha * r
  std::int32_t cg_steps = 3;
  bool use_cg = true;            // implicit only; false solves exactly (Cholesky)
  bool implicit = true;
  std::uint64_t seed = 42;
  std::string weighting = "none";  // implicit only: none | tfidf | bm25
  double bm25_k1 = 100;
  double bm25_b = 0.8;
  bool track_loss = false;       // compute the objective after every iteration (a pass over the data)

  // Reads and checks the "als" parameters; `explicit_default` is whether ratings were given.
  static AlsParams parse(const std::vector<Param>& params, bool explicit_default);
  // Writes the effective parameters as a JSON object.
  std::string to_json() const;
};

// Implicit ALS's default regularization for `data`: 0.1 x the mean interactions per user (about
// 10 on MovieLens, where it is within 1% of the best of a grid; bench/cases/defaults.sql).
double als_regularization_for(const Interactions& data);

// Replaces a regularization the data decides (kFromData) by its value for `data`.
void fit_als_to_data(AlsParams* params, const Interactions& data);

// The starting factors of an ALS run: seeded uniform values, the same on every device.
void init_als_factors(const AlsParams& params, FactorMatrix* users, FactorMatrix* items);

// Starts ALS factors (as init_als_factors drew them) from `previous`'s rows for the ids `data`
// shares with it, on the CPU or a LibTorch device alike; 22023 when `previous` does not fit.
WarmStart warm_start_als(const Model& previous, const AlsParams& params, const Interactions& data,
                         FactorMatrix* users, FactorMatrix* items);

// The global mean an explicit ALS model centres ratings on (0 for implicit).
float als_mean(const Interactions& data, const AlsParams& params);

// Builds a served factor model from trained factors and the training data (which it consumes).
Model make_factor_model(const std::string& algorithm, bool explicit_ratings, Interactions&& data, float mean,
                        FactorMatrix users, FactorMatrix items, const std::string& user_type,
                        const std::string& item_type);

// The same for ALS, with its fold-in settings.
Model make_als_model(Interactions&& data, const AlsParams& params, float mean, FactorMatrix users,
                     FactorMatrix items, const std::string& user_type, const std::string& item_type);

// Solves a x = b by a pivoting LDLT, for `a` given by its upper triangle (row-major f x f).
void ldlt_solve_upper(const float* a, const float* b, std::int32_t f, float* x);

// Solves one row's least-squares system into x: `build(a, b)` writes the upper triangle of the
// row-major f x f `a` and the right-hand side b (f floats); Cholesky solves it in place, and a
// system Cholesky refuses (not numerically positive definite) is built again for a pivoting LDLT.
template <typename Build>
void solve_row_system(const Build& build, float* a, float* b, std::int32_t f, float* x) {
  build(a, b);
  if (kernels::cholesky_solve(a, b, f)) {
    std::copy(b, b + f, x);
    return;
  }
  build(a, b);
  ldlt_solve_upper(a, b, f, x);
}

// Trains ALS one iteration at a time on the CPU (Eigen, pgrec.threads threads).
class AlsTrainer : public Trainer {
 public:
  // Takes the training data; `threads` bounds the worker threads of each half-iteration.
  AlsTrainer(Interactions data, const AlsParams& params, int threads);

  // Runs one iteration (users, then items); throws Cancelled if the token fires.
  void step(CancelToken& token) override;
  // Part 0 solves the users, part 1 the items.
  std::int32_t parts() const override { return 2; }
  void step_part(std::int32_t part, CancelToken& token) override;
  std::int32_t done() const override { return done_; }
  std::int32_t total() const override { return params_.iterations; }
  // Returns the training objective (weighted squared error plus regularisation) per interaction.
  double loss(CancelToken& token) const override;
  // The objective costs a pass over the data.
  bool loss_is_cheap() const override { return false; }

  // Hands over the trained model; the trainer is spent afterwards.
  Model finish(const std::string& user_type, const std::string& item_type) override;
  // Starts from the previous version's user and item factors.
  WarmStart warm_start(const Model& previous) override;

 private:
  // Solves every row of `X` given the fixed `Y`, with `by_row` holding the data for X's rows.
  void solve_side(FactorMatrix& X, const FactorMatrix& Y, const Csr& by_row, CancelToken& token);

  Interactions data_;
  AlsParams params_;
  int threads_;
  float mean_ = 0;
  FactorMatrix users_;
  FactorMatrix items_;
  std::int32_t done_ = 0;
};

}  // namespace pgrec
