// LightGCN (He et al. 2020): user and item embeddings propagated over the symmetrically
// normalised user-item graph for `layers` layers (no weights, no non-linearity), the layers
// averaged, and trained with BPR on sampled negatives plus L2 on the batch's base embeddings.
// The propagated embeddings are stored as a factor model (fold-in by BPR steps, as for bpr).
#include <algorithm>
#include <cmath>

#include "als.h"
#include "neural_factories.h"
#include "neural_trainer.h"

namespace pgrec::neural {

namespace {

using torch::Tensor;

struct LightGcnNet : torch::nn::Module {
  LightGcnNet(std::int64_t users, std::int64_t items, std::int64_t d) {
    embedding = register_parameter("embedding", torch::randn({users + items, d}) * 0.1);
  }
  Tensor embedding;  // users, then items
};

class LightGcnTrainer : public NeuralTrainer {
 public:
  LightGcnTrainer(NeuralInput input, const NeuralParams& params, const torch::Device& device)
      : NeuralTrainer(std::move(input), params, device) {
    const Csr& by_user = in_.data.by_user;
    users_ = by_user.rows;
    split_ = split_held_out(by_user, params_.validation, params_.seed, rng_);
    // Â = D^-1/2 A D^-1/2 over users + items, from the training interactions (both directions).
    std::vector<double> degree(static_cast<std::size_t>(users_ + by_user.cols), 0.0);
    for (std::size_t k = 0; k < split_.users.size(); ++k) {
      degree[static_cast<std::size_t>(split_.users[k])] += 1;
      degree[static_cast<std::size_t>(users_ + split_.items[k])] += 1;
    }
    std::vector<std::int64_t> rows, cols;
    std::vector<float> values;
    for (std::size_t k = 0; k < split_.users.size(); ++k) {
      const std::int64_t u = split_.users[k], i = users_ + split_.items[k];
      const auto w = static_cast<float>(1.0 / std::sqrt(degree[static_cast<std::size_t>(u)] * degree[static_cast<std::size_t>(i)]));
      rows.insert(rows.end(), {u, i});
      cols.insert(cols.end(), {i, u});
      values.insert(values.end(), {w, w});
    }
    const auto n = static_cast<std::int64_t>(values.size());
    const Tensor index = torch::stack({index_tensor(rows, torch::kCPU), index_tensor(cols, torch::kCPU)});
    const Tensor value = torch::from_blob(values.data(), {n}).clone();
    graph_ = torch::sparse_coo_tensor(index, value, {users_ + by_user.cols, users_ + by_user.cols}).coalesce().to(device_);
    net_ = std::make_shared<LightGcnNet>(users_, by_user.cols, params_.factors);
    net_->to(device_);
    // Distributed: every rank holds the whole graph (and holds out the same interactions), and
    // trains and validates on its own users only.
    for (std::size_t k = 0; k < split_.users.size(); ++k)
      if (own(split_.users[k])) trained_.push_back(k);
    split_.valid_users.erase(std::remove_if(split_.valid_users.begin(), split_.valid_users.end(),
                                            [&](std::int32_t u) { return !own(u); }),
                             split_.valid_users.end());
    make_optimizer();
  }

 protected:
  // Whether this rank trains user u.
  bool own(std::int32_t u) const { return in_.own_end < 0 || (u >= in_.own_begin && u < in_.own_end); }

  // The mean of the embedding layers 0..L.
  Tensor propagate() {
    Tensor layer = net_->embedding, sum = layer;
    for (std::int32_t l = 0; l < params_.layers; ++l) {
      layer = torch::mm(graph_, layer);
      sum = sum + layer;
    }
    return sum / static_cast<double>(params_.layers + 1);
  }

  double train_epoch(CancelToken& token) override {
    const Csr& by_user = in_.data.by_user;
    std::vector<std::size_t> order = trained_;
    std::uniform_int_distribution<std::int32_t> pick(0, by_user.cols - 1);
    double total = 0;
    for_each_batch(order, token, [&](auto first, auto last) {
      std::vector<std::int64_t> u, pos, neg;
      for (auto k = first; k != last; ++k) {
        const std::int32_t user = split_.users[*k];
        const auto seen_first = by_user.indices.begin() + by_user.offsets[user];
        const auto seen_last = by_user.indices.begin() + by_user.offsets[user + 1];
        std::int32_t j = pick(rng_);
        for (int tries = 0; tries < 10 && std::binary_search(seen_first, seen_last, j); ++tries) j = pick(rng_);
        u.push_back(user);
        pos.push_back(users_ + split_.items[*k]);
        neg.push_back(users_ + j);
      }
      const Tensor tu = index_tensor(u, device_), tp = index_tensor(pos, device_), tn = index_tensor(neg, device_);
      const Tensor all = propagate();
      const Tensor eu = all.index_select(0, tu);
      const Tensor diff = (eu * (all.index_select(0, tp) - all.index_select(0, tn))).sum(1);
      const Tensor base = net_->embedding;
      const Tensor l2 = (base.index_select(0, tu).pow(2).sum() + base.index_select(0, tp).pow(2).sum() +
                         base.index_select(0, tn).pow(2).sum()) * (0.5 * params_.regularization);
      const auto b = static_cast<double>(last - first);
      const Tensor loss = -torch::nn::functional::logsigmoid(diff).mean() + l2 / b;
      total += descend(loss, static_cast<std::int64_t>(last - first));
    });
    return order.empty() ? 0.0 : total / static_cast<double>(order.size());
  }

  double validate(CancelToken& token) override {
    const Tensor all = propagate();
    const Tensor items = all.narrow(0, users_, all.size(0) - users_);
    return validate_held_out(in_.data.by_user, split_, validation_block(in_.data.by_user.cols, 1, 256), device_, token,
                             [&](const Tensor& ids) { return torch::matmul(all.index_select(0, ids), items.t()); });
  }
  bool has_validation() const override { return !split_.valid_users.empty(); }
  std::size_t validation_users() const override { return split_.valid_users.size(); }
  torch::nn::Module& network() override { return *net_; }
  // The base embeddings: the users' rows, then the items'.
  WarmLayout warm_layout(const std::string&) const override { return {{{false, 0, 0, false}, {true, 0, 0, true}}, false}; }

  Model export_model() override {
    const Tensor all = propagate();
    Model m = make_factor_model(params_.algorithm, false, std::move(in_.data), 0.0f, to_matrix(all.narrow(0, 0, users_)),
                                to_matrix(all.narrow(0, users_, all.size(0) - users_)), "", "");
    m.fold_in_reg = static_cast<float>(std::max(params_.regularization, 1e-3));
    return m;
  }

 private:
  std::int64_t users_ = 0;
  HeldOutSplit split_;
  std::vector<std::size_t> trained_;  // the entries of split_ this rank trains on
  Tensor graph_;
  std::shared_ptr<LightGcnNet> net_;
};

}  // namespace

std::unique_ptr<Trainer> make_lightgcn_trainer(NeuralInput input, const NeuralParams& params, const std::string& device) {
  return std::make_unique<LightGcnTrainer>(std::move(input), params, torch::Device(device));
}

}  // namespace pgrec::neural
