// The algorithms rec.train knows: parsing their parameters and creating their CPU trainers.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "als.h"
#include "bpr.h"
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
  NeuralParams neural;       // neumf, two_tower, gru4rec, sasrec (trained by the LibTorch module)
  std::string params_json;   // the effective parameters, defaults included
  std::int32_t iterations = 1;
};

// The algorithm names, comma-separated, for messages.
std::string algorithm_list();

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
