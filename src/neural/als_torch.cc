// ALS on LibTorch: every row's conjugate-gradient solve batched into sparse gather/scatter
// products, so the same code runs on a GPU or the CPU.
#include "torch_includes.h"

#include <cstdio>
#include <cstring>
#include <new>
#include <string>

#include "collective.h"
#include "errors.h"
#include "shard.h"
#include "torch_api.h"
#include "weighting.h"

namespace pgrec::neural {

namespace {

using torch::Tensor;

// Copies a row-major factor matrix into a tensor on `device`.
Tensor to_tensor(const FactorMatrix& m, const torch::Device& device) {
  return torch::from_blob(const_cast<float*>(m.data()), {m.rows(), m.cols()}, torch::kFloat32)
      .clone()
      .to(device);
}

// Copies a tensor back into a row-major factor matrix.
FactorMatrix to_matrix(const Tensor& t) {
  Tensor cpu = t.to(torch::kCPU).contiguous();
  FactorMatrix m(cpu.size(0), cpu.size(1));
  std::memcpy(m.data(), cpu.data_ptr<float>(), sizeof(float) * static_cast<std::size_t>(m.size()));
  return m;
}

// One orientation of the data as coordinate tensors: row of each entry, column, value.
struct Coo {
  Tensor rows, cols, vals, counts;
};

// Builds the coordinate tensors of a CSR matrix on `device`.
Coo to_coo(const Csr& m, const torch::Device& device) {
  std::vector<std::int64_t> rows(static_cast<std::size_t>(m.nnz())), cols(rows.size());
  std::vector<float> counts(static_cast<std::size_t>(m.rows));
  for (std::int32_t r = 0; r < m.rows; ++r) {
    counts[static_cast<std::size_t>(r)] = static_cast<float>(m.offsets[r + 1] - m.offsets[r]);
    for (std::int64_t p = m.offsets[r]; p < m.offsets[r + 1]; ++p) {
      rows[static_cast<std::size_t>(p)] = r;
      cols[static_cast<std::size_t>(p)] = m.indices[static_cast<std::size_t>(p)];
    }
  }
  auto i64 = torch::TensorOptions().dtype(torch::kInt64);
  auto f32 = torch::TensorOptions().dtype(torch::kFloat32);
  const auto n = static_cast<std::int64_t>(rows.size());
  return Coo{torch::from_blob(rows.data(), {n}, i64).clone().to(device),
             torch::from_blob(cols.data(), {n}, i64).clone().to(device),
             torch::from_blob(const_cast<float*>(m.values.data()), {n}, f32).clone().to(device),
             torch::from_blob(counts.data(), {m.rows}, f32).clone().to(device)};
}

class TorchAlsTrainer : public Trainer {
 public:
  // Trains on `data`; with `ranks`, `data` is this rank's users over the agreed items, `rows` its
  // rows as read (InteractionBuilder bytes, for rank 0 to gather), and the item half's sums run
  // over every rank.
  TorchAlsTrainer(Interactions data, const AlsParams& params, const torch::Device& device,
                  Collective* ranks = nullptr, std::string rows = "")
      : data_(std::move(data)), params_(params), device_(device), ranks_(ranks), rows_(std::move(rows)) {
    torch::NoGradGuard no_grad;
    FactorMatrix users(data_.by_user.rows, params_.factors), items(data_.by_item.rows, params_.factors);
    if (ranks_ == nullptr) {
      fit_als_to_data(&params_, data_);
      if (params_.implicit) apply_weighting(data_, params_.weighting, params_.bm25_k1, params_.bm25_b);
      mean_ = als_mean(data_, params_);
      init_als_factors(params_, &users, &items);
    } else {
      settle_across_ranks();
      // The items' draws must not depend on a rank's users: each side from its own generator.
      FactorMatrix none(0, params_.factors);
      init_als_factors(params_, &none, &items);
      init_als_factors(params_, &users, &none);
    }
    x_ = to_tensor(users, device_);
    y_ = to_tensor(items, device_);
    by_user_ = to_coo(data_.by_user, device_);
    by_item_ = to_coo(data_.by_item, device_);
    if (ranks_ != nullptr) ranks_->sum(by_item_.counts);  // every rank's ratings of each item
  }

  void step(CancelToken& token) override {
    step_part(0, token);
    step_part(1, token);
  }

  // Part 0 solves the users, part 1 the items.
  std::int32_t parts() const override { return 2; }
  void step_part(std::int32_t part, CancelToken& token) override {
    guarded([&] {
      if (part == 0)
        solve_side(x_, y_, by_user_, token, false);
      else
        solve_side(y_, x_, by_item_, token, ranks_ != nullptr);
      // Every rank computes the objective at the same point: it is a sum over the ranks.
      if (part == 1 && ranks_ != nullptr) last_loss_ = objective();
    });
    if (part == 1) ++done_;
  }

  // The objective costs a pass over the data (kept from the last epoch when distributed).
  bool loss_is_cheap() const override { return ranks_ != nullptr; }
  double loss(CancelToken&) const override {
    if (ranks_ != nullptr) return last_loss_;
    double out = 0;
    guarded([&] { out = objective(); });
    return out;
  }

  std::int32_t done() const override { return done_; }
  std::int32_t total() const override { return params_.iterations; }
  std::string device() const override { return device_.str(); }

  // Starts from the serving version's factors, as the CPU trainer does.
  WarmStart warm_start(const Model& previous) override {
    WarmStart w;
    guarded([&] {
      FactorMatrix users = to_matrix(x_), items = to_matrix(y_);
      w = warm_start_als(previous, params_, data_, &users, &items);
      x_ = to_tensor(users, device_);
      y_ = to_tensor(items, device_);
    });
    return w;
  }

  Model finish(const std::string& user_type, const std::string& item_type) override {
    if (ranks_ != nullptr) return gather_model(user_type, item_type);
    return make_als_model(std::move(data_), params_, mean_, to_matrix(x_), to_matrix(y_), user_type,
                          item_type);
  }

 private:
  // Runs torch work, turning allocation failures into std::bad_alloc.
  template <typename Work>
  static void guarded(Work&& work) {
    try {
      work();
    } catch (const c10::Error& e) {
      if (std::strstr(e.what(), "out of memory") != nullptr) throw std::bad_alloc();
      throw;
    }
  }

  // Solves every row of x given y: A_u x_u = b_u by warm-started conjugate gradient, batched.
  // With `shared`, y's rows are spread over the ranks: the sums over them (the Gram matrix, b and
  // each product A p) are summed over the ranks, so every rank takes the same steps.
  void solve_side(Tensor& x, const Tensor& y, const Coo& d, CancelToken& token, bool shared) {
    torch::NoGradGuard no_grad;
    const auto f = y.size(1);
    const float reg = static_cast<float>(params_.regularization);
    Tensor yg = y.index_select(0, d.cols);
    Tensor w, t, base, diag;
    if (params_.implicit) {
      w = params_.alpha * d.vals;
      t = 1 + params_.alpha * d.vals;
      base = y.t().mm(y);
      if (shared) ranks_->sum(base);
      base = base + reg * torch::eye(f, y.options());
      diag = torch::zeros({x.size(0)}, x.options());
    } else {
      w = torch::ones_like(d.vals);
      t = d.vals - mean_;
      base = torch::zeros({f, f}, y.options());
      diag = reg * d.counts;
    }
    auto apply = [&](const Tensor& p) {
      Tensor dots = (p.index_select(0, d.rows) * yg).sum(1);
      Tensor out = p.mm(base) + diag.unsqueeze(1) * p;
      if (!shared) return out.index_add_(0, d.rows, yg * (w * dots).unsqueeze(1));
      Tensor part = torch::zeros_like(p).index_add_(0, d.rows, yg * (w * dots).unsqueeze(1));
      ranks_->sum(part);
      return out.add_(part);
    };
    Tensor b = torch::zeros_like(x).index_add_(0, d.rows, yg * t.unsqueeze(1));
    if (shared) ranks_->sum(b);
    Tensor r = b - apply(x);
    Tensor p = r.clone();
    Tensor rs = (r * r).sum(1);
    const int steps = params_.implicit ? params_.cg_steps : static_cast<int>(f) + params_.cg_steps;
    for (int s = 0; s < steps; ++s) {
      token.check();
      Tensor ap = apply(p);
      Tensor active = rs > 1e-20;
      Tensor a = torch::where(active, rs / (p * ap).sum(1).clamp_min(1e-30), torch::zeros_like(rs));
      x.add_(a.unsqueeze(1) * p);
      r.sub_(a.unsqueeze(1) * ap);
      Tensor rs_new = (r * r).sum(1);
      Tensor beta = torch::where(active, rs_new / rs.clamp_min(1e-30), torch::zeros_like(rs));
      p = r + beta.unsqueeze(1) * p;
      rs = rs_new;
    }
  }

  // The objective per interaction: summed over the ranks when distributed.
  double objective() const {
    torch::NoGradGuard no_grad;
    const Coo& d = by_user_;
    Tensor p = (x_.index_select(0, d.rows) * y_.index_select(0, d.cols)).sum(1);
    Tensor total;
    if (params_.implicit) {
      Tensor c = 1 + params_.alpha * d.vals;
      total = (x_.mm(y_.t().mm(y_)) * x_).sum() + (c * (1 - p).pow(2) - p.pow(2)).sum();
    } else {
      total = (d.vals - mean_ - p).pow(2).sum();
    }
    // In float64: the count of interactions is exact past 2^24, and every rank adds the same way.
    const Tensor part = (total + params_.regularization * x_.pow(2).sum()).to(torch::kFloat64);
    Tensor sums = torch::stack({part, torch::full({}, static_cast<double>(data_.by_user.nnz()), part.options())});
    if (ranks_ != nullptr) ranks_->sum(sums);
    return (sums[0].item<double>() + params_.regularization * y_.pow(2).sum().item<double>()) / sums[1].item<double>();
  }

  // Distributed: the default regularization and the explicit mean from every rank's data.
  void settle_across_ranks() {
    if (params_.implicit && params_.weighting != "none")
      throw Error(ErrorKind::NotSupported, "a distributed ALS training reads interactions unweighted: use weighting \"none\"");
    double ratings = 0;
    for (float v : data_.by_user.values) ratings += v;
    Tensor sums = torch::tensor({static_cast<double>(data_.by_user.nnz()), static_cast<double>(data_.by_user.rows), ratings},
                                torch::kFloat64);
    ranks_->sum(sums);
    const double nnz = sums[0].item<double>(), users = sums[1].item<double>();
    if (params_.regularization < 0) params_.regularization = 0.1 * nnz / std::max(1.0, users);
    mean_ = params_.implicit ? 0.0f : static_cast<float>(sums[2].item<double>() / std::max(1.0, nnz));
  }

  // Distributed: rank 0 gathers every rank's rows and user factors into the whole model; the other
  // ranks send theirs and return their part (which is not stored).
  Model gather_model(const std::string& user_type, const std::string& item_type) {
    const IdMap items = data_.items;
    Model mine = make_als_model(std::move(data_), params_, mean_, to_matrix(x_), to_matrix(y_), user_type, item_type);
    mine.params_json = params_.to_json();  // the regularization settled over every rank's data
    const std::vector<std::string> parts = ranks_->gather_bytes(factor_part_bytes(mine, rows_));
    if (ranks_->rank() != 0) return mine;
    return gather_factor_model(std::move(mine), parts, items);
  }

  Interactions data_;
  AlsParams params_;
  torch::Device device_;
  Collective* ranks_ = nullptr;
  std::string rows_;
  double last_loss_ = 0;
  float mean_ = 0;
  Tensor x_, y_;
  Coo by_user_, by_item_;
  std::int32_t done_ = 0;
};

}  // namespace

}  // namespace pgrec::neural

std::uint64_t pgrec_torch_abi() { return pgrec::core_abi(); }

int pgrec_torch_cuda_devices() {
  try {
    return torch::cuda::is_available() ? static_cast<int>(torch::cuda::device_count()) : 0;
  } catch (...) {
    return 0;
  }
}

pgrec::Trainer* pgrec_torch_als_trainer(pgrec::Interactions* data, const pgrec::AlsParams* params,
                                        const char* device, int threads, char* error,
                                        std::size_t error_size) {
  try {
    torch::Device dev(device);
    if (dev.is_cuda() && dev.index() >= static_cast<int>(torch::cuda::device_count()))
      throw std::runtime_error(std::string("device ") + device + " is not available");
    if (threads > 0) torch::set_num_threads(threads);
    return new pgrec::neural::TorchAlsTrainer(std::move(*data), *params, dev);
  } catch (const std::exception& e) {
    std::snprintf(error, error_size, "%s", e.what());
  } catch (...) {
    std::snprintf(error, error_size, "unknown error creating the LibTorch trainer");
  }
  return nullptr;
}

pgrec::Trainer* pgrec_torch_distributed_als_trainer(pgrec::InteractionBuilder* rows, const pgrec::AlsParams* params,
                                                    pgrec::neural::Collective* ranks, const char* device, int threads,
                                                    char* error, std::size_t error_size) {
  try {
    torch::Device dev(device);
    if (dev.is_cuda() && dev.index() >= static_cast<int>(torch::cuda::device_count()))
      throw std::runtime_error(std::string("device ") + device + " is not available");
    if (threads > 0) torch::set_num_threads(threads);
    const pgrec::IdMap items = pgrec::agreed_items(ranks->all_bytes(pgrec::item_ids_bytes(*rows)), rows->item_kind());
    std::string bytes = rows->serialize();
    pgrec::Interactions shard = pgrec::shard_over(*rows, items);
    return new pgrec::neural::TorchAlsTrainer(std::move(shard), *params, dev, ranks, std::move(bytes));
  } catch (const std::exception& e) {
    std::snprintf(error, error_size, "%s", e.what());
  } catch (...) {
    std::snprintf(error, error_size, "unknown error creating the LibTorch trainer");
  }
  return nullptr;
}
