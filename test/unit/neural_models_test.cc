// The LibTorch families learn planted structure, and the core serves what torch trained:
// every check below scores with the core's Eigen inference, not with torch.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <random>

#include "errors.h"
#include "explain.h"
#include "fold_in.h"
#include "model.h"
#include "planted.h"
#include "ranking.h"
#include "sequence_model.h"
#include "torch_api.h"

using namespace pgrec;

namespace {

Param text(const std::string& key, const std::string& v) {
  Param p;
  p.key = key;
  p.type = ParamType::String;
  p.text = v;
  return p;
}

// Trains to the end (or early stop) on the CPU and returns the served model.
Model train(NeuralInput in, const std::string& algorithm, const std::vector<Param>& params) {
  const NeuralParams p = NeuralParams::parse(algorithm, params);
  char error[256] = "";
  std::unique_ptr<Trainer> t(pgrec_torch_neural_trainer(&in, &p, "cpu", 1, error, sizeof error));
  EXPECT_NE(t, nullptr) << error;
  CancelToken token;
  train_to_end(*t, token);
  EXPECT_NE(t->history_json().find("\"epoch\": 1"), std::string::npos);
  return t->finish("int8", "int8");
}

// Users walk a cycle of items (next = previous + 1 mod n) from random starting points.
NeuralInput cycle_sequences(int users, int items, int length, unsigned seed) {
  std::mt19937 rng(seed);
  InteractionBuilder b(IdKind::Int, IdKind::Int, false);
  for (int u = 0; u < users; ++u) {
    int item = static_cast<int>(rng() % static_cast<unsigned>(items));
    for (int t = 0; t < length; ++t, item = (item + 1) % items) b.add(IdRef::of(u), IdRef::of(100 + item), 1.0f);
  }
  NeuralInput in;
  in.sequences = b.sequences();
  in.data = b.build();
  return in;
}

// The share of fresh sequences whose top-1 next item (core inference) follows the rule.
double next_item_hit_rate(const Model& m, int items, unsigned seed, bool exclude_given = false) {
  std::mt19937 rng(seed);
  int hits = 0;
  const int trials = 200;
  for (int k = 0; k < trials; ++k) {
    const int start = static_cast<int>(rng() % static_cast<unsigned>(items));
    const int len = 3 + static_cast<int>(rng() % 6u);
    std::vector<std::int32_t> seq;
    for (int t = 0; t < len; ++t) seq.push_back(m.items.find(IdRef::of(100 + (start + t) % items)));
    const std::vector<Scored> top = recommend_for_items(m, seq, {}, 1, exclude_given, nullptr);
    hits += !top.empty() && top[0].index == m.items.find(IdRef::of(100 + (start + len) % items));
  }
  return static_cast<double>(hits) / trials;
}

// Scores every item for every user before and after a save and load.
void expect_same_after_reload(const Model& m) {
  const std::string bytes = serialize_model(m);
  const Model back = deserialize_model(bytes.data(), bytes.size());
  std::vector<float> a(static_cast<std::size_t>(m.n_items())), b(a.size());
  for (std::int32_t u = 0; u < std::min<std::int32_t>(20, static_cast<std::int32_t>(m.users.size())); ++u) {
    score_items(m, u, a.data());
    score_items(back, u, b.data());
    EXPECT_EQ(a, b) << "user " << u;
  }
}

}  // namespace

TEST(NeuralSequence, SasrecLearnsNextItemRule) {
  const Model m = train(cycle_sequences(300, 40, 12, 1), "sasrec",
                        {text("time_col", "ts"), synth::num("factors", 32), synth::num("blocks", 1), synth::num("max_len", 10),
                         synth::num("epochs", 25), synth::num("learning_rate", 0.005), synth::num("dropout", 0.1)});
  EXPECT_EQ(m.kind, ModelKind::Sequence);
  EXPECT_GE(next_item_hit_rate(m, 40, 7), 0.9);
  expect_same_after_reload(m);
}

TEST(NeuralSequence, SampledLossLearnsNextItemRule) {
  const Model m = train(cycle_sequences(300, 40, 12, 4), "sasrec",
                        {text("time_col", "ts"), synth::num("factors", 32), synth::num("blocks", 1), synth::num("max_len", 10),
                         synth::num("epochs", 25), synth::num("learning_rate", 0.005), synth::num("dropout", 0.1),
                         text("loss", "sampled"), synth::num("sampled", 8)});
  EXPECT_NE(m.params_json.find("\"loss\": \"sampled\""), std::string::npos);
  // Few sampled negatives rarely contrast the items already in the sequence: rank the others.
  EXPECT_GE(next_item_hit_rate(m, 40, 9, true), 0.9);
}

TEST(NeuralSequence, Gru4recLearnsNextItemRule) {
  const Model m = train(cycle_sequences(300, 40, 12, 2), "gru4rec",
                        {text("time_col", "ts"), synth::num("factors", 32), synth::num("max_len", 10), synth::num("epochs", 25),
                         synth::num("learning_rate", 0.005), synth::num("dropout", 0.1)});
  EXPECT_GE(next_item_hit_rate(m, 40, 8), 0.9);
  expect_same_after_reload(m);
}

TEST(NeuralSequence, StoredSequencesServeKnownUsers) {
  const Model m = train(cycle_sequences(100, 30, 8, 3), "gru4rec",
                        {text("time_col", "ts"), synth::num("factors", 16), synth::num("max_len", 5), synth::num("epochs", 3)});
  // score_items for a known user equals scoring the user's last max_len items.
  for (std::int32_t u = 0; u < 5; ++u) {
    const Csr& s = m.net.sequences;
    EXPECT_LE(s.offsets[u + 1] - s.offsets[u], 5);
    std::vector<std::int32_t> seq(s.indices.begin() + s.offsets[u], s.indices.begin() + s.offsets[u + 1]);
    std::vector<float> a(static_cast<std::size_t>(m.n_items())), b(a.size());
    score_items(m, u, a.data());
    fold_in_scores(m, seq, {}, b.data());
    EXPECT_EQ(a, b);
  }
}

TEST(NeuralSequence, MissingTimeColumnIsRejected) {
  try {
    NeuralParams::parse("sasrec", {});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::InvalidParameter);
    EXPECT_NE(std::string(e.what()).find("time_col"), std::string::npos);
  }
}

TEST(NeuralNeuMf, RanksOwnGroupFirst) {
  InteractionBuilder b(IdKind::Int, IdKind::Int, false);
  std::mt19937 rng(5);
  for (int u = 0; u < 120; ++u)
    for (int n = 0; n < 8; ++n) b.add(IdRef::of(u), IdRef::of((rng() % 20) * 3 + u % 3), 1.0f);
  NeuralInput in;
  in.data = b.build();
  const Model m = train(std::move(in), "neumf", {synth::num("factors", 8), synth::num("mlp_factors", 8), synth::num("epochs", 15),
                                                  synth::num("learning_rate", 0.01), synth::num("batch_size", 128)});
  EXPECT_EQ(m.kind, ModelKind::NeuralMf);
  int own = 0, total = 0;
  for (std::int32_t u = 0; u < static_cast<std::int32_t>(m.users.size()); ++u) {
    const int group = static_cast<int>(m.users.int_at(u) % 3);
    for (const Scored& s : recommend(m, u, 5, true)) {
      own += m.items.int_at(s.index) % 3 == group;
      ++total;
    }
    const float p = predict(m, u, 0);
    EXPECT_GT(p, 0.0f);
    EXPECT_LT(p, 1.0f);
  }
  EXPECT_GE(static_cast<double>(own) / total, 0.9);
  expect_same_after_reload(m);
}

TEST(NeuralTwoTower, RecommendsNewItemByItsFeatures) {
  // Users of group g take items of group g; items 1000.. of each group have no interactions.
  InteractionBuilder b(IdKind::Int, IdKind::Int, false);
  std::mt19937 rng(9);
  const int groups = 4;
  for (int u = 0; u < 200; ++u)
    for (int n = 0; n < 10; ++n) b.add(IdRef::of(u), IdRef::of((rng() % 15) * groups + u % groups), 1.0f);
  std::vector<std::int32_t> cold;
  for (int c = 0; c < 8; ++c) cold.push_back(b.add_item(IdRef::of(1000 + c)));
  NeuralInput in;
  in.data = b.build();
  FeatureBuilder f({"genre", "year"}, {false, true});
  for (std::int32_t i = 0; i < static_cast<std::int32_t>(in.data.items.size()); ++i) {
    const std::int64_t id = in.data.items.int_at(i);
    f.begin_row(i, std::to_string(id));
    f.add_category(0, "g" + std::to_string(id % groups));
    f.add_number(1, 1990 + static_cast<double>(id % 7));
  }
  in.item_features = f.build(static_cast<std::int32_t>(in.data.items.size()));
  const Model m = train(std::move(in), "two_tower", {synth::num("factors", 16), synth::num("epochs", 15), synth::num("learning_rate", 0.01)});
  EXPECT_EQ(m.kind, ModelKind::Factors);
  ASSERT_EQ(m.n_items(), 60 + 8);
  // For each user, the best of the new items belongs to the user's group.
  int right = 0;
  pgrec::ItemFilter only_cold;
  only_cold.has_candidates = true;
  only_cold.candidates = cold;
  std::sort(only_cold.candidates.begin(), only_cold.candidates.end());
  for (std::int32_t u = 0; u < static_cast<std::int32_t>(m.users.size()); ++u) {
    const std::vector<Scored> top = recommend(m, u, 1, true, &only_cold);
    ASSERT_EQ(top.size(), 1u);
    right += m.items.int_at(top[0].index) % groups == m.users.int_at(u) % groups;
  }
  EXPECT_GE(right, 180);
  // Feature rows must name each id once.
  FeatureBuilder dup({"genre"}, {false});
  dup.begin_row(0, "7");
  try {
    dup.begin_row(0, "7");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::DataException);
    EXPECT_NE(std::string(e.what()).find("id 7"), std::string::npos);
  }
}

// Users of group u % 3 take 8 random items of group i % 3 (60 items).
NeuralInput three_groups(unsigned seed) {
  InteractionBuilder b(IdKind::Int, IdKind::Int, false);
  std::mt19937 rng(seed);
  for (int u = 0; u < 150; ++u)
    for (int n = 0; n < 8; ++n) b.add(IdRef::of(u), IdRef::of((rng() % 20) * 3 + u % 3), 1.0f);
  NeuralInput in;
  in.data = b.build();
  return in;
}

// The share of every user's top 5 (training items excluded) that is of the user's group.
double own_group_rate(const Model& m) {
  int own = 0, total = 0;
  for (std::int32_t u = 0; u < static_cast<std::int32_t>(m.users.size()); ++u)
    for (const Scored& s : recommend(m, u, 5, true)) {
      own += m.items.int_at(s.index) % 3 == m.users.int_at(u) % 3;
      ++total;
    }
  return total > 0 ? static_cast<double>(own) / total : 0.0;
}

TEST(NeuralMultVae, RanksOwnGroupAndFoldsInAsTrained) {
  const Model m = train(three_groups(5), "multvae", {synth::num("factors", 8), synth::num("hidden", 32), synth::num("epochs", 60),
                                                     synth::num("learning_rate", 0.01), synth::num("batch_size", 32),
                                                     synth::num("anneal_epochs", 5)});
  EXPECT_EQ(m.kind, ModelKind::Factors);
  EXPECT_FALSE(m.net.empty());
  EXPECT_GE(own_group_rate(m), 0.9);
  // A known user's items through the encoder give the scores stored at training time.
  std::vector<float> trained(static_cast<std::size_t>(m.n_items())), folded(trained.size());
  for (std::int32_t u = 0; u < 30; ++u) {
    std::vector<std::int32_t> items(m.seen.indices.begin() + m.seen.offsets[u], m.seen.indices.begin() + m.seen.offsets[u + 1]);
    score_items(m, u, trained.data());
    fold_in_scores(m, items, std::vector<float>(items.size(), 4.0f), folded.data());
    for (std::size_t j = 0; j < trained.size(); ++j) EXPECT_NEAR(folded[j], trained[j], 1e-3 * (1 + std::fabs(trained[j])));
  }
  expect_same_after_reload(m);
  synth::write_fuzz_seed(m, "model_multvae");
  try {
    explain(m, 0, 0, 3);
    FAIL() << "multvae explained";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::NotSupported);
  }
}

TEST(NeuralLightGcn, RanksOwnGroupFirst) {
  const Model m = train(three_groups(7), "lightgcn", {synth::num("factors", 16), synth::num("epochs", 40),
                                                      synth::num("learning_rate", 0.02), synth::num("batch_size", 256)});
  EXPECT_EQ(m.kind, ModelKind::Factors);
  EXPECT_GE(own_group_rate(m), 0.9);
  // A new user folded in from items of group 1 gets group-1 items.
  std::vector<std::int32_t> given;
  for (int k = 0; k < 5; ++k) given.push_back(m.items.find(IdRef::of(3 * k + 1)));
  int own = 0;
  for (const Scored& s : recommend_for_items(m, given, {}, 5, true, nullptr)) own += m.items.int_at(s.index) % 3 == 1;
  EXPECT_GE(own, 4);
  expect_same_after_reload(m);
}

TEST(NeuralAutoRec, PredictsHeldOutRatingsBetterThanTheMean) {
  std::vector<std::tuple<int, int, float>> held;
  NeuralInput in;
  in.data = synth::planted_explicit(150, 60, 0.5, 3, &held);
  double mean = 0;
  for (std::int32_t u = 0; u < in.data.by_user.rows; ++u)
    for (std::int64_t p = in.data.by_user.offsets[u]; p < in.data.by_user.offsets[u + 1]; ++p) mean += in.data.by_user.values[p];
  mean /= static_cast<double>(in.data.by_user.nnz());
  const Model m = train(std::move(in), "autorec", {synth::num("factors", 32), synth::num("epochs", 80), synth::num("learning_rate", 0.01),
                                                   synth::num("regularization", 1), synth::num("patience", 10)});
  EXPECT_EQ(m.kind, ModelKind::Factors);
  EXPECT_TRUE(m.explicit_ratings);
  double err = 0, base = 0;
  int n = 0;
  for (const auto& [u, i, r] : held) {
    const auto mu = m.users.find(IdRef::of(u)), mi = m.items.find(IdRef::of(i));
    if (mu < 0 || mi < 0) continue;
    err += std::pow(predict(m, mu, mi) - r, 2);
    base += std::pow(mean - r, 2);
    ++n;
  }
  ASSERT_GT(n, 50);
  EXPECT_LT(std::sqrt(err / n), 0.8 * std::sqrt(base / n));
  expect_same_after_reload(m);
}
