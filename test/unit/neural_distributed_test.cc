// Data-parallel training over torch.distributed (Gloo on 127.0.0.1): two ranks, each holding half
// of the users, train the same model as one rank holding them all (ALS to 1e-4; the LibTorch
// families as well as one rank, with the same weights on every rank); a rank that goes away fails
// the others within the timeout.
#include <gtest/gtest.h>

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <functional>
#include <memory>
#include <thread>

#include "collective.h"
#include "planted.h"
#include "algorithms.h"
#include "ranking.h"
#include "torch_api.h"

using namespace pgrec;

namespace {

// A port of its own for each rendezvous of this process.
int next_port() {
  static int n = 0;
  return 20000 + static_cast<int>(getpid() % 20000) + 7 * n++ % 997;
}

// Rows of users with `parity` (0 or 1), or of all users (-1), of a planted data set: users in 3
// taste groups, explicit ratings when `ratings`.
InteractionBuilder rows_of(int parity, bool ratings, int users = 120) {
  InteractionBuilder b(IdKind::Int, IdKind::Int, ratings);
  std::mt19937 rng(11);
  for (int u = 0; u < users; ++u) {
    for (int n = 0; n < 9; ++n) {
      const int item = static_cast<int>(rng() % 20) * 3 + u % 3 + (u % 5 == 0 ? 60 : 0);  // some items only some users have
      const float v = ratings ? 3.5f + static_cast<float>(rng() % 3) * 0.5f : 1.0f;
      if (parity < 0 || u % 2 == parity) b.add(IdRef::of(1000 + u), IdRef::of(item), v);
    }
  }
  return b;
}

struct RankRun {
  Model model;
  double loss = 0;
  std::uint64_t bytes = 0;
  std::string error;
};

// Creates one rank's trainer over `rows`, or null with the reason in `error`.
using MakeRank = std::function<Trainer*(InteractionBuilder* rows, neural::Collective* c, char* error, std::size_t n)>;

// Trains on `ranks` ranks (threads), rank r reading the users of parity r (all users for one rank)
// of `users`; with `last_empty`, rank 0 reads every user and the last rank none.
std::vector<RankRun> train_ranks(int ranks, bool ratings, const MakeRank& make, int users = 120, bool last_empty = false) {
  const int port = next_port();
  std::vector<RankRun> runs(static_cast<std::size_t>(ranks));
  std::vector<std::thread> threads;
  for (int r = 0; r < ranks; ++r)
    threads.emplace_back([&, r] {
      RankRun& run = runs[static_cast<std::size_t>(r)];
      char error[512] = "";
      CancelToken token;
      neural::Collective* c = pgrec_torch_join("127.0.0.1", port, "127.0.0.1", r, ranks, "test", 20000, &token, error, sizeof error);
      if (c == nullptr) {
        run.error = error;
        return;
      }
      InteractionBuilder rows = last_empty && r == ranks - 1 ? InteractionBuilder(IdKind::Int, IdKind::Int, ratings)
                                : rows_of(ranks == 1 || last_empty ? -1 : r, ratings, users);
      std::unique_ptr<Trainer> t(make(&rows, c, error, sizeof error));
      if (t == nullptr) {
        run.error = error;
      } else {
        CancelToken token;
        train_to_end(*t, token);
        run.loss = t->loss(token);
        run.model = t->finish("int8", "int8");
      }
      run.bytes = c->bytes_moved();
      pgrec_torch_leave(c);
    });
  for (std::thread& t : threads) t.join();
  return runs;
}

// Trains ALS on `ranks` ranks.
std::vector<RankRun> train(int ranks, const std::vector<Param>& params, bool ratings) {
  const AlsParams p = AlsParams::parse(params, ratings);
  return train_ranks(ranks, ratings, [&](InteractionBuilder* rows, neural::Collective* c, char* error, std::size_t n) {
    return pgrec_torch_distributed_als_trainer(rows, &p, c, "cpu", 1, error, n);
  });
}

// Trains the neural family `algorithm` (implicit) on `ranks` ranks.
std::vector<RankRun> train_neural(int ranks, const std::string& algorithm, const std::vector<Param>& params) {
  const NeuralParams p = NeuralParams::parse(algorithm, params);
  return train_ranks(ranks, false, [&](InteractionBuilder* rows, neural::Collective* c, char* error, std::size_t n) {
    return pgrec_torch_distributed_neural_trainer(rows, &p, c, "cpu", 1, error, n);
  }, 300);
}

// Trains a CPU algorithm of the core (bpr, sgd_mf, svdpp) on `ranks` ranks.
std::vector<RankRun> train_core(int ranks, const std::string& algorithm, const std::vector<Param>& params, bool ratings,
                                bool last_empty = false) {
  const AlgorithmConfig config = parse_algorithm(algorithm, params, ratings);
  return train_ranks(ranks, ratings, [&](InteractionBuilder* rows, neural::Collective* c, char* error, std::size_t n) {
    return pgrec_torch_distributed_core_trainer(rows, &config, c, 1, error, n);
  }, 300, last_empty);
}

// A text parameter, as the SQL layer would pass it.
Param text(const std::string& key, const std::string& value) {
  Param p;
  p.key = key;
  p.type = ParamType::String;
  p.text = value;
  return p;
}

// The parameters that train `algorithm` quickly on the planted rows.
std::vector<Param> quick(const std::string& algorithm) {
  std::vector<Param> p = {synth::num("epochs", algorithm == "multvae" ? 30 : 12), synth::num("patience", 0),
                          synth::num("batch_size", 64), synth::num("seed", 3)};
  if (algorithm == "sasrec" || algorithm == "gru4rec") {
    p.push_back(text("time_col", "t"));
    p.push_back(synth::num("max_len", 10));
    p.push_back(synth::num("learning_rate", 5e-3));
  } else if (algorithm == "multvae") {
    p.push_back(synth::num("hidden", 32));
    p.push_back(synth::num("factors", 16));
  } else {
    p.push_back(synth::num("factors", 16));
    p.push_back(synth::num("learning_rate", 1e-2));
  }
  return p;
}

// The largest difference between two models' network tensors of the same name.
float net_gap(const Model& a, const Model& b) {
  float gap = 0;
  EXPECT_EQ(a.net.tensors.size(), b.net.tensors.size());
  for (std::size_t k = 0; k < a.net.tensors.size() && k < b.net.tensors.size(); ++k) {
    EXPECT_EQ(a.net.tensors[k].name, b.net.tensors[k].name);
    EXPECT_EQ(a.net.tensors[k].data.size(), b.net.tensors[k].data.size());
    for (std::size_t j = 0; j < a.net.tensors[k].data.size() && j < b.net.tensors[k].data.size(); ++j)
      gap = std::max(gap, std::fabs(a.net.tensors[k].data[j] - b.net.tensors[k].data[j]));
  }
  return gap;
}

// The largest difference between the two models' factors, matched by id.
float factor_gap(const Model& a, const Model& b) {
  float gap = 0;
  for (std::int32_t u = 0; u < static_cast<std::int32_t>(a.users.size()); ++u) {
    const std::int32_t v = b.users.find(a.users.ref(u));
    EXPECT_GE(v, 0);
    if (v >= 0) gap = std::max(gap, (a.user_factors.row(u) - b.user_factors.row(v)).cwiseAbs().maxCoeff());
  }
  for (std::int32_t i = 0; i < static_cast<std::int32_t>(a.items.size()); ++i) {
    const std::int32_t j = b.items.find(a.items.ref(i));
    EXPECT_GE(j, 0);
    if (j >= 0) gap = std::max(gap, (a.item_factors.row(i) - b.item_factors.row(j)).cwiseAbs().maxCoeff());
  }
  return gap;
}

}  // namespace

TEST(DistributedAls, TwoRanksTrainTheModelOfOne) {
  for (bool ratings : {false, true}) {
    SCOPED_TRACE(ratings ? "explicit" : "implicit");
    const std::vector<Param> params = {synth::num("factors", 8), synth::num("iterations", 6)};
    const std::vector<RankRun> one = train(1, params, ratings), two = train(2, params, ratings);
    ASSERT_EQ(one[0].error, "");
    ASSERT_EQ(two[0].error, "");
    ASSERT_EQ(two[1].error, "");
    const Model& a = one[0].model;
    const Model& b = two[0].model;
    // Rank 0 stores every user (both halves), every item, and what each user has seen.
    EXPECT_EQ(b.users.size(), 120u);
    EXPECT_EQ(b.items.size(), a.items.size());
    EXPECT_EQ(b.seen.nnz(), a.seen.nnz());
    EXPECT_EQ(two[1].model.users.size(), 60u);  // rank 1's part: its own users
    EXPECT_NEAR(two[0].loss, one[0].loss, 1e-4 * std::fabs(one[0].loss));
    EXPECT_NEAR(two[1].loss, two[0].loss, 1e-9 * std::fabs(one[0].loss));  // every rank reports the same objective
    EXPECT_LT(factor_gap(a, b), 1e-3f);
    // The same top 10 for every user.
    int same = 0, total = 0;
    for (std::int32_t u = 0; u < static_cast<std::int32_t>(a.users.size()); ++u) {
      const auto ra = recommend(a, u, 10, true), rb = recommend(b, b.users.find(a.users.ref(u)), 10, true);
      for (std::size_t k = 0; k < ra.size() && k < rb.size(); ++k) {
        same += a.items.int_at(ra[k].index) == b.items.int_at(rb[k].index);
        ++total;
      }
    }
    EXPECT_GE(static_cast<double>(same) / total, 0.98);
    EXPECT_GT(two[0].bytes, 0u);
    EXPECT_EQ(one[0].bytes, 0u);  // one rank sums nothing
  }
}

TEST(DistributedNeural, TwoRanksTrainAsWellAsOneWithTheSameWeightsOnEveryRank) {
  for (const std::string algorithm : {"neumf", "two_tower", "multvae", "sasrec", "gru4rec", "lightgcn"}) {
    SCOPED_TRACE(algorithm);
    const std::vector<RankRun> one = train_neural(1, algorithm, quick(algorithm));
    const std::vector<RankRun> two = train_neural(2, algorithm, quick(algorithm));
    ASSERT_EQ(one[0].error, "");
    ASSERT_EQ(two[0].error, "");
    ASSERT_EQ(two[1].error, "");
    const Model& a = one[0].model;
    const Model& b = two[0].model;
    // Rank 0 stores every user, every item, and what each user has seen (sequences included).
    EXPECT_EQ(b.users.size(), 300u);
    EXPECT_EQ(b.items.size(), a.items.size());
    EXPECT_EQ(b.seen.nnz(), a.seen.nnz());
    EXPECT_EQ(b.net.sequences.nnz(), a.net.sequences.nnz());
    // Every rank stepped with the same averaged gradients: the same weights.
    EXPECT_LT(net_gap(b, two[1].model), 1e-6f);
    EXPECT_NEAR(two[1].loss, two[0].loss, 1e-9);
    // As good as one rank: recommendations in the user's planted group.
    const double rate_one = synth::in_group_rate(a, 3, 10, 300), rate_two = synth::in_group_rate(b, 3, 10, 300);
    std::printf("%s: in-group rate %.3f on one rank, %.3f on two\n", algorithm.c_str(), rate_one, rate_two);
    EXPECT_GT(rate_one, 0.8);
    EXPECT_GT(rate_two, 0.8);
    EXPECT_GT(rate_two, rate_one - 0.1);  // (a broken exchange lands near 1/3, the groups' share)
    EXPECT_GT(two[0].bytes, 0u);
  }
}

TEST(DistributedNeural, RowsAndWholeTablesExchangeTheSameGradients) {
  std::vector<Param> dense = quick("neumf"), sparse = quick("neumf");
  dense.push_back(text("gradient_exchange", "dense"));
  sparse.push_back(text("gradient_exchange", "sparse"));
  const std::vector<RankRun> a = train_neural(2, "neumf", dense), b = train_neural(2, "neumf", sparse);
  ASSERT_EQ(a[0].error, "");
  ASSERT_EQ(b[0].error, "");
  // Both keep every rank's weights equal and learn the planted groups; the bytes moved differ.
  // (The two runs' starting weights differ: both ranks of a run draw from the process's one
  // generator, in whatever order their threads run.)
  for (const auto* runs : {&a, &b}) {
    EXPECT_LT(net_gap((*runs)[0].model, (*runs)[1].model), 1e-6f);
    EXPECT_GT(synth::in_group_rate((*runs)[0].model, 3, 10, 300), 0.8);
  }
  EXPECT_NE(a[0].bytes, b[0].bytes);
}

TEST(DistributedNeural, AutoRecRanksShareTheItemsAndLearnTheTasteAsOneRankDoes) {
  // I-AutoRec reads whole item vectors: every rank holds every rating and trains its share of
  // the items. Explicit ratings with a planted taste: 5 for the user's group, 2 for the next one.
  const NeuralParams p = NeuralParams::parse("autorec", {synth::num("epochs", 40), synth::num("patience", 0),
                                                         synth::num("factors", 32), synth::num("batch_size", 16)});
  const auto run = [&](int ranks) {
    return train_ranks(ranks, true, [&](InteractionBuilder* rows, neural::Collective* c, char* error, std::size_t n) {
      InteractionBuilder planted(IdKind::Int, IdKind::Int, true);
      const Interactions read = rows->build(true);
      for (std::int32_t u = 0; u < read.by_user.rows; ++u)
        for (std::int64_t e = read.by_user.offsets[u]; e < read.by_user.offsets[u + 1]; ++e) {
          const std::int64_t user = read.users.int_at(u), item = read.items.int_at(read.by_user.indices[static_cast<std::size_t>(e)]);
          planted.add(IdRef::of(user), IdRef::of(item), 5.0f);          // an item of the user's group
          planted.add(IdRef::of(user), IdRef::of(item + 1), 2.0f);      // and one of another group
        }
      return pgrec_torch_distributed_neural_trainer(&planted, &p, c, "cpu", 1, error, n);
    }, 300);
  };
  const std::vector<RankRun> one = run(1), two = run(2);
  ASSERT_EQ(one[0].error, "");
  ASSERT_EQ(two[0].error, "");
  ASSERT_EQ(two[1].error, "");
  EXPECT_EQ(two[0].model.users.size(), 300u);
  EXPECT_LT(net_gap(two[0].model, two[1].model), 1e-6f);
  // Both rank the user's group first; their training losses (squared error and the L2 term per
  // rating) are of one size.
  const double rate_one = synth::in_group_rate(one[0].model, 3, 10, 300), rate_two = synth::in_group_rate(two[0].model, 3, 10, 300);
  std::printf("autorec: training loss %.4g on one rank, %.4g on two; in-group rate %.3f, %.3f\n", one[0].loss, two[0].loss,
              rate_one, rate_two);
  EXPECT_NEAR(two[1].loss, two[0].loss, 1e-9);
  EXPECT_NEAR(two[0].loss, one[0].loss, 0.5 * one[0].loss);
  EXPECT_GT(rate_one, 0.8);
  EXPECT_GT(rate_two, rate_one - 0.1);
}

TEST(DistributedSgd, BprTwoRanksShareOneItemSideAndTrainAsWellAsOne) {
  const std::vector<Param> params = {synth::num("factors", 16), synth::num("epochs", 30)};
  const std::vector<RankRun> one = train_core(1, "bpr", params, false), two = train_core(2, "bpr", params, false);
  ASSERT_EQ(one[0].error, "");
  ASSERT_EQ(two[0].error, "");
  ASSERT_EQ(two[1].error, "");
  const Model& a = one[0].model;
  const Model& b = two[0].model;
  EXPECT_EQ(b.users.size(), 300u);
  EXPECT_EQ(b.seen.nnz(), a.seen.nnz());
  EXPECT_EQ(two[1].model.users.size(), 150u);
  // Every rank applied every rank's item changes: the same item side, the same loss.
  ASSERT_EQ(two[1].model.item_factors.size(), b.item_factors.size());
  EXPECT_LT((two[1].model.item_factors - b.item_factors).cwiseAbs().maxCoeff(), 1e-6f);
  EXPECT_NEAR(two[1].loss, two[0].loss, 1e-9);
  EXPECT_NEAR(two[0].loss, one[0].loss, 0.1 * one[0].loss);
  const double rate_one = synth::in_group_rate(a, 3, 10, 300), rate_two = synth::in_group_rate(b, 3, 10, 300);
  std::printf("bpr: loss %.4f on one rank, %.4f on two; in-group rate %.3f, %.3f\n", one[0].loss, two[0].loss, rate_one, rate_two);
  EXPECT_GT(rate_one, 0.8);
  EXPECT_GT(rate_two, rate_one - 0.05);
}

TEST(DistributedSgd, SgdMfAndSvdppTwoRanksReachTheErrorOfOne) {
  for (const std::string algorithm : {"sgd_mf", "svdpp"}) {
    SCOPED_TRACE(algorithm);
    const std::vector<Param> params = {synth::num("factors", 8), synth::num("epochs", 15), synth::num("validation", 0.1)};
    const std::vector<RankRun> one = train_core(1, algorithm, params, true), two = train_core(2, algorithm, params, true);
    ASSERT_EQ(one[0].error, "");
    ASSERT_EQ(two[0].error, "");
    ASSERT_EQ(two[1].error, "");
    const Model& a = one[0].model;
    const Model& b = two[0].model;
    EXPECT_EQ(b.users.size(), 300u);
    EXPECT_EQ(b.seen.nnz(), a.seen.nnz());
    // One mean rating for every rank: the mean over every rank's ratings.
    EXPECT_NEAR(b.global_mean, a.global_mean, 0.02);
    EXPECT_EQ(two[1].model.global_mean, b.global_mean);
    EXPECT_LT((two[1].model.item_factors - b.item_factors).cwiseAbs().maxCoeff(), 1e-6f);
    // The validation RMSE is every rank's held-out ratings' (each rank holds out its own).
    EXPECT_NEAR(two[1].loss, two[0].loss, 1e-9);
    // Without a held-out set, the training RMSE over the same ratings: near one rank's.
    const std::vector<Param> all = {synth::num("factors", 8), synth::num("epochs", 15)};
    const std::vector<RankRun> one_all = train_core(1, algorithm, all, true), two_all = train_core(2, algorithm, all, true);
    ASSERT_EQ(two_all[0].error, "");
    std::printf("%s: training RMSE %.4f on one rank, %.4f on two\n", algorithm.c_str(), one_all[0].loss, two_all[0].loss);
    EXPECT_NEAR(two_all[0].loss, one_all[0].loss, 0.02 * one_all[0].loss);
  }
}

TEST(DistributedSgd, ARankWithoutUsersStillTakesPart) {
  // More ranks than the users hash to: the empty rank steps with the others and adds nothing.
  for (const std::string algorithm : {"bpr", "sgd_mf", "als", "neumf"}) {
    SCOPED_TRACE(algorithm);
    const bool ratings = algorithm == "sgd_mf";
    const std::vector<Param> params = {synth::num("factors", 4), synth::num(algorithm == "als" ? "iterations" : "epochs", 2)};
    std::vector<RankRun> runs;
    if (algorithm == "als") {
      const AlsParams p = AlsParams::parse(params, ratings);
      runs = train_ranks(2, ratings, [&](InteractionBuilder* rows, neural::Collective* c, char* error, std::size_t n) {
        return pgrec_torch_distributed_als_trainer(rows, &p, c, "cpu", 1, error, n);
      }, 300, true);
    } else if (algorithm == "neumf") {
      const NeuralParams p = NeuralParams::parse(algorithm, params);
      runs = train_ranks(2, ratings, [&](InteractionBuilder* rows, neural::Collective* c, char* error, std::size_t n) {
        return pgrec_torch_distributed_neural_trainer(rows, &p, c, "cpu", 1, error, n);
      }, 300, true);
    } else {
      runs = train_core(2, algorithm, params, ratings, true);
    }
    ASSERT_EQ(runs[0].error, "");
    ASSERT_EQ(runs[1].error, "");
    EXPECT_EQ(runs[0].model.users.size(), 300u);
    EXPECT_TRUE(std::isfinite(runs[0].loss));
  }
}

TEST(DistributedSgd, AlgorithmsWithoutASharedItemSideAreRefused) {
  const std::vector<RankRun> runs = train_core(1, "item_knn", {}, false);
  EXPECT_NE(runs[0].error.find("does not train distributed"), std::string::npos) << runs[0].error;
}

TEST(DistributedAls, AMissingRankFailsTheRendezvousWithinTheTimeout) {
  char error[512] = "";
  CancelToken token;
  const auto start = std::chrono::steady_clock::now();
  neural::Collective* c = pgrec_torch_join("127.0.0.1", next_port(), "127.0.0.1", 0, 2, "test", 1500, &token, error, sizeof error);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(c, nullptr);
  EXPECT_NE(std::string(error), "");
  EXPECT_LT(seconds, 15.0);
  if (c != nullptr) pgrec_torch_leave(c);
}

TEST(DistributedAls, ACancelStopsTheWaitForTheOtherRanks) {
  for (int rank : {0, 1}) {
    SCOPED_TRACE(rank);
    char error[512] = "";
    CancelToken token;
    std::thread canceller([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      token.cancel();
    });
    const auto start = std::chrono::steady_clock::now();
    neural::Collective* c = pgrec_torch_join("127.0.0.1", next_port(), "127.0.0.1", rank, 2, "test", 30000, &token, error, sizeof error);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    canceller.join();
    EXPECT_EQ(c, nullptr);
    EXPECT_LT(seconds, 5.0);  // not the 30 s timeout
    if (c != nullptr) pgrec_torch_leave(c);
  }
}

TEST(DistributedAls, ARankThatLeavesFailsTheOthersNextStep) {
  const int port = next_port();
  std::string failure;
  double seconds = 0;
  std::thread rank1([&] {
    char error[512] = "";
    CancelToken token;
    neural::Collective* c = pgrec_torch_join("127.0.0.1", port, "127.0.0.1", 1, 2, "test", 3000, &token, error, sizeof error);
    ASSERT_NE(c, nullptr) << error;
    InteractionBuilder rows = rows_of(1, false);
    const AlsParams p = AlsParams::parse({synth::num("factors", 4)}, false);
    std::unique_ptr<Trainer> t(pgrec_torch_distributed_als_trainer(&rows, &p, c, "cpu", 1, error, sizeof error));
    ASSERT_NE(t, nullptr) << error;
    t.reset();
    pgrec_torch_leave(c);  // gone before the first step
  });
  char error[512] = "";
  CancelToken token;
  neural::Collective* c = pgrec_torch_join("127.0.0.1", port, "127.0.0.1", 0, 2, "test", 3000, &token, error, sizeof error);
  EXPECT_NE(c, nullptr) << error;
  std::unique_ptr<Trainer> t;
  if (c != nullptr) {
    InteractionBuilder rows = rows_of(0, false);
    const AlsParams p = AlsParams::parse({synth::num("factors", 4)}, false);
    t.reset(pgrec_torch_distributed_als_trainer(&rows, &p, c, "cpu", 1, error, sizeof error));
    EXPECT_NE(t, nullptr) << error;
  }
  rank1.join();  // before any return: a joinable thread must not be destroyed
  if (t == nullptr) {
    if (c != nullptr) pgrec_torch_leave(c);
    return;
  }
  const auto start = std::chrono::steady_clock::now();
  try {
    CancelToken token;
    t->step(token);
  } catch (const std::exception& e) {
    failure = e.what();
  }
  seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_NE(failure, "");
  EXPECT_LT(seconds, 15.0);
  t.reset();
  pgrec_torch_leave(c);
}
