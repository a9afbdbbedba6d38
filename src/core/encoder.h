// The encoder of a factor model whose user vectors are computed from the user's items (multvae):
// x = the items as 0/1, L2-normalised; h = tanh(x·W1 + b1); μ = h·W2ᵀ + b2. The user vector is
// [μ, 1] (the trailing 1 meets the item's bias column).
#pragma once
#include <Eigen/Core>
#include <cstdint>
#include <vector>

#include "model.h"

namespace pgrec {

// The tensor names of an encoder, as the LibTorch trainer writes them.
constexpr const char* kEncoderInput = "encoder.input";    // items x hidden (W1, row per item)
constexpr const char* kEncoderInputBias = "encoder.input_bias";  // hidden
constexpr const char* kEncoderMean = "encoder.mean";      // factors x hidden (W2)
constexpr const char* kEncoderMeanBias = "encoder.mean_bias";    // factors

// Checks that the model's network is an encoder of its shape; 22000 otherwise.
void check_encoder(const Model& m);

// The user vector (factors + 1 columns) the encoder gives a user with `items`.
Eigen::VectorXf encode_items(const Model& m, const std::vector<std::int32_t>& items);

}  // namespace pgrec
