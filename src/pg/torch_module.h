// The LibTorch module ($libdir/pgrec_torch.so), opened on demand by job workers only: ordinary
// backends and the postmaster never load torch.
#pragma once

#include <cstddef>

#include "algorithms.h"
#include "als.h"
#include "interactions.h"
#include "neural_input.h"
#include "neural_params.h"
#include "trainer.h"

namespace pgrec::neural {
class Collective;  // the ranks of a data-parallel training, in the LibTorch module
}

namespace pgrec::pg {

struct TorchModule {
  int (*cuda_devices)();
  Trainer* (*als_trainer)(Interactions* data, const AlsParams* params, const char* device,
                          int threads, char* error, std::size_t error_size);
  Trainer* (*neural_trainer)(NeuralInput* input, const NeuralParams* params, const char* device, int threads,
                             char* error, std::size_t error_size);
  // Data-parallel training (src/neural/torch_api.h): joining, leaving, the handshake's exchange, ALS, the core's SGD trainers, the LibTorch families.
  neural::Collective* (*join)(const char* host, int port, const char* address, int rank, int size, const char* group,
                              int timeout_ms, CancelToken* token, char* error, std::size_t error_size);
  void (*leave)(neural::Collective* ranks);
  int (*allgather)(neural::Collective* ranks, const char* mine, std::size_t len, char* out, char* error,
                   std::size_t error_size);
  Trainer* (*distributed_als_trainer)(InteractionBuilder* rows, const AlsParams* params, neural::Collective* ranks,
                                      const char* device, int threads, char* error, std::size_t error_size);
  Trainer* (*distributed_core_trainer)(InteractionBuilder* rows, const AlgorithmConfig* config, neural::Collective* ranks,
                                       int threads, char* error, std::size_t error_size);
  Trainer* (*distributed_neural_trainer)(InteractionBuilder* rows, const NeuralParams* params, neural::Collective* ranks,
                                         const char* device, int threads, char* error, std::size_t error_size);
};

// Opens the module once per process; null when it is not installed, with the reason in `why`.
const TorchModule* torch_module(const char** why);

}  // namespace pgrec::pg
