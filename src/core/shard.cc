// Data-parallel training's bookkeeping: the agreed item dictionary, a rank's shard, the gathered rows.
#include "shard.h"

#include <algorithm>

#include "errors.h"

namespace pgrec {

namespace {

// An empty builder of the same kinds as `like`, holding `items` first (in their order).
InteractionBuilder over_items(IdKind users, IdKind item_kind, bool explicit_ratings, const IdMap& items) {
  InteractionBuilder b(users, item_kind, explicit_ratings);
  for (std::int32_t i = 0; i < static_cast<std::int32_t>(items.size()); ++i) b.add_item(items.ref(i));
  return b;
}

// Builds `b`, checking that merging rows added no item outside the agreed dictionary.
Interactions build_over(InteractionBuilder& b, const IdMap& items) {
  if (static_cast<std::size_t>(b.item_count()) != items.size())
    throw Error(ErrorKind::Internal, "a rank holds an item outside the agreed dictionary");
  return b.build(true);
}

}  // namespace

std::string item_ids_bytes(const InteractionBuilder& rows) {
  return over_items(rows.user_kind(), rows.item_kind(), rows.explicit_ratings(), rows.item_ids()).serialize();
}

IdMap agreed_items(const std::vector<std::string>& per_rank, IdKind kind) {
  std::vector<std::int64_t> ints;
  std::vector<std::string> texts;
  for (const std::string& bytes : per_rank) {
    const InteractionBuilder b = InteractionBuilder::deserialize(bytes.data(), bytes.size());
    if (b.item_kind() != kind) bad_data("the ranks of a distributed training read items of different types");
    const IdMap& items = b.item_ids();
    for (std::int32_t i = 0; i < static_cast<std::int32_t>(items.size()); ++i) {
      if (kind == IdKind::Int)
        ints.push_back(items.int_at(i));
      else
        texts.push_back(items.text_at(i));
    }
  }
  IdMap agreed(kind);
  if (kind == IdKind::Int) {
    std::sort(ints.begin(), ints.end());
    ints.erase(std::unique(ints.begin(), ints.end()), ints.end());
    for (std::int64_t v : ints) agreed.intern(IdRef::of(v));
  } else {
    std::sort(texts.begin(), texts.end());
    texts.erase(std::unique(texts.begin(), texts.end()), texts.end());
    for (const std::string& v : texts) agreed.intern(IdRef::of(v));
  }
  return agreed;
}

Interactions shard_over(InteractionBuilder& rows, const IdMap& items) {
  InteractionBuilder b = over_items(rows.user_kind(), rows.item_kind(), rows.explicit_ratings(), items);
  b.merge(std::move(rows));
  return build_over(b, items);
}

Interactions gather_shards(const std::vector<std::string>& per_rank_rows, const IdMap& items) {
  if (per_rank_rows.empty()) throw Error(ErrorKind::Internal, "no rank's rows to gather");
  InteractionBuilder first = InteractionBuilder::deserialize(per_rank_rows[0].data(), per_rank_rows[0].size());
  InteractionBuilder b = over_items(first.user_kind(), first.item_kind(), first.explicit_ratings(), items);
  b.merge(std::move(first));
  for (std::size_t r = 1; r < per_rank_rows.size(); ++r)
    b.merge(InteractionBuilder::deserialize(per_rank_rows[r].data(), per_rank_rows[r].size()));
  return build_over(b, items);
}

}  // namespace pgrec
