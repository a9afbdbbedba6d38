#include "als.h"
#include "json_out.h"

#include <Eigen/Cholesky>
#include <Eigen/Core>
#include <algorithm>
#include <random>
#include <sstream>

#include "kernels.h"
#include "parallel.h"
#include "weighting.h"

namespace pgrec {

namespace {

using Vec = Eigen::VectorXf;
using MapVec = Eigen::Map<const Vec>;
using Mat = Eigen::MatrixXf;

// Fills a matrix with uniform values in [lo, lo + width) from a seeded generator.
void fill_uniform(FactorMatrix& m, std::mt19937_64& rng, float lo, float width) {
  for (Eigen::Index i = 0; i < m.size(); ++i) {
    const double unit = static_cast<double>(rng() >> 11) * (1.0 / 9007199254740992.0);
    m.data()[i] = lo + width * static_cast<float>(unit);
  }
}

// Returns the gram matrix Y^T Y.
Mat gram(const FactorMatrix& Y) {
  Mat g = Mat::Zero(Y.cols(), Y.cols());
  g.selfadjointView<Eigen::Lower>().rankUpdate(Y.transpose());
  return g.selfadjointView<Eigen::Lower>();
}

}  // namespace

AlsParams AlsParams::parse(const std::vector<Param>& params, bool explicit_default) {
  ParamReader r(params, "als");
  AlsParams p;
  p.implicit = !r.boolean("explicit", explicit_default);
  p.factors = static_cast<std::int32_t>(r.integer("factors", 32, 1, 1024));
  p.iterations = static_cast<std::int32_t>(r.integer("iterations", 15, 1, 10000));
  p.regularization = r.real("regularization", p.implicit ? AlsParams::kFromData : 0.1, 0.0, 1e6);
  p.alpha = r.real("alpha", 1.0, 0.0, 1e6);
  p.cg_steps = static_cast<std::int32_t>(r.integer("cg_steps", 3, 1, 100));
  p.use_cg = r.choice("solver", "cg", {"cg", "cholesky"}) == "cg";
  p.seed = static_cast<std::uint64_t>(r.integer("seed", 42, 0, INT64_MAX));
  p.weighting = r.choice("weighting", "none", {"none", "tfidf", "bm25"});
  p.bm25_k1 = r.real("bm25_k1", 100.0, 0.0, 1e9);
  p.bm25_b = r.real("bm25_b", 0.8, 0.0, 1.0);
  p.track_loss = r.boolean("track_loss", false);
  r.reject_unknown();
  if (p.weighting != "none" && !p.implicit) invalid_parameter("weighting \"" + p.weighting + "\" is for implicit data");
  if (!p.implicit && !explicit_default)
    invalid_parameter("parameter \"explicit\" needs a rating column");
  return p;
}

double als_regularization_for(const Interactions& data) {
  const double users = std::max<double>(1, data.by_user.rows);
  return 0.1 * static_cast<double>(data.by_user.nnz()) / users;
}

void fit_als_to_data(AlsParams* params, const Interactions& data) {
  if (params->regularization < 0) params->regularization = als_regularization_for(data);
}

std::string AlsParams::to_json() const {
  JsonOut out;
  out << "{\"explicit\": " << (implicit ? "false" : "true") << ", \"factors\": " << factors
      << ", \"iterations\": " << iterations << ", \"regularization\": " << regularization;
  if (implicit)
    out << ", \"alpha\": " << alpha << ", \"solver\": \"" << (use_cg ? "cg" : "cholesky")
        << "\", \"cg_steps\": " << cg_steps;
  if (weighting != "none") {
    out << ", \"weighting\": \"" << weighting << "\"";
    if (weighting == "bm25") out << ", \"bm25_k1\": " << bm25_k1 << ", \"bm25_b\": " << bm25_b;
  }
  if (track_loss) out << ", \"track_loss\": true";
  out << ", \"seed\": " << seed << "}";
  return out.str();
}

void init_als_factors(const AlsParams& params, FactorMatrix* users, FactorMatrix* items) {
  std::mt19937_64 rng(params.seed);
  const float scale = params.implicit ? 0.01f : 0.1f;
  const float lo = params.implicit ? 0.0f : -scale / 2;
  fill_uniform(*users, rng, lo, scale);
  fill_uniform(*items, rng, lo, scale);
}

float als_mean(const Interactions& data, const AlsParams& params) {
  return params.implicit ? 0.0f : mean_value(data.by_user);
}

AlsTrainer::AlsTrainer(Interactions data, const AlsParams& params, int threads)
    : data_(std::move(data)), params_(params), threads_(threads) {
  fit_als_to_data(&params_, data_);
  if (params_.implicit) apply_weighting(data_, params_.weighting, params_.bm25_k1, params_.bm25_b);
  mean_ = als_mean(data_, params_);
  users_.resize(data_.by_user.rows, params_.factors);
  items_.resize(data_.by_item.rows, params_.factors);
  init_als_factors(params_, &users_, &items_);
}

void AlsTrainer::solve_side(FactorMatrix& X, const FactorMatrix& Y, const Csr& by_row,
                            CancelToken& token) {
  const Eigen::Index f = Y.cols();
  const float reg = static_cast<float>(params_.regularization);
  const float alpha = static_cast<float>(params_.alpha);
  Mat YtY;
  if (params_.implicit) {
    YtY = gram(Y);
    YtY.diagonal().array() += reg;
  }
  const AlsParams& p = params_;
  const float mean = mean_;
  // YtY as a row-major array for the kernels (it is symmetric: the same either way).
  const std::vector<float> yty(YtY.data(), YtY.data() + YtY.size());
  auto solve_rows = [&](std::size_t begin, std::size_t end) {
    std::vector<float> a(static_cast<std::size_t>(f * f)), b(static_cast<std::size_t>(f)), scratch(3 * static_cast<std::size_t>(f));
    std::vector<float> weight, target;
    for (std::size_t row = begin; row < end; ++row) {
      const std::int64_t lo = by_row.offsets[row], n = by_row.offsets[row + 1] - lo;
      float* out = X.row(static_cast<Eigen::Index>(row)).data();
      const std::int32_t* index = by_row.indices.data() + lo;
      const float* value = by_row.values.data() + lo;
      if (p.implicit && p.use_cg) {
        // Implicit, conjugate gradient warm-started from the previous x.
        kernels::implicit_cg(yty.data(), Y.data(), static_cast<std::int32_t>(f), index, value, n, alpha, p.cg_steps,
                             out, scratch.data());
        continue;
      }
      // Exact: the row's normal equations, solved by Cholesky. Explicit: (sum y y^T + reg n I) x =
      // sum (r - mean) y. Implicit: (YtY + reg I + sum (c - 1) y y^T) x = sum c y.
      weight.resize(static_cast<std::size_t>(n));
      target.resize(static_cast<std::size_t>(n));
      for (std::int64_t q = 0; q < n; ++q) {
        weight[q] = p.implicit ? alpha * value[q] : 1.0f;
        target[q] = p.implicit ? 1.0f + alpha * value[q] : value[q] - mean;
      }
      const auto build = [&](float* sa, float* sb) {
        if (p.implicit) {
          std::copy(yty.begin(), yty.end(), sa);
        } else {
          std::fill(sa, sa + f * f, 0.0f);
          for (Eigen::Index c = 0; c < f; ++c) sa[c * f + c] = reg * static_cast<float>(n);
        }
        std::fill(sb, sb + f, 0.0f);
        kernels::add_normal_equations(sa, sb, Y.data(), static_cast<std::int32_t>(f), static_cast<std::int32_t>(f), index,
                                      weight.data(), target.data(), n);
      };
      solve_row_system(build, a.data(), b.data(), static_cast<std::int32_t>(f), out);
    }
  };
  parallel_for(static_cast<std::size_t>(X.rows()), 64, threads_, token, solve_rows);
}

void AlsTrainer::step(CancelToken& token) {
  step_part(0, token);
  step_part(1, token);
}

void AlsTrainer::step_part(std::int32_t part, CancelToken& token) {
  if (part == 0) {
    solve_side(users_, items_, data_.by_user, token);
  } else {
    solve_side(items_, users_, data_.by_item, token);
    ++done_;
  }
}

double AlsTrainer::loss(CancelToken& token) const {
  const Csr& m = data_.by_user;
  const float alpha = static_cast<float>(params_.alpha);
  std::vector<double> per_user(static_cast<std::size_t>(m.rows), 0.0);
  Mat YtY;
  if (params_.implicit) YtY = gram(items_);
  auto rows = [&](std::size_t begin, std::size_t end) {
    for (std::size_t u = begin; u < end; ++u) {
      const Vec x = users_.row(static_cast<Eigen::Index>(u)).transpose();
      double total = params_.implicit ? static_cast<double>(x.dot(YtY * x)) : 0.0;
      for (std::int64_t q = m.offsets[u]; q < m.offsets[u + 1]; ++q) {
        const float pred = items_.row(m.indices[q]).dot(x.transpose());
        if (params_.implicit) {
          const float c = 1.0f + alpha * m.values[q];
          // Replace the unobserved term (pred^2) with the observed one c (1 - pred)^2.
          total += c * (1.0 - pred) * (1.0 - pred) - static_cast<double>(pred) * pred;
        } else {
          const double e = m.values[q] - mean_ - pred;
          total += e * e;
        }
      }
      per_user[u] = total;
    }
  };
  parallel_for(static_cast<std::size_t>(m.rows), 256, threads_, token, rows);
  double total = 0;
  for (double v : per_user) total += v;
  total += params_.regularization *
           (static_cast<double>(users_.squaredNorm()) + static_cast<double>(items_.squaredNorm()));
  return total / static_cast<double>(m.nnz());
}

void ldlt_solve_upper(const float* a, const float* b, std::int32_t f, float* x) {
  using RowMajor = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const Eigen::Map<const RowMajor> m(a, f, f);
  Eigen::Map<Vec>(x, f) = m.selfadjointView<Eigen::Upper>().ldlt().solve(MapVec(b, f));
}

Model make_factor_model(const std::string& algorithm, bool explicit_ratings, Interactions&& data, float mean,
                        FactorMatrix users, FactorMatrix items, const std::string& user_type,
                        const std::string& item_type) {
  Model m;
  m.kind = ModelKind::Factors;
  m.algorithm = algorithm;
  m.explicit_ratings = explicit_ratings;
  m.user_type = user_type;
  m.item_type = item_type;
  m.global_mean = mean;
  m.popularity = row_counts(data.by_item);
  m.users = std::move(data.users);
  m.items = std::move(data.items);
  m.user_factors = std::move(users);
  m.item_factors = std::move(items);
  m.seen = std::move(data.by_user);
  m.prepare();
  return m;
}

Model make_als_model(Interactions&& data, const AlsParams& params, float mean, FactorMatrix users,
                     FactorMatrix items, const std::string& user_type, const std::string& item_type) {
  Model m = make_factor_model("als", !params.implicit, std::move(data), mean, std::move(users), std::move(items),
                              user_type, item_type);
  m.fold_in_reg = static_cast<float>(params.regularization);
  m.fold_in_alpha = static_cast<float>(params.alpha);
  return m;
}

WarmStart warm_start_als(const Model& previous, const AlsParams& params, const Interactions& data,
                         FactorMatrix* users, FactorMatrix* items) {
  check_warm_start(previous, "als", users->cols(), items->cols());
  if (previous.explicit_ratings == params.implicit)
    invalid_parameter("warm_start needs the serving version to read the same kind of feedback (ratings or interactions)");
  WarmStart w;
  w.users = copy_rows_by_id(previous.users, previous.user_factors, 0, data.users, *users, 0, users->cols());
  w.items = copy_rows_by_id(previous.items, previous.item_factors, 0, data.items, *items, 0, items->cols());
  return w;
}

WarmStart AlsTrainer::warm_start(const Model& previous) {
  return warm_start_als(previous, params_, data_, &users_, &items_);
}

Model AlsTrainer::finish(const std::string& user_type, const std::string& item_type) {
  return make_als_model(std::move(data_), params_, mean_, std::move(users_), std::move(items_),
                        user_type, item_type);
}

}  // namespace pgrec
