#include <cstdio>
#include <cstring>

#include "boundary.h"

namespace pgrec::pg {

namespace {

// Copies a message into the error's fixed buffer.
void set_message(CxxError* err, const char* text) {
  snprintf(err->message, sizeof err->message, "%s", text);
}

// The SQLSTATE for a core error kind.
int sqlstate_of(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::InvalidParameter: return ERRCODE_INVALID_PARAMETER_VALUE;
    case ErrorKind::DataException: return ERRCODE_DATA_EXCEPTION;
    case ErrorKind::UndefinedObject: return ERRCODE_UNDEFINED_OBJECT;
    case ErrorKind::NotReady: return ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE;
    case ErrorKind::NotSupported: return ERRCODE_FEATURE_NOT_SUPPORTED;
    case ErrorKind::OutOfMemory: return ERRCODE_OUT_OF_MEMORY;
    case ErrorKind::Internal: break;
  }
  return ERRCODE_INTERNAL_ERROR;
}

}  // namespace

void capture_exception(CxxError* err) noexcept {
  err->cancelled = false;
  err->sqlstate = ERRCODE_INTERNAL_ERROR;
  try {
    throw;
  } catch (const Cancelled&) {
    err->cancelled = true;
    set_message(err, "canceling statement due to user request");
  } catch (const Error& e) {
    err->sqlstate = sqlstate_of(e.kind());
    set_message(err, e.what());
  } catch (const std::bad_alloc&) {
    err->sqlstate = ERRCODE_OUT_OF_MEMORY;
    set_message(err, "out of memory in pgrec");
  } catch (const std::exception& e) {
    set_message(err, e.what());
  } catch (...) {
    set_message(err, "unknown internal error in pgrec");
  }
}

void raise_cxx_error(const CxxError* err) {
  if (err->cancelled) {
    CHECK_FOR_INTERRUPTS();
    ereport(ERROR, (errcode(ERRCODE_QUERY_CANCELED), errmsg("%s", err->message)));
  }
  ereport(ERROR, (errcode(err->sqlstate), errmsg("%s", err->message)));
  pg_unreachable();
}

bool interrupt_pending() { return QueryCancelPending || ProcDiePending; }

}  // namespace pgrec::pg
