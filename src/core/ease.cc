#include "ease.h"
#include "json_out.h"

#include <algorithm>
#include <cmath>

#include "errors.h"
#include "parallel.h"

#ifdef PGREC_NO_LAPACK
#include <Eigen/Cholesky>
#else
// LAPACK's Cholesky factorisation and inverse (OpenBLAS provides them, dispatched per CPU).
extern "C" {
void spotrf_(const char* uplo, const int* n, float* a, const int* lda, int* info);
void spotri_(const char* uplo, const int* n, float* a, const int* lda, int* info);
void openblas_set_num_threads(int threads);
}
#endif

namespace pgrec {

EaseParams EaseParams::parse(const std::vector<Param>& params) {
  ParamReader r(params, "ease");
  EaseParams p;
  p.regularization = r.real("regularization", p.regularization, 1e-3, 1e9);
  p.neighbors = static_cast<std::int32_t>(r.integer("neighbors", p.neighbors, 0, 1000000));
  r.reject_unknown();
  return p;
}

std::string EaseParams::to_json() const {
  JsonOut out;
  out << "{\"regularization\": " << regularization << ", \"neighbors\": " << neighbors << "}";
  return out.str();
}

namespace {

// Inverts the symmetric positive definite n x n matrix `a` in place; afterwards its column-major
// upper triangle (the row-major lower one) holds the inverse.
void invert_spd(float* a, std::int32_t n, int threads) {
  if (n == 0) return;
  int info = 0;
#ifdef PGREC_NO_LAPACK
  // Builds without OpenBLAS (the GPU machine's wheel): Eigen, correct but several times slower.
  (void)threads;
  Eigen::Map<Eigen::MatrixXf> m(a, n, n);
  Eigen::LLT<Eigen::MatrixXf> llt(m);
  info = llt.info() == Eigen::Success ? 0 : 1;
  if (info == 0) {
    m.setIdentity();
    llt.solveInPlace(m);
  }
#else
  openblas_set_num_threads(std::max(1, threads));
  const int dim = n;
  spotrf_("U", &dim, a, &dim, &info);
  if (info == 0) spotri_("U", &dim, a, &dim, &info);
#endif
  if (info != 0)
    throw Error(ErrorKind::DataException, "ease could not invert the Gram matrix (LAPACK info " + std::to_string(info) +
                                              "); raise \"regularization\"");
}

}  // namespace

Csr ease_weights(const Csr& by_item, const Csr& by_user, const EaseParams& params, int threads, CancelToken& token) {
  const std::int32_t n = by_item.rows;
  const auto nn = static_cast<std::size_t>(n);
  // G = XᵀX + λI over binarised interactions; row i counts the users i shares with each item.
  std::vector<float> g(nn * nn, 0.0f);
  parallel_for(nn, 16, threads, token, [&](std::size_t begin, std::size_t end) {
    for (std::size_t i = begin; i < end; ++i) {
      float* row = g.data() + i * nn;
      for (std::int64_t q = by_item.offsets[i]; q < by_item.offsets[i + 1]; ++q) {
        const std::int32_t u = by_item.indices[q];
        for (std::int64_t p = by_user.offsets[u]; p < by_user.offsets[u + 1]; ++p) row[by_user.indices[p]] += 1.0f;
      }
      row[i] += static_cast<float>(params.regularization);
    }
  });
  token.check();
  invert_spd(g.data(), n, threads);
  token.check();
  // Column-major upper triangle = row-major lower: P(i, j) for i >= j is at g[i * n + j].
  const auto p_at = [&](std::int32_t i, std::int32_t j) {
    return i >= j ? g[static_cast<std::size_t>(i) * nn + static_cast<std::size_t>(j)]
                  : g[static_cast<std::size_t>(j) * nn + static_cast<std::size_t>(i)];
  };
  std::vector<float> diag(nn);
  for (std::int32_t i = 0; i < n; ++i) diag[static_cast<std::size_t>(i)] = p_at(i, i);
  // B(i, j) = −P(i, j) / P(j, j) off the diagonal; row i keeps its largest magnitudes.
  const std::size_t keep = params.neighbors > 0 ? std::min<std::size_t>(static_cast<std::size_t>(params.neighbors), nn) : nn;
  std::vector<std::vector<std::pair<std::int32_t, float>>> kept(nn);
  parallel_for(nn, 16, threads, token, [&](std::size_t begin, std::size_t end) {
    std::vector<std::pair<std::int32_t, float>> row;
    for (std::size_t i = begin; i < end; ++i) {
      row.clear();
      for (std::int32_t j = 0; j < n; ++j) {
        if (static_cast<std::size_t>(j) == i) continue;
        const float b = -p_at(static_cast<std::int32_t>(i), j) / diag[static_cast<std::size_t>(j)];
        if (b != 0.0f) row.emplace_back(j, b);
      }
      if (row.size() > keep) {
        std::nth_element(row.begin(), row.begin() + static_cast<std::ptrdiff_t>(keep), row.end(),
                         [](const auto& a, const auto& b) { return std::fabs(a.second) > std::fabs(b.second); });
        row.resize(keep);
        std::sort(row.begin(), row.end());
      }
      kept[i] = row;
    }
  });
  Csr b;
  b.rows = n;
  b.cols = n;
  b.offsets.assign(nn + 1, 0);
  std::size_t total = 0;
  for (const auto& row : kept) total += row.size();
  b.indices.reserve(total);
  b.values.reserve(total);
  for (std::size_t i = 0; i < nn; ++i) {
    for (const auto& [j, v] : kept[i]) {
      b.indices.push_back(j);
      b.values.push_back(v);
    }
    b.offsets[i + 1] = static_cast<std::int64_t>(b.indices.size());
  }
  return b;
}

void EaseTrainer::step(CancelToken& token) {
  weights_ = ease_weights(data_.by_item, data_.by_user, params_, threads_, token);
  done_ = 1;
}

Model EaseTrainer::finish(const std::string& user_type, const std::string& item_type) {
  Model m;
  m.kind = ModelKind::ItemNeighbors;
  m.algorithm = "ease";
  m.explicit_ratings = false;  // scores rank items; they are not ratings
  m.user_type = user_type;
  m.item_type = item_type;
  m.popularity = row_counts(data_.by_item);
  m.users = std::move(data_.users);
  m.items = std::move(data_.items);
  m.seen = std::move(data_.by_user);
  std::fill(m.seen.values.begin(), m.seen.values.end(), 1.0f);  // the model reads interactions as 0/1
  m.neighbors = std::move(weights_);
  m.prepare();
  return m;
}

}  // namespace pgrec
