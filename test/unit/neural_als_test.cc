// The LibTorch ALS trainer agrees with the Eigen one (CPU device here; the same code on CUDA).
#include <gtest/gtest.h>

#include <cmath>
#include <memory>

#include "planted.h"
#include "ranking.h"
#include "torch_api.h"

using namespace pgrec;

namespace {

std::unique_ptr<Trainer> torch_trainer(Interactions data, const AlsParams& p, const char* device) {
  char error[256] = "";
  Trainer* t = pgrec_torch_als_trainer(&data, &p, device, 1, error, sizeof error);
  EXPECT_NE(t, nullptr) << error;
  return std::unique_ptr<Trainer>(t);
}

Model run(Trainer& t) {
  CancelToken token;
  train_to_end(t, token);
  return t.finish("int4", "int4");
}

}  // namespace

TEST(TorchAls, ImplicitMatchesEigen) {
  AlsParams p;
  p.factors = 8;
  p.iterations = 3;
  p.alpha = 5;
  AlsTrainer eigen(synth::planted_implicit(150, 60, 3, 6, 4), p, 1);
  auto torch_t = torch_trainer(synth::planted_implicit(150, 60, 3, 6, 4), p, "cpu");
  EXPECT_EQ(torch_t->device(), "cpu");
  CancelToken token;
  const Model a = run(eigen), b = run(*torch_t);
  EXPECT_LT((a.user_factors - b.user_factors).cwiseAbs().maxCoeff(), 1e-3);
  EXPECT_LT((a.item_factors - b.item_factors).cwiseAbs().maxCoeff(), 1e-3);
  EXPECT_EQ(recommend(a, 0, 5, true).size(), 5u);
}

TEST(TorchAls, ExplicitMatchesExactSolve) {
  AlsParams p;
  p.implicit = false;
  p.factors = 4;
  p.iterations = 4;
  p.regularization = 0.05;
  AlsTrainer eigen(synth::planted_explicit(80, 40, 0.4, 5, nullptr), p, 1);
  auto torch_t = torch_trainer(synth::planted_explicit(80, 40, 0.4, 5, nullptr), p, "cpu");
  CancelToken token;
  const double first = torch_t->loss(token);
  const Model a = run(eigen), b = run(*torch_t);
  EXPECT_NEAR(a.global_mean, b.global_mean, 1e-6);
  EXPECT_LT((a.item_factors - b.item_factors).cwiseAbs().maxCoeff(), 1e-2);
  EXPECT_TRUE(std::isfinite(first));
}

TEST(TorchAls, LossFallsAndCancelStops) {
  AlsParams p;
  p.factors = 8;
  p.iterations = 5;
  auto t = torch_trainer(synth::planted_implicit(200, 80, 4, 6, 6), p, "cpu");
  CancelToken token;
  t->step(token);
  const double after_one = t->loss(token);
  for (int i = 0; i < 4; ++i) t->step(token);
  EXPECT_LT(t->loss(token), after_one);
  CancelToken stop;
  stop.cancel();
  EXPECT_THROW(t->step(stop), Cancelled);
}

TEST(TorchAls, UnavailableDeviceIsAnError) {
  AlsParams p;
  Interactions data = synth::planted_implicit(20, 10, 2, 3, 1);
  char error[256] = "";
  const int gpus = pgrec_torch_cuda_devices();
  EXPECT_GE(gpus, 0);
  const std::string missing = "cuda:" + std::to_string(gpus);
  EXPECT_EQ(pgrec_torch_als_trainer(&data, &p, missing.c_str(), 1, error, sizeof error), nullptr);
  EXPECT_STRNE(error, "");
}
