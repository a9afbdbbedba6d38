// Metrics against hand-computed cases, and evaluate() on a model whose ranking is known.
#include <gtest/gtest.h>

#include <cmath>

#include "metrics.h"

using namespace pgrec;

TEST(Metrics, HandComputedRanking) {
  // ranked: 5 3 9 1 (k = 4); relevant: 1 3 7.  Hits at ranks 2 and 4.
  const UserRanking r = score_ranking({5, 3, 9, 1}, {1, 3, 7}, 4);
  EXPECT_DOUBLE_EQ(r.precision, 2.0 / 4);
  EXPECT_DOUBLE_EQ(r.recall, 2.0 / 3);
  const double dcg = 1 / std::log2(3.0) + 1 / std::log2(5.0);
  const double idcg = 1 + 1 / std::log2(3.0) + 1 / std::log2(4.0);
  EXPECT_NEAR(r.ndcg, dcg / idcg, 1e-12);
  EXPECT_DOUBLE_EQ(r.hit, 1);
  EXPECT_NEAR(r.ap, (1.0 / 2 + 2.0 / 4) / 3, 1e-12);
  EXPECT_DOUBLE_EQ(r.rr, 0.5);

  const UserRanking miss = score_ranking({5, 6}, {1}, 2);
  EXPECT_EQ(miss.precision, 0);
  EXPECT_EQ(miss.ndcg, 0);
  EXPECT_EQ(miss.rr, 0);
  // A short list still divides precision by k; a perfect one has ndcg 1.
  const UserRanking perfect = score_ranking({4}, {4}, 10);
  EXPECT_DOUBLE_EQ(perfect.precision, 0.1);
  EXPECT_DOUBLE_EQ(perfect.ndcg, 1.0);
  EXPECT_DOUBLE_EQ(perfect.ap, 1.0);
}

namespace {

// Two users, five items; user u scores item i as factors give: user 0 prefers 4 > 3 > 2 > 1 > 0.
Model known_model() {
  Model m;
  m.algorithm = "als";
  m.explicit_ratings = true;
  m.global_mean = 0;
  m.users = IdMap::from_ints({100, 200});
  m.items = IdMap::from_ints({0, 1, 2, 3, 4});
  FactorMatrix users(2, 1), items(5, 1);
  users << 1, -1;
  m.user_factors = users;
  items << 0, 1, 2, 3, 4;
  m.item_factors = items;
  m.seen.rows = 2;
  m.seen.cols = 5;
  m.seen.offsets = {0, 1, 1};
  m.seen.indices = {4};  // user 0 saw item 4
  m.seen.values = {1};
  m.popularity = {5, 4, 3, 2, 1};
  m.prepare();
  return m;
}

double metric(const MetricList& l, const std::string& name) {
  for (const auto& [n, v] : l)
    if (n == name) return v;
  ADD_FAILURE() << "no metric " << name;
  return NAN;
}

}  // namespace

TEST(Metrics, EvaluateFullRanking) {
  const Model m = known_model();
  // user 0 ranks (seen 4 excluded) 3, 2; relevant {2}. user 1 ranks 0, 1; relevant {1, unknown}.
  // A cold user (group 2) gets popular items 0, 1; relevant {0}.
  std::vector<TestRow> rows = {{0, 0, 2, 2.0f}, {1, 1, 1, -1.0f}, {1, 1, -1, 0}, {2, -1, 0, 0}};
  EvalOptions o;
  o.k = 2;
  o.has_ratings = true;
  CancelToken token;
  const MetricList l = evaluate(m, rows, o, token);
  EXPECT_NEAR(metric(l, "precision@2"), (0.5 + 0.5 + 0.5) / 3, 1e-12);
  EXPECT_NEAR(metric(l, "recall@2"), (1.0 + 0.5 + 1.0) / 3, 1e-12);
  const double u0 = (1 / std::log2(3.0)) / 1.0;
  const double u1 = (1 / std::log2(3.0)) / (1 + 1 / std::log2(3.0));
  EXPECT_NEAR(metric(l, "ndcg@2"), (u0 + u1 + 1.0) / 3, 1e-12);
  EXPECT_NEAR(metric(l, "mrr@2"), (0.5 + 0.5 + 1.0) / 3, 1e-12);
  EXPECT_EQ(metric(l, "users"), 3);
  EXPECT_EQ(metric(l, "cold_users"), 1);
  EXPECT_EQ(metric(l, "unknown_items"), 1);
  EXPECT_NEAR(metric(l, "coverage@2"), 4.0 / 5, 1e-12);  // items 0 1 2 3
  // rmse over known pairs: user 0 item 2 predicts 2 (exact), user 1 item 1 predicts -1 (exact).
  EXPECT_NEAR(metric(l, "rmse"), 0.0, 1e-12);
}

TEST(Metrics, SampledNegativesAreLabelledAndBounded) {
  const Model m = known_model();
  std::vector<TestRow> rows = {{0, 0, 3, 0}};
  EvalOptions o;
  o.k = 1;
  o.sampled_negatives = 2;  // negatives come from {0, 1, 2}; item 3 outranks all of them
  CancelToken token;
  const MetricList l = evaluate(m, rows, o, token);
  EXPECT_EQ(metric(l, "hr@1 (2 sampled negatives)"), 1.0);
  EXPECT_EQ(metric(l, "ndcg@1 (2 sampled negatives)"), 1.0);
}
