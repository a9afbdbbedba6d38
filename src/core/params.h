// Training parameters: a loosely typed key/value list (from JSON) and its checked readers.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace pgrec {

enum class ParamType { Number, String, Bool, Null, Other };

struct Param {
  std::string key;
  ParamType type = ParamType::Null;
  std::string text;    // the value as text (strings unquoted)
  double number = 0;   // set when type is Number
  bool boolean = false;  // set when type is Bool
};

// Reads known keys from a parameter list; every key must be read, or the check fails.
class ParamReader {
 public:
  // `algorithm` names what the parameters are for in messages: an algorithm's name, or a phrase
  // ("the gate").
  ParamReader(const std::vector<Param>& params, std::string algorithm)
      : params_(params), algorithm_(std::move(algorithm)), used_(params.size(), false) {}

  // Reads an integer in [lo, hi], or returns the default when absent.
  std::int64_t integer(const std::string& key, std::int64_t def, std::int64_t lo, std::int64_t hi);
  // Reads a real number in [lo, hi], or returns the default when absent.
  double real(const std::string& key, double def, double lo, double hi);
  // Reads a boolean, or returns the default when absent.
  bool boolean(const std::string& key, bool def);
  // Reads a string that must be one of `choices`, or returns the default when absent.
  std::string choice(const std::string& key, const std::string& def,
                     const std::vector<std::string>& choices);
  // Reads a string (any text), or returns "" when absent.
  std::string text(const std::string& key);
  // Fails with 22023 naming the first key nothing read.
  void reject_unknown() const;

 private:
  const Param* lookup(const std::string& key);

  const std::vector<Param>& params_;
  std::string algorithm_;
  std::vector<bool> used_;
};

}  // namespace pgrec
