// The trained weights of a neural model (named tensors) as the core stores and serves them.
#pragma once
#include <Eigen/Core>
#include <cstdint>
#include <string>
#include <vector>

#include "interactions.h"

namespace pgrec {

class ByteWriter;
class ByteReader;

// One named weight array, row-major, with its shape (a torch parameter copied out).
struct NetTensor {
  std::string name;
  std::vector<std::int64_t> shape;
  std::vector<float> data;
};

using RowMatrixMap = Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>;
using VectorMap = Eigen::Map<const Eigen::VectorXf>;

// Names of the weights a LibTorch trainer stores for the next warm start ("warm." + the torch
// parameter's name): serving never reads them, and a load for serving skips them.
constexpr const char* kTrainingWeightPrefix = "warm.";

// Whether `name` is a training weight kept for warm starts.
bool is_training_weight(const std::string& name);

struct NeuralNet {
  std::int32_t max_len = 0;      // sequential: the most recent items a sequence is read over
  std::int32_t blocks = 0;       // sasrec: transformer blocks
  std::int32_t heads = 1;        // sasrec: attention heads
  std::int32_t gmf_factors = 0;  // neumf: the leading factor columns that form the GMF branch
  std::string time_col;          // sequential: the source column that orders a user's rows
  std::vector<NetTensor> tensors;
  Csr sequences;                 // sequential: users x items, each user's last max_len items, oldest first

  // Whether the network has no weights that serving reads (training weights do not count).
  bool empty() const;
  // The tensor called `name`, checked to have `shape`; 22000 when it is absent or shaped otherwise.
  const NetTensor& tensor(const std::string& name, const std::vector<std::int64_t>& shape) const;
  // The 2-d tensor `name` (rows x cols) as a matrix.
  RowMatrixMap matrix(const std::string& name, std::int64_t rows, std::int64_t cols) const;
  // The 1-d tensor `name` (n) as a vector.
  VectorMap vector(const std::string& name, std::int64_t n) const;
};

// Writes a network: its settings, tensors and sequences.
void put_net(ByteWriter& w, const NeuralNet& net);

// Reads a network written by put_net for a model of n_users x n_items; the training weights only
// when `training_weights` (a warm start), else they are skipped.
NeuralNet get_net(ByteReader& r, std::int64_t n_users, std::int64_t n_items, bool training_weights);

}  // namespace pgrec
