#include "algorithms.h"
#include <iterator>

#include "errors.h"

namespace pgrec {

namespace {

// The LibTorch families' parameters (one reader for all of them).
void parse_neural(AlgorithmConfig* c, const std::vector<Param>& params, bool) {
  c->neural = NeuralParams::parse(c->algorithm, params);
  c->params_json = c->neural.to_json();
  c->iterations = c->neural.epochs;
}

// A neural configuration's width: its embedding (or hidden layer) size.
double neural_width(const AlgorithmConfig& c) { return c.neural.factors; }

const AlgorithmSpec kAlgorithms[] = {
    {"als",
     [](AlgorithmConfig* c, const std::vector<Param>& p, bool r) {
       c->als = AlsParams::parse(p, r);
       c->params_json = c->als.to_json();
       c->iterations = c->als.iterations;
     },
     [](const AlgorithmConfig& c, Interactions d, int t) -> std::unique_ptr<Trainer> {
       return std::make_unique<AlsTrainer>(std::move(d), c.als, t);
     },
     [](const AlgorithmConfig& c) -> double { return c.als.factors; }, true, false, false, true},
    {"autorec",
     [](AlgorithmConfig* c, const std::vector<Param>& p, bool r) {
       if (!r) invalid_parameter("autorec reconstructs ratings: give the rating column (value_col)");
       parse_neural(c, p, r);
     },
     nullptr, neural_width, true, false, false, true},
    {"bpr",
     [](AlgorithmConfig* c, const std::vector<Param>& p, bool) {
       c->bpr = BprParams::parse(p);
       c->params_json = c->bpr.to_json();
       c->iterations = c->bpr.epochs;
     },
     [](const AlgorithmConfig& c, Interactions d, int t) -> std::unique_ptr<Trainer> {
       return std::make_unique<BprTrainer>(std::move(d), c.bpr, t);
     },
     [](const AlgorithmConfig& c) -> double { return c.bpr.factors; }, false, true, false, true},
    {"ease",
     [](AlgorithmConfig* c, const std::vector<Param>& p, bool) {
       c->ease = EaseParams::parse(p);
       c->params_json = c->ease.to_json();
     },
     [](const AlgorithmConfig& c, Interactions d, int t) -> std::unique_ptr<Trainer> {
       return std::make_unique<EaseTrainer>(std::move(d), c.ease, t);
     },
     [](const AlgorithmConfig& c) -> double { return c.ease.neighbors; }, false, false, true, false},
    {"gru4rec", parse_neural, nullptr, neural_width, true, false, false, true},
    {"item_knn",
     [](AlgorithmConfig* c, const std::vector<Param>& p, bool r) {
       c->knn = KnnParams::parse(p, r, "item_knn");
       c->params_json = c->knn.to_json();
     },
     [](const AlgorithmConfig& c, Interactions d, int t) -> std::unique_ptr<Trainer> {
       return std::make_unique<KnnTrainer>(std::move(d), c.knn, t, false);
     },
     [](const AlgorithmConfig& c) -> double { return c.knn.neighbors; }, false, false, false, false},
    {"lightgcn", parse_neural, nullptr, neural_width, true, true, false, true},
    {"multvae", parse_neural, nullptr, neural_width, true, false, true, true},
    {"neumf", parse_neural, nullptr, neural_width, true, false, false, true},
    {"popularity",
     [](AlgorithmConfig* c, const std::vector<Param>& p, bool r) {
       c->popularity = PopularityParams::parse(p, r);
       c->params_json = c->popularity.to_json();
     },
     [](const AlgorithmConfig& c, Interactions d, int) -> std::unique_ptr<Trainer> {
       return std::make_unique<PopularityTrainer>(std::move(d), c.popularity);
     },
     [](const AlgorithmConfig&) -> double { return 1; }, false, false, false, false},
    {"sasrec", parse_neural, nullptr, neural_width, true, false, false, true},
    {"sgd_mf",
     [](AlgorithmConfig* c, const std::vector<Param>& p, bool r) {
       c->sgd = SgdMfParams::parse(p, r, false);
       c->params_json = c->sgd.to_json();
       c->iterations = c->sgd.epochs;
     },
     [](const AlgorithmConfig& c, Interactions d, int) -> std::unique_ptr<Trainer> {
       return std::make_unique<SgdMfTrainer>(std::move(d), c.sgd);
     },
     [](const AlgorithmConfig& c) -> double { return c.sgd.factors; }, false, false, false, true},
    {"svdpp",
     [](AlgorithmConfig* c, const std::vector<Param>& p, bool r) {
       c->sgd = SgdMfParams::parse(p, r, true);
       c->params_json = c->sgd.to_json();
       c->iterations = c->sgd.epochs;
     },
     [](const AlgorithmConfig& c, Interactions d, int) -> std::unique_ptr<Trainer> {
       return std::make_unique<SgdMfTrainer>(std::move(d), c.sgd);
     },
     [](const AlgorithmConfig& c) -> double { return c.sgd.factors; }, false, false, false, true},
    {"two_tower", parse_neural, nullptr, neural_width, true, false, false, true},
    {"user_knn",
     [](AlgorithmConfig* c, const std::vector<Param>& p, bool r) {
       c->knn = KnnParams::parse(p, r, "user_knn");
       c->params_json = c->knn.to_json();
     },
     [](const AlgorithmConfig& c, Interactions d, int t) -> std::unique_ptr<Trainer> {
       return std::make_unique<KnnTrainer>(std::move(d), c.knn, t, true);
     },
     [](const AlgorithmConfig& c) -> double { return c.knn.neighbors; }, false, false, false, false},
};

}  // namespace

std::size_t algorithm_count() { return std::size(kAlgorithms); }

const AlgorithmSpec& algorithm_at(std::size_t i) { return kAlgorithms[i]; }

const AlgorithmSpec* find_algorithm(const std::string& name) {
  for (const AlgorithmSpec& a : kAlgorithms)
    if (name == a.name) return &a;
  return nullptr;
}

std::string algorithm_list(bool warm_start_only) {
  std::string all;
  for (const AlgorithmSpec& a : kAlgorithms)
    if (a.warm_start || !warm_start_only) all += (all.empty() ? "" : ", ") + std::string(a.name);
  return all;
}

bool is_algorithm(const std::string& name) { return find_algorithm(name) != nullptr; }

AlgorithmConfig parse_algorithm(const std::string& name, const std::vector<Param>& params, bool has_ratings) {
  const AlgorithmSpec* spec = find_algorithm(name);
  if (spec == nullptr) invalid_parameter("unknown algorithm \"" + name + "\"; available: " + algorithm_list());
  AlgorithmConfig c;
  c.algorithm = name;
  spec->parse(&c, params, has_ratings);
  return c;
}

void fit_defaults_to_data(AlgorithmConfig* c, const Interactions& data) {
  if (c->algorithm != "als") return;
  fit_als_to_data(&c->als, data);
  c->params_json = c->als.to_json();
}

std::unique_ptr<Trainer> make_trainer(const AlgorithmConfig& c, Interactions data, int threads) {
  const AlgorithmSpec* spec = find_algorithm(c.algorithm);
  if (spec == nullptr) invalid_parameter("unknown algorithm \"" + c.algorithm + "\"");
  if (spec->make == nullptr)
    throw Error(ErrorKind::NotSupported,
                c.algorithm + " trains with LibTorch, through rec.train or rec.train_async on a source");
  return spec->make(c, std::move(data), threads);
}

}  // namespace pgrec
