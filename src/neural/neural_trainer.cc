#include "neural_trainer.h"

#include <cmath>
#include <limits>
#include <map>
#include <sstream>

#include "byte_io.h"
#include "collective.h"
#include "shard.h"

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
  if (ranks_ != nullptr) share_gradients();
  optimizer_->step();
  return loss.item<double>() * static_cast<double>(n);
}

std::vector<float> NeuralTrainer::item_counts() const {
  return in_.item_counts.empty() ? row_counts(in_.data.by_item) : in_.item_counts;
}

void NeuralTrainer::distribute(Collective* ranks, std::string rows, IdMap users, IdMap items) {
  ranks_ = ranks;
  rows_ = std::move(rows);
  users_ = std::move(users);
  items_ = std::move(items);
  // A global batch of batch_size examples: each rank takes its share.
  global_batch_ = params_.batch_size;
  params_.batch_size = std::max(1, (global_batch_ + ranks->size() - 1) / ranks->size());
  torch::NoGradGuard no_grad;
  for (const auto& weight : network().named_parameters()) {
    torch::Tensor p = weight.value();
    if (ranks->rank() != 0) p.zero_();
    ranks->sum(p);  // every rank starts from rank 0's weights
    const WarmLayout layout = warm_layout(weight.key());
    const bool by_rows = !layout.cold && layout.axes.size() == 1 && layout.axes[0].dim == 0 && p.dim() == 2;
    if (by_rows && params_.gradient_exchange != "dense") id_tables_.push_back(weight.key());
  }
}

std::size_t NeuralTrainer::agreed_steps(std::size_t mine) {
  if (ranks_ == nullptr) return mine;
  torch::Tensor steps = torch::zeros({ranks_->size()}, torch::kInt64);
  steps[ranks_->rank()] = static_cast<std::int64_t>(mine);
  ranks_->sum(steps);
  return static_cast<std::size_t>(steps.max().item<std::int64_t>());
}

void NeuralTrainer::idle_step() {
  optimizer_->zero_grad();
  share_gradients();
  optimizer_->step();
}

namespace {

// The rows of a gradient table [rows, width] that are not all zero, with their values, as bytes.
std::string touched_rows(const torch::Tensor& grad) {
  const torch::Tensor rows = grad.ne(0).any(1).nonzero().squeeze(1).to(torch::kCPU).contiguous();
  const torch::Tensor values = grad.index_select(0, rows.to(grad.device())).to(torch::kCPU).contiguous();
  ByteWriter w;
  w.put_array(rows.data_ptr<std::int64_t>(), static_cast<std::size_t>(rows.numel()));
  w.put_array(values.data_ptr<float>(), static_cast<std::size_t>(values.numel()));
  return std::move(w.bytes());
}

// Flattens `parts` into one tensor (on the CPU when there are none).
torch::Tensor flat(const std::vector<torch::Tensor>& parts) {
  std::vector<torch::Tensor> views;
  for (const torch::Tensor& t : parts) views.push_back(t.reshape({-1}));
  return views.empty() ? torch::zeros({0}) : torch::cat(views);
}

// Copies a tensor flat() made back into its `parts`.
void unflat(const torch::Tensor& all, std::vector<torch::Tensor>& parts) {
  std::int64_t at = 0;
  for (torch::Tensor& t : parts) {
    t.copy_(all.narrow(0, at, t.numel()).view_as(t));
    at += t.numel();
  }
}

}  // namespace

void NeuralTrainer::share_gradients() {
  torch::NoGradGuard no_grad;
  const int n = ranks_->size();
  std::map<std::string, torch::Tensor> tables;
  std::vector<torch::Tensor> dense;
  for (auto& weight : network().named_parameters()) {
    torch::Tensor& p = weight.value();
    if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);  // the same step on every rank
    if (std::find(id_tables_.begin(), id_tables_.end(), weight.key()) != id_tables_.end())
      tables[weight.key()] = p.grad();
    else
      dense.push_back(p.grad());
  }
  // One sum carries the other weights' gradients and every rank's count of rows touched per table.
  torch::Tensor counts = torch::zeros({static_cast<std::int64_t>(tables.size()), n}, torch::kFloat32);
  std::int64_t k = 0;
  for (const auto& [name, grad] : tables) counts[k++][ranks_->rank()] = grad.ne(0).any(1).sum().item<float>();
  torch::Tensor all = flat(dense);
  all = torch::cat({all.to(torch::kCPU), counts.reshape({-1})});
  ranks_->sum(all);
  const std::int64_t dense_size = all.numel() - counts.numel();
  unflat(all.narrow(0, 0, dense_size).to(dense.empty() ? torch::kCPU : dense[0].device()), dense);
  counts = all.narrow(0, dense_size, counts.numel()).view({-1, n});
  // A table goes as its touched rows when every rank's rows (and their ids) are fewer bytes than
  // the whole table summed (an allreduce moves about twice its size).
  std::vector<torch::Tensor> whole;
  std::vector<std::string> sparse_names;
  ByteWriter mine;
  k = 0;
  for (const auto& [name, grad] : tables) {
    const double touched = counts[k++].sum().item<double>();
    const double width = static_cast<double>(grad.size(1));
    const bool rows = params_.gradient_exchange == "sparse" ||
                      touched * (width + 2) < 2.0 * static_cast<double>(grad.size(0)) * width;
    if (!rows) {
      whole.push_back(grad);
      continue;
    }
    sparse_names.push_back(name);
    mine.put_string(touched_rows(grad));
  }
  if (!whole.empty()) {
    torch::Tensor t = flat(whole);
    ranks_->sum(t);
    unflat(t, whole);
  }
  if (!sparse_names.empty()) {
    const std::vector<std::string> parts = ranks_->all_bytes(mine.bytes());
    std::vector<torch::Tensor> sums;
    for (const std::string& name : sparse_names) sums.push_back(torch::zeros_like(tables[name]));
    for (const std::string& part : parts) {
      ByteReader r(part.data(), part.size());
      for (std::size_t t = 0; t < sparse_names.size(); ++t) {
        const std::string rows = r.get_string();
        ByteReader rr(rows.data(), rows.size());
        std::vector<std::int64_t> ids = rr.get_array<std::int64_t>();
        std::vector<float> values = rr.get_array<float>();
        torch::Tensor& sum = sums[t];
        const std::int64_t width = sum.size(1);
        if (values.size() != ids.size() * static_cast<std::size_t>(width))
          throw std::runtime_error("a rank sent a gradient of another width");
        if (ids.empty()) continue;
        const torch::Tensor at = torch::from_blob(ids.data(), {static_cast<std::int64_t>(ids.size())}, torch::kInt64);
        const torch::Tensor v =
            torch::from_blob(values.data(), {static_cast<std::int64_t>(ids.size()), width}, torch::kFloat32);
        sum.index_add_(0, at.to(sum.device()), v.to(sum.device()));
      }
    }
    for (std::size_t t = 0; t < sparse_names.size(); ++t) tables[sparse_names[t]].copy_(sums[t]);
  }
  for (auto& weight : network().named_parameters()) weight.value().mutable_grad().div_(n);
}

void NeuralTrainer::step(CancelToken& token) {
  if (stopped_) return;
  double score = std::numeric_limits<double>::quiet_NaN();
  guarded([&] {
    network().train();
    last_loss_ = train_epoch(token);
    const bool validating = params_.validation && has_validation();
    if (validating) {
      network().eval();
      torch::NoGradGuard no_grad;
      score = validate(token);
    }
    if (ranks_ != nullptr) {  // every rank's loss and validation users count alike
      const double users = validating ? static_cast<double>(validation_users()) : 0.0;
      torch::Tensor sums = torch::tensor({last_loss_, 1.0, validating ? score * users : 0.0, users}, torch::kFloat64);
      ranks_->sum(sums);
      last_loss_ = sums[0].item<double>() / sums[1].item<double>();
      const double all_users = sums[3].item<double>();
      score = all_users > 0 ? sums[2].item<double>() / all_users : std::numeric_limits<double>::quiet_NaN();
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
  if (ranks_ != nullptr) {  // rank 0's model holds every rank's users and rows
    const std::vector<std::string> parts = ranks_->gather_bytes(rows_);
    if (ranks_->rank() == 0) {
      InteractionBuilder all = gathered_rows(parts, users_, items_);
      if (params_.sequential()) in_.sequences = all.sequences();
      in_.data = all.build(true);
    }
    params_.batch_size = global_batch_;
  }
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
