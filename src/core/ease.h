// EASE (Steck 2019): a closed-form linear item-item model. With G = XᵀX of the binarised
// interactions and P = (G + λI)⁻¹, B = I − P·diag(1/diag(P)) (so diag(B) = 0) and a user's scores
// are x_u·B. The dense inverse is computed by LAPACK (OpenBLAS); B is stored as an item
// neighbourhood, so serving, fold-in, similar items and explanations are item kNN's.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "interactions.h"
#include "params.h"
#include "trainer.h"

namespace pgrec {

struct EaseParams {
  double regularization = 250;  // λ on the diagonal of the Gram matrix
  std::int32_t neighbors = 1000;  // entries of B kept per item by magnitude (0: all)

  // Reads and checks the "ease" parameters.
  static EaseParams parse(const std::vector<Param>& params);
  // Writes the effective parameters as a JSON object.
  std::string to_json() const;
};

// Computes B densely (items x items floats) on `threads` threads, then keeps each row's largest
// entries as the model's item neighbourhoods.
Csr ease_weights(const Csr& by_item, const Csr& by_user, const EaseParams& params, int threads, CancelToken& token);

// Trains EASE in one closed-form step.
class EaseTrainer : public OneStepTrainer {
 public:
  EaseTrainer(Interactions data, const EaseParams& params, int threads)
      : data_(std::move(data)), params_(params), threads_(threads) {}
  void step(CancelToken& token) override;
  Model finish(const std::string& user_type, const std::string& item_type) override;

 private:
  Interactions data_;
  EaseParams params_;
  int threads_;
  Csr weights_;
};

}  // namespace pgrec
