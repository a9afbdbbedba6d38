// Times exact top-k over a large synthetic catalog with the core alone (no PostgreSQL): the
// floor under rec.recommend for 1M+ items. Usage: bench_topk [items] [factors] [queries].
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "ivf.h"
#include "ranking.h"

using namespace pgrec;
using Clock = std::chrono::steady_clock;

// Item factors drawn around 1,000 topic centres (as trained factors cluster), users likewise.
static FactorMatrix clustered(std::int64_t rows, int factors, std::mt19937& rng, const FactorMatrix& centres) {
  std::normal_distribution<float> noise(0.0f, 0.3f);
  std::uniform_int_distribution<int> pick(0, static_cast<int>(centres.rows()) - 1);
  FactorMatrix m(rows, factors);
  for (std::int64_t r = 0; r < rows; ++r) {
    const int c = pick(rng);
    for (int f = 0; f < factors; ++f) m(r, f) = centres(c, f) + noise(rng);
  }
  return m;
}

int main(int argc, char** argv) {
  const std::int64_t items = argc > 1 ? std::stoll(argv[1]) : 1000000;
  const int factors = argc > 2 ? std::stoi(argv[2]) : 64;
  const int queries = argc > 3 ? std::stoi(argv[3]) : 200;
  std::mt19937 rng(7);
  std::normal_distribution<float> n01(0.0f, 1.0f);
  FactorMatrix centres(1000, factors);
  for (Eigen::Index i = 0; i < centres.size(); ++i) centres.data()[i] = n01(rng) / 4.0f;

  Model m;
  m.kind = ModelKind::Factors;
  m.item_factors = clustered(items, factors, rng, centres);
  m.user_factors = clustered(queries, factors, rng, centres);
  m.popularity.assign(static_cast<std::size_t>(items), 1.0f);
  m.seen.rows = queries;
  m.seen.cols = static_cast<std::int32_t>(items);
  m.seen.offsets.assign(static_cast<std::size_t>(queries) + 1, 0);  // nobody has seen anything
  m.prepare();

  std::vector<double> ms;
  std::vector<std::vector<Scored>> exact(static_cast<std::size_t>(queries));
  recommend(m, 0, 10, true);  // warm the pages
  for (int q = 0; q < queries; ++q) {
    const auto t0 = Clock::now();
    exact[static_cast<std::size_t>(q)] = recommend(m, q, 10, true);
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    if (exact[static_cast<std::size_t>(q)].size() != 10) return 1;
  }
  std::sort(ms.begin(), ms.end());
  const double bytes = static_cast<double>(items) * factors * 4;
  std::printf("| synthetic %lld items x %d factors (clustered) | core only, no PostgreSQL; %d queries, 1 thread | "
              "exact top-10 (float32 GEMV + heap) | p50 %.2f ms, p99 %.2f ms; %.1f GB/s of item factors at p50 | | | | |\n",
              static_cast<long long>(items), factors, queries, ms[ms.size() / 2], ms[ms.size() * 99 / 100],
              bytes / (ms[ms.size() / 2] / 1000.0) / 1e9);

  // The IVF index (as rec.train builds it for catalogs of pgrec.ann_min_items or more).
  const int threads = argc > 4 ? std::stoi(argv[4]) : 2;
  CancelToken token;
  auto t0 = Clock::now();
  m.ivf = build_ivf(m.item_factors, 0, threads, token);
  const double build_s = std::chrono::duration<double>(Clock::now() - t0).count();
  for (int probes : {8, 16, 32, 64}) {
    std::vector<double> ams;
    int hits = 0;
    for (int q = 0; q < queries; ++q) {
      t0 = Clock::now();
      const std::vector<Scored> top = recommend(m, q, 10, true, nullptr, probes);
      ams.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
      for (const Scored& e : exact[static_cast<std::size_t>(q)])
        hits += std::any_of(top.begin(), top.end(), [&](const Scored& a) { return a.index == e.index; });
    }
    std::sort(ams.begin(), ams.end());
    std::printf("| synthetic %lld items x %d factors (clustered) | core only; %d queries, 1 thread; recall@10 against the exact top 10 | "
                "IVF %d lists, %d probed (built in %.1f s on %d threads) | p50 %.3f ms, p99 %.3f ms, recall@10 %.3f | | | | |\n",
                static_cast<long long>(items), factors, queries, m.ivf.lists(), probes, build_s, threads,
                ams[ams.size() / 2], ams[ams.size() * 99 / 100], static_cast<double>(hits) / (10.0 * queries));
  }
  return 0;
}
