// The entry points of the LibTorch module (pgrec_torch.so) that job workers load with dlopen.
// Plain C linkage, no exceptions across them; the trainer they return throws like the core.
#pragma once
#include <cstddef>
#include <cstdint>

#include "abi.h"
#include "als.h"
#include "interactions.h"
#include "neural_input.h"
#include "neural_params.h"
#include "trainer.h"

extern "C" {

// The core_abi() this module was built with.
std::uint64_t pgrec_torch_abi();

// Number of CUDA devices LibTorch sees (0 on a CPU-only build).
int pgrec_torch_cuda_devices();

// Creates an ALS trainer running on `device` ("cpu", "cuda:0", ...), taking over `data`;
// returns null with a message in `error` when it cannot.
pgrec::Trainer* pgrec_torch_als_trainer(pgrec::Interactions* data, const pgrec::AlsParams* params,
                                        const char* device, int threads, char* error,
                                        std::size_t error_size);

// Creates the trainer of a neural family (params->algorithm) on `device`, taking over `input`;
// returns null with a message in `error` when it cannot.
pgrec::Trainer* pgrec_torch_neural_trainer(pgrec::NeuralInput* input, const pgrec::NeuralParams* params,
                                           const char* device, int threads, char* error, std::size_t error_size);
}
