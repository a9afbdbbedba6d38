// Data-parallel bookkeeping: every rank agrees on one item dictionary whatever order it read its
// rows in, a rank's shard lists every agreed item, and rank 0 gathers the same data one rank reads.
#include <gtest/gtest.h>

#include "errors.h"
#include "shard.h"

using namespace pgrec;

namespace {

// Rows of the users with `parity` (or all, -1), text ids, in an order that depends on `reverse`.
InteractionBuilder text_rows(int parity, bool reverse) {
  InteractionBuilder b(IdKind::Text, IdKind::Text, false);
  for (int k = 0; k < 40; ++k) {
    const int n = reverse ? 39 - k : k;
    const int u = n / 4;
    if (parity >= 0 && u % 2 != parity) continue;
    b.add(IdRef::of("u" + std::to_string(u)), IdRef::of("item-" + std::to_string((u * 3 + n) % 17)), 1.0f);
  }
  return b;
}

}  // namespace

TEST(Shard, RanksAgreeOnOneSortedDictionary) {
  InteractionBuilder a = text_rows(0, false), b = text_rows(1, true);
  const std::vector<std::string> bytes = {item_ids_bytes(a), item_ids_bytes(b)};
  const IdMap one = agreed_items(bytes, IdKind::Text);
  const IdMap other = agreed_items({bytes[1], bytes[0]}, IdKind::Text);
  ASSERT_EQ(one.size(), other.size());
  for (std::int32_t i = 0; i < static_cast<std::int32_t>(one.size()); ++i) {
    EXPECT_EQ(one.text_at(i), other.text_at(i));
    if (i > 0) EXPECT_LT(one.text_at(i - 1), one.text_at(i));
  }
  const Interactions shard = shard_over(a, one);
  EXPECT_EQ(static_cast<std::size_t>(shard.by_user.cols), one.size());  // items it never saw are empty columns
  EXPECT_EQ(shard.items.text_at(0), one.text_at(0));
  EXPECT_EQ(shard.by_user.rows, 5);
  try {
    agreed_items({bytes[0], item_ids_bytes(InteractionBuilder(IdKind::Text, IdKind::Int, false))}, IdKind::Text);
    FAIL() << "mixed id types agreed";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::DataException);
  }
}

TEST(Shard, GatheredRowsAreTheWholeData) {
  InteractionBuilder all = text_rows(-1, false), a = text_rows(0, false), b = text_rows(1, false);
  const IdMap items = agreed_items({item_ids_bytes(a), item_ids_bytes(b)}, IdKind::Text);
  const Interactions whole = shard_over(all, items);
  const Interactions gathered = gather_shards({a.serialize(), b.serialize()}, items);
  ASSERT_EQ(gathered.by_user.rows, whole.by_user.rows);
  EXPECT_EQ(gathered.by_user.nnz(), whole.by_user.nnz());
  for (std::int32_t u = 0; u < whole.by_user.rows; ++u) {
    const std::int32_t g = gathered.users.find(whole.users.ref(u));
    ASSERT_GE(g, 0);
    EXPECT_EQ(gathered.by_user.offsets[g + 1] - gathered.by_user.offsets[g], whole.by_user.offsets[u + 1] - whole.by_user.offsets[u]);
  }
}

TEST(Shard, EveryRankNumbersEveryUserAlikeAndRankZeroGathersTheSequences) {
  InteractionBuilder a = text_rows(0, false), b = text_rows(1, true), all = text_rows(-1, false);
  const IdMap items = agreed_items({item_ids_bytes(a), item_ids_bytes(b)}, IdKind::Text);
  const std::vector<std::string> user_bytes = {user_ids_bytes(a), user_ids_bytes(b)};
  const IdMap users = agreed_users(user_bytes, IdKind::Text);
  ASSERT_EQ(users.size(), 10u);
  EXPECT_EQ(users.text_at(0), a.user_ids().text_at(0));  // rank 0's users first, in the order read
  EXPECT_EQ(users.text_at(5), b.user_ids().text_at(0));
  const std::string rows_a = a.serialize(), rows_b = b.serialize();
  InteractionBuilder mine = shard_rows(b, users, items);
  const Interactions shard = mine.build(true);
  EXPECT_EQ(shard.by_user.rows, 10);  // every rank's users: the other rank's empty
  EXPECT_EQ(static_cast<std::size_t>(shard.by_user.cols), items.size());
  EXPECT_EQ(shard.by_user.offsets[5], 0);  // rank 0's five users hold nothing here
  // Rank 0 gathers every row, each user's in the order it was read.
  InteractionBuilder gathered = gathered_rows({rows_a, rows_b}, users, items);
  const Csr seq = gathered.sequences();
  EXPECT_EQ(seq.indices.size(), 40u);
  const InteractionBuilder b_again = InteractionBuilder::deserialize(rows_b.data(), rows_b.size());
  const Csr own = b_again.sequences();
  const std::int32_t u = users.find(b_again.user_ids().ref(0));
  ASSERT_EQ(seq.offsets[u + 1] - seq.offsets[u], own.offsets[1] - own.offsets[0]);
  for (std::int64_t k = 0; k < own.offsets[1]; ++k)
    EXPECT_EQ(items.text_at(seq.indices[static_cast<std::size_t>(seq.offsets[u] + k)]),
              b_again.item_ids().text_at(own.indices[static_cast<std::size_t>(k)]));
  // A user read by two ranks is bad data.
  try {
    agreed_users({user_bytes[0], user_ids_bytes(all)}, IdKind::Text);
    FAIL() << "a user of two ranks agreed";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::DataException);
  }
}
