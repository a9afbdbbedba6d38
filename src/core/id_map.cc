#include "id_map.h"

#include <cerrno>
#include <cstdlib>
#include <limits>

#include "errors.h"

namespace pgrec {

namespace {

// Parses a whole string as a base-10 int64; false if it is not exactly one.
bool parse_int64(const char* text, std::size_t length, std::int64_t* out) {
  if (length == 0 || length > 20) return false;
  std::string buffer(text, length);
  errno = 0;
  char* end = nullptr;
  long long v = std::strtoll(buffer.c_str(), &end, 10);
  if (errno != 0 || end != buffer.c_str() + buffer.size()) return false;
  *out = v;
  return true;
}

}  // namespace

std::int32_t IdMap::intern(const IdRef& id) {
  ensure_index();
  if (size() >= static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max()))
    bad_data("more than 2147483646 distinct ids");
  if (kind_ == IdKind::Int) {
    if (id.is_text()) throw Error(ErrorKind::Internal, "text id given to an integer id map");
    auto [it, added] = int_index_.emplace(id.number, static_cast<std::int32_t>(ints_.size()));
    if (added) ints_.push_back(id.number);
    return it->second;
  }
  if (!id.is_text()) throw Error(ErrorKind::Internal, "integer id given to a text id map");
  std::string key(id.text, id.length);
  auto [it, added] = text_index_.emplace(key, static_cast<std::int32_t>(texts_.size()));
  if (added) texts_.push_back(std::move(key));
  return it->second;
}

std::int32_t IdMap::find(const IdRef& id) const {
  ensure_index();
  if (kind_ == IdKind::Int) {
    std::int64_t key = id.number;
    if (id.is_text() && !parse_int64(id.text, id.length, &key)) return -1;
    auto it = int_index_.find(key);
    return it == int_index_.end() ? -1 : it->second;
  }
  auto it = id.is_text() ? text_index_.find(std::string(id.text, id.length))
                         : text_index_.find(std::to_string(id.number));
  return it == text_index_.end() ? -1 : it->second;
}

std::string IdMap::to_string(std::int32_t index) const {
  return kind_ == IdKind::Int ? std::to_string(ints_[index]) : texts_[index];
}

void IdMap::ensure_index() const {
  if (indexed_) return;
  if (kind_ == IdKind::Int) {
    int_index_.reserve(ints_.size());
    for (std::size_t i = 0; i < ints_.size(); ++i) int_index_.emplace(ints_[i], static_cast<std::int32_t>(i));
  } else {
    text_index_.reserve(texts_.size());
    for (std::size_t i = 0; i < texts_.size(); ++i) text_index_.emplace(texts_[i], static_cast<std::int32_t>(i));
  }
  indexed_ = true;
}

IdMap IdMap::from_ints(Array<std::int64_t> ids, bool index_now) {
  IdMap map(IdKind::Int);
  if (!index_now) {
    map.ints_ = std::move(ids);
    map.indexed_ = false;
    return map;
  }
  const Array<std::int64_t>& read = ids;  // const: a view is not copied to be indexed
  map.int_index_.reserve(read.size());
  for (std::size_t i = 0; i < read.size(); ++i)
    if (!map.int_index_.emplace(read[i], static_cast<std::int32_t>(i)).second)
      bad_data("model data is corrupt: duplicate id");
  map.ints_ = std::move(ids);
  return map;
}

IdMap IdMap::from_texts(std::vector<std::string> ids, bool index_now) {
  IdMap map(IdKind::Text);
  if (!index_now) {
    map.texts_ = std::move(ids);
    map.indexed_ = false;
    return map;
  }
  map.text_index_.reserve(ids.size());
  for (std::size_t i = 0; i < ids.size(); ++i)
    if (!map.text_index_.emplace(ids[i], static_cast<std::int32_t>(i)).second)
      bad_data("model data is corrupt: duplicate id");
  map.texts_ = std::move(ids);
  return map;
}

}  // namespace pgrec
