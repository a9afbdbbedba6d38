// ALS learns planted structure, is deterministic, and its CG solve matches the exact one.
#include <gtest/gtest.h>

#include <cmath>

#include "als.h"
#include "planted.h"
#include "ranking.h"
#include "weighting.h"

using namespace pgrec;

namespace {

AlsParams implicit_params(int factors, int iterations) {
  AlsParams p;
  p.factors = factors;
  p.iterations = iterations;
  p.alpha = 10;
  return p;
}

Model train(Interactions data, const AlsParams& p, int threads) {
  AlsTrainer t(std::move(data), p, threads);
  CancelToken token;
  train_to_end(t, token);
  return t.finish("int4", "int4");
}

}  // namespace

TEST(Als, ImplicitRecoversPlantedClusters) {
  Model m = train(synth::planted_implicit(200, 100, 5, 8, 1), implicit_params(8, 10), 2);
  EXPECT_GE(synth::in_group_rate(m, 5, 10, 200), 0.95);
  for (std::int32_t u = 0; u < static_cast<std::int32_t>(m.users.size()); ++u)
    EXPECT_EQ(recommend(m, u, 10, true).size(), 10u);
}

TEST(Als, ImplicitLossDecreases) {
  AlsTrainer t(synth::planted_implicit(100, 60, 3, 6, 2), implicit_params(6, 5), 1);
  CancelToken token;
  t.step(token);
  const double first = t.loss(token);
  for (int i = 0; i < 4; ++i) t.step(token);
  EXPECT_LT(t.loss(token), first);
}

TEST(Als, ExplicitPredictsHeldOutRatings) {
  std::vector<std::tuple<int, int, float>> held;
  AlsParams p;
  p.implicit = false;
  p.factors = 4;
  p.iterations = 15;
  p.regularization = 0.05;
  Model m = train(synth::planted_explicit(150, 80, 0.3, 3, &held), p, 2);
  ASSERT_GT(held.size(), 100u);
  double se = 0, se_mean = 0;
  for (auto [u, i, r] : held) {
    const auto ui = m.users.find(IdRef::of(u)), ii = m.items.find(IdRef::of(i));
    ASSERT_GE(ui, 0);
    ASSERT_GE(ii, 0);
    const double e = predict(m, ui, ii) - r;
    se += e * e;
    se_mean += (m.global_mean - r) * (m.global_mean - r);
  }
  const double rmse = std::sqrt(se / held.size()), rmse_mean = std::sqrt(se_mean / held.size());
  EXPECT_LT(rmse, 0.5 * rmse_mean) << "rmse " << rmse << " vs mean-only " << rmse_mean;
}

TEST(Als, DeterministicForSeedAndThreads) {
  const AlsParams p = implicit_params(8, 3);
  Model a = train(synth::planted_implicit(120, 50, 4, 5, 9), p, 1);
  Model b = train(synth::planted_implicit(120, 50, 4, 5, 9), p, 1);
  Model c = train(synth::planted_implicit(120, 50, 4, 5, 9), p, 2);
  EXPECT_TRUE(a.user_factors == b.user_factors);
  EXPECT_TRUE(a.item_factors == b.item_factors);
  EXPECT_TRUE(a.item_factors == c.item_factors);
  AlsParams other = p;
  other.seed = 7;
  Model d = train(synth::planted_implicit(120, 50, 4, 5, 9), other, 1);
  EXPECT_FALSE(a.item_factors == d.item_factors);
}

TEST(Als, ConjugateGradientMatchesExactSolve) {
  AlsParams cg = implicit_params(6, 1);
  cg.cg_steps = 30;
  AlsParams exact = cg;
  exact.use_cg = false;
  Model a = train(synth::planted_implicit(80, 40, 4, 6, 4), cg, 1);
  Model b = train(synth::planted_implicit(80, 40, 4, 6, 4), exact, 1);
  EXPECT_LT((a.user_factors - b.user_factors).cwiseAbs().maxCoeff(), 1e-3);
  EXPECT_LT((a.item_factors - b.item_factors).cwiseAbs().maxCoeff(), 1e-3);
}

TEST(Als, ExplicitWithoutRegularisationSolvesRowsWithFewRatings) {
  // No regularisation and users with fewer ratings than factors: the normal equations are
  // singular, Cholesky refuses them and the pivoting fallback still gives finite factors.
  AlsParams p;
  p.implicit = false;
  p.factors = 12;
  p.iterations = 3;
  p.regularization = 0;
  Model m = train(synth::planted_explicit(60, 40, 0.1, 3, nullptr), p, 2);
  EXPECT_TRUE(m.user_factors.allFinite());
  EXPECT_TRUE(m.item_factors.allFinite());
}

TEST(Als, CancelStopsTraining) {
  static int polls = 0;
  polls = 0;
  CancelToken token([] { return ++polls > 3; });
  AlsTrainer t(synth::planted_implicit(2000, 100, 5, 5, 5), implicit_params(8, 5), 2);
  EXPECT_THROW(t.step(token), Cancelled);
  EXPECT_TRUE(token.cancelled());
}

TEST(AlsParams, RejectsBadParameters) {
  auto num = [](std::string k, double v) {
    Param p;
    p.key = std::move(k);
    p.type = ParamType::Number;
    p.number = v;
    p.text = std::to_string(v);
    return p;
  };
  auto expect_invalid = [](std::vector<Param> ps, const std::string& needle) {
    try {
      AlsParams::parse(ps, false);
      FAIL() << "no error for " << needle;
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::InvalidParameter);
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  expect_invalid({num("factorz", 3)}, "unknown parameter \"factorz\"");
  expect_invalid({num("factors", -1)}, "\"factors\" must be between 1 and 1024");
  expect_invalid({num("factors", 2.5)}, "\"factors\" must be an integer");
  Param s;
  s.key = "alpha";
  s.type = ParamType::String;
  s.text = "\"big\"";
  expect_invalid({s}, "\"alpha\" must be a number");
  Param b;
  b.key = "explicit";
  b.type = ParamType::Bool;
  b.boolean = true;
  b.text = "true";
  expect_invalid({b}, "needs a rating column");
  const AlsParams ok = AlsParams::parse({num("factors", 16)}, true);
  EXPECT_EQ(ok.factors, 16);
  EXPECT_FALSE(ok.implicit);
}

TEST(Als, Bm25AndTfidfWeighting) {
  InteractionBuilder b(IdKind::Int, IdKind::Int, false);
  b.add(IdRef::of(1), IdRef::of(10), 2);  // item 10: 2 of 3 users
  b.add(IdRef::of(2), IdRef::of(10), 1);
  b.add(IdRef::of(2), IdRef::of(20), 1);  // item 20: 1 of 3 users
  b.add(IdRef::of(3), IdRef::of(30), 1);
  Interactions tfidf = b.build();
  Interactions bm25 = tfidf;
  apply_weighting(tfidf, "tfidf", 0, 0);
  EXPECT_NEAR(tfidf.by_user.values[0], 2 * std::log(3.0 / 2), 1e-6);
  EXPECT_NEAR(tfidf.by_item.values[tfidf.by_item.offsets[1]], std::log(3.0), 1e-6);  // item 20
  apply_weighting(bm25, "bm25", 100, 0.8);
  // user 1 has 1 item, average length 4/3: 2 * 101 / (100 * (0.2 + 0.8 * 0.75) + 2) * log(3 / 3)
  EXPECT_NEAR(bm25.by_user.values[0], 0.0, 1e-6);
  const double idf20 = std::log(3.0 / 2.0), len2 = 2.0, avg = 4.0 / 3.0;
  EXPECT_NEAR(bm25.by_user.values[2], 101.0 / (100 * (0.2 + 0.8 * len2 / avg) + 1) * idf20, 1e-5);
  // ALS with BM25 still finds the planted groups.
  AlsParams p = implicit_params(8, 10);
  p.weighting = "bm25";
  Model m = train(synth::planted_implicit(200, 100, 5, 8, 1), p, 1);
  EXPECT_GE(synth::in_group_rate(m, 5, 5, 50), 0.96);
}
