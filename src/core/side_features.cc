#include "side_features.h"

#include <algorithm>
#include <cmath>

#include "errors.h"

namespace pgrec {

FeatureBuilder::FeatureBuilder(std::vector<std::string> names, std::vector<bool> numeric)
    : names_(std::move(names)), numeric_(std::move(numeric)), vocab_(names_.size()) {}

void FeatureBuilder::begin_row(std::int32_t row, const std::string& id) {
  if (row < 0) throw Error(ErrorKind::Internal, "feature row out of range");
  if (static_cast<std::size_t>(row) >= begun_.size()) begun_.resize(static_cast<std::size_t>(row) + 1, 0);
  if (begun_[static_cast<std::size_t>(row)])
    bad_data("the feature query returns id " + id + " more than once; each id needs exactly one row");
  begun_[static_cast<std::size_t>(row)] = 1;
  row_ = row;
}

void FeatureBuilder::add_number(std::size_t col, double value) {
  if (std::isfinite(value)) cells_.push_back({row_, col, value, 0});
}

void FeatureBuilder::add_category(std::size_t col, const std::string& value) {
  auto& vocab = vocab_[col];
  const auto it = vocab.emplace(value, static_cast<std::int32_t>(vocab.size()) + 1).first;
  cells_.push_back({row_, col, 0, it->second});
}

FeatureTable FeatureBuilder::build(std::int32_t rows) {
  FeatureTable table;
  table.rows = rows;
  for (std::size_t c = 0; c < names_.size(); ++c) {
    FeatureColumn col;
    col.name = names_[c];
    col.numeric = numeric_[c];
    if (col.numeric) {
      double sum = 0, sq = 0;
      std::int64_t n = 0;
      for (const Cell& cell : cells_)
        if (cell.col == c && cell.row < rows) {
          sum += cell.number;
          sq += cell.number * cell.number;
          ++n;
        }
      const double mean = n > 0 ? sum / static_cast<double>(n) : 0.0;
      const double sd = n > 0 ? std::sqrt(std::max(0.0, sq / static_cast<double>(n) - mean * mean)) : 0.0;
      col.values.assign(static_cast<std::size_t>(rows), 0.0f);
      for (const Cell& cell : cells_)
        if (cell.col == c && cell.row < rows)
          col.values[static_cast<std::size_t>(cell.row)] = sd > 0 ? static_cast<float>((cell.number - mean) / sd) : 0.0f;
    } else {
      col.cardinality = static_cast<std::int32_t>(vocab_[c].size()) + 1;
      std::vector<std::vector<std::int32_t>> per_row(static_cast<std::size_t>(rows));
      for (const Cell& cell : cells_)
        if (cell.col == c && cell.row < rows) per_row[static_cast<std::size_t>(cell.row)].push_back(cell.code);
      col.offsets.assign(1, 0);
      for (const auto& codes : per_row) {
        col.codes.insert(col.codes.end(), codes.begin(), codes.end());
        col.offsets.push_back(static_cast<std::int64_t>(col.codes.size()));
      }
    }
    table.columns.push_back(std::move(col));
  }
  return table;
}

}  // namespace pgrec
