// The algorithms rec.train knows: parsing their parameters and creating their CPU trainers.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "als.h"
#include "bpr.h"
#include "ease.h"
#include "knn.h"
#include "neural_params.h"
#include "popularity.h"
#include "sgd_mf.h"

namespace pgrec {

struct AlgorithmConfig {
  std::string algorithm;
  AlsParams als;
  KnnParams knn;
  PopularityParams popularity;
  SgdMfParams sgd;
  BprParams bpr;
  EaseParams ease;
  NeuralParams neural;       // neumf, two_tower, gru4rec, sasrec (trained by the LibTorch module)
  std::string params_json;   // the effective parameters, defaults included
  std::int32_t iterations = 1;
};

// One algorithm rec.train knows: its parameters, its trainer, and what serving needs to know of it.
// Adding an algorithm is one entry in algorithms.cc (and its trainer's file).
struct AlgorithmSpec {
  const char* name;
  // Reads and checks the parameters into the configuration's member for this algorithm, setting
  // params_json and iterations; 22023 on anything wrong.
  void (*parse)(AlgorithmConfig* config, const std::vector<Param>& params, bool has_ratings);
  // Creates the CPU trainer; null for the LibTorch families (trained by the LibTorch module).
  std::unique_ptr<Trainer> (*make)(const AlgorithmConfig& config, Interactions data, int threads);
  // The width of the model per user or item (factors, neighbours), for out-of-memory messages.
  double (*width)(const AlgorithmConfig& config);
  bool gpu;              // trains on a LibTorch device when one is asked for (ALS and the LibTorch families)
  bool ranking_fold_in;  // a factor model learnt with a pairwise ranking loss: fold-in takes BPR steps
  bool binary_input;     // reads interactions as 0/1: fold-in ignores the given values
  bool warm_start;       // its trainers (CPU and LibTorch) start from the serving version's weights
};

// The number of algorithms, and the i-th in name order (0 <= i < algorithm_count()).
std::size_t algorithm_count();
const AlgorithmSpec& algorithm_at(std::size_t i);

// The algorithm called `name`, or null.
const AlgorithmSpec* find_algorithm(const std::string& name);

// The algorithm names (only those with warm starts when `warm_start_only`), comma-separated, for messages.
std::string algorithm_list(bool warm_start_only = false);

// Whether `name` is an algorithm rec.train knows.
bool is_algorithm(const std::string& name);

// Reads and checks the parameters of `name`; 22023 for an unknown algorithm or parameter.
AlgorithmConfig parse_algorithm(const std::string& name, const std::vector<Param>& params, bool has_ratings);

// Settles the defaults that depend on the data (implicit ALS's regularization) and rewrites the
// effective parameters; call it once the interactions are read, before the trainer is made.
void fit_defaults_to_data(AlgorithmConfig* config, const Interactions& data);

// Whether the configuration's algorithm is one of the LibTorch families.
inline bool is_neural(const AlgorithmConfig& c) { return is_neural_algorithm(c.algorithm); }

// Creates the CPU trainer of a parsed configuration, taking over the data; the model it
// finishes carries the configuration's parameters.
std::unique_ptr<Trainer> make_trainer(const AlgorithmConfig& config, Interactions data, int threads);

}  // namespace pgrec
