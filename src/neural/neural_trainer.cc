#include "neural_trainer.h"

#include <cmath>
#include <limits>
#include <sstream>

namespace pgrec::neural {

FactorMatrix to_matrix(const torch::Tensor& t) {
  torch::Tensor cpu = t.detach().to(torch::kCPU, torch::kFloat32).contiguous();
  FactorMatrix m(cpu.size(0), cpu.size(1));
  std::memcpy(m.data(), cpu.data_ptr<float>(), sizeof(float) * static_cast<std::size_t>(m.size()));
  return m;
}

NetTensor to_net_tensor(const std::string& name, const torch::Tensor& t) {
  torch::Tensor cpu = t.detach().to(torch::kCPU, torch::kFloat32).contiguous();
  NetTensor out;
  out.name = name;
  for (std::int64_t d : cpu.sizes()) out.shape.push_back(d);
  out.data.assign(cpu.data_ptr<float>(), cpu.data_ptr<float>() + cpu.numel());
  return out;
}

torch::Tensor index_tensor(const std::vector<std::int64_t>& values, const torch::Device& device) {
  return torch::from_blob(const_cast<std::int64_t*>(values.data()), {static_cast<std::int64_t>(values.size())},
                          torch::kInt64)
      .clone()
      .to(device);
}

double ndcg_of_targets(const torch::Tensor& scores, const std::vector<std::int64_t>& skip_rows,
                       const std::vector<std::int64_t>& skip_cols, const std::vector<std::int64_t>& targets) {
  torch::NoGradGuard no_grad;
  const torch::Device device = scores.device();
  torch::Tensor skip = torch::zeros_like(scores, torch::TensorOptions().dtype(torch::kBool));
  skip.index_put_({index_tensor(skip_rows, device), index_tensor(skip_cols, device)}, true);
  const torch::Tensor y = index_tensor(targets, device).unsqueeze(1);
  skip.scatter_(1, y, false);
  const torch::Tensor s = scores.masked_fill(skip, -std::numeric_limits<float>::infinity());
  const torch::Tensor rank = (s > s.gather(1, y)).sum(1).to(torch::kFloat64);
  const torch::Tensor gain = torch::where(rank < 10, 1.0 / torch::log2(rank + 2.0), torch::zeros_like(rank));
  return gain.sum().item<double>();
}

std::vector<std::int32_t> hold_out_one(const Csr& by_user, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::int32_t> held(static_cast<std::size_t>(by_user.rows), -1);
  for (std::int32_t u = 0; u < by_user.rows; ++u) {
    const std::int64_t n = by_user.offsets[u + 1] - by_user.offsets[u];
    if (n < 2) continue;
    const auto pick = static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(n));
    held[static_cast<std::size_t>(u)] = by_user.indices[static_cast<std::size_t>(by_user.offsets[u] + pick)];
  }
  return held;
}

HeldOutSplit split_held_out(const Csr& by_user, bool validation, std::uint64_t seed, std::mt19937_64& rng) {
  HeldOutSplit split;
  split.held = validation ? hold_out_one(by_user, seed) : std::vector<std::int32_t>(static_cast<std::size_t>(by_user.rows), -1);
  for (std::int32_t u = 0; u < by_user.rows; ++u) {
    const std::int32_t held = split.held[static_cast<std::size_t>(u)];
    for (std::int64_t p = by_user.offsets[u]; p < by_user.offsets[u + 1]; ++p) {
      const std::int32_t i = by_user.indices[static_cast<std::size_t>(p)];
      if (i == held) continue;  // indices are unique within a row
      split.users.push_back(u);
      split.items.push_back(i);
    }
    if (held >= 0) split.valid_users.push_back(u);
  }
  std::shuffle(split.valid_users.begin(), split.valid_users.end(), rng);
  if (split.valid_users.size() > 2000) split.valid_users.resize(2000);
  return split;
}

NeuralTrainer::NeuralTrainer(NeuralInput input, NeuralParams params, const torch::Device& device)
    : in_(std::move(input)), params_(std::move(params)), device_(device), rng_(params_.seed) {
  torch::manual_seed(params_.seed);
}

void NeuralTrainer::make_optimizer() {
  optimizer_ = std::make_unique<torch::optim::Adam>(
      network().parameters(), torch::optim::AdamOptions(params_.learning_rate).weight_decay(params_.weight_decay));
}

double NeuralTrainer::descend(const torch::Tensor& loss, std::int64_t n) {
  optimizer_->zero_grad();
  loss.backward();
  optimizer_->step();
  return loss.item<double>() * static_cast<double>(n);
}

void NeuralTrainer::step(CancelToken& token) {
  if (stopped_) return;
  double score = std::numeric_limits<double>::quiet_NaN();
  guarded([&] {
    network().train();
    last_loss_ = train_epoch(token);
    if (params_.validation && has_validation()) {
      network().eval();
      torch::NoGradGuard no_grad;
      score = validate(token);
    }
  });
  ++done_;
  history_.push_back({done_, last_loss_, score});
  if (std::isnan(score)) return;
  const double better = lower_is_better() ? -score : score;
  if (best_epoch_ == 0 || better > best_score_) {
    best_score_ = better;
    best_epoch_ = done_;
    torch::NoGradGuard no_grad;
    best_.clear();
    for (const torch::Tensor& p : network().parameters()) best_.push_back(p.detach().clone());
  } else if (params_.patience > 0 && done_ - best_epoch_ >= params_.patience) {
    stopped_ = true;
  }
}

std::string NeuralTrainer::history_json() const {
  std::ostringstream out;
  out.precision(6);
  out << "[";
  for (std::size_t k = 0; k < history_.size(); ++k) {
    const Epoch& e = history_[k];
    out << (k > 0 ? ", " : "") << "{\"epoch\": " << e.epoch << ", \"loss\": " << e.loss;
    if (!std::isnan(e.score)) out << ", \"" << score_name() << "\": " << e.score;
    out << (e.epoch == best_epoch_ ? ", \"best\": true" : "") << "}";
  }
  out << "]";
  return out.str();
}

Model NeuralTrainer::finish(const std::string& user_type, const std::string& item_type) {
  Model m;
  guarded([&] {
    torch::NoGradGuard no_grad;
    if (!best_.empty()) {
      auto params = network().parameters();
      for (std::size_t k = 0; k < params.size(); ++k) params[k].copy_(best_[k]);
    }
    network().eval();
    m = export_model();
    for (const auto& weight : network().named_parameters())
      m.net.tensors.push_back(to_net_tensor(kTrainingWeightPrefix + weight.key(), weight.value()));
  });
  m.algorithm = params_.algorithm;
  m.user_type = user_type;
  m.item_type = item_type;
  m.params_json = params_.to_json();
  m.prepare();
  return m;
}

}  // namespace pgrec::neural
