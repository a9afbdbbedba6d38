#include <cstring>

#include "byte_io.h"

namespace pgrec {

std::uint64_t checksum64(const char* data, std::size_t size) {
  constexpr std::uint64_t kPrime = 0x100000001b3ULL;
  std::uint64_t h = 0xcbf29ce484222325ULL ^ size;
  std::size_t i = 0;
  for (; i + 8 <= size; i += 8) {
    std::uint64_t w;
    std::memcpy(&w, data + i, 8);
    h = (h ^ w) * kPrime;
    h ^= h >> 29;
  }
  for (; i < size; ++i) h = (h ^ static_cast<unsigned char>(data[i])) * kPrime;
  return h ^ (h >> 32);
}

}  // namespace pgrec
