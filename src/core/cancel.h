// A cancel token: the owning thread polls an external check, workers read the flag.
#pragma once
#include <atomic>

#include "errors.h"

namespace pgrec {

class CancelToken {
 public:
  using Check = bool (*)();

  explicit CancelToken(Check check = nullptr) : check_(check) {}

  // Runs the external check; call only from the thread that created the token.
  void poll() {
    if (check_ != nullptr && check_()) flag_.store(true, std::memory_order_relaxed);
  }

  // Marks the token cancelled (used by tests and by callers with their own triggers).
  void cancel() { flag_.store(true, std::memory_order_relaxed); }

  // Tells whether cancellation was requested; safe from any thread.
  bool cancelled() const { return flag_.load(std::memory_order_relaxed); }

  // Polls and throws Cancelled when cancellation was requested.
  void check() {
    poll();
    if (cancelled()) throw Cancelled();
  }

 private:
  Check check_;
  std::atomic<bool> flag_{false};
};

}  // namespace pgrec
