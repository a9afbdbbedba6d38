// A fingerprint of the types the core shares with the separately built LibTorch module.
#pragma once
#include <cstdint>

#include "als.h"
#include "interactions.h"
#include "model.h"
#include "neural_input.h"
#include "neural_params.h"

namespace pgrec {

// Bumped when the Trainer interface (its virtual functions) changes.
constexpr std::uint64_t kTrainerInterface = 4;

// Changes when Model, Interactions, the parameter structs or the trainer interface change, or
// the model format does: the LibTorch module is used only when its fingerprint matches this build's.
constexpr std::uint64_t core_abi() {
  return (static_cast<std::uint64_t>(sizeof(Model)) << 32) ^ (static_cast<std::uint64_t>(sizeof(Interactions)) << 16) ^
         (static_cast<std::uint64_t>(sizeof(AlsParams)) << 4) ^ (static_cast<std::uint64_t>(sizeof(NeuralParams)) << 40) ^
         (static_cast<std::uint64_t>(sizeof(NeuralInput)) << 24) ^ (kTrainerInterface << 56) ^ kModelFormatVersion;
}

}  // namespace pgrec
