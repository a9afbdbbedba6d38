// The LibTorch headers pgrec uses, and the one place for LibTorch version differences
// (TORCH_VERSION_MAJOR/MINOR guards): tested with LibTorch 1.13, 2.6 and 2.14, which need none yet.
#pragma once

#include <ATen/Parallel.h>
#include <torch/cuda.h>
#include <torch/torch.h>

namespace pgrec::neural {

// Turns off c10d's libuv TCPStore where its options have the switch (LibTorch 2.x, on by default,
// while Debian builds LibTorch without libuv; 1.13 has no switch): detected, not a version test.
template <typename Options>
auto tcpstore_without_libuv(Options& o, int) -> decltype(o.useLibUV = false, void()) {
  o.useLibUV = false;
}
template <typename Options>
void tcpstore_without_libuv(Options&, long) {}

}  // namespace pgrec::neural
