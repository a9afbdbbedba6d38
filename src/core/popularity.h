// The popularity model: every user gets the same ranking, by count of users or by damped mean
// rating; the user's own items are still excluded.
#pragma once
#include <string>
#include <vector>

#include "interactions.h"
#include "params.h"
#include "trainer.h"

namespace pgrec {

struct PopularityParams {
  std::string weighting = "count";  // count | rating
  double damping = 10;              // rating: (sum + damping * global mean) / (n + damping)

  // Reads and checks the "popularity" parameters; rating weighting needs ratings.
  static PopularityParams parse(const std::vector<Param>& params, bool has_ratings);
  // Writes the effective parameters as a JSON object.
  std::string to_json() const;
};

// Scores items in one step.
class PopularityTrainer : public OneStepTrainer {
 public:
  PopularityTrainer(Interactions data, const PopularityParams& params)
      : data_(std::move(data)), params_(params) {}
  void step(CancelToken& token) override;
  Model finish(const std::string& user_type, const std::string& item_type) override;

 private:
  Interactions data_;
  PopularityParams params_;
  std::vector<float> scores_;
};

}  // namespace pgrec
