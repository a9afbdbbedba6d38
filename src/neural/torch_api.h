// The entry points of the LibTorch module (pgrec_torch.so) that job workers load with dlopen.
// Plain C linkage, no exceptions across them; the trainer they return throws like the core.
#pragma once
#include <cstddef>
#include <cstdint>

#include "abi.h"
#include "algorithms.h"
#include "als.h"
#include "interactions.h"
#include "neural_input.h"
#include "neural_params.h"
#include "trainer.h"

namespace pgrec::neural {
class Collective;  // the ranks of one data-parallel training (collective.h)
}

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

// Joins the data-parallel training whose rendezvous rank 0 serves at `host`:`port`, as `rank` of
// `size`, reachable by the others at `address`; `group` names the training in the rendezvous; a
// rank that does not answer fails every rank's next call after `timeout_ms`; the wait for the
// others checks `token`. Null with a message in `error` when the rendezvous fails or is cancelled.
pgrec::neural::Collective* pgrec_torch_join(const char* host, int port, const char* address, int rank, int size,
                                            const char* group, int timeout_ms, pgrec::CancelToken* token, char* error,
                                            std::size_t error_size);

// Leaves a training (closes its connections).
void pgrec_torch_leave(pgrec::neural::Collective* ranks);

// Every rank's `len` bytes at `mine`, in rank order, into `out` (size * len bytes); 0 with a
// message in `error` when a rank fails.
int pgrec_torch_allgather(pgrec::neural::Collective* ranks, const char* mine, std::size_t len, char* out, char* error,
                          std::size_t error_size);

// Creates one rank's ALS trainer: agrees on the item dictionary with the other ranks, then
// trains on `rows` (taken over) with the item half's sums over every rank; rank 0's finish()
// returns the whole model. Null with a message in `error` when it cannot.
pgrec::Trainer* pgrec_torch_distributed_als_trainer(pgrec::InteractionBuilder* rows, const pgrec::AlsParams* params,
                                                    pgrec::neural::Collective* ranks, const char* device, int threads,
                                                    char* error, std::size_t error_size);

// Creates one rank's trainer of a neural family: agrees on the user and item dictionaries with
// the other ranks (LightGCN, AutoRec: gathers every rank's rows), then trains on `rows` (taken
// over) with the gradients
// averaged over every rank; rank 0's finish() returns the whole model. Null with a message in
// `error` when it cannot.
pgrec::Trainer* pgrec_torch_distributed_neural_trainer(pgrec::InteractionBuilder* rows, const pgrec::NeuralParams* params,
                                                       pgrec::neural::Collective* ranks, const char* device,
                                                       int threads, char* error, std::size_t error_size);

// Creates one rank's trainer of a CPU algorithm of the core that can share its item side (bpr,
// sgd_mf, svdpp): agrees on the item dictionary with the other ranks, then trains on `rows` (taken
// over) with the item side's changes summed over every rank; rank 0's finish() returns the whole
// model. Null with a message in `error` when it cannot.
pgrec::Trainer* pgrec_torch_distributed_core_trainer(pgrec::InteractionBuilder* rows, const pgrec::AlgorithmConfig* config,
                                                     pgrec::neural::Collective* ranks, int threads, char* error,
                                                     std::size_t error_size);
}
