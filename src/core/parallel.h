// A bounded parallel-for over index ranges, cancellable, with signals blocked in workers.
#pragma once
#include <cstddef>
#include <functional>

#include "cancel.h"

namespace pgrec {

// Runs fn(begin, end) over [0, n) in chunks of `grain` on up to `threads` threads.
// The calling thread takes part and polls `token` between chunks; throws Cancelled if it fired
// and rethrows the first exception any chunk raised.
void parallel_for(std::size_t n, std::size_t grain, int threads, CancelToken& token,
                  const std::function<void(std::size_t, std::size_t)>& fn);

}  // namespace pgrec
