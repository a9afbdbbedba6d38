// Little-endian binary writer and bounds-checked reader for the model format.
#pragma once
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include "errors.h"

namespace pgrec {

class ByteWriter {
 public:
  // Appends a trivially copyable value.
  template <typename T>
  void put(const T& v) {
    static_assert(std::is_trivially_copyable<T>::value, "plain values only");
    out_.append(reinterpret_cast<const char*>(&v), sizeof(T));
  }
  // Appends raw bytes.
  void put_bytes(const void* data, std::size_t n) { out_.append(static_cast<const char*>(data), n); }
  // Appends a length-prefixed string.
  void put_string(const std::string& s) {
    put<std::uint64_t>(s.size());
    put_bytes(s.data(), s.size());
  }
  // Appends a length-prefixed array of plain values.
  template <typename T>
  void put_array(const T* data, std::size_t n) {
    put<std::uint64_t>(n);
    put_bytes(data, n * sizeof(T));
  }
  std::string& bytes() { return out_; }

 private:
  std::string out_;
};

class ByteReader {
 public:
  ByteReader(const char* data, std::size_t size) : p_(data), end_(data + size) {}

  // Reads a trivially copyable value.
  template <typename T>
  T get() {
    T v;
    std::memcpy(&v, take(sizeof(T)), sizeof(T));
    return v;
  }
  // Reads a length-prefixed string.
  std::string get_string() {
    const std::uint64_t n = get<std::uint64_t>();
    const char* s = take(n);
    return std::string(s, n);
  }
  // Reads a length-prefixed array of plain values, checking its length against `expected`.
  template <typename T>
  std::vector<T> get_array(std::uint64_t expected) {
    const std::uint64_t n = get<std::uint64_t>();
    if (n != expected) corrupt("array length");
    return get_raw<T>(n);
  }
  // Reads a length-prefixed array of plain values of any length.
  template <typename T>
  std::vector<T> get_array() {
    return get_raw<T>(get<std::uint64_t>());
  }
  // Reads n plain values into `out`.
  template <typename T>
  void get_into(T* out, std::uint64_t n) {
    const std::uint64_t count = get<std::uint64_t>();
    if (count != n) corrupt("array length");
    if (n > 0) std::memcpy(out, take(n * sizeof(T)), n * sizeof(T));
  }
  // Returns the next n bytes in place (they stay owned by the buffer being read).
  const char* get_span(std::uint64_t n) { return take(n); }
  bool at_end() const { return p_ == end_; }
  std::size_t remaining() const { return static_cast<std::size_t>(end_ - p_); }

  [[noreturn]] static void corrupt(const std::string& what) {
    bad_data("model data is corrupt (" + what + ")");
  }

 private:
  template <typename T>
  std::vector<T> get_raw(std::uint64_t n) {
    if (n > static_cast<std::uint64_t>(end_ - p_) / sizeof(T)) corrupt("truncated array");
    std::vector<T> v(n);
    if (n > 0) std::memcpy(v.data(), take(n * sizeof(T)), n * sizeof(T));
    return v;
  }
  const char* take(std::uint64_t n) {
    if (n > static_cast<std::uint64_t>(end_ - p_)) corrupt("truncated");
    const char* at = p_;
    p_ += n;
    return at;
  }

  const char* p_;
  const char* end_;
};

// A 64-bit checksum of a byte range (FNV-1a over 8-byte words, then the tail).
std::uint64_t checksum64(const char* data, std::size_t size);

}  // namespace pgrec
