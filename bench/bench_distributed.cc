// Data-parallel training on one machine: 1 rank with every core against N ranks (threads, one
// core each) joined by torch.distributed (Gloo over 127.0.0.1). ALS on ML-20M-shaped synthetic
// data; or (--neural) a LibTorch family on ML-100K, each user's latest rating held out, with the
// gradients exchanged as whole tables and as the rows touched. Prints bench/RESULTS.md rows.
// Usage: bench_distributed [--synthetic USERS,ITEMS,ROWS] [--factors F] [--iterations N] [--ranks N]
//        bench_distributed --neural ALGORITHM --ml100k PATH/u.data [--epochs N] [--ranks N]
//        (ALGORITHM: a LibTorch family, or bpr)
#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <fstream>
#include <map>

#include "algorithms.h"
#include "collective.h"
#include "ranking.h"
#include "torch_api.h"

using namespace pgrec;

namespace {

struct Row {
  std::int64_t user, item;
};

// Zipf-like users and items, as bench/gpu_check.cc draws them.
std::vector<Row> synthetic(std::int64_t users, std::int64_t items, std::int64_t rows) {
  std::mt19937_64 rng(7);
  std::vector<double> cu(static_cast<std::size_t>(users)), ci(static_cast<std::size_t>(items));
  double s = 0;
  for (std::int64_t u = 0; u < users; ++u) cu[static_cast<std::size_t>(u)] = (s += 1.0 / std::pow(u + 10.0, 0.7));
  s = 0;
  for (std::int64_t i = 0; i < items; ++i) ci[static_cast<std::size_t>(i)] = (s += 1.0 / std::pow(i + 5.0, 0.9));
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::vector<Row> out(static_cast<std::size_t>(rows));
  for (Row& r : out) {
    r.user = std::lower_bound(cu.begin(), cu.end(), unit(rng) * cu.back()) - cu.begin();
    r.item = std::lower_bound(ci.begin(), ci.end(), unit(rng) * ci.back()) - ci.begin();
  }
  return out;
}

Param number(const std::string& key, double v) {
  Param p;
  p.key = key;
  p.type = ParamType::Number;
  p.number = v;
  p.text = std::to_string(v);
  return p;
}

struct Timing {
  double setup = 0, train = 0, sums = 0, gather = 0, loss = 0;
  std::uint64_t bytes = 0;
};

// Trains `ranks` ranks (threads with `threads` torch threads in all) for `iterations`.
Timing run(const std::vector<Row>& rows, int ranks, int threads, int factors, int iterations, int port) {
  std::vector<Timing> t(static_cast<std::size_t>(ranks));
  at::set_num_threads(std::max(1, threads / ranks));
  std::vector<std::thread> workers;
  for (int r = 0; r < ranks; ++r)
    workers.emplace_back([&, r] {
      using clock = std::chrono::steady_clock;
      Timing& me = t[static_cast<std::size_t>(r)];
      const auto t0 = clock::now();
      char error[512] = "";
      CancelToken never;
      neural::Collective* c = pgrec_torch_join("127.0.0.1", port, "127.0.0.1", r, ranks, "bench", 600000, &never, error, sizeof error);
      if (c == nullptr) { std::fprintf(stderr, "rank %d: %s\n", r, error); std::exit(1); }
      InteractionBuilder b(IdKind::Int, IdKind::Int, false);
      for (const Row& row : rows)
        if (row.user % ranks == r) b.add(IdRef::of(row.user), IdRef::of(row.item), 1.0f);
      const AlsParams p = AlsParams::parse({number("factors", factors), number("iterations", iterations)}, false);
      std::unique_ptr<Trainer> trainer(pgrec_torch_distributed_als_trainer(&b, &p, c, "cpu", 0, error, sizeof error));
      if (trainer == nullptr) { std::fprintf(stderr, "rank %d: %s\n", r, error); std::exit(1); }
      const auto t1 = clock::now();
      const double before = c->seconds_moving();
      const std::uint64_t bytes_before = c->bytes_moved();
      CancelToken token;
      while (trainer->done() < trainer->total()) trainer->step(token);
      const auto t2 = clock::now();
      me.sums = c->seconds_moving() - before;
      me.bytes = c->bytes_moved() - bytes_before;
      me.loss = trainer->loss(token);
      trainer->finish("int8", "int8");
      const auto t3 = clock::now();
      me.setup = std::chrono::duration<double>(t1 - t0).count();
      me.train = std::chrono::duration<double>(t2 - t1).count();
      me.gather = std::chrono::duration<double>(t3 - t2).count();
      trainer.reset();
      pgrec_torch_leave(c);
    });
  for (std::thread& w : workers) w.join();
  return t[0];
}

// ML-100K's rows: every user's latest rating held out (`test`), the others for training.
void read_ml100k(const std::string& path, std::vector<Row>& train, std::map<std::int64_t, std::int64_t>& test) {
  std::ifstream in(path);
  if (!in) { std::fprintf(stderr, "cannot read %s\n", path.c_str()); std::exit(1); }
  std::int64_t u, i, rating, ts;
  std::vector<std::array<std::int64_t, 3>> all;
  while (in >> u >> i >> rating >> ts) all.push_back({u, i, ts});
  std::map<std::int64_t, std::pair<std::int64_t, std::int64_t>> latest;  // user -> (time, item)
  for (const auto& r : all) {
    auto& l = latest[r[0]];
    if (r[2] >= l.first) l = {r[2], r[1]};
  }
  for (const auto& [user, l] : latest) test[user] = l.second;
  for (const auto& r : all)
    if (test[r[0]] != r[1]) train.push_back({r[0], r[1]});
}

struct NeuralRun {
  double seconds = 0, moving = 0, ndcg = 0;
  std::uint64_t bytes = 0;
};

// Trains `algorithm` for `epochs` on `ranks` ranks (rank r: users with user % ranks == r), then
// scores rank 0's model: NDCG@10 of each user's held-out item among every unseen item.
NeuralRun run_neural(const std::vector<Row>& rows, const std::map<std::int64_t, std::int64_t>& test,
                     const std::string& algorithm, const std::string& exchange, int ranks, int threads, int epochs,
                     int port) {
  std::vector<NeuralRun> out(static_cast<std::size_t>(ranks));
  Model model;
  at::set_num_threads(std::max(1, threads / ranks));
  std::vector<std::thread> workers;
  for (int r = 0; r < ranks; ++r)
    workers.emplace_back([&, r] {
      char error[512] = "";
      CancelToken never;
      neural::Collective* c = pgrec_torch_join("127.0.0.1", port, "127.0.0.1", r, ranks, "bench", 600000, &never, error, sizeof error);
      if (c == nullptr) { std::fprintf(stderr, "rank %d: %s\n", r, error); std::exit(1); }
      InteractionBuilder b(IdKind::Int, IdKind::Int, false);
      for (const Row& row : rows)
        if (row.user % ranks == r) b.add(IdRef::of(row.user), IdRef::of(row.item), 1.0f);
      Param mode;
      mode.key = "gradient_exchange";
      mode.type = ParamType::String;
      mode.text = exchange;
      Param no_validation;
      no_validation.key = "validation";
      no_validation.type = ParamType::Bool;
      no_validation.text = "false";
      const auto t0 = std::chrono::steady_clock::now();
      std::unique_ptr<Trainer> trainer;
      if (is_neural_algorithm(algorithm)) {
        const NeuralParams p = NeuralParams::parse(algorithm, {number("epochs", epochs), no_validation, mode});
        trainer.reset(pgrec_torch_distributed_neural_trainer(&b, &p, c, "cpu", 0, error, sizeof error));
      } else {  // bpr
        const AlgorithmConfig config = parse_algorithm(algorithm, {number("epochs", epochs)}, false);
        trainer.reset(pgrec_torch_distributed_core_trainer(&b, &config, c, std::max(1, threads / ranks), error, sizeof error));
      }
      if (trainer == nullptr) { std::fprintf(stderr, "rank %d: %s\n", r, error); std::exit(1); }
      CancelToken token;
      while (trainer->done() < trainer->total()) trainer->step(token);
      NeuralRun& me = out[static_cast<std::size_t>(r)];
      me.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      me.moving = c->seconds_moving();
      me.bytes = c->bytes_moved();
      Model m = trainer->finish("int4", "int4");
      if (r == 0) model = std::move(m);
      trainer.reset();
      pgrec_torch_leave(c);
    });
  for (std::thread& w : workers) w.join();
  double sum = 0;
  for (const auto& [user, item] : test) {
    const std::int32_t u = model.users.find(IdRef::of(user));
    if (u < 0) continue;
    const auto top = recommend(model, u, 10, true);
    for (std::size_t k = 0; k < top.size(); ++k)
      if (model.items.int_at(top[k].index) == item) sum += 1.0 / std::log2(static_cast<double>(k) + 2.0);
  }
  out[0].ndcg = sum / static_cast<double>(test.size());
  return out[0];
}

// Prints the neural rows: 1 rank, then `ranks` ranks exchanging whole tables and touched rows.
int bench_neural(const std::string& algorithm, const std::string& path, int epochs, int ranks) {
  std::vector<Row> rows;
  std::map<std::int64_t, std::int64_t> test;
  read_ml100k(path, rows, test);
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int port = 20000 + static_cast<int>(std::random_device{}() % 20000);
  std::printf("| data set | protocol | what | figure | time |\n| --- | --- | --- | --- | --- |\n");
  const NeuralRun one = run_neural(rows, test, algorithm, "auto", 1, cores, epochs, port);
  std::printf("| ML-100K, each user's latest rating held out | %s, %d epochs, defaults | 1 rank, %d threads | NDCG@10 %.4f | %.2f s/epoch |\n",
              algorithm.c_str(), epochs, cores, one.ndcg, one.seconds / epochs);
  int k = 1;
  const std::vector<const char*> modes =
      !is_neural_algorithm(algorithm) ? std::vector<const char*>{"item changes summed"}
      : algorithm == "lightgcn"      ? std::vector<const char*>{"auto"}  // one table of users and items: whole
                                     : std::vector<const char*>{"dense", "sparse", "auto"};
  for (const char* exchange : modes) {
    const NeuralRun many = run_neural(rows, test, algorithm, exchange, ranks, cores, epochs, port + k++);
    std::printf("| ML-100K, each user's latest rating held out | same; %d ranks (Gloo over 127.0.0.1), gradients: %s | %d ranks | "
                "NDCG@10 %.4f (%+.4f vs 1 rank); %.1f MB sent+received per epoch by rank 0 | %.2f s/epoch, %.0f%% of it exchanging |\n",
                ranks, exchange, ranks, many.ndcg, many.ndcg - one.ndcg, static_cast<double>(many.bytes) / epochs / 1e6,
                many.seconds / epochs, 100.0 * many.moving / many.seconds);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::int64_t users = 138493, items = 26744, rows = 2000000;
  int factors = 64, iterations = 3, ranks = 2, epochs = 10;
  std::string neural_algorithm, ml100k;
  for (int a = 1; a + 1 < argc; a += 2) {
    const std::string k = argv[a], v = argv[a + 1];
    if (k == "--neural") neural_algorithm = v;
    else if (k == "--ml100k") ml100k = v;
    else if (k == "--epochs") epochs = std::atoi(v.c_str());
    if (k == "--synthetic") std::sscanf(v.c_str(), "%ld,%ld,%ld", &users, &items, &rows);
    else if (k == "--factors") factors = std::atoi(v.c_str());
    else if (k == "--iterations") iterations = std::atoi(v.c_str());
    else if (k == "--ranks") ranks = std::atoi(v.c_str());
  }
  if (!neural_algorithm.empty()) return bench_neural(neural_algorithm, ml100k, epochs, ranks);
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  const std::vector<Row> data = synthetic(users, items, rows);
  const int port = 20000 + static_cast<int>(std::random_device{}() % 20000);
  const Timing one = run(data, 1, static_cast<int>(cores), factors, iterations, port);
  const Timing many = run(data, ranks, static_cast<int>(cores), factors, iterations, port + 1);
  const std::string shape = "synthetic " + std::to_string(users) + " users x " + std::to_string(items) + " items x " +
                            std::to_string(rows) + " rows (ML-20M-shaped)";
  std::printf("| data set | protocol | what | figure | time |\n| --- | --- | --- | --- | --- |\n");
  std::printf("| %s | ALS implicit, %d f, %d iterations, %u cores in all | 1 rank, %u threads | objective %.6f | %.3f s/iteration (setup %.2f s, gather %.2f s) |\n",
              shape.c_str(), factors, iterations, cores, cores, one.loss, one.train / iterations, one.setup, one.gather);
  std::printf("| %s | same; %d ranks (Gloo over 127.0.0.1), %u thread(s) each | %d ranks | objective %.6f (%.1e relative to 1 rank); "
              "speed-up %.2fx; %.1f MB sent+received per iteration by rank 0 | %.3f s/iteration, %.0f%% of it in sums (setup %.2f s, gather %.2f s) |\n",
              shape.c_str(), ranks, std::max(1u, cores / ranks), ranks, many.loss, std::fabs(many.loss - one.loss) / std::fabs(one.loss),
              one.train / many.train, static_cast<double>(many.bytes) / iterations / 1e6, many.train / iterations,
              100.0 * many.sums / many.train, many.setup, many.gather);
  return 0;
}
