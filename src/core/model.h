// A trained model: id maps, factors, what each user has seen, item popularity; and its format.
#pragma once
#include <Eigen/Core>
#include <cstdint>
#include <string>
#include <vector>

#include "id_map.h"
#include "interactions.h"

namespace pgrec {

using FactorMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// The version of the byte format written by serialize_model.
constexpr std::uint32_t kModelFormatVersion = 1;

struct Model {
  std::string algorithm;          // "als"
  bool explicit_ratings = false;  // scores are predicted ratings, else preferences
  std::string user_type;          // SQL type of the source's user ids
  std::string item_type;          // SQL type of the source's item ids
  IdMap users;
  IdMap items;
  FactorMatrix user_factors;  // users x factors
  FactorMatrix item_factors;  // items x factors
  float global_mean = 0;      // added to explicit predictions
  Csr seen;                   // users x items of the training data
  std::vector<float> popularity;  // training interactions per item

  // Derived when loaded, not stored.
  std::vector<float> item_norms;

  // Computes the derived fields.
  void prepare();
  std::int32_t factors() const { return static_cast<std::int32_t>(item_factors.cols()); }
};

// Writes a model as versioned, checksummed bytes.
std::string serialize_model(const Model& model);

// Reads bytes written by serialize_model; corrupt or foreign bytes raise 22000.
Model deserialize_model(const char* data, std::size_t size);

}  // namespace pgrec
