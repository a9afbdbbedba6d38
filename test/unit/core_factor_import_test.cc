// Imported factors: a model trained here, taken apart and imported, serves exactly as before;
// bad vectors are refused with the right error kind; the memory bound is enforced.
#include <gtest/gtest.h>

#include "factor_import.h"
#include "fold_in.h"
#include "planted.h"
#include "ranking.h"

using namespace pgrec;

namespace {

// The model's factors (and what its users have seen) imported into a new model.
Model reimport(const Model& m, std::uint64_t max_bytes = 1ull << 30) {
  FactorImport in(IdKind::Int, IdKind::Int, m.explicit_ratings, max_bytes);
  const auto dims = static_cast<std::int32_t>(m.item_factors.cols());
  for (std::int32_t u = 0; u < static_cast<std::int32_t>(m.users.size()); ++u)
    in.add_user(m.users.ref(u), m.user_factors.data() + static_cast<std::ptrdiff_t>(u) * dims, dims);
  for (std::int32_t i = 0; i < static_cast<std::int32_t>(m.items.size()); ++i)
    in.add_item(m.items.ref(i), m.item_factors.data() + static_cast<std::ptrdiff_t>(i) * dims, dims);
  for (std::int32_t u = 0; u < m.seen.rows; ++u)
    for (std::int64_t p = m.seen.offsets[u]; p < m.seen.offsets[u + 1]; ++p)
      EXPECT_TRUE(in.add_seen(m.users.ref(u), m.items.ref(m.seen.indices[p]), m.seen.values[p]));
  ImportSettings s;
  s.explicit_ratings = m.explicit_ratings;
  s.global_mean = m.global_mean;
  s.regularization = m.fold_in_reg;
  s.alpha = m.fold_in_alpha;
  return in.build(s, "bigint", "bigint");
}

}  // namespace

TEST(FactorImport, ReimportedAlsServesExactlyAsTrained) {
  const Model m = synth::train("als", synth::planted_implicit(120, 50, 3, 8, 5));
  const Model r = reimport(m);
  EXPECT_EQ(r.algorithm, "imported");
  for (std::int32_t u = 0; u < 40; ++u) {
    const std::int32_t ru = r.users.find(m.users.ref(u));
    const auto a = recommend(m, u, 10, true);
    const auto b = recommend(r, ru, 10, true);
    ASSERT_EQ(a.size(), b.size());
    for (std::size_t j = 0; j < a.size(); ++j) {
      EXPECT_EQ(m.items.int_at(a[j].index), r.items.int_at(b[j].index));
      EXPECT_FLOAT_EQ(a[j].score, b[j].score);
    }
  }
  // Fold-in uses the same settings: the same list from the same items.
  const std::vector<std::int32_t> items = {0, 1, 2};
  const std::vector<float> values = {1, 1, 1};
  const auto fa = recommend_for_items(m, items, values, 5, true);
  const auto fb = recommend_for_items(r, items, values, 5, true);
  ASSERT_EQ(fa.size(), fb.size());
  for (std::size_t j = 0; j < fa.size(); ++j) EXPECT_EQ(m.items.int_at(fa[j].index), r.items.int_at(fb[j].index));
}

TEST(FactorImport, RefusesBadVectors) {
  FactorImport in(IdKind::Int, IdKind::Text, false, 1ull << 20);
  const float two[2] = {1, 2}, three[3] = {1, 2, 3}, nan[2] = {1, std::numeric_limits<float>::quiet_NaN()};
  in.add_user(IdRef::of(1), two, 2);
  const auto kind_of = [&](auto f) {
    try {
      f();
    } catch (const Error& e) {
      return e.kind();
    }
    return ErrorKind::Internal;
  };
  EXPECT_EQ(kind_of([&] { in.add_item(IdRef::of(std::string_view("a")), three, 3); }), ErrorKind::DataException);
  EXPECT_EQ(kind_of([&] { in.add_user(IdRef::of(1), two, 2); }), ErrorKind::DataException);
  EXPECT_EQ(kind_of([&] { in.add_user(IdRef::of(2), nan, 2); }), ErrorKind::DataException);
  EXPECT_EQ(kind_of([&] { in.add_user(IdRef::of(3), two, 0); }), ErrorKind::DataException);
  // No items yet: nothing to build.
  EXPECT_EQ(kind_of([&] { in.build(ImportSettings{}, "bigint", "text"); }), ErrorKind::DataException);
  // Seen rows of unknown users or items are ignored.
  in.add_item(IdRef::of(std::string_view("a")), two, 2);
  EXPECT_FALSE(in.add_seen(IdRef::of(9), IdRef::of(std::string_view("a")), 1));
  EXPECT_TRUE(in.add_seen(IdRef::of(1), IdRef::of(std::string_view("a")), 1));
  const Model m = in.build(ImportSettings{}, "bigint", "text");
  EXPECT_EQ(m.seen.nnz(), 1);
  EXPECT_FLOAT_EQ(predict(m, 0, 0), 5.0f);
}

TEST(FactorImport, RefusesBeyondTheMemoryBound) {
  FactorImport in(IdKind::Int, IdKind::Int, false, 1000);  // bytes: room for about 125 floats
  std::vector<float> v(64, 0.5f);
  in.add_user(IdRef::of(1), v.data(), 64);
  try {
    in.add_user(IdRef::of(2), v.data(), 64);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::OutOfMemory);
  }
}
