// The model format round-trips and rejects corrupt, truncated and foreign bytes.
#include <gtest/gtest.h>

#include <utility>

#include "als.h"
#include "planted.h"

using namespace pgrec;

namespace {

Model small_model(IdKind kind) {
  InteractionBuilder b(kind, kind, false);
  for (int u = 0; u < 30; ++u)
    for (int i = 0; i < 5; ++i) {
      const std::string us = "user-" + std::to_string(u), is = "item-" + std::to_string((u + i) % 12);
      if (kind == IdKind::Int)
        b.add(IdRef::of(u), IdRef::of((u + i) % 12), 1.0f);
      else
        b.add(IdRef::of(us), IdRef::of(is), 1.0f);
    }
  AlsParams p;
  p.factors = 3;
  p.iterations = 2;
  AlsTrainer t(b.build(), p, 1);
  CancelToken token;
  train_to_end(t, token);
  return t.finish("text", "text");
}

void expect_error(const std::string& bytes, ErrorKind kind) {
  try {
    deserialize_model(bytes.data(), bytes.size());
    FAIL() << "accepted bad bytes";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), kind) << e.what();
  }
}

}  // namespace

TEST(ModelFormat, RoundTripsBothIdKinds) {
  for (IdKind kind : {IdKind::Int, IdKind::Text}) {
    const Model m = small_model(kind);
    const std::string bytes = serialize_model(m);
    const Model back = deserialize_model(bytes.data(), bytes.size());
    EXPECT_EQ(back.algorithm, "als");
    EXPECT_EQ(back.user_type, "text");
    EXPECT_EQ(back.users.size(), m.users.size());
    EXPECT_EQ(back.items.kind(), kind);
    EXPECT_TRUE(back.user_factors == m.user_factors);
    EXPECT_TRUE(back.item_factors == m.item_factors);
    EXPECT_EQ(back.seen.indices, m.seen.indices);
    EXPECT_EQ(back.popularity, m.popularity);
    for (std::int32_t i = 0; i < static_cast<std::int32_t>(m.items.size()); ++i)
      EXPECT_EQ(back.items.to_string(i), m.items.to_string(i));
    EXPECT_EQ(serialize_model(back), bytes);
  }
}

TEST(ModelFormat, RejectsDamage) {
  const std::string bytes = serialize_model(small_model(IdKind::Int));
  std::string flipped = bytes;
  flipped[bytes.size() / 2] ^= 0x40;
  expect_error(flipped, ErrorKind::DataException);
  expect_error(bytes.substr(0, bytes.size() - 3), ErrorKind::DataException);
  expect_error("not a model at all, just text", ErrorKind::DataException);
  std::string future = bytes;
  future[8] = 99;
  expect_error(future, ErrorKind::NotSupported);
}

TEST(Interactions, MergesRepeatsAndBuildsBothOrientations) {
  InteractionBuilder imp(IdKind::Int, IdKind::Text, false);
  imp.add(IdRef::of(1), IdRef::of("a"), 1);
  imp.add(IdRef::of(1), IdRef::of("a"), 1);
  imp.add(IdRef::of(2), IdRef::of("b"), 1);
  imp.add(IdRef::of(1), IdRef::of("b"), 1);
  const Interactions d = imp.build();
  EXPECT_EQ(d.rows_read, 4);
  EXPECT_EQ(d.by_user.nnz(), 3);
  EXPECT_EQ(d.by_user.values[0], 2.0f);  // repeats add up
  EXPECT_EQ(d.by_item.rows, 2);
  EXPECT_EQ(d.by_item.offsets[2] - d.by_item.offsets[1], 2);
  EXPECT_EQ(d.items.find(IdRef::of("b")), 1);
  EXPECT_EQ(d.users.find(IdRef::of("2")), 1);  // text lookups convert
  EXPECT_EQ(d.users.find(IdRef::of("x")), -1);

  InteractionBuilder exp(IdKind::Int, IdKind::Int, true);
  exp.add(IdRef::of(1), IdRef::of(1), 4);
  exp.add(IdRef::of(1), IdRef::of(1), 2);
  EXPECT_EQ(exp.build().by_user.values[0], 3.0f);  // ratings average

  InteractionBuilder empty(IdKind::Int, IdKind::Int, false);
  EXPECT_THROW(empty.build(), Error);
}

TEST(Interactions, MergeAndSerializeKeepEveryRow) {
  InteractionBuilder a(IdKind::Text, IdKind::Int, true), b(IdKind::Text, IdKind::Int, true);
  a.add(IdRef::of("x"), IdRef::of(1), 5);
  a.add(IdRef::of("y"), IdRef::of(2), 3);
  b.add(IdRef::of("y"), IdRef::of(1), 4);
  b.add(IdRef::of("z"), IdRef::of(3), 1);
  const std::string bytes = b.serialize();
  InteractionBuilder back = InteractionBuilder::deserialize(bytes.data(), bytes.size());
  a.merge(std::move(back));
  EXPECT_EQ(a.rows(), 4);
  const Interactions d = a.build();
  EXPECT_EQ(d.users.size(), 3u);
  EXPECT_EQ(d.items.size(), 3u);
  const auto y = d.users.find(IdRef::of("y"));
  EXPECT_EQ(d.by_user.offsets[y + 1] - d.by_user.offsets[y], 2);
  EXPECT_THROW(InteractionBuilder::deserialize(bytes.data(), bytes.size() - 2), Error);
}

TEST(ModelFormat, ReadsInPlaceWithViewsOfAlignedFactors) {
  const Model m = small_model(IdKind::Text);
  const std::string bytes = serialize_model(m);
  const std::size_t offset = factor_data_offset(bytes.data(), bytes.size());
  for (std::size_t pad = 0; pad < 4; ++pad) {
    // The bytes at `pad` past a 16-byte boundary, as a mapped file would place them.
    auto buffer = std::make_shared<std::vector<char>>(bytes.size() + 32);
    char* base = buffer->data() + (16 - reinterpret_cast<std::uintptr_t>(buffer->data()) % 16) % 16 + pad;
    std::memcpy(base, bytes.data(), bytes.size());
    Model back = deserialize_model_in_place(base, bytes.size(), buffer);
    const bool aligned = (reinterpret_cast<std::uintptr_t>(base) + offset) % alignof(float) == 0;
    const char* items = reinterpret_cast<const char*>(back.item_factors.data());
    // Aligned factors are viewed where they lie; misaligned ones are copied.
    EXPECT_EQ(items >= base && items < base + bytes.size(), aligned) << "pad " << pad;
    EXPECT_TRUE(back.item_factors == m.item_factors);
    EXPECT_TRUE(back.user_factors == m.user_factors);
    // So are the seen items and the popularity, which lie 4-aligned when the factors do.
    const auto inside = [&](const void* p) { return p >= base && p < base + bytes.size(); };
    EXPECT_EQ(inside(std::as_const(back).seen.indices.data()), aligned) << "pad " << pad;
    EXPECT_EQ(inside(std::as_const(back).seen.values.data()), aligned) << "pad " << pad;
    EXPECT_EQ(inside(std::as_const(back).popularity.data()), aligned) << "pad " << pad;
    EXPECT_TRUE(back.seen.indices == m.seen.indices);
    EXPECT_TRUE(back.seen.values == m.seen.values);
    EXPECT_TRUE(back.popularity == m.popularity);
    // A copy of the model shares the view and keeps the bytes alive.
    Model copy = back;
    buffer.reset();
    back = Model();
    EXPECT_TRUE(copy.item_factors == m.item_factors);
    EXPECT_TRUE(copy.seen.indices == m.seen.indices);
    // Changing a view copies it first; the bytes it viewed stay as they were.
    Model changed = copy;
    changed.popularity[0] += 1.0f;
    EXPECT_NE(changed.popularity[0], copy.popularity[0]);
    for (std::int32_t u = 0; u < 3; ++u) EXPECT_EQ(recommend(copy, u, 3, true)[0].index, recommend(m, u, 3, true)[0].index);
  }
}

TEST(ModelFormat, ViewsIntegerItemIdsWhenEightAligned) {
  const Model m = small_model(IdKind::Int);
  const std::string bytes = serialize_model(m);
  const std::size_t ids = item_ids_data_offset(bytes.data(), bytes.size());
  const std::size_t factors = factor_data_offset(bytes.data(), bytes.size());
  ASSERT_GT(ids, 0u);
  EXPECT_EQ(ids % 4, factors % 4);  // one pad aligns both (model files rely on it)
  EXPECT_EQ(item_ids_data_offset(serialize_model(small_model(IdKind::Text)).data(), bytes.size()), 0u);
  for (std::size_t pad = 0; pad < 8; ++pad) {
    auto buffer = std::make_shared<std::vector<char>>(bytes.size() + 32);
    char* base = buffer->data() + (16 - reinterpret_cast<std::uintptr_t>(buffer->data()) % 16) % 16 + pad;
    std::memcpy(base, bytes.data(), bytes.size());
    const Model back = deserialize_model_in_place(base, bytes.size(), buffer);
    const char* at = reinterpret_cast<const char*>(back.items.ints().data());
    const bool aligned = (reinterpret_cast<std::uintptr_t>(base) + ids) % 8 == 0;
    EXPECT_EQ(at >= base && at < base + bytes.size(), aligned) << "pad " << pad;
    for (std::int32_t i = 0; i < static_cast<std::int32_t>(m.items.size()); ++i) {
      EXPECT_EQ(back.items.int_at(i), m.items.int_at(i));
      EXPECT_EQ(back.items.find(IdRef::of(m.items.int_at(i))), i);
    }
  }
}
