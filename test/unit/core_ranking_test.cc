// Top-k agrees with a brute-force sort, including ties and exclusions.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "ranking.h"

using namespace pgrec;

namespace {

std::vector<Scored> brute_force(const std::vector<float>& s, int k, const std::vector<int>& excl) {
  std::vector<Scored> all;
  for (int i = 0; i < static_cast<int>(s.size()); ++i)
    if (!std::binary_search(excl.begin(), excl.end(), i)) all.push_back({i, s[i]});
  std::sort(all.begin(), all.end(), [](const Scored& a, const Scored& b) {
    return a.score > b.score || (a.score == b.score && a.index < b.index);
  });
  if (static_cast<int>(all.size()) > k) all.resize(k);
  return all;
}

}  // namespace

TEST(TopK, MatchesBruteForceWithTiesAndExclusions) {
  std::mt19937 rng(11);
  for (int trial = 0; trial < 200; ++trial) {
    const int n = 1 + static_cast<int>(rng() % 300);
    const int k = 1 + static_cast<int>(rng() % 40);
    std::vector<float> scores(n);
    for (auto& v : scores) v = static_cast<float>(rng() % 17) / 4.0f;  // many ties
    std::vector<int> excl;
    for (int i = 0; i < n; ++i)
      if (rng() % 4 == 0) excl.push_back(i);
    const auto got = top_k(scores.data(), n, k, excl.data(), excl.size());
    const auto want = brute_force(scores, k, excl);
    ASSERT_EQ(got.size(), want.size());
    for (std::size_t j = 0; j < got.size(); ++j) {
      EXPECT_EQ(got[j].index, want[j].index);
      EXPECT_EQ(got[j].score, want[j].score);
    }
  }
}

TEST(TopK, FewerCandidatesThanK) {
  const std::vector<float> s{1, 2, 3};
  const std::int32_t excl[] = {1};
  const auto got = top_k(s.data(), 3, 10, excl, 1);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].index, 2);
  EXPECT_EQ(got[1].index, 0);
}

TEST(Ranking, RecommendMatchesDotProductsAndExcludesSeen) {
  Model m;
  m.user_factors = FactorMatrix::Random(3, 4);
  m.item_factors = FactorMatrix::Random(50, 4);
  m.seen.rows = 3;
  m.seen.cols = 50;
  m.seen.offsets = {0, 2, 2, 3};
  m.seen.indices = {5, 9, 1};
  m.seen.values = {1, 1, 1};
  m.popularity.assign(50, 0);
  m.popularity[7] = 5;
  m.popularity[3] = 9;
  m.prepare();
  std::vector<float> s(50);
  for (int i = 0; i < 50; ++i) s[i] = m.user_factors.row(0).dot(m.item_factors.row(i));
  const auto want = brute_force(s, 10, {5, 9});
  const auto got = recommend(m, 0, 10, true);
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t j = 0; j < got.size(); ++j) EXPECT_EQ(got[j].index, want[j].index);
  const auto with_seen = recommend(m, 0, 50, false);
  EXPECT_EQ(with_seen.size(), 50u);
  const auto fallback = recommend(m, -1, 2, true);
  ASSERT_EQ(fallback.size(), 2u);
  EXPECT_EQ(fallback[0].index, 3);
  EXPECT_EQ(fallback[1].index, 7);
  const auto sim = similar_items(m, 4, 49);
  EXPECT_EQ(sim.size(), 49u);
  for (const auto& x : sim) {
    EXPECT_NE(x.index, 4);
    EXPECT_LE(x.score, 1.0001f);
  }
}

TEST(Ranking, FiltersKeepCandidatesAndDropExclusions) {
  Model m;
  m.user_factors = FactorMatrix::Random(2, 3);
  m.item_factors = FactorMatrix::Random(40, 3);
  m.seen.rows = 2;
  m.seen.cols = 40;
  m.seen.offsets = {0, 1, 1};
  m.seen.indices = {4};
  m.seen.values = {1};
  m.popularity.assign(40, 1);
  m.prepare();
  ItemFilter f;
  f.has_candidates = true;
  f.candidates = {1, 4, 7, 20, 33};
  f.exclude = {20};
  const auto got = recommend(m, 0, 10, true, &f);
  ASSERT_EQ(got.size(), 3u);  // 4 is seen, 20 excluded
  for (const auto& s : got) EXPECT_TRUE(s.index == 1 || s.index == 7 || s.index == 33);
  ItemFilter only_exclude;
  only_exclude.exclude = {0, 1, 2};
  for (const auto& s : recommend(m, -1, 40, true, &only_exclude)) EXPECT_GT(s.index, 2);
  EXPECT_EQ(recommend(m, -1, 40, true, &only_exclude).size(), 37u);
}
