// Evaluation of a model against held-out interactions: ranking metrics (full ranking or sampled
// negatives), rating errors, coverage and popularity bias.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "cancel.h"
#include "model.h"

namespace pgrec {

// One held-out row mapped onto the model: `group` numbers the test's distinct users; user and
// item are model indices, or -1 when the model lacks them.
struct TestRow {
  std::int32_t group;
  std::int32_t user;
  std::int32_t item;
  float rating;
};

struct EvalOptions {
  std::int32_t k = 10;
  bool exclude_seen = true;
  bool has_ratings = false;         // compute rmse/mae (explicit models only)
  std::int32_t sampled_negatives = 0;  // 0: full ranking over all items
  std::uint64_t seed = 42;
  int threads = 1;
};

// Metrics in a fixed order: (name, value).
using MetricList = std::vector<std::pair<std::string, double>>;

// The ranking metrics of one user's top-k list against its relevant items (sorted ascending).
struct UserRanking {
  double precision, recall, ndcg, hit, ap, rr;
};
UserRanking score_ranking(const std::vector<std::int32_t>& ranked,
                          const std::vector<std::int32_t>& relevant, std::int32_t k);

// Evaluates the model on test rows; users and items unknown to the model are counted, users get
// the model's fallback (popular items), unknown items count as relevant but can never be hit.
MetricList evaluate(const Model& model, const std::vector<TestRow>& rows, const EvalOptions& options,
                    CancelToken& token);

}  // namespace pgrec
