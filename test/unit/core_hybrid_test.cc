// Hybrids: raw mixes are weighted means of the parts, z-score mixes rank like their parts, the
// hybrid knows the union of its parts' ids, survives serialization, and rejects bad parts.
#include <gtest/gtest.h>

#include <memory>

#include "fold_in.h"
#include "hybrid.h"
#include "planted.h"

using namespace pgrec;

namespace {

// A shared copy of a model, as a hybrid part.
std::shared_ptr<const Model> shared(Model m) { return std::make_shared<const Model>(std::move(m)); }

// The item ids of a ranked list.
std::vector<std::int64_t> ids(const Model& m, const std::vector<Scored>& ranked) {
  std::vector<std::int64_t> out;
  for (const Scored& s : ranked) out.push_back(m.items.int_at(s.index));
  return out;
}

// Explicit data where only items below `max_item` are kept (to make parts with different items).
Interactions explicit_subset(int max_item, unsigned seed) {
  const Interactions all = synth::planted_explicit(60, 40, 0.5, seed, nullptr);
  InteractionBuilder b(IdKind::Int, IdKind::Int, true);
  for (std::int32_t u = 0; u < all.by_user.rows; ++u)
    for (std::int64_t p = all.by_user.offsets[u]; p < all.by_user.offsets[u + 1]; ++p) {
      const std::int64_t item = all.items.int_at(all.by_user.indices[p]);
      if (item < max_item) b.add(all.users.ref(u), IdRef::of(item), all.by_user.values[p]);
    }
  return b.build();
}

}  // namespace

TEST(Hybrid, RawMixIsTheWeightedMeanOfThePartsPredictions) {
  auto mf = shared(synth::train("sgd_mf", synth::planted_explicit(80, 50, 0.4, 3, nullptr)));
  auto knn = shared(synth::train("item_knn", synth::planted_explicit(80, 50, 0.4, 3, nullptr)));
  const Model h = make_hybrid({{"mf", 0.75, mf}, {"knn", 0.25, knn}}, "");
  EXPECT_EQ(h.mix, HybridMix::Raw);  // both parts predict ratings
  EXPECT_TRUE(h.explicit_ratings);
  std::vector<float> all(static_cast<std::size_t>(h.n_items()));
  for (std::int32_t u = 0; u < 10; ++u) {
    hybrid_score_items(h, u, all.data());
    const std::int32_t mu = mf->users.find(h.users.ref(u)), ku = knn->users.find(h.users.ref(u));
    for (std::int32_t i = 0; i < h.n_items(); ++i) {
      const std::int32_t mi = mf->items.find(h.items.ref(i)), ki = knn->items.find(h.items.ref(i));
      const float expected = 0.75f * predict(*mf, mu, mi) + 0.25f * predict(*knn, ku, ki);
      EXPECT_NEAR(predict(h, u, i), expected, 1e-4);
      EXPECT_NEAR(all[static_cast<std::size_t>(i)], expected, 1e-4);  // rating_scores agrees with predict
    }
  }
}

TEST(Hybrid, ZScoreOfOnePartRanksLikeThePart) {
  auto als = shared(synth::train("als", synth::planted_implicit(120, 60, 3, 8, 11)));
  const Model h = make_hybrid({{"als", 2.0, als}}, "");
  EXPECT_EQ(h.mix, HybridMix::ZScore);
  EXPECT_FALSE(h.explicit_ratings);
  for (std::int32_t u = 0; u < 20; ++u) {
    const std::int32_t pu = als->users.find(h.users.ref(u));
    EXPECT_EQ(ids(h, recommend(h, u, 5, true)), ids(*als, recommend(*als, pu, 5, true)));
  }
  // Similar items and fold-in go through the part too.
  const std::int32_t item = 4, part_item = als->items.find(h.items.ref(item));
  const std::int32_t self = part_item;
  std::vector<float> sim(static_cast<std::size_t>(als->n_items()));
  item_similarities(*als, part_item, sim.data());
  EXPECT_EQ(ids(h, similar_items(h, item, 5)), ids(*als, top_k(sim.data(), als->n_items(), 5, &self, 1)));
  const std::vector<std::int32_t> given{0, 3, 6};
  std::vector<std::int32_t> part_given;
  for (std::int32_t g : given) part_given.push_back(als->items.find(h.items.ref(g)));
  EXPECT_EQ(ids(h, recommend_for_items(h, given, {}, 5, true)), ids(*als, recommend_for_items(*als, part_given, {}, 5, true)));
}

TEST(Hybrid, MixOfNeighboursAndFactorsRecoversPlantedGroups) {
  auto knn = shared(synth::train("item_knn", synth::planted_implicit(150, 60, 3, 8, 21)));
  auto als = shared(synth::train("als", synth::planted_implicit(150, 60, 3, 8, 21)));
  const Model h = make_hybrid({{"knn", 0.3, knn}, {"als", 0.7, als}}, "zscore");
  EXPECT_GE(synth::in_group_rate(h, 3, 5, 60), 0.95);
  // Explanations come from the knn part's neighbours (ALS's too), as shares.
  const std::vector<Scored> top = recommend(h, 0, 1, true);
  ASSERT_EQ(top.size(), 1u);
  const Explanation e = explain(h, 0, top[0].index, 3);
  ASSERT_FALSE(e.top.empty());
  for (const Scored& s : e.top) EXPECT_EQ(h.items.int_at(s.index) % 3, h.items.int_at(top[0].index) % 3);
}

TEST(Hybrid, KnowsTheUnionOfItsPartsIdsAndSurvivesSerialization) {
  auto low = shared(synth::train("sgd_mf", explicit_subset(25, 7)));
  auto all = shared(synth::train("item_knn", explicit_subset(40, 7)));
  const Model h = make_hybrid({{"low", 1.0, low}, {"all", 1.0, all}}, "");
  EXPECT_EQ(h.n_items(), all->n_items());
  const std::int32_t only_in_all = h.items.find(IdRef::of(35));
  ASSERT_GE(only_in_all, 0);
  const std::int32_t u = 0, au = all->users.find(h.users.ref(u));
  // An item one part lacks is scored by the part that has it alone.
  EXPECT_NEAR(predict(h, u, only_in_all), predict(*all, au, all->items.find(IdRef::of(35))), 1e-5);
  // The user's seen items are the union of the parts'.
  EXPECT_EQ(h.seen.offsets[1] - h.seen.offsets[0], all->seen.offsets[au + 1] - all->seen.offsets[au]);

  const std::string bytes = serialize_model(h);
  const Model back = deserialize_model(bytes.data(), bytes.size());
  ASSERT_EQ(back.kind, ModelKind::Hybrid);
  ASSERT_EQ(back.parts.size(), 2u);
  for (std::int32_t v = 0; v < 10; ++v)
    for (std::int32_t i = 0; i < h.n_items(); ++i) EXPECT_FLOAT_EQ(predict(back, v, i), predict(h, v, i));
  // A truncated hybrid is corrupt data, not a crash.
  EXPECT_THROW(deserialize_model(bytes.data(), bytes.size() - 9), Error);
}

TEST(Hybrid, RejectsBadParts) {
  auto mf = shared(synth::train("sgd_mf", synth::planted_explicit(30, 20, 0.5, 1, nullptr)));
  const auto kind_of = [](auto&& build) {
    try {
      build();
    } catch (const Error& e) {
      return e.kind();
    }
    return ErrorKind::Internal;
  };
  EXPECT_EQ(kind_of([] { make_hybrid({}, ""); }), ErrorKind::InvalidParameter);
  EXPECT_EQ(kind_of([&] { make_hybrid({{"mf", 0.0, mf}}, ""); }), ErrorKind::InvalidParameter);
  EXPECT_EQ(kind_of([&] { make_hybrid({{"mf", -1.0, mf}}, ""); }), ErrorKind::InvalidParameter);
  EXPECT_EQ(kind_of([&] { make_hybrid({{"mf", 1.0, mf}}, "minmax"); }), ErrorKind::InvalidParameter);
  auto nested = shared(make_hybrid({{"mf", 1.0, mf}}, ""));
  EXPECT_EQ(kind_of([&] { make_hybrid({{"h", 1.0, nested}}, ""); }), ErrorKind::InvalidParameter);
  Model text_items = *mf;
  text_items.item_type = "text";
  EXPECT_EQ(kind_of([&] { make_hybrid({{"mf", 1.0, mf}, {"t", 1.0, shared(text_items)}}, ""); }),
            ErrorKind::InvalidParameter);
}
