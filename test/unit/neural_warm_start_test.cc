// Warm starts of the LibTorch families: a retraining starts from the serving version's training
// weights, matched by id (checked by renumbering every id), and learns faster than a cold one.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <random>

#include "algorithms.h"
#include "errors.h"
#include "model.h"
#include "planted.h"
#include "ranking.h"
#include "torch_api.h"

using namespace pgrec;

namespace {

struct Row {
  int user, item;
  float value;
};

// Three taste groups: each user takes (or rates highly) 8 items of its group; with ratings,
// 3 items of other groups get low ratings too.
std::vector<Row> group_rows(int users, bool ratings, unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<Row> rows;
  for (int u = 0; u < users; ++u) {
    for (int n = 0; n < 8; ++n) rows.push_back({u, static_cast<int>(rng() % 20) * 3 + u % 3, ratings ? 4.5f : 1.0f});
    if (ratings)
      for (int n = 0; n < 3; ++n) rows.push_back({u, static_cast<int>(rng() % 20) * 3 + (u + 1) % 3, 1.5f});
  }
  return rows;
}

// The rows as a trainer's input (each user's rows are its sequence, in order).
NeuralInput input_of(const std::vector<Row>& rows, bool ratings) {
  InteractionBuilder b(IdKind::Int, IdKind::Int, ratings);
  for (const Row& r : rows) b.add(IdRef::of(r.user), IdRef::of(100 + r.item), r.value);
  NeuralInput in;
  in.sequences = b.sequences();
  in.data = b.build();
  return in;
}

// The same rows with the users in reverse order: every user and most items get other indices.
std::vector<Row> renumbered(const std::vector<Row>& rows) {
  std::vector<Row> out;
  for (auto it = rows.rbegin(); it != rows.rend();) {
    const int user = it->user;
    auto first = it;
    while (it != rows.rend() && it->user == user) ++it;
    for (auto k = it; k != first;) out.push_back(*--k);
  }
  return out;
}

struct Family {
  const char* algorithm;
  bool ratings;
  std::vector<Param> params;
  bool user_weights = true;  // whether the network has weights per user (sequences and multvae do not)
  bool item_weights = true;  // whether it has weights per item (autorec does not)
};

std::vector<Family> families() {
  using synth::num;
  Param ts;
  ts.key = "time_col";
  ts.type = ParamType::String;
  ts.text = "ts";
  return {{"neumf", false, {num("factors", 8), num("mlp_factors", 8), num("learning_rate", 0.01)}},
          {"two_tower", false, {num("factors", 8), num("learning_rate", 0.01)}},
          {"lightgcn", false, {num("factors", 8), num("learning_rate", 0.02)}},
          {"multvae", false, {num("factors", 8), num("hidden", 16), num("learning_rate", 0.01), num("anneal_epochs", 2)}, false},
          {"sasrec", false, {ts, num("factors", 8), num("blocks", 1), num("max_len", 6), num("learning_rate", 0.01)}, false},
          {"gru4rec", false, {ts, num("factors", 8), num("max_len", 6), num("learning_rate", 0.01)}, false},
          {"autorec", true, {num("factors", 8), num("learning_rate", 0.01)}, true, false}};
}

std::unique_ptr<Trainer> trainer(const Family& f, NeuralInput in, int epochs, std::vector<Param> extra = {}) {
  std::vector<Param> params;
  for (const Param& p : f.params) {
    bool replaced = false;
    for (const Param& e : extra) replaced = replaced || e.key == p.key;
    if (!replaced) params.push_back(p);
  }
  params.insert(params.end(), extra.begin(), extra.end());
  params.push_back(synth::num("epochs", epochs));
  params.push_back(synth::num("patience", 0));
  const NeuralParams p = NeuralParams::parse(f.algorithm, params);
  char error[256] = "";
  std::unique_ptr<Trainer> t(pgrec_torch_neural_trainer(&in, &p, "cpu", 1, error, sizeof error));
  EXPECT_NE(t, nullptr) << error;
  return t;
}

// Without a validation split: every interaction is trained on, whatever the ids' order.
Param no_validation() {
  Param p;
  p.key = "validation";
  p.type = ParamType::Bool;
  p.text = "false";
  return p;
}

// Trains to the end and returns the model as a warm start reads it back (training weights kept).
Model trained(const Family& f, NeuralInput in, int epochs, std::vector<Param> extra = {}) {
  std::unique_ptr<Trainer> t = trainer(f, std::move(in), epochs, std::move(extra));
  CancelToken token;
  train_to_end(*t, token);
  const std::string bytes = serialize_model(t->finish("int4", "int4"));
  return deserialize_model(bytes.data(), bytes.size(), true);
}

// The validation score of a training curve's first epoch.
double first_score(const Trainer& t, const char* name) {
  const std::string h = t.history_json();
  const std::size_t at = h.find(std::string("\"") + name + "\": ");
  EXPECT_NE(at, std::string::npos) << h;
  return std::stod(h.substr(at + std::strlen(name) + 4));
}

}  // namespace

// Every family's warm start, with every id renumbered and no epoch run, serves what the
// previous version served: each weight went to the rows of the same ids.
TEST(NeuralWarmStart, RenumberedIdsGetTheirOwnWeights) {
  for (const Family& f : families()) {
    SCOPED_TRACE(f.algorithm);
    const std::vector<Row> rows = group_rows(90, f.ratings, 3);
    // (a validation split would hold out other interactions once the users are renumbered)
    const Model before = trained(f, input_of(rows, f.ratings), 3, {no_validation()});
    std::unique_ptr<Trainer> t = trainer(f, input_of(renumbered(rows), f.ratings), 1, {no_validation()});  // no epoch is run
    const WarmStart w = t->warm_start(before);
    EXPECT_EQ(w.users, f.user_weights ? static_cast<std::int32_t>(before.users.size()) : 0);
    EXPECT_EQ(w.items, f.item_weights ? static_cast<std::int32_t>(before.items.size()) : 0);
    const Model after = t->finish("int4", "int4");
    ASSERT_EQ(after.users.size(), before.users.size());
    EXPECT_NE(after.users.find(before.users.ref(0)), 0);  // renumbered
    std::vector<float> a(static_cast<std::size_t>(before.n_items())), b(a.size());
    int differ = 0;
    for (std::int32_t u = 0; u < static_cast<std::int32_t>(before.users.size()); ++u) {
      const std::int32_t v = after.users.find(before.users.ref(u));
      ASSERT_GE(v, 0);
      score_items(before, u, a.data());
      score_items(after, v, b.data());
      for (std::int32_t i = 0; i < before.n_items(); ++i) {
        const float x = a[static_cast<std::size_t>(i)], y = b[static_cast<std::size_t>(after.items.find(before.items.ref(i)))];
        differ += std::fabs(x - y) > 1e-4f * (1 + std::fabs(x));
      }
    }
    EXPECT_EQ(differ, 0);
  }
}

// With new users and items arriving, a warm start's first epoch is already better than a cold
// one's, and the ids both versions know are counted.
TEST(NeuralWarmStart, FirstEpochBeatsColdStart) {
  for (const Family& f : families()) {
    SCOPED_TRACE(f.algorithm);
    const std::vector<Row> old_rows = group_rows(90, f.ratings, 5);
    const Model before = trained(f, input_of(old_rows, f.ratings), 25);
    std::vector<Row> rows = old_rows;
    for (const Row& r : group_rows(120, f.ratings, 6))
      if (r.user >= 90) rows.push_back({r.user, r.item + (r.user % 2 == 0 ? 60 : 0), r.value});  // new users, some new items
    std::unique_ptr<Trainer> warm = trainer(f, input_of(rows, f.ratings), 1), cold = trainer(f, input_of(rows, f.ratings), 1);
    const WarmStart w = warm->warm_start(before);
    EXPECT_EQ(w.users, f.user_weights ? 90 : 0);
    EXPECT_EQ(w.items, f.item_weights ? static_cast<std::int32_t>(before.items.size()) : 0);
    CancelToken token;
    warm->step(token);
    cold->step(token);
    if (f.ratings)
      EXPECT_LT(first_score(*warm, "rmse"), first_score(*cold, "rmse"));
    else
      EXPECT_GT(first_score(*warm, "ndcg@10"), first_score(*cold, "ndcg@10"));
  }
}

// Another width, another algorithm: 22023 naming what differs. A version without training
// weights (trained before they were kept) starts cold. Serving never loads them.
TEST(NeuralWarmStart, RefusalsAndOldVersions) {
  const Family f = families()[0];
  const std::vector<Row> rows = group_rows(60, false, 7);
  const Model before = trained(f, input_of(rows, false), 2);
  const auto refused = [&](const Model& previous, std::vector<Param> extra, const char* words) {
    std::unique_ptr<Trainer> t = trainer(f, input_of(rows, false), 1, std::move(extra));
    try {
      t->warm_start(previous);
      ADD_FAILURE() << "no error for " << words;
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::InvalidParameter);
      EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
    }
  };
  refused(before, {synth::num("mlp_factors", 16)}, "network shape");
  Model other = before;
  other.algorithm = "two_tower";
  refused(other, {}, "a neumf model, not two_tower");

  const std::string bytes = serialize_model(before);
  const Model served = deserialize_model(bytes.data(), bytes.size());
  int kept = 0;
  for (const NetTensor& t : before.net.tensors) kept += is_training_weight(t.name);
  EXPECT_GT(kept, 0);
  for (const NetTensor& t : served.net.tensors) EXPECT_FALSE(is_training_weight(t.name)) << t.name;
  std::unique_ptr<Trainer> t = trainer(f, input_of(rows, false), 1);
  const WarmStart w = t->warm_start(served);
  EXPECT_EQ(w.users, 0);
  EXPECT_EQ(w.items, 0);
}

// ALS on a LibTorch device starts from a CPU version's factors by id.
TEST(NeuralWarmStart, TorchAlsStartsFromTheServingFactors) {
  const Model before = synth::train("als", synth::planted_implicit(60, 30, 3, 6, 1), {synth::num("factors", 4)});
  Interactions data = synth::planted_implicit(80, 30, 3, 6, 2);
  AlsParams p = AlsParams::parse({synth::num("factors", 4), synth::num("iterations", 1)}, false);
  char error[256] = "";
  std::unique_ptr<Trainer> t(pgrec_torch_als_trainer(&data, &p, "cpu", 1, error, sizeof error));
  ASSERT_NE(t, nullptr) << error;
  const WarmStart w = t->warm_start(before);
  EXPECT_EQ(w.users, 60);
  const Model after = t->finish("int4", "int4");
  for (std::int32_t u = 0; u < 60; ++u) {
    const std::int32_t v = after.users.find(before.users.ref(u));
    ASSERT_GE(v, 0);
    for (Eigen::Index c = 0; c < 4; ++c) EXPECT_FLOAT_EQ(after.user_factors(v, c), before.user_factors(u, c));
  }
}

// Every LibTorch family, and ALS on a LibTorch device, warm-starts: the algorithm table says so.
TEST(NeuralWarmStart, EveryLibTorchFamilyIsMarked) {
  for (const std::string& name : {"autorec", "gru4rec", "lightgcn", "multvae", "neumf", "sasrec", "two_tower", "als"}) {
    const AlgorithmSpec* spec = find_algorithm(name);
    ASSERT_NE(spec, nullptr);
    EXPECT_TRUE(spec->warm_start) << name;
  }
}
