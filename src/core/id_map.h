// Maps external user/item ids (integers or strings) to dense indices and back.
#pragma once
#include "array.h"
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace pgrec {

enum class IdKind : std::uint8_t { Int = 0, Text = 1 };

// A borrowed external id: an integer, or a string given by pointer and length.
struct IdRef {
  std::int64_t number = 0;
  const char* text = nullptr;
  std::size_t length = 0;

  static IdRef of(std::int64_t v) { return IdRef{v, nullptr, 0}; }
  static IdRef of(std::string_view s) { return IdRef{0, s.data(), s.size()}; }
  bool is_text() const { return text != nullptr; }
};

class IdMap {
 public:
  explicit IdMap(IdKind kind = IdKind::Int) : kind_(kind) {}

  IdKind kind() const { return kind_; }
  std::size_t size() const { return kind_ == IdKind::Int ? ints_.size() : texts_.size(); }

  // Returns the index of `id`, adding it when new; the id must match the map's kind.
  std::int32_t intern(const IdRef& id);

  // Returns the index of `id` or -1; an id of the other kind is converted when it can be. A map
  // loaded without its index builds it on the first find: make that first call from one thread.
  std::int32_t find(const IdRef& id) const;

  std::int64_t int_at(std::int32_t index) const { return ints_[index]; }
  const std::string& text_at(std::int32_t index) const { return texts_[index]; }
  // Returns the id at `index` as a borrowed reference (valid while the map lives unchanged).
  IdRef ref(std::int32_t index) const {
    if (kind_ == IdKind::Int) return IdRef::of(ints_[static_cast<std::size_t>(index)]);
    const std::string& s = texts_[static_cast<std::size_t>(index)];
    return IdRef{0, s.data(), s.size()};
  }
  // Returns the id at `index` as text, whatever the kind.
  std::string to_string(std::int32_t index) const;

  const Array<std::int64_t>& ints() const { return ints_; }
  const std::vector<std::string>& texts() const { return texts_; }

  // Rebuilds a map from stored ids (used when loading a model); duplicates are corrupt data.
  // Ids checked before (a mapped model file) may skip the index, which is then built on first use.
  // Integer ids may be a view of the mapped bytes (see Array).
  static IdMap from_ints(Array<std::int64_t> ids, bool index_now = true);
  static IdMap from_texts(std::vector<std::string> ids, bool index_now = true);

 private:
  // Builds the lookup index of a map loaded without one.
  void ensure_index() const;
  IdKind kind_;
  Array<std::int64_t> ints_;
  std::vector<std::string> texts_;
  mutable std::unordered_map<std::int64_t, std::int32_t> int_index_;
  mutable std::unordered_map<std::string, std::int32_t> text_index_;
  mutable bool indexed_ = true;
};

}  // namespace pgrec
