// The LibTorch headers pgrec uses, and the one place for LibTorch version differences
// (TORCH_VERSION_MAJOR/MINOR guards): tested with LibTorch 1.13, 2.6 and 2.14, which need none yet.
#pragma once

#include <ATen/Parallel.h>
#include <torch/cuda.h>
#include <torch/torch.h>
