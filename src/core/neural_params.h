// The parameters of the LibTorch families (neumf, two_tower, gru4rec, sasrec, autorec, multvae,
// lightgcn): read, checked
// and written back as JSON in the core, so that every layer agrees on them.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "params.h"

namespace pgrec {

// The most epochs a LibTorch family runs by default when early stopping decides when to stop.
constexpr std::int32_t kEarlyStoppingEpochs = 200;

struct NeuralParams {
  std::string algorithm;           // neumf | two_tower | gru4rec | sasrec | autorec | multvae | lightgcn
  std::int32_t factors = 64;       // embedding width (neumf: the GMF branch)
  std::int32_t epochs = 30;
  std::int32_t batch_size = 128;
  double learning_rate = 1e-3;     // Adam
  double weight_decay = 0;         // Adam's L2 term
  double dropout = 0.2;
  std::int32_t patience = 5;       // epochs without a better validation score before stopping; 0: never
  bool validation = true;          // hold out one interaction per user to pick the best epoch
  std::uint64_t seed = 42;
  // Distributed: how ranks exchange an id table's gradient: auto (the rows touched when that
  // moves fewer bytes, else the whole table), dense or sparse.
  std::string gradient_exchange = "auto";
  // Sequential models.
  std::string time_col;            // the source column that orders each user's rows (required)
  std::int32_t max_len = 50;       // the most recent items a sequence is read over
  std::int32_t blocks = 2;         // sasrec: transformer blocks
  std::int32_t heads = 1;          // sasrec: attention heads (must divide factors)
  std::string loss = "auto";       // full (softmax over every item) | sampled | auto
  std::int32_t sampled = 512;      // sampled loss: negatives shared by a batch
  // neumf.
  std::int32_t mlp_factors = 32;   // the MLP branch's embedding width
  std::int32_t mlp_layers = 3;     // hidden layers, halving from 2 * mlp_factors
  std::int32_t negatives = 4;      // sampled negatives per positive (BCE)
  std::string init_from;           // a trained factor model whose factors start the GMF branch
  // two_tower.
  std::string item_features;       // a query: item id, then feature columns
  std::string user_features;       // a query: user id, then feature columns
  double id_dropout = 0.5;         // chance a training item is seen by its features alone
  // autorec, multvae, lightgcn.
  double regularization = 0;       // autorec: L2 on the weights; lightgcn: L2 on a batch's embeddings
  std::int32_t hidden = 600;       // multvae: the encoder's hidden layer
  double beta_cap = 0.2;           // multvae: the KL weight's ceiling
  std::int32_t anneal_epochs = 10;  // multvae: epochs over which the KL weight rises to the cap
  std::int32_t layers = 3;         // lightgcn: propagation layers

  bool sequential() const { return algorithm == "sasrec" || algorithm == "gru4rec"; }
  // Whether a sequential model over n_items trains with the sampled loss ("auto": when the full
  // softmax's logits of one batch would pass 2^27 floats, 512 MB).
  bool sampled_loss(std::int64_t n_items) const;
  // Reads and checks the parameters of a neural `algorithm`; 22023 on anything wrong.
  static NeuralParams parse(const std::string& algorithm, const std::vector<Param>& params);
  // Writes the effective parameters as a JSON object.
  std::string to_json() const;
};

// Whether `name` is one of the LibTorch families.
bool is_neural_algorithm(const std::string& name);

// The JSON string literal of `s` (quoted and escaped).
std::string json_string(const std::string& s);

}  // namespace pgrec
