// A fingerprint of the types the core shares with the separately built LibTorch module.
#pragma once
#include <cstdint>

#include "als.h"
#include "interactions.h"
#include "model.h"

namespace pgrec {

// Changes when Model, Interactions or AlsParams change size or the model format changes: the
// LibTorch module is used only when its fingerprint matches this build's.
constexpr std::uint64_t core_abi() {
  return (static_cast<std::uint64_t>(sizeof(Model)) << 32) ^ (static_cast<std::uint64_t>(sizeof(Interactions)) << 16) ^
         (static_cast<std::uint64_t>(sizeof(AlsParams)) << 4) ^ kModelFormatVersion;
}

}  // namespace pgrec
