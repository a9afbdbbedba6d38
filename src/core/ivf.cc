#include "ivf.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "errors.h"
#include "kernels.h"
#include "parallel.h"

namespace pgrec {

namespace {

constexpr std::size_t kAssignChunk = 2048;
constexpr int kIterations = 8;
constexpr std::int64_t kSamplePerList = 64;

// The nearest centroid of each of rows[first..] (given by index), written to `out`.
void assign(const FactorsRef& factors, const std::vector<std::int32_t>& rows, const FactorMatrix& centroids,
            int threads, CancelToken& token, std::vector<std::int32_t>& out) {
  const Eigen::VectorXf norms = centroids.rowwise().squaredNorm();
  out.resize(rows.size());
  parallel_for(rows.size(), kAssignChunk, threads, token, [&](std::size_t begin, std::size_t end) {
    FactorMatrix block(static_cast<Eigen::Index>(end - begin), factors.cols());
    for (std::size_t j = begin; j < end; ++j) block.row(static_cast<Eigen::Index>(j - begin)) = factors.row(rows[j]);
    // |x - c|^2 = |x|^2 - 2 x.c + |c|^2; |x|^2 does not change the argmin.
    const Eigen::MatrixXf dots = block * centroids.transpose();
    for (Eigen::Index r = 0; r < dots.rows(); ++r) {
      Eigen::Index best = 0;
      (norms.transpose() - 2.0f * dots.row(r)).minCoeff(&best);
      out[begin + static_cast<std::size_t>(r)] = static_cast<std::int32_t>(best);
    }
  });
}

}  // namespace

IvfIndex build_ivf(const FactorsRef& factors, std::int32_t lists, int threads, CancelToken& token,
                   std::uint32_t seed) {
  const std::int64_t n = factors.rows();
  if (lists <= 0) lists = static_cast<std::int32_t>(std::max<double>(1, std::round(std::sqrt(static_cast<double>(n)))));
  lists = static_cast<std::int32_t>(std::min<std::int64_t>(lists, n));
  IvfIndex index;
  if (n == 0) return index;
  std::mt19937 rng(seed);
  // A sample of rows for k-means: a seeded partial shuffle.
  std::vector<std::int32_t> order(static_cast<std::size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  const std::size_t sample = static_cast<std::size_t>(std::min<std::int64_t>(n, kSamplePerList * lists));
  for (std::size_t j = 0; j < sample; ++j) {
    std::uniform_int_distribution<std::size_t> pick(j, order.size() - 1);
    std::swap(order[j], order[pick(rng)]);
  }
  std::vector<std::int32_t> sampled(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(sample));
  FactorMatrix centroids(lists, factors.cols());
  for (std::int32_t l = 0; l < lists; ++l) centroids.row(l) = factors.row(sampled[static_cast<std::size_t>(l)]);
  std::vector<std::int32_t> owner;
  for (int it = 0; it < kIterations; ++it) {
    assign(factors, sampled, centroids, threads, token, owner);
    FactorMatrix sums = FactorMatrix::Zero(lists, factors.cols());
    std::vector<std::int64_t> counts(static_cast<std::size_t>(lists), 0);
    for (std::size_t j = 0; j < sampled.size(); ++j) {
      sums.row(owner[j]) += factors.row(sampled[j]);
      ++counts[static_cast<std::size_t>(owner[j])];
    }
    std::uniform_int_distribution<std::size_t> any(0, sampled.size() - 1);
    for (std::int32_t l = 0; l < lists; ++l) {
      const std::int64_t c = counts[static_cast<std::size_t>(l)];
      centroids.row(l) = c > 0 ? FactorMatrix(sums.row(l) / static_cast<float>(c)) : FactorMatrix(factors.row(sampled[any(rng)]));
    }
  }
  // Every row to its list, lists stored one after another.
  assign(factors, order, centroids, threads, token, owner);
  index.offsets.assign(static_cast<std::size_t>(lists) + 1, 0);
  for (std::int32_t l : owner) ++index.offsets[static_cast<std::size_t>(l) + 1];
  for (std::int32_t l = 0; l < lists; ++l) index.offsets[static_cast<std::size_t>(l) + 1] += index.offsets[static_cast<std::size_t>(l)];
  index.items.assign(static_cast<std::size_t>(n), 0);
  std::vector<std::int64_t> fill(index.offsets.begin(), index.offsets.end() - 1);
  std::vector<std::int32_t> by_row(static_cast<std::size_t>(n));
  for (std::size_t j = 0; j < order.size(); ++j) by_row[static_cast<std::size_t>(order[j])] = owner[j];
  for (std::int32_t row = 0; row < n; ++row)
    index.items[static_cast<std::size_t>(fill[static_cast<std::size_t>(by_row[static_cast<std::size_t>(row)])]++)] = row;
  index.centroids = std::move(centroids);
  return index;
}

std::vector<Scored> ivf_top_k(const FactorsRef& factors, const IvfIndex& index, const float* q, std::int32_t k,
                              std::int32_t probes, const std::vector<char>* skip, float offset) {
  const Eigen::Index f = factors.cols();
  const Eigen::Map<const Eigen::VectorXf> query(q, f);
  const Eigen::VectorXf list_scores = index.centroids * query;
  // Lists from best to worst centroid score.
  std::vector<std::int32_t> ranked(static_cast<std::size_t>(index.lists()));
  std::iota(ranked.begin(), ranked.end(), 0);
  std::sort(ranked.begin(), ranked.end(), [&](std::int32_t a, std::int32_t b) {
    return list_scores[a] > list_scores[b] || (list_scores[a] == list_scores[b] && a < b);
  });
  std::vector<float> scores;
  std::vector<std::int32_t> rows;
  std::size_t scanned = 0;
  std::int32_t want = std::max<std::int32_t>(probes, 1);
  for (;;) {
    const std::size_t upto = std::min<std::size_t>(static_cast<std::size_t>(want), ranked.size());
    for (; scanned < upto; ++scanned) {
      const std::int32_t l = ranked[scanned];
      const std::size_t from = rows.size();
      for (std::int64_t p = index.offsets[static_cast<std::size_t>(l)]; p < index.offsets[static_cast<std::size_t>(l) + 1]; ++p) {
        const std::int32_t row = index.items[static_cast<std::size_t>(p)];
        if (skip != nullptr && (*skip)[static_cast<std::size_t>(row)]) continue;
        rows.push_back(row);
      }
      // The list's rows scored in one dispatched kernel call.
      scores.resize(rows.size());
      kernels::score_listed_rows(factors.data(), rows.data() + from, static_cast<std::int64_t>(rows.size() - from),
                                 static_cast<std::int32_t>(factors.cols()), query.data(), scores.data() + from);
      for (std::size_t r = from; r < rows.size(); ++r) scores[r] += offset;
    }
    if (rows.size() >= static_cast<std::size_t>(k) || scanned == ranked.size()) break;
    want *= 2;
  }
  std::vector<Scored> best = top_k(scores.data(), static_cast<std::int32_t>(scores.size()), k);
  for (Scored& s : best) s.index = rows[static_cast<std::size_t>(s.index)];
  // Equal scores rank by item index, as the exact path does.
  std::stable_sort(best.begin(), best.end(), [](const Scored& a, const Scored& b) {
    return a.score > b.score || (a.score == b.score && a.index < b.index);
  });
  return best;
}

void calibrate_ivf(Model& m, double target, std::int32_t sample, CancelToken& token, std::uint32_t seed) {
  const std::int32_t users = static_cast<std::int32_t>(m.user_factors.rows());
  m.ivf.probes = m.ivf.lists();
  if (users == 0 || m.ivf.empty()) return;
  std::mt19937 rng(seed);
  std::uniform_int_distribution<std::int32_t> pick(0, users - 1);
  std::vector<std::int32_t> chosen(static_cast<std::size_t>(std::min(sample, users)));
  for (std::int32_t& u : chosen) u = pick(rng);
  std::vector<std::vector<Scored>> exact;
  for (std::int32_t u : chosen) {
    token.poll();
    exact.push_back(recommend(m, u, 10, true));
  }
  for (std::int32_t probes = 1; probes < m.ivf.lists(); probes *= 2) {
    std::int64_t hits = 0, total = 0;
    for (std::size_t j = 0; j < chosen.size(); ++j) {
      token.poll();
      const std::vector<Scored> approx = recommend(m, chosen[j], 10, true, nullptr, probes);
      for (const Scored& e : exact[j]) {
        hits += std::any_of(approx.begin(), approx.end(), [&](const Scored& a) { return a.index == e.index; });
        ++total;
      }
    }
    if (total == 0 || static_cast<double>(hits) >= target * static_cast<double>(total)) {
      // Scanning gathered rows costs about four times a streamed exact product per item: past
      // an eighth of the lists the index would be slower than ranking exactly.
      m.ivf.probes = probes * 8 > m.ivf.lists() ? m.ivf.lists() : probes;
      return;
    }
  }
}

}  // namespace pgrec
