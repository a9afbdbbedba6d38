// The champion/challenger gate: which metric decides, on which held-out rows, with what tolerance.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "model.h"
#include "params.h"

namespace pgrec {

struct GateParams {
  std::string metric;           // ndcg, precision, recall, hr, map, mrr (at k), rmse or mae
  std::int32_t k = 10;
  double test_fraction = 0.1;   // the held-out share: the most recent rows by time_col, else per user
  double tolerance = 0.0;       // how much worse than the champion the challenger may be
  std::string time_col;         // empty: a per-user split
  std::int32_t seed = 42;
  // The key of the decisive metric in an evaluation's list ("ndcg@10", "rmse").
  std::string metric_key() const;
  // Whether a smaller value of the metric is better (rmse, mae).
  bool lower_is_better() const { return metric == "rmse" || metric == "mae"; }
  std::string to_json() const;
};

// Reads a gate's parameters ({"metric": "ndcg", "k": 10, "test_fraction": 0.1, "tolerance": 0,
// "time_col": "ts", "seed": 42}); the metric defaults to rmse for ratings, ndcg otherwise; 22023 on
// anything unknown or out of range.
GateParams parse_gate(const std::vector<Param>& params, bool has_ratings);

// Whether the challenger may replace the champion: not worse by more than the tolerance.
bool gate_passes(const GateParams& gate, double challenger, double champion);

// Whether the champion trained on (user, item), both its own indices (false for indices it lacks).
bool trained_on(const Model& m, std::int32_t user, std::int32_t item);

}  // namespace pgrec
