#include "params.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <sstream>

#include "errors.h"

namespace pgrec {

namespace {

// Formats a number without a trailing ".000000".
std::string show(double v) {
  std::ostringstream out;
  out << v;
  return out.str();
}

// The value as the user wrote it, or in short form when that is very long (1e308 prints 309 digits).
std::string shown(const Param& p) { return p.text.size() > 24 ? show(p.number) : p.text; }

// What a value of the wrong type is, for an error: `the string "32"`, `true`, `an array or object`.
std::string what_is(const Param& p) {
  switch (p.type) {
    case ParamType::String: return "the string \"" + p.text + "\"";
    case ParamType::Other: return "an array or object";
    default: return shown(p);
  }
}

}  // namespace

const Param* ParamReader::lookup(const std::string& key) {
  for (std::size_t i = 0; i < params_.size(); ++i) {
    if (params_[i].key == key) {
      used_[i] = true;
      return params_[i].type == ParamType::Null ? nullptr : &params_[i];
    }
  }
  return nullptr;
}

std::int64_t ParamReader::integer(const std::string& key, std::int64_t def, std::int64_t lo,
                                  std::int64_t hi) {
  const Param* p = lookup(key);
  if (p == nullptr) return def;
  if (p->type != ParamType::Number || std::floor(p->number) != p->number)
    invalid_parameter("parameter \"" + key + "\" must be an integer, not " + what_is(*p));
  const std::string range = "parameter \"" + key + "\" must be between " + std::to_string(lo) + " and " +
                            std::to_string(hi) + ", not " + shown(*p);
  // Integers written as integers are read exactly (a double holds 53 bits: 2^63 - 1 would round up).
  const bool plain = !p->text.empty() && p->text.find_first_not_of("-0123456789") == std::string::npos;
  if (plain) {
    errno = 0;
    char* end = nullptr;
    const long long v = std::strtoll(p->text.c_str(), &end, 10);
    if (errno == ERANGE || *end != '\0' || v < lo || v > hi) invalid_parameter(range);
    return static_cast<std::int64_t>(v);
  }
  // 1e3 or 64.0: exact only within 2^53; a double at or past 2^63 does not fit.
  if (p->number < static_cast<double>(lo) || p->number >= 9223372036854775808.0 || p->number > static_cast<double>(hi))
    invalid_parameter(range);
  return static_cast<std::int64_t>(p->number);
}

double ParamReader::real(const std::string& key, double def, double lo, double hi) {
  const Param* p = lookup(key);
  if (p == nullptr) return def;
  if (p->type != ParamType::Number)
    invalid_parameter("parameter \"" + key + "\" must be a number, not " + what_is(*p));
  if (!(p->number >= lo && p->number <= hi))
    invalid_parameter("parameter \"" + key + "\" must be between " + show(lo) + " and " +
                      show(hi) + ", not " + shown(*p));
  return p->number;
}

bool ParamReader::boolean(const std::string& key, bool def) {
  const Param* p = lookup(key);
  if (p == nullptr) return def;
  if (p->type != ParamType::Bool)
    invalid_parameter("parameter \"" + key + "\" must be true or false, not " + what_is(*p));
  return p->boolean;
}

std::string ParamReader::choice(const std::string& key, const std::string& def,
                                const std::vector<std::string>& choices) {
  const Param* p = lookup(key);
  if (p == nullptr) return def;
  std::string all;
  for (const auto& c : choices) {
    if (p->type == ParamType::String && p->text == c) return c;
    all += (all.empty() ? "" : ", ") + c;
  }
  invalid_parameter("parameter \"" + key + "\" must be one of " + all + ", not " + what_is(*p));
}

std::string ParamReader::text(const std::string& key) {
  const Param* p = lookup(key);
  if (p == nullptr) return "";
  if (p->type != ParamType::String) invalid_parameter("parameter \"" + key + "\" must be a string, not " + what_is(*p));
  return p->text;
}

void ParamReader::reject_unknown() const {
  for (std::size_t i = 0; i < params_.size(); ++i)
    if (!used_[i])
      invalid_parameter("unknown parameter \"" + params_[i].key + "\" for " +
                        (algorithm_.find(' ') == std::string::npos ? "algorithm " + algorithm_ : algorithm_));
}

}  // namespace pgrec
