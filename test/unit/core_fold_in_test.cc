// Fold-in: a user rebuilt from their own items ranks like the trained user; every kind works.
#include <gtest/gtest.h>

#include "algorithms.h"
#include "fold_in.h"
#include "planted.h"

using namespace pgrec;

namespace {

// The user's items and values in the model.
void history(const Model& m, std::int32_t u, std::vector<std::int32_t>* items, std::vector<float>* values) {
  for (std::int64_t p = m.seen.offsets[u]; p < m.seen.offsets[u + 1]; ++p) {
    items->push_back(m.seen.indices[p]);
    values->push_back(m.seen.values[p]);
  }
}

}  // namespace

TEST(FoldIn, ImplicitAlsRebuildsTrainedUsers) {
  const Model m = synth::train("als", synth::planted_implicit(150, 60, 3, 8, 5));
  int folded_in_group = 0, trained_in_group = 0, total = 0;
  for (std::int32_t u = 0; u < 30; ++u) {
    std::vector<std::int32_t> items;
    std::vector<float> values;
    history(m, u, &items, &values);
    const int group = static_cast<int>(m.users.int_at(u) - 1000) % 3;
    for (const auto& a : recommend_for_items(m, items, values, 5, true)) {
      folded_in_group += m.items.int_at(a.index) % 3 == group;
      ++total;
      EXPECT_TRUE(std::find(items.begin(), items.end(), a.index) == items.end());
    }
    for (const auto& a : recommend(m, u, 5, true)) trained_in_group += m.items.int_at(a.index) % 3 == group;
  }
  EXPECT_EQ(total, 150);
  // As good as the trained users, within a few lists' worth.
  EXPECT_GE(folded_in_group, trained_in_group - 8) << folded_in_group << " vs " << trained_in_group;
  EXPECT_GE(static_cast<double>(folded_in_group) / total, 0.9);
}

TEST(FoldIn, EveryKindRanksTheUsersGroup) {
  for (const std::string a : {"als", "bpr", "item_knn", "popularity"}) {
    const Model m = synth::train(a, synth::planted_implicit(150, 60, 3, 8, 5));
    // Someone who liked three items of group 1 (ids 1, 4, 7).
    std::vector<std::int32_t> items;
    for (long id : {1L, 4L, 7L}) items.push_back(m.items.find(IdRef::of(id)));
    const auto got = recommend_for_items(m, items, {}, 5, true);
    ASSERT_EQ(got.size(), 5u) << a;
    if (a == "popularity") continue;
    int in_group = 0;
    for (const auto& s : got) in_group += m.items.int_at(s.index) % 3 == 1;
    EXPECT_GE(in_group, 4) << a << ": " << in_group;
  }
}

TEST(FoldIn, ExplicitModelsPredictTheGivenRatings) {
  const Model m = synth::train("sgd_mf", synth::planted_explicit(100, 40, 0.5, 7, nullptr));
  std::vector<std::int32_t> items;
  std::vector<float> values;
  history(m, 3, &items, &values);
  const Eigen::VectorXf x = fold_in_vector(m, items, values);
  EXPECT_EQ(x.size(), m.item_factors.cols());
  EXPECT_EQ(x(x.size() - 1), 1.0f);
  double se = 0;
  for (std::size_t k = 0; k < items.size(); ++k) {
    const double e = m.item_factors.row(items[k]).dot(x) + m.global_mean - values[k];
    se += e * e;
  }
  EXPECT_LT(std::sqrt(se / items.size()), 0.8);
  EXPECT_THROW(recommend_for_items(m, items, {1.0f}, 5, true), Error);
}

TEST(FoldIn, ASingularSystemFallsBackToAPivotingSolve) {
  // Explicit ALS without regularisation: one rated item gives a rank-one system that Cholesky
  // refuses; the pivoting LDLT still returns a finite vector that fits the given rating.
  const Model m = synth::train("als", synth::planted_explicit(100, 40, 0.5, 7, nullptr),
                               {synth::num("factors", 8), synth::num("regularization", 0)});
  const std::vector<std::int32_t> items = {5};
  const std::vector<float> values = {4.0f};
  const Eigen::VectorXf x = fold_in_vector(m, items, values);
  ASSERT_TRUE(x.allFinite());
  EXPECT_NEAR(m.item_factors.row(5).dot(x) + m.global_mean, 4.0, 1e-2);
}
