// A read-mostly array: its own storage (a vector), or a view of memory kept alive by someone
// else (a mapped model file). Reads like a const vector; any change first copies a view into
// storage of its own, so a view is never written through. Non-const access counts as a change:
// read a view through a const reference (std::as_const) or it is copied.
#pragma once
#include <algorithm>
#include <cstddef>
#include <initializer_list>
#include <memory>
#include <vector>

namespace pgrec {

template <typename T>
class Array {
 public:
  Array() = default;
  Array(std::vector<T> v) : own_(std::move(v)) {}  // NOLINT: implicit on purpose, like the vector it replaces
  Array(std::initializer_list<T> v) : own_(v) {}
  Array(std::size_t n, const T& value) : own_(n, value) {}
  Array(const Array& o) { *this = o; }
  Array(Array&& o) noexcept { *this = std::move(o); }
  Array& operator=(const Array& o) {
    if (this == &o) return *this;
    own_ = o.own_;
    view_ = o.view_;
    n_ = o.n_;
    keep_ = o.keep_;
    return *this;
  }
  Array& operator=(Array&& o) noexcept {
    own_ = std::move(o.own_);
    view_ = o.view_;
    n_ = o.n_;
    keep_ = std::move(o.keep_);
    o.view_ = nullptr;
    o.n_ = 0;
    return *this;
  }
  Array& operator=(std::vector<T> v) {
    own_ = std::move(v);
    release_view();
    return *this;
  }
  Array& operator=(std::initializer_list<T> v) { return *this = std::vector<T>(v); }
  // Views n values at `data`, which `keep` keeps alive.
  static Array view(const T* data, std::size_t n, std::shared_ptr<const void> keep) {
    Array a;
    a.view_ = data;
    a.n_ = n;
    a.keep_ = std::move(keep);
    return a;
  }
  bool is_view() const { return view_ != nullptr; }

  std::size_t size() const { return view_ ? n_ : own_.size(); }
  bool empty() const { return size() == 0; }
  const T* data() const { return view_ ? view_ : own_.data(); }
  const T& operator[](std::size_t i) const { return data()[i]; }
  const T* begin() const { return data(); }
  const T* end() const { return data() + size(); }
  const T& front() const { return data()[0]; }
  const T& back() const { return data()[size() - 1]; }
  // A copy as a plain vector.
  std::vector<T> to_vector() const { return std::vector<T>(begin(), end()); }
  bool operator==(const Array& o) const { return std::equal(begin(), end(), o.begin(), o.end()); }
  bool operator!=(const Array& o) const { return !(*this == o); }

  // Writers: on a view, copy first.
  T* data() { return own().data(); }
  T& operator[](std::size_t i) { return own()[i]; }
  T* begin() { return own().data(); }
  T* end() { return own().data() + own_.size(); }
  void push_back(const T& v) { own().push_back(v); }
  void reserve(std::size_t n) { own().reserve(n); }
  void resize(std::size_t n) { own().resize(n); }
  void resize(std::size_t n, const T& v) { own().resize(n, v); }
  void assign(std::size_t n, const T& v) { own().assign(n, v); }
  template <typename It>
  void assign(It first, It last) {
    std::vector<T> v(first, last);
    own_ = std::move(v);
    release_view();
  }
  // Appends [first, last) at the end (the only insertion position used).
  template <typename It>
  void append(It first, It last) {
    std::vector<T>& v = own();
    v.insert(v.end(), first, last);
  }
  void clear() {
    own_.clear();
    release_view();
  }

 private:
  std::vector<T>& own() {
    if (view_) {
      own_.assign(view_, view_ + n_);
      release_view();
    }
    return own_;
  }
  void release_view() {
    view_ = nullptr;
    n_ = 0;
    keep_.reset();
  }

  std::vector<T> own_;
  const T* view_ = nullptr;
  std::size_t n_ = 0;
  std::shared_ptr<const void> keep_;
};

}  // namespace pgrec
