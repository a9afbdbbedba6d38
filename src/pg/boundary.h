// The C++/PostgreSQL boundary: run C++ work, catch everything, raise a PostgreSQL error after the
// C++ frames are gone; and ownership of C++ heap objects by a memory context.
#pragma once

#include <exception>
#include <new>

#include "cancel.h"
#include "errors.h"
#include "postgres_includes.h"

namespace pgrec::pg {

// What a failed C++ call left behind: plain data only, so it survives the C++ frames.
struct CxxError {
  int sqlstate;
  bool cancelled;
  char message[1024];
};

// Records the current exception in `err`.
void capture_exception(CxxError* err) noexcept;

// Runs `work`; returns false with `err` filled when it threw. Never lets an exception out.
template <typename Work>
bool cxx_try(CxxError* err, Work&& work) noexcept {
  try {
    work();
    return true;
  } catch (...) {
    capture_exception(err);
    return false;
  }
}

// Raises the PostgreSQL error for `err` (or processes the pending interrupt if it was a cancel).
[[noreturn]] void raise_cxx_error(const CxxError* err);

// The token long C++ work polls: it fires on a query cancel, statement_timeout or termination.
bool interrupt_pending();

// Deletes `object` when `context` is reset or deleted (as on error), unless released first.
template <typename T>
struct Owned {
  T* object;
};

// Registers `object` with `context`; returns the handle to release it early.
template <typename T>
Owned<T>* own(T* object, MemoryContext context) {
  auto* handle = static_cast<Owned<T>*>(MemoryContextAlloc(context, sizeof(Owned<T>)));
  handle->object = object;
  auto* cb = static_cast<MemoryContextCallback*>(
      MemoryContextAlloc(context, sizeof(MemoryContextCallback)));
  cb->arg = handle;
  cb->func = [](void* arg) {
    auto* h = static_cast<Owned<T>*>(arg);
    delete h->object;
    h->object = nullptr;
  };
  MemoryContextRegisterResetCallback(context, cb);
  return handle;
}

// Deletes an owned object now.
template <typename T>
void release(Owned<T>* handle) {
  delete handle->object;
  handle->object = nullptr;
}

}  // namespace pgrec::pg

// Runs a block of C++ code at the boundary; on failure raises the matching PostgreSQL error
// once the block's C++ objects are destroyed.
#define PGREC_CXX(...)                                                        \
  do {                                                                        \
    ::pgrec::pg::CxxError pgrec_err_;                                         \
    if (!::pgrec::pg::cxx_try(&pgrec_err_, [&]() { __VA_ARGS__; }))           \
      ::pgrec::pg::raise_cxx_error(&pgrec_err_);                              \
  } while (0)
