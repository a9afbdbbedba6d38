// item_knn and popularity: planted neighbours, a brute-force similarity reference, round trips.
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "algorithms.h"
#include "fold_in.h"
#include "planted.h"
#include "ranking.h"

using namespace pgrec;

TEST(ItemKnn, RecoversPlantedGroups) {
  Model m = synth::train("item_knn", synth::planted_implicit(200, 100, 5, 8, 1));
  EXPECT_EQ(m.kind, ModelKind::ItemNeighbors);
  EXPECT_GE(synth::in_group_rate(m, 5, 10, 200), 0.99);
  const std::int32_t item = m.items.find(IdRef::of(7));
  for (const Scored& s : similar_items(m, item, 5)) EXPECT_EQ(m.items.int_at(s.index) % 5, 2);
}

TEST(ItemKnn, CosineWithShrinkageMatchesBruteForce) {
  Interactions data = synth::planted_implicit(60, 30, 3, 5, 2);
  // Dense reference over binary vectors.
  const std::int32_t n = data.by_item.rows;
  std::vector<std::vector<float>> col(static_cast<std::size_t>(n), std::vector<float>(static_cast<std::size_t>(data.by_user.rows), 0));
  for (std::int32_t u = 0; u < data.by_user.rows; ++u)
    for (std::int64_t p = data.by_user.offsets[u]; p < data.by_user.offsets[u + 1]; ++p)
      col[static_cast<std::size_t>(data.by_user.indices[p])][static_cast<std::size_t>(u)] = 1;
  const double shrink = 3;
  const int keep = 4;
  std::map<std::pair<int, int>, float> want;
  for (int i = 0; i < n; ++i) {
    std::vector<std::pair<float, int>> row;
    for (int j = 0; j < n; ++j) {
      if (i == j) continue;
      double dot = 0, ni = 0, nj = 0;
      for (std::size_t u = 0; u < col[0].size(); ++u) {
        dot += col[i][u] * col[j][u];
        ni += col[i][u];
        nj += col[j][u];
      }
      if (dot == 0) continue;
      const double sim = dot / std::sqrt(ni * nj) * dot / (dot + shrink);
      row.emplace_back(static_cast<float>(sim), j);
    }
    std::sort(row.begin(), row.end(), [](auto a, auto b) { return a.first > b.first || (a.first == b.first && a.second < b.second); });
    for (int r = 0; r < keep && r < static_cast<int>(row.size()); ++r) want[{i, row[r].second}] = row[r].first;
  }
  Model m = synth::train("item_knn", std::move(data), {synth::num("neighbors", keep), synth::num("shrinkage", shrink)});
  std::size_t got = 0;
  for (std::int32_t i = 0; i < n; ++i)
    for (std::int64_t q = m.neighbors.offsets[i]; q < m.neighbors.offsets[i + 1]; ++q) {
      ++got;
      const auto it = want.find({i, m.neighbors.indices[q]});
      ASSERT_NE(it, want.end()) << "unexpected neighbour " << m.neighbors.indices[q] << " of " << i;
      EXPECT_NEAR(it->second, m.neighbors.values[q], 1e-5);
    }
  EXPECT_EQ(got, want.size());
}

TEST(ItemKnn, ExplicitPredictionIsAWeightedMean) {
  Model m = synth::train("item_knn", synth::planted_explicit(60, 30, 0.5, 3, nullptr), {});
  for (std::int32_t u = 0; u < 5; ++u)
    for (std::int32_t i = 0; i < 5; ++i) {
      const float p = predict(m, u, i);
      EXPECT_TRUE(std::isfinite(p));
    }
  Param sim;
  sim.key = "similarity";
  sim.type = ParamType::String;
  sim.text = "pearson";
  EXPECT_THROW(parse_algorithm("item_knn", {sim}, false), Error);
  EXPECT_NO_THROW(parse_algorithm("item_knn", {sim}, true));
}

TEST(Popularity, CountsAndDampedRatings) {
  InteractionBuilder b(IdKind::Int, IdKind::Int, true);
  b.add(IdRef::of(1), IdRef::of(10), 5);
  b.add(IdRef::of(2), IdRef::of(10), 1);
  b.add(IdRef::of(3), IdRef::of(10), 3);
  b.add(IdRef::of(1), IdRef::of(20), 5);
  b.add(IdRef::of(2), IdRef::of(30), 4);
  Model count = synth::train("popularity", b.build());
  EXPECT_EQ(count.kind, ModelKind::ItemScores);
  // User 2 saw 10 and 30: 20 is left; a new user gets 10 first.
  const auto for_2 = recommend(count, count.users.find(IdRef::of(2)), 5, true);
  ASSERT_EQ(for_2.size(), 1u);
  EXPECT_EQ(count.items.int_at(for_2[0].index), 20);
  EXPECT_EQ(count.items.int_at(recommend(count, -1, 1, true)[0].index), 10);

  InteractionBuilder b2(IdKind::Int, IdKind::Int, true);
  b2.add(IdRef::of(1), IdRef::of(10), 5);
  b2.add(IdRef::of(2), IdRef::of(20), 2);
  Param w;
  w.key = "weighting";
  w.type = ParamType::String;
  w.text = "rating";
  Model rated = synth::train("popularity", b2.build(), {w, synth::num("damping", 1)});
  // mean 3.5: item 10 = (5 + 3.5) / 2, item 20 = (2 + 3.5) / 2
  EXPECT_NEAR(predict(rated, 0, rated.items.find(IdRef::of(10))), 4.25, 1e-6);
  EXPECT_NEAR(predict(rated, 0, rated.items.find(IdRef::of(20))), 2.75, 1e-6);
  EXPECT_THROW(similar_items(rated, 0, 3), Error);
}

TEST(Algorithms, EveryKindRoundTrips) {
  for (const std::string a : {"item_knn", "popularity"}) {
    const Model m = synth::train(a, synth::planted_implicit(40, 20, 2, 4, 3));
    const std::string bytes = serialize_model(m);
    const Model back = deserialize_model(bytes.data(), bytes.size());
    EXPECT_EQ(back.kind, m.kind);
    EXPECT_EQ(back.algorithm, a);
    EXPECT_EQ(back.neighbors.indices, m.neighbors.indices);
    EXPECT_EQ(back.neighbors.values, m.neighbors.values);
    EXPECT_EQ(back.item_scores, m.item_scores);
    EXPECT_EQ(serialize_model(back), bytes);
  }
  EXPECT_THROW(parse_algorithm("magic", {}, false), Error);
  EXPECT_TRUE(is_algorithm("item_knn"));
}

TEST(Bpr, LearnsPlantedGroupsWithEitherSampling) {
  for (const char* sampling : {"uniform", "popularity"}) {
    Param s;
    s.key = "sampling";
    s.type = ParamType::String;
    s.text = sampling;
    Model m = synth::train("bpr", synth::planted_implicit(200, 100, 5, 8, 1),
                    {s, synth::num("factors", 16), synth::num("epochs", 40), synth::num("learning_rate", 0.05)});
    EXPECT_GE(synth::in_group_rate(m, 5, 10, 200), 0.9) << sampling;
  }
}

TEST(Bpr, LockFreeThreadsLearnAsWellAsOne) {
  // Hogwild with two threads: the same samples, updates interleaved without locks.
  const std::vector<Param> params = {synth::num("factors", 16), synth::num("epochs", 40)};
  const Model one = synth::train("bpr", synth::planted_implicit(300, 120, 6, 8, 3), params, 1);
  const Model two = synth::train("bpr", synth::planted_implicit(300, 120, 6, 8, 3), params, 2);
  const double a = synth::in_group_rate(one, 6, 10, 300), b = synth::in_group_rate(two, 6, 10, 300);
  EXPECT_GE(b, 0.9);
  EXPECT_NEAR(a, b, 0.05);
  // A small catalog trains on per-thread copies of the item rows, and user slices never share a
  // user: the same thread count gives the same model.
  const Model again = synth::train("bpr", synth::planted_implicit(300, 120, 6, 8, 3), params, 2);
  EXPECT_TRUE(two.item_factors == again.item_factors);
  EXPECT_TRUE(two.user_factors == again.user_factors);
}

TEST(Bpr, LossFallsAndIsDeterministic) {
  auto run = [](int epochs) {
    auto t = make_trainer(parse_algorithm("bpr", {synth::num("epochs", epochs)}, false), synth::planted_implicit(100, 50, 4, 6, 2), 1);
    CancelToken token;
    t->step(token);
    const double first = t->loss(token);
    train_to_end(*t, token);
    return std::make_pair(first, t->loss(token));
  };
  const auto a = run(20), b = run(20);
  EXPECT_LT(a.second, a.first);
  EXPECT_EQ(a, b);
  EXPECT_THROW(parse_algorithm("bpr", {synth::num("factorz", 1)}, false), Error);
}

TEST(Bpr, ValidationNdcgRisesAboveChance) {
  Param validation;
  validation.key = "validation";
  validation.type = ParamType::Bool;
  validation.boolean = true;
  auto t = make_trainer(parse_algorithm("bpr", {synth::num("epochs", 15), validation}, false),
                        synth::planted_implicit(120, 60, 4, 8, 2), 1);
  CancelToken token;
  train_to_end(*t, token);
  const std::string h = t->history_json();
  // One entry per epoch, each with the loss and the held-out NDCG@10.
  EXPECT_NE(h.find("\"epoch\": 15, \"loss\": "), std::string::npos) << h;
  const auto at = h.rfind("\"ndcg@10\": ");
  ASSERT_NE(at, std::string::npos);
  // Planted groups of 15 items: chance ranks a held-out item in the top 10 about 1 time in 6.
  EXPECT_GT(std::atof(h.c_str() + at + 11), 0.3) << h;
}

TEST(UserKnn, RecommendsTheGroupAndFoldsIn) {
  Model m = synth::train("user_knn", synth::planted_implicit(200, 100, 5, 8, 1), {synth::num("neighbors", 20)});
  EXPECT_EQ(m.kind, ModelKind::UserNeighbors);
  EXPECT_GE(synth::in_group_rate(m, 5, 5, 50), 0.95);
  for (std::int32_t u = 0; u < 50; ++u)
    for (const Scored& s : recommend(m, u, 5, true)) EXPECT_NEAR(predict(m, u, s.index), s.score, 1e-4);
  std::vector<std::int32_t> given;
  for (long id : {2L, 7L, 12L}) given.push_back(m.items.find(IdRef::of(id)));
  int in_group = 0;
  for (const Scored& s : recommend_for_items(m, given, {}, 5, true)) in_group += m.items.int_at(s.index) % 5 == 2;
  EXPECT_GE(in_group, 4);
  EXPECT_THROW(similar_items(m, 0, 3), Error);
  const std::string bytes = serialize_model(m);
  EXPECT_EQ(serialize_model(deserialize_model(bytes.data(), bytes.size())), bytes);
}
