#include "sgd_mf.h"
#include "json_out.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <sstream>

#include "als.h"
#include "errors.h"

namespace pgrec {

SgdMfParams SgdMfParams::parse(const std::vector<Param>& params, bool has_ratings, bool svdpp) {
  const char* name = svdpp ? "svdpp" : "sgd_mf";
  ParamReader r(params, name);
  SgdMfParams p;
  p.svdpp = svdpp;
  p.factors = static_cast<std::int32_t>(r.integer("factors", svdpp ? 20 : 100, 1, 1024));
  p.epochs = static_cast<std::int32_t>(r.integer("epochs", 20, 1, 10000));
  p.learning_rate = r.real("learning_rate", svdpp ? 0.007 : 0.01, 1e-9, 1.0);
  p.lr_decay = r.real("lr_decay", 1.0, 0.01, 1.0);
  p.regularization = r.real("regularization", svdpp ? 0.05 : 0.08, 0.0, 100.0);
  p.bias_regularization = r.real("bias_regularization", 0.02, 0.0, 100.0);
  p.init_std = r.real("init_std", 0.1, 0.0, 10.0);
  p.validation = r.real("validation", 0.0, 0.0, 0.5);
  p.patience = static_cast<std::int32_t>(r.integer("patience", 3, 1, 1000));
  p.seed = static_cast<std::uint64_t>(r.integer("seed", 42, 0, INT64_MAX));
  r.reject_unknown();
  if (!has_ratings) invalid_parameter(std::string("algorithm ") + name + " needs a rating column");
  return p;
}

std::string SgdMfParams::to_json() const {
  JsonOut out;
  out << "{\"factors\": " << factors << ", \"epochs\": " << epochs << ", \"learning_rate\": " << learning_rate
      << ", \"lr_decay\": " << lr_decay << ", \"regularization\": " << regularization
      << ", \"bias_regularization\": " << bias_regularization << ", \"init_std\": " << init_std
      << ", \"validation\": " << validation << ", \"patience\": " << patience << ", \"seed\": " << seed << "}";
  return out.str();
}

SgdMfTrainer::SgdMfTrainer(Interactions data, const SgdMfParams& params)
    : data_(std::move(data)), params_(params), rng_state_(params.seed) {
  const Csr& m = data_.by_user;
  std::mt19937_64 rng(params_.seed);
  std::normal_distribution<float> normal(0.0f, static_cast<float>(params_.init_std));
  p_.resize(m.rows, params_.factors);
  q_.resize(data_.by_item.rows, params_.factors);
  for (Eigen::Index k = 0; k < p_.size(); ++k) p_.data()[k] = normal(rng);
  for (Eigen::Index k = 0; k < q_.size(); ++k) q_.data()[k] = normal(rng);
  if (params_.svdpp) y_ = FactorMatrix::Zero(data_.by_item.rows, params_.factors);
  bu_.assign(static_cast<std::size_t>(m.rows), 0.0f);
  bi_.assign(static_cast<std::size_t>(data_.by_item.rows), 0.0f);
  held_out_.assign(m.values.size(), 0);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  for (std::size_t e = 0; e < held_out_.size(); ++e) held_out_[e] = params_.validation > 0 && unit(rng) < params_.validation;
  const auto [sum, n] = rating_sum();
  // (A distributed rank may hold no rows at all: share_items checks every rank's.)
  if (n == 0 && m.nnz() > 0) bad_data("no ratings left to train on after holding out the validation fraction");
  mean_ = n > 0 ? static_cast<float>(sum / n) : 0.0f;
  order_.resize(static_cast<std::size_t>(m.rows));
  for (std::int32_t u = 0; u < m.rows; ++u) order_[static_cast<std::size_t>(u)] = u;
}

void SgdMfTrainer::user_vector(std::int32_t u, float* out) const {
  const Eigen::Index f = p_.cols();
  Eigen::Map<Eigen::VectorXf> v(out, f);
  v = p_.row(u).transpose();
  if (!params_.svdpp) return;
  const Csr& m = data_.by_user;
  const std::int64_t n = m.offsets[u + 1] - m.offsets[u];
  if (n == 0) return;
  Eigen::VectorXf sum = Eigen::VectorXf::Zero(f);
  for (std::int64_t e = m.offsets[u]; e < m.offsets[u + 1]; ++e) sum += y_.row(m.indices[e]).transpose();
  v += sum / std::sqrt(static_cast<float>(n));
}

float SgdMfTrainer::predict_with(const float* pu, std::int32_t u, std::int32_t i) const {
  Eigen::Map<const Eigen::VectorXf> v(pu, p_.cols());
  return mean_ + bu_[static_cast<std::size_t>(u)] + bi_[static_cast<std::size_t>(i)] + q_.row(i).dot(v.transpose());
}

std::pair<double, double> SgdMfTrainer::rating_sum() const {
  double sum = 0, n = 0;
  for (std::size_t e = 0; e < held_out_.size(); ++e)
    if (!held_out_[e]) {
      sum += data_.by_user.values[e];
      n += 1;
    }
  return {sum, n};
}

void SgdMfTrainer::share_items(const RankSums& sums) {
  ranks_ = sums;
  take_rank0(q_, sums);
  Eigen::Map<Eigen::VectorXf> bi(bi_.data(), static_cast<Eigen::Index>(bi_.size()));
  take_rank0(bi, sums);
  auto [sum, n] = rating_sum();
  double all[2] = {sum, n};
  sums.doubles(all, 2);
  if (all[1] == 0) bad_data("no ratings left to train on after holding out the validation fraction");
  mean_ = static_cast<float>(all[0] / all[1]);
}

void SgdMfTrainer::step(CancelToken& token) {
  if (stopped_) return;
  const float lr = static_cast<float>(params_.learning_rate * std::pow(params_.lr_decay, done_));
  std::mt19937_64 rng(rng_state_ + static_cast<std::uint64_t>(done_));
  std::shuffle(order_.begin(), order_.end(), rng);
  double se = 0;
  std::int64_t trained = 0;
  if (ranks_.size <= 1) {
    train_users(0, order_.size(), lr, rng, token, se, trained);
  } else {
    // Ten slices of the users on every rank; after each, every rank's item-side changes apply.
    constexpr std::size_t kSlices = 10;
    for (std::size_t s = 0; s < kSlices; ++s) {
      const FactorMatrix q0 = q_, y0 = y_;
      const Eigen::VectorXf b0 = Eigen::Map<const Eigen::VectorXf>(bi_.data(), static_cast<Eigen::Index>(bi_.size()));
      train_users(order_.size() * s / kSlices, order_.size() * (s + 1) / kSlices, lr, rng, token, se, trained);
      sum_changes(q_, q0, ranks_);
      if (params_.svdpp) sum_changes(y_, y0, ranks_);
      Eigen::VectorXf b = Eigen::Map<const Eigen::VectorXf>(bi_.data(), static_cast<Eigen::Index>(bi_.size()));
      sum_changes(b, b0, ranks_);
      std::copy(b.data(), b.data() + b.size(), bi_.begin());
    }
    double all[2] = {se, static_cast<double>(trained)};
    ranks_.doubles(all, 2);
    se = all[0];
    trained = static_cast<std::int64_t>(all[1]);
  }
  ++done_;
  const double train_rmse = trained > 0 ? std::sqrt(se / static_cast<double>(trained)) : 0.0;
  if (params_.validation <= 0) {
    last_loss_ = train_rmse;
    return;
  }
  auto [held_se, held] = validation_errors();
  if (ranks_.size > 1) {
    double all[2] = {held_se, held};
    ranks_.doubles(all, 2);
    held_se = all[0];
    held = all[1];
  }
  last_loss_ = held > 0 ? std::sqrt(held_se / held) : 0.0;
  if (best_ < 0 || last_loss_ < best_) {
    best_ = last_loss_;
    since_best_ = 0;
    best_p_ = p_;
    best_q_ = q_;
    best_y_ = y_;
    best_bu_ = bu_;
    best_bi_ = bi_;
  } else if (++since_best_ >= params_.patience) {
    stopped_ = true;
  }
}

void SgdMfTrainer::train_users(std::size_t first, std::size_t last, float lr, std::mt19937_64& rng, CancelToken& token,
                               double& se, std::int64_t& trained) {
  const Csr& m = data_.by_user;
  const Eigen::Index f = p_.cols();
  const float reg = static_cast<float>(params_.regularization);
  const float breg = static_cast<float>(params_.bias_regularization);
  Eigen::VectorXf pu(f), grad_y(f);
  std::vector<std::int64_t> entries;
  for (std::size_t k = first; k < last; ++k) {
    if ((k & 255) == 0) token.check();
    const std::int32_t u = order_[k];
    entries.clear();
    for (std::int64_t e = m.offsets[u]; e < m.offsets[u + 1]; ++e)
      if (!held_out_[static_cast<std::size_t>(e)]) entries.push_back(e);
    std::shuffle(entries.begin(), entries.end(), rng);
    const float norm = params_.svdpp && !entries.empty() ? 1.0f / std::sqrt(static_cast<float>(entries.size())) : 0.0f;
    user_vector(u, pu.data());
    if (params_.svdpp) grad_y.setZero();
    float* __restrict__ pv = p_.row(u).data();
    float* __restrict__ ev = pu.data();  // effective user vector (SVD++: p_u + implicit sum)
    float* __restrict__ gy = grad_y.data();
    for (std::int64_t e : entries) {
      const std::int32_t i = m.indices[static_cast<std::size_t>(e)];
      float* __restrict__ qv = q_.row(i).data();
      const float dot = Eigen::Map<const Eigen::VectorXf>(qv, f).dot(Eigen::Map<const Eigen::VectorXf>(ev, f));
      float& b_u = bu_[static_cast<std::size_t>(u)];
      float& b_i = bi_[static_cast<std::size_t>(i)];
      const float err = m.values[static_cast<std::size_t>(e)] - (mean_ + b_u + b_i + dot);
      se += static_cast<double>(err) * err;
      ++trained;
      b_u += lr * (err - breg * b_u);
      b_i += lr * (err - breg * b_i);
      if (params_.svdpp) {
        for (Eigen::Index c = 0; c < f; ++c) {
          const float pk = pv[c], qk = qv[c];
          pv[c] = pk + lr * (err * qk - reg * pk);
          qv[c] = qk + lr * (err * ev[c] - reg * qk);
          ev[c] += pv[c] - pk;
          gy[c] += err * norm * qk;
        }
      } else {
        for (Eigen::Index c = 0; c < f; ++c) {
          const float pk = pv[c], qk = qv[c];
          pv[c] = pk + lr * (err * qk - reg * pk);
          qv[c] = qk + lr * (err * pk - reg * qk);
          ev[c] = pv[c];
        }
      }
    }
    if (params_.svdpp) {
      // Apply the implicit-factor gradient once per user (the usual SVD++ shortcut), with the
      // decay the per-rating updates would have applied n times.
      const float decay = reg * static_cast<float>(entries.size());
      for (std::int64_t e : entries) {
        const std::int32_t j = m.indices[static_cast<std::size_t>(e)];
        y_.row(j) += lr * (grad_y.transpose() - decay * y_.row(j));
      }
    }
  }
}

std::pair<double, double> SgdMfTrainer::validation_errors() const {
  const Csr& m = data_.by_user;
  Eigen::VectorXf pu(p_.cols());
  double se = 0;
  std::int64_t n = 0;
  for (std::int32_t u = 0; u < m.rows; ++u) {
    bool any = false;
    for (std::int64_t e = m.offsets[u]; e < m.offsets[u + 1]; ++e) {
      if (!held_out_[static_cast<std::size_t>(e)]) continue;
      if (!any) {
        user_vector(u, pu.data());
        any = true;
      }
      const double err = m.values[static_cast<std::size_t>(e)] - predict_with(pu.data(), u, m.indices[static_cast<std::size_t>(e)]);
      se += err * err;
      ++n;
    }
  }
  return {se, static_cast<double>(n)};
}

WarmStart SgdMfTrainer::warm_start(const Model& previous) {
  const Eigen::Index f = p_.cols();
  check_warm_start(previous, params_.svdpp ? "svdpp" : "sgd_mf", f + 2, f + 2);
  WarmStart w;
  w.users = copy_rows_by_id(previous.users, previous.user_factors, 0, data_.users, p_, 0, f);
  w.items = copy_rows_by_id(previous.items, previous.item_factors, 0, data_.items, q_, 0, f);
  copy_column_by_id(previous.users, previous.user_factors, f, data_.users, bu_);
  copy_column_by_id(previous.items, previous.item_factors, f + 1, data_.items, bi_);
  return w;
}

Model SgdMfTrainer::finish(const std::string& user_type, const std::string& item_type) {
  if (best_ >= 0) {
    p_ = std::move(best_p_);
    q_ = std::move(best_q_);
    y_ = std::move(best_y_);
    bu_ = std::move(best_bu_);
    bi_ = std::move(best_bi_);
  }
  // Biases ride in two extra factor columns: user [p_u, b_u, 1] . item [q_i, 1, b_i].
  const Eigen::Index f = p_.cols();
  FactorMatrix users(p_.rows(), f + 2), items(q_.rows(), f + 2);
  for (Eigen::Index u = 0; u < p_.rows(); ++u) {
    user_vector(static_cast<std::int32_t>(u), users.row(u).data());
    users(u, f) = bu_[static_cast<std::size_t>(u)];
    users(u, f + 1) = 1.0f;
  }
  for (Eigen::Index i = 0; i < q_.rows(); ++i) {
    items.row(i).head(f) = q_.row(i);
    items(i, f) = 1.0f;
    items(i, f + 1) = bi_[static_cast<std::size_t>(i)];
  }
  Model m = make_factor_model(params_.svdpp ? "svdpp" : "sgd_mf", true, std::move(data_), mean_, std::move(users),
                              std::move(items), user_type, item_type);
  m.fold_in_reg = static_cast<float>(params_.regularization);
  m.fixed_user_columns = 1;
  return m;
}

}  // namespace pgrec
