// A LibTorch smoke check: proves the torch link works (the neural models build on it).
#pragma once

namespace pgrec::neural {

// Fits y = 3x - 1 with one linear layer and Adam; returns {first loss, last loss}.
struct FitResult {
  double first_loss;
  double last_loss;
  double weight;
  double bias;
};
FitResult fit_line(int steps, unsigned seed);

}  // namespace pgrec::neural
