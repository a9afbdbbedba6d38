#include "parallel.h"

#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace pgrec {

void parallel_for(std::size_t n, std::size_t grain, int threads, CancelToken& token,
                  const std::function<void(std::size_t, std::size_t)>& fn) {
  if (n == 0) return;
  grain = std::max<std::size_t>(grain, 1);
  const std::size_t chunks = (n + grain - 1) / grain;
  const std::size_t workers =
      std::min<std::size_t>(static_cast<std::size_t>(std::max(threads, 1)), chunks) - 1;

  std::atomic<std::size_t> next{0};
  std::exception_ptr failure;
  std::mutex failure_mutex;
  std::atomic<bool> failed{false};

  auto run_chunks = [&](bool is_owner) {
    for (;;) {
      if (is_owner) token.poll();
      if (token.cancelled() || failed.load(std::memory_order_relaxed)) return;
      const std::size_t c = next.fetch_add(1);
      if (c >= chunks) return;
      const std::size_t begin = c * grain;
      try {
        fn(begin, std::min(n, begin + grain));
      } catch (...) {
        std::lock_guard<std::mutex> lock(failure_mutex);
        if (!failure) failure = std::current_exception();
        failed.store(true);
        return;
      }
    }
  };

  std::vector<std::thread> pool;
  if (workers > 0) {
    // Workers start with every signal blocked so signals keep reaching the owning thread.
    sigset_t all, previous;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &previous);
    try {
      for (std::size_t t = 0; t < workers; ++t) pool.emplace_back(run_chunks, false);
    } catch (...) {
      pthread_sigmask(SIG_SETMASK, &previous, nullptr);
      failed.store(true);
      for (auto& th : pool) th.join();
      throw;
    }
    pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  }
  run_chunks(true);
  for (auto& th : pool) th.join();
  if (failure) std::rethrow_exception(failure);
  token.poll();
  if (token.cancelled()) throw Cancelled();
}

}  // namespace pgrec
