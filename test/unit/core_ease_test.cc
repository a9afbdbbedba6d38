// EASE: the closed form against a brute-force double-precision inverse, planted groups, fold-in
// equal to training-time scores, pruning, exact explanations and the memory refusal.
#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <cmath>
#include <random>

#include "errors.h"
#include "explain.h"
#include "fold_in.h"
#include "memory_estimate.h"
#include "planted.h"

using namespace pgrec;

namespace {

// A random 0/1 matrix of users x items (every user with at least one item) as interactions,
// some values other than 1 (EASE reads them as 1).
Interactions random_binary(int users, int items, double density, unsigned seed, Eigen::MatrixXd* x) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> unit(0, 1);
  InteractionBuilder b(IdKind::Int, IdKind::Int, false);
  x->setZero(users, items);
  for (int u = 0; u < users; ++u)
    for (int i = 0; i < items; ++i)
      if (unit(rng) < density || i == u % items) {
        b.add(IdRef::of(u), IdRef::of(i), 1.0f + static_cast<float>(u % 3));
        (*x)(u, i) = 1;
      }
  return b.build();
}

// The value of row i at column j of the model's B (0 when not kept).
float b_at(const Model& m, std::int32_t i, std::int32_t j) {
  for (std::int64_t q = m.neighbors.offsets[i]; q < m.neighbors.offsets[i + 1]; ++q)
    if (m.neighbors.indices[q] == j) return m.neighbors.values[q];
  return 0.0f;
}

}  // namespace

TEST(Ease, MatchesTheClosedFormOnATinyMatrix) {
  Eigen::MatrixXd x;
  const double lambda = 2.5;
  Model m = synth::train("ease", random_binary(12, 7, 0.4, 3, &x),
                         {synth::num("regularization", lambda), synth::num("neighbors", 0)});
  ASSERT_EQ(m.kind, ModelKind::ItemNeighbors);
  // Reference: P = (XᵀX + λI)⁻¹, B = I − P diag(1/diag P), in double.
  const Eigen::MatrixXd p = (x.transpose() * x + lambda * Eigen::MatrixXd::Identity(7, 7)).inverse();
  Eigen::MatrixXd b = -p * p.diagonal().cwiseInverse().asDiagonal();
  b.diagonal().setZero();
  for (std::int32_t i = 0; i < 7; ++i)
    for (std::int32_t j = 0; j < 7; ++j) {
      const auto mi = m.items.find(IdRef::of(i)), mj = m.items.find(IdRef::of(j));
      EXPECT_NEAR(b_at(m, mi, mj), b(i, j), 1e-5) << i << "," << j;
    }
  // Scores are x_u · B (binarised), and explanations are exactly its terms.
  std::vector<float> s(7);
  for (std::int32_t u = 0; u < 12; ++u) {
    const auto mu = m.users.find(IdRef::of(u));
    score_items(m, mu, s.data());
    const Eigen::VectorXd want = x.row(u) * b;
    for (std::int32_t j = 0; j < 7; ++j) {
      const auto mj = m.items.find(IdRef::of(j));
      EXPECT_NEAR(s[static_cast<std::size_t>(mj)], want(j), 1e-5);
      EXPECT_NEAR(explain(m, mu, mj, 7).total, want(j), 1e-5);
    }
  }
  synth::write_fuzz_seed(m, "model_ease");
}

TEST(Ease, RecoversPlantedGroups) {
  Model m = synth::train("ease", synth::planted_implicit(200, 100, 5, 8, 1), {synth::num("regularization", 10)});
  EXPECT_GE(synth::in_group_rate(m, 5, 10, 200), 0.95);
}

TEST(Ease, FoldInEqualsTrainingScoresWhateverTheValues) {
  Eigen::MatrixXd x;
  Model m = synth::train("ease", random_binary(30, 15, 0.3, 7, &x), {synth::num("regularization", 5)});
  std::vector<float> trained(15), folded(15);
  for (std::int32_t u = 0; u < 30; ++u) {
    std::vector<std::int32_t> items;
    std::vector<float> values;
    for (std::int64_t p = m.seen.offsets[u]; p < m.seen.offsets[u + 1]; ++p) {
      items.push_back(m.seen.indices[p]);
      values.push_back(5.0f);
    }
    score_items(m, u, trained.data());
    fold_in_scores(m, items, values, folded.data());
    for (std::size_t j = 0; j < trained.size(); ++j) EXPECT_NEAR(folded[j], trained[j], 1e-6);
  }
}

TEST(Ease, NeighborsKeepsTheLargestMagnitudes) {
  Eigen::MatrixXd x;
  Interactions data = random_binary(40, 20, 0.3, 11, &x);
  Interactions copy = data;
  const Model full = synth::train("ease", std::move(data), {synth::num("neighbors", 0)});
  const Model kept = synth::train("ease", std::move(copy), {synth::num("neighbors", 3)});
  for (std::int32_t i = 0; i < 20; ++i) {
    ASSERT_EQ(kept.neighbors.offsets[i + 1] - kept.neighbors.offsets[i], 3);
    std::vector<float> all;
    for (std::int64_t q = full.neighbors.offsets[i]; q < full.neighbors.offsets[i + 1]; ++q)
      all.push_back(std::fabs(full.neighbors.values[q]));
    std::sort(all.rbegin(), all.rend());
    for (std::int64_t q = kept.neighbors.offsets[i]; q < kept.neighbors.offsets[i + 1]; ++q) {
      EXPECT_GE(std::fabs(kept.neighbors.values[q]), all[2] - 1e-7f);
      EXPECT_FLOAT_EQ(kept.neighbors.values[q], b_at(full, i, kept.neighbors.indices[q]));
    }
  }
}

TEST(Ease, ALargeCatalogIsRefusedWithItsEstimate) {
  const AlgorithmConfig c = parse_algorithm("ease", {}, false);
  TrainingShape shape{1000, 200000, 5000000, 2};
  EXPECT_GT(estimate_training_bytes(c, shape), 200000.0 * 200000 * 4);
  try {
    require_training_memory(c, shape, std::uint64_t{8} << 30);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::OutOfMemory);
    EXPECT_NE(std::string(e.what()).find("GB"), std::string::npos);
  }
  EXPECT_THROW(parse_algorithm("ease", {synth::num("regularization", 0)}, false), Error);
}
