// Writing the effective-parameters JSON of a model: numbers in their shortest exact form.
#pragma once

#include <charconv>
#include <sstream>
#include <string>

namespace pgrec {

// A string stream for JSON where a double prints as the shortest text that reads back as the
// same double (0.1, not 0.10000000000000001); everything else prints as on any ostream.
class JsonOut {
 public:
  // Writes a double in shortest round-trip form.
  JsonOut& operator<<(double v) {
    char buffer[32];
    const auto r = std::to_chars(buffer, buffer + sizeof buffer, v);
    out_.write(buffer, r.ptr - buffer);
    return *this;
  }
  // Writes a float as the double it is.
  JsonOut& operator<<(float v) { return *this << static_cast<double>(v); }
  // Writes anything else as an ostream does.
  template <typename T>
  JsonOut& operator<<(const T& v) {
    out_ << v;
    return *this;
  }
  // The text written so far.
  std::string str() const { return out_.str(); }

 private:
  std::ostringstream out_;
};

}  // namespace pgrec
