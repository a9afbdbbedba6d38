// Starting a retraining from the version that serves: factor rows copied by id, the rest as a
// cold start would draw them.
#pragma once
#include <cstdint>
#include <string>

#include "model.h"

namespace pgrec {

// How many of the new training's users and items started from the previous version.
struct WarmStart {
  std::int32_t users = 0;
  std::int32_t items = 0;
};

// Checks that `previous` can start a training of `algorithm` whose stored user and item rows
// have `user_cols` and `item_cols` columns: 22023 naming what differs otherwise.
void check_warm_start(const Model& previous, const std::string& algorithm, Eigen::Index user_cols,
                      Eigen::Index item_cols);

// Copies columns [from_col, from_col + cols) of `from`'s rows into columns [to_col, ...) of the rows
// of `to` whose ids `from_ids` also holds; returns how many rows were copied.
std::int32_t copy_rows_by_id(const IdMap& from_ids, FactorsRef from, Eigen::Index from_col, const IdMap& to_ids,
                             FactorMatrix& to, Eigen::Index to_col, Eigen::Index cols);

// Copies one column of `from`'s rows into `to` (a per-row value such as a bias) for ids both hold.
void copy_column_by_id(const IdMap& from_ids, FactorsRef from, Eigen::Index from_col, const IdMap& to_ids,
                       std::vector<float>& to);

}  // namespace pgrec
