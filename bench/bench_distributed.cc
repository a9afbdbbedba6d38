// Data-parallel ALS on one machine: 1 rank with every core against N ranks (threads, one core
// each) joined by torch.distributed (Gloo over 127.0.0.1), on ML-20M-shaped synthetic data; prints
// bench/RESULTS.md rows: time per iteration, the share spent in sums, bytes per iteration.
// Usage: bench_distributed [--synthetic USERS,ITEMS,ROWS] [--factors F] [--iterations N] [--ranks N]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "collective.h"
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

}  // namespace

int main(int argc, char** argv) {
  std::int64_t users = 138493, items = 26744, rows = 2000000;
  int factors = 64, iterations = 3, ranks = 2;
  for (int a = 1; a + 1 < argc; a += 2) {
    const std::string k = argv[a], v = argv[a + 1];
    if (k == "--synthetic") std::sscanf(v.c_str(), "%ld,%ld,%ld", &users, &items, &rows);
    else if (k == "--factors") factors = std::atoi(v.c_str());
    else if (k == "--iterations") iterations = std::atoi(v.c_str());
    else if (k == "--ranks") ranks = std::atoi(v.c_str());
  }
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
