// Item-based k-nearest-neighbours: sparse similarities (cosine, Pearson, adjusted cosine) with
// shrinkage, each item keeping its top neighbours; computed without a dense items x items matrix.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "interactions.h"
#include "params.h"
#include "trainer.h"

namespace pgrec {

struct KnnParams {
  std::string similarity = "cosine";  // cosine | pearson | adjusted_cosine
  std::int32_t neighbors = 100;       // kept per item
  double shrinkage = 0;               // sim *= n / (n + shrinkage), n = users in common

  // Reads and checks the "item_knn" parameters; Pearson and adjusted cosine need ratings.
  static KnnParams parse(const std::vector<Param>& params, bool has_ratings, const char* algorithm = "item_knn");
  // Writes the effective parameters as a JSON object.
  std::string to_json() const;
};

// The top `params.neighbors` positive similarities of every row entity of `by_row` (items for
// item kNN, users for user kNN), computed sparsely through `by_other` (its transpose).
Csr neighbor_graph(const Csr& by_row, const Csr& by_other, bool explicit_ratings, const KnnParams& params,
                   int threads, CancelToken& token);

// Computes each item's (item_knn) or each user's (user_knn) top neighbours in one step. A
// user_knn score for an item is the sum over the neighbours who have it of similarity x value.
class KnnTrainer : public OneStepTrainer {
 public:
  KnnTrainer(Interactions data, const KnnParams& params, int threads, bool users)
      : data_(std::move(data)), params_(params), threads_(threads), users_(users) {}

  void step(CancelToken& token) override;
  Model finish(const std::string& user_type, const std::string& item_type) override;

 private:
  Interactions data_;
  KnnParams params_;
  int threads_;
  bool users_;  // user_knn rather than item_knn
  Csr neighbors_;
};

}  // namespace pgrec
