// The IVF index: approximate top-k that agrees with the exact ranking on clustered factors, never
// returns fewer than k items however many are excluded, and survives serialization.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "ivf.h"
#include "ranking.h"

using namespace pgrec;

namespace {

// A factor model of `items` items drawn around 50 centres, with `users` users likewise.
Model clustered_model(std::int32_t items, std::int32_t users, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> n01(0.0f, 1.0f);
  FactorMatrix centres(50, 16);
  for (Eigen::Index i = 0; i < centres.size(); ++i) centres.data()[i] = n01(rng);
  std::uniform_int_distribution<int> pick(0, 49);
  Model m;
  m.kind = ModelKind::Factors;
  FactorMatrix item_f(items, 16), user_f(users, 16);
  for (std::int32_t i = 0; i < items; ++i) item_f.row(i) = centres.row(pick(rng)) + 0.3f * FactorMatrix::NullaryExpr(1, 16, [&] { return n01(rng); });
  for (std::int32_t u = 0; u < users; ++u) user_f.row(u) = centres.row(pick(rng)) + 0.3f * FactorMatrix::NullaryExpr(1, 16, [&] { return n01(rng); });
  m.item_factors = std::move(item_f);
  m.user_factors = std::move(user_f);
  std::vector<std::int64_t> ids(static_cast<std::size_t>(items));
  for (std::int32_t i = 0; i < items; ++i) ids[static_cast<std::size_t>(i)] = i;
  m.items = IdMap::from_ints(ids);
  ids.resize(static_cast<std::size_t>(users));
  m.users = IdMap::from_ints(ids);
  m.popularity.assign(static_cast<std::size_t>(items), 1.0f);
  // Each user has seen items 0..9 of their own.
  m.seen.rows = users;
  m.seen.cols = items;
  m.seen.offsets.push_back(0);
  for (std::int32_t u = 0; u < users; ++u) {
    for (std::int32_t j = 0; j < 10; ++j) {
      m.seen.indices.push_back((u * 37 + j * 11) % items);
      m.seen.values.push_back(1.0f);
    }
    std::sort(m.seen.indices.end() - 10, m.seen.indices.end());
    m.seen.offsets.push_back(static_cast<std::int64_t>(m.seen.indices.size()));
  }
  m.prepare();
  return m;
}

// The share of the exact top-k that the approximate top-k found, over all users.
double recall(const Model& m, std::int32_t k, std::int32_t probes) {
  int hit = 0, total = 0;
  for (std::int32_t u = 0; u < m.seen.rows; ++u) {
    const std::vector<Scored> exact = recommend(m, u, k, true);
    const std::vector<Scored> approx = recommend(m, u, k, true, nullptr, probes);
    for (const Scored& e : exact) {
      hit += std::any_of(approx.begin(), approx.end(), [&](const Scored& a) { return a.index == e.index; });
      ++total;
    }
  }
  return static_cast<double>(hit) / total;
}

}  // namespace

TEST(Ivf, EveryItemInExactlyOneList) {
  Model m = clustered_model(3000, 5, 1);
  CancelToken token;
  m.ivf = build_ivf(m.item_factors, 0, 2, token);
  EXPECT_EQ(m.ivf.lists(), 55);  // about sqrt(3000)
  std::vector<std::int32_t> items = m.ivf.items.to_vector();
  std::sort(items.begin(), items.end());
  for (std::int32_t i = 0; i < 3000; ++i) ASSERT_EQ(items[static_cast<std::size_t>(i)], i);
  // Deterministic: the same seed and threads give the same lists.
  EXPECT_EQ(build_ivf(m.item_factors, 0, 2, token).items, m.ivf.items);
}

TEST(Ivf, ApproximateAgreesWithExactAndAllListsAreExact) {
  Model m = clustered_model(5000, 60, 2);
  CancelToken token;
  m.ivf = build_ivf(m.item_factors, 70, 1, token);
  EXPECT_GE(recall(m, 10, 8), 0.9);
  EXPECT_DOUBLE_EQ(recall(m, 10, 70), 1.0);  // probing every list is the exact search
  // Seen items stay excluded; an exact candidate list bypasses the index.
  for (std::int32_t u = 0; u < 5; ++u)
    for (const Scored& s : recommend(m, u, 10, true, nullptr, 8))
      EXPECT_FALSE(std::binary_search(m.seen.indices.begin() + m.seen.offsets[u], m.seen.indices.begin() + m.seen.offsets[u + 1], s.index));
}

TEST(Ivf, ExclusionsNeverCostRows) {
  Model m = clustered_model(2000, 3, 3);
  CancelToken token;
  m.ivf = build_ivf(m.item_factors, 40, 1, token);
  // Exclude everything but 12 items: the search widens until it finds k of them.
  ItemFilter f;
  for (std::int32_t i = 0; i < 2000; ++i)
    if (i % 166 != 0) f.exclude.push_back(i);
  const std::vector<Scored> top = recommend(m, 0, 5, false, &f, 1);
  ASSERT_EQ(top.size(), 5u);
  for (const Scored& s : top) EXPECT_EQ(s.index % 166, 0);
}

TEST(Ivf, SurvivesSerializationAndRejectsABrokenIndex) {
  Model m = clustered_model(800, 4, 4);
  CancelToken token;
  m.ivf = build_ivf(m.item_factors, 20, 1, token);
  const std::string bytes = serialize_model(m);
  const Model back = deserialize_model(bytes.data(), bytes.size());
  EXPECT_EQ(back.ivf.items, m.ivf.items);
  EXPECT_EQ(back.ivf.offsets, m.ivf.offsets);
  for (std::int32_t u = 0; u < 4; ++u) {
    const auto a = recommend(m, u, 5, true, nullptr, 3), b = recommend(back, u, 5, true, nullptr, 3);
    ASSERT_EQ(a.size(), b.size());
    for (std::size_t j = 0; j < a.size(); ++j) EXPECT_EQ(a[j].index, b[j].index);
  }
  // An index that lists an item twice is corrupt data (its checksum recomputed to get past it).
  Model broken = m;
  broken.ivf.items[1] = broken.ivf.items[0];
  const std::string bad = serialize_model(broken);
  try {
    deserialize_model(bad.data(), bad.size());
    FAIL() << "accepted an index with a duplicate item";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::DataException);
  }
}

TEST(Ivf, CalibrationPicksTheFewestListsForTheTargetRecall) {
  Model m = clustered_model(5000, 80, 5);
  CancelToken token;
  m.ivf = build_ivf(m.item_factors, 70, 1, token);
  calibrate_ivf(m, 0.9, 80, token);
  EXPECT_LT(m.ivf.probes, 70);
  EXPECT_GE(recall(m, 10, m.ivf.probes), 0.9);
  if (m.ivf.probes > 1) EXPECT_LT(recall(m, 10, m.ivf.probes / 2), 0.9);  // the fewest that reach it
  // Unclustered factors need far more lists for the same recall.
  Model flat = clustered_model(5000, 80, 6);
  std::mt19937 rng(3);
  std::normal_distribution<float> n01(0.0f, 1.0f);
  FactorMatrix noise(flat.item_factors.rows(), flat.item_factors.cols());
  for (Eigen::Index i = 0; i < noise.size(); ++i) noise.data()[i] = n01(rng);
  flat.item_factors = std::move(noise);
  flat.prepare();
  flat.ivf = build_ivf(flat.item_factors, 70, 1, token);
  calibrate_ivf(flat, 0.9, 80, token);
  EXPECT_GT(flat.ivf.probes, m.ivf.probes);
}
