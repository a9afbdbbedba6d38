// Retraining a serving model: warm starts copy the previous factors by id, the gate's decision
// and parameters, and item vectors solved against fixed user factors (update_items).
#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <cmath>
#include <random>

#include "errors.h"
#include "gate.h"
#include "item_update.h"
#include "planted.h"

using namespace pgrec;

namespace {

// Creates the trainer of `algorithm` for `data` (one thread) without training it.
std::unique_ptr<Trainer> trainer(const std::string& algorithm, Interactions data, const std::vector<Param>& params) {
  return make_trainer(parse_algorithm(algorithm, params, data.explicit_ratings), std::move(data), 1);
}

// Planted implicit data whose users are 1000.. and items 0.., without the users and items given.
Interactions planted_without(int users, int items, int skip_users_from, int skip_items_from, unsigned seed) {
  const Interactions all = synth::planted_implicit(users, items, 4, 12, seed);
  InteractionBuilder b(IdKind::Int, IdKind::Int, false);
  for (std::int32_t u = 0; u < all.by_user.rows; ++u) {
    const std::int64_t user = all.users.int_at(u);
    if (user - 1000 >= skip_users_from) continue;
    for (std::int64_t e = all.by_user.offsets[u]; e < all.by_user.offsets[u + 1]; ++e) {
      const std::int64_t item = all.items.int_at(all.by_user.indices[e]);
      if (item >= skip_items_from) continue;
      b.add(IdRef::of(user), IdRef::of(item), all.by_user.values[e]);
    }
  }
  return b.build();
}

// A string parameter.
Param text(const std::string& key, const std::string& value) {
  Param p;
  p.key = key;
  p.type = ParamType::String;
  p.text = value;
  return p;
}

}  // namespace

TEST(WarmStart, AlsStartsFromThePreviousFactorsForKnownIds) {
  const Model previous = synth::train("als", planted_without(300, 80, 250, 70, 5),
                                      {synth::num("factors", 8), synth::num("iterations", 5)});
  // One step from the previous factors with the users solved first: the known items' factors are
  // the previous ones, so the users' solve is ALS's answer for them.
  auto t = trainer("als", planted_without(300, 80, 300, 80, 5), {synth::num("factors", 8), synth::num("iterations", 1)});
  const WarmStart w = t->warm_start(previous);
  EXPECT_EQ(w.users, 250);
  EXPECT_EQ(w.items, 70);
  CancelToken token;
  t->step(token);
  const Model next = t->finish("int4", "int4");
  // After one iteration from a converged start, known users' scores barely move; a cold one-step
  // model is far from the previous one.
  Model cold = synth::train("als", planted_without(300, 80, 300, 80, 5), {synth::num("factors", 8), synth::num("iterations", 1)});
  double warm_diff = 0, cold_diff = 0;
  for (std::int32_t u = 0; u < 50; ++u) {
    const std::int32_t pu = previous.users.find(next.users.ref(u));
    ASSERT_GE(pu, 0);
    for (std::int32_t i = 0; i < 20; ++i) {
      const std::int32_t pi = previous.items.find(next.items.ref(i));
      if (pi < 0) continue;
      const float before = previous.user_factors.row(pu).dot(previous.item_factors.row(pi));
      warm_diff += std::abs(next.user_factors.row(u).dot(next.item_factors.row(i)) - before);
      const std::int32_t cu = cold.users.find(next.users.ref(u)), ci = cold.items.find(next.items.ref(i));
      cold_diff += std::abs(cold.user_factors.row(cu).dot(cold.item_factors.row(ci)) - before);
    }
  }
  EXPECT_LT(warm_diff, cold_diff * 0.5);
}

TEST(WarmStart, SgdMfKeepsTheBiasesAndBprTheItemBias) {
  std::vector<std::tuple<int, int, float>> held;
  const Model previous = synth::train("sgd_mf", synth::planted_explicit(60, 40, 0.5, 3, &held),
                                      {synth::num("factors", 4), synth::num("epochs", 5)});
  auto t = trainer("sgd_mf", synth::planted_explicit(60, 40, 0.5, 3, nullptr), {synth::num("factors", 4), synth::num("epochs", 1)});
  const WarmStart w = t->warm_start(previous);
  EXPECT_EQ(w.users, 60);
  EXPECT_EQ(w.items, 40);
  // Finishing before any step hands back exactly the previous factors and biases.
  const Model same = t->finish("int4", "int4");
  for (std::int32_t u = 0; u < 60; ++u) {
    const std::int32_t pu = previous.users.find(same.users.ref(u));
    EXPECT_TRUE(same.user_factors.row(u).isApprox(previous.user_factors.row(pu), 1e-6f)) << "user " << u;
  }
  const Model bpr = synth::train("bpr", synth::planted_implicit(100, 40, 4, 8, 1), {synth::num("factors", 6), synth::num("epochs", 3)});
  auto b = trainer("bpr", synth::planted_implicit(100, 40, 4, 8, 1), {synth::num("factors", 6), synth::num("epochs", 1)});
  EXPECT_EQ(b->warm_start(bpr).items, 40);
  const Model bpr_same = b->finish("int4", "int4");
  for (std::int32_t i = 0; i < 40; ++i)
    EXPECT_TRUE(bpr_same.item_factors.row(i).isApprox(bpr.item_factors.row(bpr.items.find(bpr_same.items.ref(i))), 1e-6f));
}

TEST(WarmStart, RefusesWhatDoesNotFit) {
  const Model previous = synth::train("als", synth::planted_implicit(50, 20, 2, 5, 2), {synth::num("factors", 8), synth::num("iterations", 1)});
  auto wider = trainer("als", synth::planted_implicit(50, 20, 2, 5, 2), {synth::num("factors", 16)});
  try {
    wider->warm_start(previous);
    FAIL() << "a different width was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::InvalidParameter);
    EXPECT_NE(std::string(e.what()).find("same number of factors"), std::string::npos);
  }
  auto bpr = trainer("bpr", synth::planted_implicit(50, 20, 2, 5, 2), {synth::num("factors", 7)});
  EXPECT_THROW(bpr->warm_start(previous), Error);  // an ALS model cannot start BPR
  auto knn = trainer("item_knn", synth::planted_implicit(50, 20, 2, 5, 2), {});
  try {
    knn->warm_start(previous);
    FAIL() << "item_knn claimed a warm start";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::NotSupported);
  }
}

TEST(Gate, ParametersAndDecision) {
  GateParams g = parse_gate({}, false);
  EXPECT_EQ(g.metric, "ndcg");
  EXPECT_EQ(g.metric_key(), "ndcg@10");
  EXPECT_DOUBLE_EQ(g.test_fraction, 0.1);
  EXPECT_TRUE(gate_passes(g, 0.30, 0.30));
  EXPECT_FALSE(gate_passes(g, 0.2999, 0.30));
  g = parse_gate({synth::num("tolerance", 0.01), synth::num("k", 5), text("metric", "recall")}, false);
  EXPECT_EQ(g.metric_key(), "recall@5");
  EXPECT_TRUE(gate_passes(g, 0.291, 0.30));
  EXPECT_FALSE(gate_passes(g, 0.289, 0.30));
  GateParams r = parse_gate({}, true);
  EXPECT_EQ(r.metric_key(), "rmse");
  EXPECT_TRUE(gate_passes(r, 0.90, 0.91));
  EXPECT_FALSE(gate_passes(r, 0.92, 0.91));
  EXPECT_THROW(parse_gate({text("metric", "rmse")}, false), Error);  // no ratings to score
  EXPECT_THROW(parse_gate({synth::num("test_fraction", 0.9)}, false), Error);
  EXPECT_THROW(parse_gate({synth::num("tolerence", 0.1)}, false), Error);  // a misspelt key
  EXPECT_NE(parse_gate({text("time_col", "ts\"x")}, false).to_json().find("\"ts\\\"x\""), std::string::npos);
}

TEST(Gate, TrainedOnReadsTheSeenRows) {
  const Model m = synth::train("popularity", synth::planted_implicit(20, 8, 2, 3, 4));
  for (std::int32_t u = 0; u < m.seen.rows; ++u)
    for (std::int32_t i = 0; i < m.n_items(); ++i) {
      bool seen = false;
      for (std::int64_t e = m.seen.offsets[u]; e < m.seen.offsets[u + 1]; ++e) seen |= m.seen.indices[e] == i;
      EXPECT_EQ(trained_on(m, u, i), seen);
    }
  EXPECT_FALSE(trained_on(m, -1, 0));
  EXPECT_FALSE(trained_on(m, 0, -1));
  EXPECT_FALSE(trained_on(m, m.seen.rows, 0));
}

TEST(UpdateItems, ImplicitAlsSolvesTheItemStepExactly) {
  const Model m = synth::train("als", planted_without(200, 60, 200, 50, 7),
                               {synth::num("factors", 6), synth::num("iterations", 8), synth::num("regularization", 2),
                                synth::num("alpha", 3)});
  // Item 55 (new) was taken by users 0..9 of the model, with values 1 and 2.
  IdMap ids(IdKind::Int);
  ids.intern(IdRef::of(55));
  ItemUsers users(1);
  for (std::int32_t u = 0; u < 10; ++u) users[0].emplace_back(u, 1.0f + static_cast<float>(u % 2));
  ItemUpdateStats stats;
  const Model out = update_items(m, ids, users, &stats);
  EXPECT_EQ(stats.added, 1);
  EXPECT_EQ(stats.updated, 0);
  EXPECT_EQ(out.n_items(), m.n_items() + 1);
  // Reference: (UᵀU + Σ (c−1) u uᵀ + λI) y = Σ c u, c = 1 + α v, in double.
  const Eigen::MatrixXd u = m.user_factors.cast<double>();
  Eigen::MatrixXd a = u.transpose() * u;
  Eigen::VectorXd b = Eigen::VectorXd::Zero(u.cols());
  for (const auto& [user, value] : users[0]) {
    const double c = 1 + 3.0 * value;
    a += (c - 1) * u.row(user).transpose() * u.row(user);
    b += c * u.row(user).transpose();
  }
  a.diagonal().array() += 2.0;
  const Eigen::VectorXd y = a.ldlt().solve(b);
  const std::int32_t at = out.items.find(IdRef::of(55));
  ASSERT_EQ(at, m.n_items());
  for (Eigen::Index c = 0; c < y.size(); ++c) EXPECT_NEAR(out.item_factors(at, c), y(c), 1e-3 * (1 + std::abs(y(c))));
  // The users who took it have it among their seen items; the old items are unchanged.
  for (std::int32_t v = 0; v < 10; ++v) EXPECT_TRUE(trained_on(out, v, at));
  EXPECT_FALSE(trained_on(out, 10, at));
  EXPECT_TRUE(out.item_factors.topRows(m.n_items()).isApprox(m.item_factors));
}

TEST(UpdateItems, NewItemsOfAPlantedGroupAreRecommendedToThatGroup) {
  // Items 100.. are unknown to the model; each is taken by users of one planted group.
  const Model m = synth::train("als", synth::planted_implicit(400, 100, 4, 15, 9), {synth::num("factors", 8), synth::num("iterations", 10)});
  IdMap ids(IdKind::Int);
  ItemUsers users;
  std::mt19937 rng(1);
  for (int n = 0; n < 8; ++n) {
    ids.intern(IdRef::of(100 + n));
    users.emplace_back();
    for (std::int32_t u = 0; u < m.users.size(); ++u)
      if ((m.users.int_at(u) - 1000) % 4 == n % 4 && rng() % 3 == 0) users.back().emplace_back(u, 1.0f);
  }
  ItemUpdateStats stats;
  const Model out = update_items(m, ids, users, &stats);
  EXPECT_EQ(stats.added, 8);
  int right = 0, scored = 0;
  for (std::int32_t u = 0; u < 40; ++u) {
    const int group = static_cast<int>(m.users.int_at(u) - 1000) % 4;
    // Among the new items, the best-scored one for the user is of the user's group.
    float best = -1e30f;
    int best_group = -1;
    for (int n = 0; n < 8; ++n) {
      const std::int32_t i = out.items.find(IdRef::of(100 + n));
      const float s = out.user_factors.row(u).dot(out.item_factors.row(i));
      if (s > best) best = s, best_group = n % 4;
    }
    right += best_group == group;
    ++scored;
  }
  EXPECT_GE(right, scored * 9 / 10);
}

TEST(UpdateItems, ExplicitRidgeRecoversARatingPlantedItem) {
  std::vector<std::tuple<int, int, float>> held;
  const Model m = synth::train("sgd_mf", synth::planted_explicit(300, 50, 0.6, 11, &held),
                               {synth::num("factors", 4), synth::num("epochs", 40)});
  // A known item re-solved from its training ratings predicts them about as well as SGD's vector
  // (a ridge optimum, not SGD's objective: within 10%), far better than the global mean.
  const std::int32_t item = 3;
  IdMap ids(IdKind::Int);
  ids.intern(m.items.ref(item));
  ItemUsers users(1);
  for (std::int32_t u = 0; u < m.seen.rows; ++u)
    for (std::int64_t e = m.seen.offsets[u]; e < m.seen.offsets[u + 1]; ++e)
      if (m.seen.indices[e] == item) users[0].emplace_back(u, m.seen.values[e]);
  ItemUpdateStats stats;
  const Model out = update_items(m, ids, users, &stats);
  EXPECT_EQ(stats.updated, 1);
  double before = 0, after = 0, mean_only = 0;
  for (const auto& [u, r] : users[0]) {
    before += std::pow(predict(m, u, item) - r, 2);
    after += std::pow(predict(out, u, item) - r, 2);
    mean_only += std::pow(m.global_mean - r, 2);
  }
  EXPECT_LE(after, before * 1.1);
  EXPECT_LT(after, mean_only * 0.5);
  // The columns that are 1 for every item (the user bias's partner) stay 1.
  EXPECT_FLOAT_EQ(out.item_factors(item, m.factors() - 2), 1.0f);
}

TEST(UpdateItems, RefusesModelsWhoseItemsAreNotLeastSquaresVectors) {
  const Model bpr = synth::train("bpr", synth::planted_implicit(50, 20, 2, 5, 2), {synth::num("epochs", 1)});
  const Model knn = synth::train("item_knn", synth::planted_implicit(50, 20, 2, 5, 2));
  IdMap ids(IdKind::Int);
  ItemUsers users;
  ItemUpdateStats stats;
  for (const Model* m : {&bpr, &knn}) {
    try {
      (void)update_items(*m, ids, users, &stats);
      FAIL() << m->algorithm << " was updated";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::NotSupported);
    }
  }
}
