// The LibTorch trainers of the neural families, created by device name (no torch types here).
#pragma once
#include <memory>
#include <string>

#include "neural_input.h"
#include "neural_params.h"
#include "trainer.h"

namespace pgrec::neural {

// sasrec and gru4rec: next-item models over each user's sequence.
std::unique_ptr<Trainer> make_sequence_trainer(NeuralInput input, const NeuralParams& params, const std::string& device);

// neumf: GMF and MLP branches over user and item embeddings, sampled negatives, BCE.
std::unique_ptr<Trainer> make_neumf_trainer(NeuralInput input, const NeuralParams& params, const std::string& device);

// two_tower: user and item towers over ids and side features, softmax over the items.
std::unique_ptr<Trainer> make_two_tower_trainer(NeuralInput input, const NeuralParams& params, const std::string& device);

// autorec: I-AutoRec, each item's ratings reconstructed through one hidden layer (explicit).
std::unique_ptr<Trainer> make_autorec_trainer(NeuralInput input, const NeuralParams& params, const std::string& device);

// multvae: a variational autoencoder of each user's items, multinomial likelihood.
std::unique_ptr<Trainer> make_multvae_trainer(NeuralInput input, const NeuralParams& params, const std::string& device);

// lightgcn: embeddings propagated over the user-item graph, BPR loss.
std::unique_ptr<Trainer> make_lightgcn_trainer(NeuralInput input, const NeuralParams& params, const std::string& device);

}  // namespace pgrec::neural
