// Side features of users or items (the two_tower model's inputs): categorical columns as codes
// (a row may hold several, from an array), numeric columns standardised.
#pragma once
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace pgrec {

struct FeatureColumn {
  std::string name;
  bool numeric = false;
  std::vector<float> values;          // numeric: one per row, standardised (0 where missing)
  std::vector<std::int64_t> offsets;  // categorical: row r holds codes[offsets[r], offsets[r + 1])
  std::vector<std::int32_t> codes;    // categorical: 1 .. cardinality - 1
  std::int32_t cardinality = 1;       // categorical: distinct values + 1 (code 0 is padding)
};

// One column per feature, one row per model user or item.
struct FeatureTable {
  std::vector<FeatureColumn> columns;
  std::int32_t rows = 0;
  bool empty() const { return columns.empty(); }
};

// Collects feature values row by row (rows are model indices, in any order, each at most once)
// and builds the table.
class FeatureBuilder {
 public:
  // Declares the columns, in order; `numeric` says which are numbers.
  FeatureBuilder(std::vector<std::string> names, std::vector<bool> numeric);
  // Starts row `row`; 22000 naming `id` when that row was given before.
  void begin_row(std::int32_t row, const std::string& id);
  // Adds a number to column `col` of the current row (a missing value when not finite).
  void add_number(std::size_t col, double value);
  // Adds a category to column `col` of the current row (arrays add several).
  void add_category(std::size_t col, const std::string& value);
  // Builds the table for `rows` rows; rows never begun have no categories and mean numbers.
  FeatureTable build(std::int32_t rows);

 private:
  struct Cell {
    std::int32_t row;
    std::size_t col;
    double number;
    std::int32_t code;
  };
  std::vector<std::string> names_;
  std::vector<bool> numeric_;
  std::vector<std::unordered_map<std::string, std::int32_t>> vocab_;
  std::vector<Cell> cells_;
  std::vector<char> begun_;
  std::int32_t row_ = -1;
};

}  // namespace pgrec
