// The champion/challenger gate's parameters and decision.
#include "gate.h"

#include <algorithm>

#include "errors.h"
#include "json_out.h"
#include "neural_params.h"

namespace pgrec {

std::string GateParams::metric_key() const {
  return lower_is_better() ? metric : metric + "@" + std::to_string(k);
}

std::string GateParams::to_json() const {
  JsonOut out;
  out << "{\"metric\": \"" << metric << "\", \"k\": " << k << ", \"test_fraction\": " << test_fraction
      << ", \"tolerance\": " << tolerance << ", \"seed\": " << seed;
  if (!time_col.empty()) out << ", \"time_col\": " << json_string(time_col);
  out << "}";
  return out.str();
}

GateParams parse_gate(const std::vector<Param>& params, bool has_ratings) {
  ParamReader r(params, "the gate");
  GateParams g;
  g.metric = r.choice("metric", has_ratings ? "rmse" : "ndcg",
                      {"ndcg", "precision", "recall", "hr", "map", "mrr", "rmse", "mae"});
  if (g.lower_is_better() && !has_ratings)
    invalid_parameter("gate metric " + g.metric + " needs rating_col: this model learns from interactions");
  g.k = static_cast<std::int32_t>(r.integer("k", 10, 1, 1000));
  g.test_fraction = r.real("test_fraction", 0.1, 0.001, 0.5);
  g.tolerance = r.real("tolerance", 0.0, 0.0, 1e9);
  g.time_col = r.text("time_col");
  g.seed = static_cast<std::int32_t>(r.integer("seed", 42, 0, INT32_MAX));
  r.reject_unknown();
  return g;
}

bool gate_passes(const GateParams& gate, double challenger, double champion) {
  return gate.lower_is_better() ? challenger <= champion + gate.tolerance : challenger >= champion - gate.tolerance;
}

bool trained_on(const Model& m, std::int32_t user, std::int32_t item) {
  if (user < 0 || item < 0 || user >= m.seen.rows) return false;
  const auto begin = m.seen.indices.begin() + m.seen.offsets[static_cast<std::size_t>(user)];
  const auto end = m.seen.indices.begin() + m.seen.offsets[static_cast<std::size_t>(user) + 1];
  return std::binary_search(begin, end, item);
}

}  // namespace pgrec
