// User-item interactions: a builder that collects rows and the CSR matrices built from them.
#pragma once
#include <cstdint>
#include <vector>

#include "array.h"
#include "id_map.h"

namespace pgrec {

// A sparse matrix in compressed sparse row form (rows are users or items).
struct Csr {
  std::int32_t rows = 0;
  std::int32_t cols = 0;
  std::vector<std::int64_t> offsets;  // rows + 1 entries
  Array<std::int32_t> indices;  // column of each entry, ascending within a row
  Array<float> values;          // value of each entry

  std::int64_t nnz() const { return static_cast<std::int64_t>(indices.size()); }
  // Returns the transpose (columns become rows), indices ascending within each row.
  Csr transpose() const;
};

// The training data: users x items, and the same by item.
struct Interactions {
  IdMap users;
  IdMap items;
  Csr by_user;
  Csr by_item;
  bool explicit_ratings = false;
  std::int64_t rows_read = 0;  // rows added before duplicates were merged
};

// The number of entries in each row of a CSR matrix (for items: users per item).
std::vector<float> row_counts(const Csr& m);

// The mean of a CSR matrix's values (0 when empty).
float mean_value(const Csr& m);

// Collects (user, item[, rating]) rows in any order; merges duplicates when built:
// implicit rows add up (each repeat adds confidence), explicit ratings are averaged.
class InteractionBuilder {
 public:
  InteractionBuilder(IdKind user_kind, IdKind item_kind, bool explicit_ratings)
      : users_(user_kind), items_(item_kind), explicit_(explicit_ratings) {}

  // Adds one row; `value` is the rating (explicit) or the interaction weight (implicit).
  void add(const IdRef& user, const IdRef& item, float value) {
    u_.push_back(users_.intern(user));
    i_.push_back(items_.intern(item));
    v_.push_back(value);
  }

  std::int64_t rows() const { return static_cast<std::int64_t>(u_.size()); }

  // Adds an item that may have no rows (it is built as an empty column); returns its index.
  std::int32_t add_item(const IdRef& item) { return items_.intern(item); }
  // Adds a user that may have no rows (built as an empty row); returns its index.
  std::int32_t add_user(const IdRef& user) { return users_.intern(user); }
  // The index of a user added so far, or -1.
  std::int32_t find_user(const IdRef& user) const { return users_.find(user); }
  const IdMap& user_ids() const { return users_; }
  const IdMap& item_ids() const { return items_; }
  std::int32_t user_count() const { return static_cast<std::int32_t>(users_.size()); }
  std::int32_t item_count() const { return static_cast<std::int32_t>(items_.size()); }
  // Every user's items in the order the rows were added (repeats kept): users x items.
  Csr sequences() const;

  // Adds every row of another builder (ids are re-interned); the other is left empty.
  void merge(InteractionBuilder&& other);

  // Writes the rows (with their ids) as bytes, and reads them back (for parallel aggregation).
  std::string serialize() const;
  static InteractionBuilder deserialize(const char* data, std::size_t size);

  IdKind user_kind() const { return users_.kind(); }
  IdKind item_kind() const { return items_.kind(); }
  bool explicit_ratings() const { return explicit_; }

  // Builds the CSR matrices; the builder is left empty. No rows at all is bad data unless
  // `allow_empty` (ids added by add_user / add_item only).
  Interactions build(bool allow_empty = false);

 private:
  IdMap users_;
  IdMap items_;
  bool explicit_;
  std::vector<std::int32_t> u_;
  std::vector<std::int32_t> i_;
  std::vector<float> v_;
};

}  // namespace pgrec
