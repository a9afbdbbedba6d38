// Times the core alone (no PostgreSQL): ALS training and top-k on a user<TAB>item[...] file.
// Usage: bench_core PATH [factors] [iterations] [threads]; prints one table row per figure.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "als.h"
#include "ranking.h"

using namespace pgrec;
using Clock = std::chrono::steady_clock;

// Seconds since `t0`.
static double since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_core PATH [factors] [iterations] [threads]\n");
    return 2;
  }
  std::ifstream in(argv[1]);
  if (!in) {
    std::printf("skipped: %s not found\n", argv[1]);
    return 0;
  }
  AlsParams p;
  p.factors = argc > 2 ? std::stoi(argv[2]) : 64;
  p.iterations = argc > 3 ? std::stoi(argv[3]) : 15;
  const int threads = argc > 4 ? std::stoi(argv[4]) : 1;

  auto t0 = Clock::now();
  InteractionBuilder b(IdKind::Int, IdKind::Int, false);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream row(line);
    long long u, i;
    if (row >> u >> i) b.add(IdRef::of(u), IdRef::of(i), 1.0f);
  }
  Interactions data = b.build();
  const double read_s = since(t0);
  const auto users = data.by_user.rows;

  t0 = Clock::now();
  AlsTrainer t(std::move(data), p, threads);
  CancelToken token;
  train_to_end(t, token);
  Model m = t.finish("int8", "int8");
  const double train_s = since(t0);

  t0 = Clock::now();
  std::size_t n = 0;
  for (std::int32_t u = 0; u < users; ++u) n += recommend(m, u, 10, true).size();
  const double rec_s = since(t0);

  std::printf("| %s | core only, no PostgreSQL | read file + build CSR | %d users | %.3f s | | | |\n", argv[1], users, read_s);
  std::printf("| %s | core only, no PostgreSQL | als implicit, %d f, %d it, %d thread(s) | | %.3f s | %.3f ms per user (top-10, %zu rows) | | |\n",
              argv[1], p.factors, p.iterations, threads, train_s, 1000.0 * rec_s / users, n);
  return 0;
}
