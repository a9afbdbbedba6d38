// Data-parallel training's bookkeeping: the agreed item dictionary, a rank's shard, the gathered rows.
#include "shard.h"

#include <algorithm>

#include "als.h"
#include "byte_io.h"
#include "errors.h"

namespace pgrec {

namespace {

// An empty builder of the given kinds, holding `users` (when given) and `items` first, in their order.
InteractionBuilder over_ids(IdKind user_kind, IdKind item_kind, bool explicit_ratings, const IdMap* users,
                            const IdMap& items) {
  InteractionBuilder b(user_kind, item_kind, explicit_ratings);
  if (users != nullptr)
    for (std::int32_t u = 0; u < static_cast<std::int32_t>(users->size()); ++u) b.add_user(users->ref(u));
  for (std::int32_t i = 0; i < static_cast<std::int32_t>(items.size()); ++i) b.add_item(items.ref(i));
  return b;
}

// An empty builder of the same kinds as `like`, holding `items` first (in their order).
InteractionBuilder over_items(IdKind users, IdKind item_kind, bool explicit_ratings, const IdMap& items) {
  return over_ids(users, item_kind, explicit_ratings, nullptr, items);
}

// Checks that merging rows into `b` (built over `users` and `items`) added no id outside them.
void check_agreed(const InteractionBuilder& b, const IdMap& users, const IdMap& items) {
  if (static_cast<std::size_t>(b.user_count()) != users.size() || static_cast<std::size_t>(b.item_count()) != items.size())
    throw Error(ErrorKind::Internal, "a rank holds a user or an item outside the agreed dictionaries");
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

std::string user_ids_bytes(const InteractionBuilder& rows) {
  InteractionBuilder b(rows.user_kind(), rows.item_kind(), rows.explicit_ratings());
  for (std::int32_t u = 0; u < rows.user_count(); ++u) b.add_user(rows.user_ids().ref(u));
  return b.serialize();
}

IdMap agreed_users(const std::vector<std::string>& per_rank, IdKind kind) {
  IdMap agreed(kind);
  for (const std::string& bytes : per_rank) {
    const InteractionBuilder b = InteractionBuilder::deserialize(bytes.data(), bytes.size());
    if (b.user_kind() != kind) bad_data("the ranks of a distributed training read users of different types");
    for (std::int32_t u = 0; u < b.user_count(); ++u) {
      const std::size_t before = agreed.size();
      agreed.intern(b.user_ids().ref(u));
      if (agreed.size() == before) bad_data("two ranks of a distributed training read the same user");
    }
  }
  return agreed;
}

InteractionBuilder shard_rows(InteractionBuilder& rows, const IdMap& users, const IdMap& items) {
  InteractionBuilder b = over_ids(rows.user_kind(), rows.item_kind(), rows.explicit_ratings(), &users, items);
  b.merge(std::move(rows));
  check_agreed(b, users, items);
  return b;
}

InteractionBuilder gathered_rows(const std::vector<std::string>& per_rank_rows, const IdMap& users, const IdMap& items) {
  if (per_rank_rows.empty()) throw Error(ErrorKind::Internal, "no rank's rows to gather");
  InteractionBuilder b(users.kind(), items.kind(), false);
  for (std::size_t r = 0; r < per_rank_rows.size(); ++r) {
    InteractionBuilder part = InteractionBuilder::deserialize(per_rank_rows[r].data(), per_rank_rows[r].size());
    if (r == 0) b = over_ids(part.user_kind(), part.item_kind(), part.explicit_ratings(), &users, items);
    b.merge(std::move(part));
  }
  check_agreed(b, users, items);
  return b;
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

std::string factor_part_bytes(const Model& mine, const std::string& rows) {
  InteractionBuilder ids(mine.users.kind(), mine.items.kind(), mine.explicit_ratings);
  for (std::int32_t u = 0; u < static_cast<std::int32_t>(mine.users.size()); ++u) ids.add_user(mine.users.ref(u));
  ByteWriter w;
  w.put_string(ids.serialize());
  w.put_string(rows);
  w.put_array(mine.user_factors.data(), static_cast<std::size_t>(mine.user_factors.size()));
  return std::move(w.bytes());
}

Model gather_factor_model(Model mine, const std::vector<std::string>& parts, const IdMap& items) {
  std::vector<std::string> users, rows;
  std::vector<std::vector<float>> factors;
  for (const std::string& part : parts) {
    ByteReader r(part.data(), part.size());
    users.push_back(r.get_string());
    rows.push_back(r.get_string());
    factors.push_back(r.get_array<float>());
  }
  Interactions all = gather_shards(rows, items);
  const Eigen::Index f = mine.user_factors.cols();
  FactorMatrix xs = FactorMatrix::Zero(all.by_user.rows, f);
  for (std::size_t k = 0; k < parts.size(); ++k) {
    const InteractionBuilder b = InteractionBuilder::deserialize(users[k].data(), users[k].size());
    if (factors[k].size() != static_cast<std::size_t>(b.user_count()) * static_cast<std::size_t>(f))
      bad_data("a rank sent user factors of another size");
    for (std::int32_t u = 0; u < b.user_count(); ++u) {
      const std::int32_t at = all.users.find(b.user_ids().ref(u));
      if (at < 0) bad_data("a rank sent factors of a user it did not read");
      std::copy_n(factors[k].data() + static_cast<std::size_t>(u) * static_cast<std::size_t>(f), f, xs.row(at).data());
    }
  }
  Model m = make_factor_model(mine.algorithm, mine.explicit_ratings, std::move(all), mine.global_mean, std::move(xs),
                              FactorMatrix(mine.item_factors), mine.user_type, mine.item_type);
  m.params_json = mine.params_json;
  m.fold_in_reg = mine.fold_in_reg;
  m.fold_in_alpha = mine.fold_in_alpha;
  m.fixed_user_columns = mine.fixed_user_columns;
  return m;
}

}  // namespace pgrec
