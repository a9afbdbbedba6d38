#include "algorithms.h"

#include "errors.h"

namespace pgrec {

namespace {

const char* const kAlgorithms[] = {"als",     "bpr",   "gru4rec", "item_knn",  "neumf", "popularity",
                                   "sasrec",  "sgd_mf", "svdpp",  "two_tower", "user_knn"};

}  // namespace

std::string algorithm_list() {
  std::string all;
  for (const char* a : kAlgorithms) all += (all.empty() ? "" : ", ") + std::string(a);
  return all;
}

bool is_algorithm(const std::string& name) {
  for (const char* a : kAlgorithms)
    if (name == a) return true;
  return false;
}

AlgorithmConfig parse_algorithm(const std::string& name, const std::vector<Param>& params, bool has_ratings) {
  AlgorithmConfig c;
  c.algorithm = name;
  if (name == "als") {
    c.als = AlsParams::parse(params, has_ratings);
    c.params_json = c.als.to_json();
    c.iterations = c.als.iterations;
  } else if (name == "item_knn" || name == "user_knn") {
    c.knn = KnnParams::parse(params, has_ratings, name.c_str());
    c.params_json = c.knn.to_json();
  } else if (name == "popularity") {
    c.popularity = PopularityParams::parse(params, has_ratings);
    c.params_json = c.popularity.to_json();
  } else if (name == "bpr") {
    c.bpr = BprParams::parse(params);
    c.params_json = c.bpr.to_json();
    c.iterations = c.bpr.epochs;
  } else if (name == "sgd_mf" || name == "svdpp") {
    c.sgd = SgdMfParams::parse(params, has_ratings, name == "svdpp");
    c.params_json = c.sgd.to_json();
    c.iterations = c.sgd.epochs;
  } else if (is_neural_algorithm(name)) {
    c.neural = NeuralParams::parse(name, params);
    c.params_json = c.neural.to_json();
    c.iterations = c.neural.epochs;
  } else {
    invalid_parameter("unknown algorithm \"" + name + "\"; available: " + algorithm_list());
  }
  return c;
}

void fit_defaults_to_data(AlgorithmConfig* c, const Interactions& data) {
  if (c->algorithm != "als") return;
  fit_als_to_data(&c->als, data);
  c->params_json = c->als.to_json();
}

std::unique_ptr<Trainer> make_trainer(const AlgorithmConfig& c, Interactions data, int threads) {
  if (is_neural(c))
    throw Error(ErrorKind::NotSupported,
                c.algorithm + " trains with LibTorch, through rec.train or rec.train_async on a source");
  if (c.algorithm == "user_knn" || c.algorithm == "item_knn")
    return std::make_unique<KnnTrainer>(std::move(data), c.knn, threads, c.algorithm == "user_knn");
  if (c.algorithm == "sgd_mf" || c.algorithm == "svdpp") return std::make_unique<SgdMfTrainer>(std::move(data), c.sgd);
  if (c.algorithm == "bpr") return std::make_unique<BprTrainer>(std::move(data), c.bpr, threads);
  if (c.algorithm == "popularity") return std::make_unique<PopularityTrainer>(std::move(data), c.popularity);
  return std::make_unique<AlsTrainer>(std::move(data), c.als, threads);
}

}  // namespace pgrec
