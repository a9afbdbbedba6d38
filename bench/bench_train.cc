// Training at the hardware floor (issue 20), core only (no PostgreSQL): measures this machine's
// peak (FMA throughput, memory bandwidth), times each trainer on ML-1M-shaped data and prints
// each time as a multiple of its floor (the FLOPs one run must do at the measured peak).
// Usage: bench_train [--write PATH] [--quick] [--only cg|cholesky|explicit|bpr|none]
//   --write PATH  also writes the data set as user<TAB>item<TAB>rating (for the SQL rows)
//   --quick       fewer epochs/iterations (a smoke run)
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "algorithms.h"
#include "kernels.h"
#include "metrics.h"
#include "parallel.h"
#include "trainer.h"

using namespace pgrec;
using Clock = std::chrono::steady_clock;

namespace {

// Seconds since `t0`.
double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

struct Rating {
  std::int32_t user, item;
  float rating;
};

// ML-1M's shape (6,040 users, 3,706 items, about a million ratings, long-tailed activity and
// popularity) with planted structure: 20 user groups, each preferring its own block of items.
std::vector<Rating> ml1m_shaped() {
  std::mt19937_64 rng(42);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::vector<Rating> out;
  for (std::int32_t u = 1; u <= 6040; ++u) {
    const int n = static_cast<int>(20 + 720 * std::pow(unit(rng), 2));
    std::set<std::int32_t> seen;
    for (int k = 0; k < n; ++k) {
      const bool own = unit(rng) < 0.58;
      const std::int32_t item = own ? (u % 20) * 185 + static_cast<std::int32_t>(185 * std::pow(unit(rng), 2))
                                    : static_cast<std::int32_t>(3706 * std::pow(unit(rng), 3));
      const double noise = 0.9 * (unit(rng) + unit(rng) + unit(rng) - 1.5);
      if (!seen.insert(item).second) continue;
      const double r = 3.2 + (item / 185 == u % 20 ? 1.2 : -0.3) + (u % 7 - 3) * 0.15 + noise;
      out.push_back({u, item, static_cast<float>(std::clamp(std::round(r), 1.0, 5.0))});
    }
  }
  return out;
}

// Builds the interactions: explicit ratings, or the ratings of 4 and 5 as implicit feedback.
Interactions build(const std::vector<Rating>& rows, bool explicit_ratings) {
  InteractionBuilder b(IdKind::Int, IdKind::Int, explicit_ratings);
  for (const Rating& r : rows)
    if (explicit_ratings || r.rating >= 4) b.add(IdRef::of(r.user), IdRef::of(r.item), explicit_ratings ? r.rating : 1.0f);
  return b.build();
}

// Register-resident multiply-adds: 16 independent chains of 16 floats (no loads or stores), at
// the best x86-64 level the CPU has; returns a value so the loop is kept.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
__attribute__((target_clones("default", "arch=x86-64-v3", "arch=x86-64-v4")))
#endif
float fma_chains(long reps) {
  float acc[16][16];
  for (int k = 0; k < 16; ++k)
    for (int j = 0; j < 16; ++j) acc[k][j] = static_cast<float>(k + j) * 1e-3f;
  for (long r = 0; r < reps; ++r)
    for (int k = 0; k < 16; ++k)
#pragma omp simd
      for (int j = 0; j < 16; ++j) acc[k][j] = acc[k][j] * 0.999999f + 1e-7f;
  float s = 0;
  for (int k = 0; k < 16; ++k)
    for (int j = 0; j < 16; ++j) s += acc[k][j];
  return s;
}

// Peak FMA throughput in GFLOP/s on `threads` threads (2 FLOPs per multiply-add).
double peak_gflops(int threads) {
  const long reps = 4000000;
  std::vector<float> sink(static_cast<std::size_t>(threads));
  CancelToken token;
  const auto t0 = Clock::now();
  parallel_for(static_cast<std::size_t>(threads), 1, threads, token, [&](std::size_t begin, std::size_t end) {
    for (std::size_t t = begin; t < end; ++t) sink[t] = fma_chains(reps);
  });
  return 2.0 * 256 * reps * threads / since(t0) / 1e9;
}

// Memory bandwidth in GB/s (a STREAM-like triad over 3 x 64 MB).
double stream_gbs() {
  const std::size_t n = 16 << 20;
  std::vector<float> a(n, 1.0f), b(n, 2.0f), c(n, 0.0f);
  double best = 0;
  for (int rep = 0; rep < 5; ++rep) {
    const auto t0 = Clock::now();
    for (std::size_t i = 0; i < n; ++i) c[i] = a[i] + 1.5f * b[i];
    best = std::max(best, 3.0 * n * sizeof(float) / since(t0) / 1e9);
  }
  return best + c[n / 2] * 0;  // keep c live
}

// Trains `algorithm` with `params` on `data`; returns the seconds.
double train(const std::string& algorithm, std::vector<Param> params, const Interactions& data, int threads,
             bool explicit_ratings) {
  AlgorithmConfig config = parse_algorithm(algorithm, params, explicit_ratings);
  Interactions copy = data;
  fit_defaults_to_data(&config, copy);
  const auto t0 = Clock::now();
  std::unique_ptr<Trainer> t = make_trainer(config, std::move(copy), threads);
  CancelToken token;
  train_to_end(*t, token);
  const double s = since(t0);
  (void)t->finish("int4", "int4");
  return s;
}

// A numeric parameter.
Param num(const char* key, double v) {
  Param p;
  p.key = key;
  p.type = ParamType::Number;
  p.number = v;
  return p;
}

// A text parameter.
Param text(const char* key, const char* v) {
  Param p;
  p.key = key;
  p.type = ParamType::String;
  p.text = v;
  return p;
}

// One row of bench/run's table: data set, protocol, algorithm, figure, time (no serving, memory
// or anchor columns).
void row(const char* what, const char* data, const std::string& protocol, const std::string& figure, double seconds) {
  std::printf("| %s | core only, no PostgreSQL; %s | %s | %s | %.3f s | | | |\n", data, protocol.c_str(), what, figure.c_str(),
              seconds);
}

}  // namespace

int main(int argc, char** argv) {
  const char* write = nullptr;
  bool quick = false;
  std::string only;
  for (int a = 1; a < argc; ++a) {
    if (std::strcmp(argv[a], "--write") == 0 && a + 1 < argc) write = argv[++a];
    else if (std::strcmp(argv[a], "--quick") == 0) quick = true;
    else if (std::strcmp(argv[a], "--only") == 0 && a + 1 < argc) only = argv[++a];
  }
  const auto wanted = [&](const char* name) { return only.empty() || only == name; };
  const std::vector<Rating> rows = ml1m_shaped();
  if (write != nullptr) {
    FILE* out = std::fopen(write, "w");
    if (out == nullptr) return 1;
    for (const Rating& r : rows) std::fprintf(out, "%d\t%d\t%g\n", r.user, r.item, r.rating);
    std::fclose(out);
  }
  if (only == "none") return 0;  // the data only
  const Interactions implicit = build(rows, false), explicit_data = build(rows, true);
  const double nnz = static_cast<double>(implicit.by_user.nnz()), rows_x = static_cast<double>(explicit_data.by_user.nnz());
  const double users = implicit.by_user.rows, items = implicit.by_item.rows;
  char data[128], data_x[128];
  std::snprintf(data, sizeof data, "ML-1M-shaped, ratings >= 4 (%.0f)", nnz);
  std::snprintf(data_x, sizeof data_x, "ML-1M-shaped ratings (%.0f)", rows_x);

  const double peak1 = peak_gflops(1), peak2 = peak_gflops(2), bw = stream_gbs();
  std::printf("| this machine | core only; register-resident FMA chains, STREAM-like triad | peak (the floors below use it) | "
              "%.1f / %.1f GFLOP/s on 1 / 2 threads; triad %.1f GB/s; kernels dispatched at level %s | | | | |\n",
              peak1, peak2, bw, kernels::level());

  const int it = quick ? 3 : 15, epochs = quick ? 5 : 50;
  const double f = 64;
  // Implicit ALS, CG: per side and iteration, (cg_steps + 1) x (f^2 per row + 4 f per interaction) FMAs.
  const double cg_flops = 2.0 * it * 4 * ((users + items) * f * f + 2 * nnz * 2 * f);
  for (int threads : {1, 2}) {
    if (!wanted("cg")) break;
    const double s = train("als", {num("factors", f), num("iterations", it)}, implicit, threads, false);
    const double floor = cg_flops / ((threads == 1 ? peak1 : peak2) * 1e9);
    row("implicit ALS, CG (3 steps)", data, std::to_string(static_cast<int>(f)) + " f, " + std::to_string(it) + " it, " +
                                                std::to_string(threads) + " thread(s)",
        "floor " + std::to_string(floor).substr(0, 5) + " s; " + std::to_string(s / floor).substr(0, 4) + "x floor", s);
  }
  // Cholesky: f^2 / 2 per interaction (the triangle) + f^3 / 6 per row, per side.
  const double chol_flops = 2.0 * it * (2 * nnz * f * f / 2 + (users + items) * f * f * f / 6);
  if (wanted("cholesky")) {
    const double s = train("als", {num("factors", f), num("iterations", it), text("solver", "cholesky")}, implicit, 2, false);
    const double floor = chol_flops / (peak2 * 1e9);
    row("implicit ALS, Cholesky", data, "64 f, " + std::to_string(it) + " it, 2 threads",
        "floor " + std::to_string(floor).substr(0, 5) + " s; " + std::to_string(s / floor).substr(0, 4) + "x floor", s);
  }
  if (wanted("explicit")) {
    const double fx = 32;  // explicit ALS's default factors
    const double flops = 2.0 * it * (2 * rows_x * fx * fx / 2 + (users + items) * fx * fx * fx / 6);
    const double s = train("als", {num("iterations", it)}, explicit_data, 2, true);
    const double floor = flops / (peak2 * 1e9);
    row("explicit ALS, defaults", data_x, "32 f, " + std::to_string(it) + " it, 2 threads",
        "floor " + std::to_string(floor).substr(0, 5) + " s; " + std::to_string(s / floor).substr(0, 4) + "x floor", s);
  }
  // BPR: per sample a dot and three updates over f: 4 f FMAs (the floor is random access, not FLOPs).
  for (int threads : {1, 2}) {
    if (!wanted("bpr")) break;
    const double s = train("bpr", {num("factors", f), num("epochs", epochs)}, implicit, threads, false);
    const double floor = 2.0 * epochs * nnz * 4 * f / ((threads == 1 ? peak1 : peak2) * 1e9);
    row("BPR", data, "64 f, " + std::to_string(epochs) + " epochs, " + std::to_string(threads) + " thread(s)",
        "floor " + std::to_string(floor).substr(0, 5) + " s; " + std::to_string(s / floor).substr(0, 4) + "x floor; " +
            std::to_string(epochs * nnz / s / 1e6).substr(0, 5) + " M samples/s",
        s);
  }
  return 0;
}
