// Starting a retraining from a previous version's factors, matched by id.
#include "warm_start.h"

#include "errors.h"

namespace pgrec {

void check_warm_start(const Model& previous, const std::string& algorithm, Eigen::Index user_cols,
                      Eigen::Index item_cols) {
  if (previous.kind != ModelKind::Factors || previous.algorithm != algorithm)
    invalid_parameter("warm_start needs the serving version to be a " + algorithm + " model, not " +
                      previous.algorithm + " (train without warm_start once)");
  if (previous.user_factors.cols() != user_cols || previous.item_factors.cols() != item_cols)
    invalid_parameter("warm_start needs the same number of factors as the serving version (it has " +
                      std::to_string(previous.item_factors.cols()) + " stored columns, this training " +
                      std::to_string(item_cols) + "); train without warm_start to change the size");
}

std::int32_t copy_rows_by_id(const IdMap& from_ids, FactorsRef from, Eigen::Index from_col, const IdMap& to_ids,
                             FactorMatrix& to, Eigen::Index to_col, Eigen::Index cols) {
  std::int32_t copied = 0;
  for (std::int32_t r = 0; r < static_cast<std::int32_t>(to.rows()); ++r) {
    const std::int32_t at = from_ids.find(to_ids.ref(r));
    if (at < 0) continue;
    to.row(r).segment(to_col, cols) = from.row(at).segment(from_col, cols);
    ++copied;
  }
  return copied;
}

void copy_column_by_id(const IdMap& from_ids, FactorsRef from, Eigen::Index from_col, const IdMap& to_ids,
                       std::vector<float>& to) {
  for (std::int32_t r = 0; r < static_cast<std::int32_t>(to.size()); ++r) {
    const std::int32_t at = from_ids.find(to_ids.ref(r));
    if (at >= 0) to[static_cast<std::size_t>(r)] = from(at, from_col);
  }
}

}  // namespace pgrec
