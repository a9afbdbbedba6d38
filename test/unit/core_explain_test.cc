// Explanations add up to the folded-in score and point at the user's related items.
#include <gtest/gtest.h>

#include "algorithms.h"
#include "explain.h"
#include "fold_in.h"
#include "planted.h"

using namespace pgrec;

TEST(Explain, FactorContributionsSumToTheFoldedInScore) {
  for (const std::string a : {"als", "sgd_mf"}) {
    const bool explicit_data = a == "sgd_mf";
    const Model m = synth::train(a, explicit_data ? synth::planted_explicit(80, 40, 0.4, 2, nullptr)
                                           : synth::planted_implicit(120, 60, 3, 8, 2));
    const std::int32_t u = 5, i = 7;
    std::vector<std::int32_t> items;
    std::vector<float> values;
    for (std::int64_t p = m.seen.offsets[u]; p < m.seen.offsets[u + 1]; ++p) {
      items.push_back(m.seen.indices[p]);
      values.push_back(m.seen.values[p]);
    }
    const Explanation e = explain(m, u, i, 1000);
    EXPECT_EQ(e.top.size(), items.size()) << a;
    const Eigen::VectorXf x = fold_in_vector(m, items, values);
    const Eigen::Index free = m.item_factors.cols() - m.fixed_user_columns;
    const float folded = m.item_factors.row(i).head(free).dot(x.head(free));
    EXPECT_NEAR(e.total, folded, 1e-3) << a;
    for (std::size_t k = 1; k < e.top.size(); ++k) EXPECT_GE(e.top[k - 1].score, e.top[k].score);
  }
}

TEST(Explain, NeighboursExplainKnnAndPopularityRefuses) {
  const Model knn = synth::train("item_knn", synth::planted_implicit(120, 60, 3, 8, 2));
  const std::int32_t u = 4;
  const std::int32_t group = static_cast<std::int32_t>(knn.users.int_at(u) - 1000) % 3;
  std::int32_t item = -1;
  for (std::int32_t i = 0; i < knn.n_items() && item < 0; ++i)
    if (knn.items.int_at(i) % 3 == group) item = i;
  const Explanation e = explain(knn, u, item, 3);
  ASSERT_FALSE(e.top.empty());
  for (const Scored& s : e.top) EXPECT_EQ(knn.items.int_at(s.index) % 3, group);
  EXPECT_GT(e.total, 0);
  const Model pop = synth::train("popularity", synth::planted_implicit(20, 10, 2, 3, 1));
  EXPECT_THROW(explain(pop, 0, 0, 3), Error);
}
