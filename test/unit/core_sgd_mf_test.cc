// sgd_mf and svdpp: they learn planted ratings, stop early on a validation fraction, and are
// deterministic for a seed.
#include <gtest/gtest.h>

#include <cmath>

#include "algorithms.h"
#include "planted.h"
#include "ranking.h"

using namespace pgrec;

namespace {

double held_out_rmse(const std::string& algorithm, const std::vector<Param>& params, double* mean_rmse) {
  std::vector<std::tuple<int, int, float>> held;
  Interactions data = synth::planted_explicit(150, 80, 0.3, 3, &held);
  auto t = make_trainer(parse_algorithm(algorithm, params, true), std::move(data), 1);
  CancelToken token;
  train_to_end(*t, token);
  const Model m = t->finish("int4", "int4");
  double se = 0, se_mean = 0;
  int n = 0;
  for (auto [u, i, r] : held) {
    const auto ui = m.users.find(IdRef::of(u)), ii = m.items.find(IdRef::of(i));
    if (ui < 0 || ii < 0) continue;
    se += std::pow(predict(m, ui, ii) - r, 2);
    se_mean += std::pow(m.global_mean - r, 2);
    ++n;
  }
  *mean_rmse = std::sqrt(se_mean / n);
  return std::sqrt(se / n);
}

}  // namespace

TEST(SgdMf, LearnsPlantedRatings) {
  double mean_rmse;
  const double rmse = held_out_rmse("sgd_mf", {synth::num("factors", 8), synth::num("epochs", 60), synth::num("learning_rate", 0.02)}, &mean_rmse);
  EXPECT_LT(rmse, 0.6 * mean_rmse) << rmse << " vs " << mean_rmse;
}

TEST(SgdMf, SvdppLearnsPlantedRatings) {
  double mean_rmse;
  const double rmse = held_out_rmse("svdpp", {synth::num("factors", 8), synth::num("epochs", 60), synth::num("learning_rate", 0.02)}, &mean_rmse);
  EXPECT_LT(rmse, 0.6 * mean_rmse) << rmse << " vs " << mean_rmse;
}

TEST(SgdMf, StopsEarlyOnValidation) {
  auto t = make_trainer(parse_algorithm("sgd_mf", {synth::num("epochs", 500), synth::num("learning_rate", 0.05), synth::num("validation", 0.2),
                                                   synth::num("patience", 2), synth::num("factors", 30), synth::num("regularization", 0),
                                                   synth::num("bias_regularization", 0)},
                                        true),
                        synth::planted_explicit(100, 60, 0.3, 4, nullptr), 1);
  CancelToken token;
  train_to_end(*t, token);
  EXPECT_LT(t->done(), 500);
  EXPECT_TRUE(t->converged());
  EXPECT_GT(t->loss(token), 0.0);
}

TEST(SgdMf, DeterministicAndChecked) {
  auto run = [](std::uint64_t seed) {
    auto t = make_trainer(parse_algorithm("svdpp", {synth::num("epochs", 3), synth::num("seed", static_cast<double>(seed))}, true),
                          synth::planted_explicit(50, 30, 0.4, 6, nullptr), 1);
    CancelToken token;
    train_to_end(*t, token);
    return t->finish("int4", "int4");
  };
  const Model a = run(1), b = run(1), c = run(2);
  EXPECT_TRUE(a.user_factors == b.user_factors);
  EXPECT_FALSE(a.user_factors == c.user_factors);
  EXPECT_EQ(a.factors(), 20 + 2);  // biases ride in two extra columns
  const std::string bytes = serialize_model(a);
  EXPECT_EQ(serialize_model(deserialize_model(bytes.data(), bytes.size())), bytes);
  EXPECT_THROW(parse_algorithm("sgd_mf", {}, false), Error);          // needs ratings
  EXPECT_THROW(parse_algorithm("sgd_mf", {synth::num("alpha", 1)}, true), Error);  // unknown key
}
