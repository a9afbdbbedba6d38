// Errors the core raises; src/pg maps each kind to a SQLSTATE.
#pragma once
#include <stdexcept>
#include <string>

namespace pgrec {

enum class ErrorKind {
  InvalidParameter,  // 22023
  DataException,     // 22000
  UndefinedObject,   // 42704
  NotReady,          // 55000
  NotSupported,      // 0A000
  OutOfMemory,       // 53200
  Internal           // XX000
};

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  ErrorKind kind() const { return kind_; }

 private:
  ErrorKind kind_;
};

// Thrown when a cancel token fires; the caller turns it into the host's own interrupt handling.
class Cancelled : public std::runtime_error {
 public:
  Cancelled() : std::runtime_error("canceled") {}
};

// Throws an InvalidParameter error with the given message.
[[noreturn]] inline void invalid_parameter(const std::string& message) {
  throw Error(ErrorKind::InvalidParameter, message);
}

// Throws a DataException error with the given message.
[[noreturn]] inline void bad_data(const std::string& message) {
  throw Error(ErrorKind::DataException, message);
}

}  // namespace pgrec
