// NeuMF (He et al. 2017): a GMF branch (element-wise product of embeddings) and an MLP branch
// over concatenated embeddings, fused by one output layer; BCE against sampled negatives.
#include <algorithm>
#include <cmath>

#include "neural_factories.h"
#include "neural_trainer.h"

namespace pgrec::neural {

namespace {

using torch::Tensor;

struct NeuMfNet : torch::nn::Module {
  NeuMfNet(const NeuralParams& p, std::int64_t users, std::int64_t items) {
    const std::int64_t g = p.factors, m = p.mlp_factors;
    p_gmf = register_module("p_gmf", torch::nn::Embedding(users, g));
    q_gmf = register_module("q_gmf", torch::nn::Embedding(items, g));
    p_mlp = register_module("p_mlp", torch::nn::Embedding(users, m));
    q_mlp = register_module("q_mlp", torch::nn::Embedding(items, m));
    for (auto* e : {&p_gmf, &q_gmf, &p_mlp, &q_mlp}) torch::nn::init::normal_((*e)->weight, 0.0, 0.01);
    std::int64_t width = 2 * m;
    for (std::int32_t j = 0; j < p.mlp_layers; ++j) {
      const std::int64_t next = std::max<std::int64_t>(1, width / 2);
      layers.push_back(register_module("mlp" + std::to_string(j), torch::nn::Linear(width, next)));
      width = next;
    }
    out = register_module("out", torch::nn::Linear(g + width, 1));
    dropout = register_module("dropout", torch::nn::Dropout(p.dropout));
  }

  // The logits of (user, item) pairs.
  Tensor forward(const Tensor& users, const Tensor& items) {
    const Tensor gmf = p_gmf->forward(users) * q_gmf->forward(items);
    Tensor z = torch::cat({p_mlp->forward(users), q_mlp->forward(items)}, 1);
    for (auto& layer : layers) z = dropout->forward(torch::relu(layer->forward(z)));
    return out->forward(torch::cat({gmf, z}, 1)).squeeze(1);
  }

  torch::nn::Embedding p_gmf{nullptr}, q_gmf{nullptr}, p_mlp{nullptr}, q_mlp{nullptr};
  std::vector<torch::nn::Linear> layers;
  torch::nn::Linear out{nullptr};
  torch::nn::Dropout dropout{nullptr};
};

class NeuMfTrainer : public NeuralTrainer {
 public:
  NeuMfTrainer(NeuralInput input, const NeuralParams& params, const torch::Device& device)
      : NeuralTrainer(params, device), in_(std::move(input)) {
    const Csr& by_user = in_.data.by_user;
    held_ = params_.validation ? hold_out_one(by_user, params_.seed) : std::vector<std::int32_t>(by_user.rows, -1);
    for (std::int32_t u = 0; u < by_user.rows; ++u) {
      bool skipped = false;
      for (std::int64_t p = by_user.offsets[u]; p < by_user.offsets[u + 1]; ++p) {
        const std::int32_t i = by_user.indices[static_cast<std::size_t>(p)];
        if (!skipped && i == held_[static_cast<std::size_t>(u)]) {
          skipped = true;
          continue;
        }
        pos_users_.push_back(u);
        pos_items_.push_back(i);
      }
      if (held_[static_cast<std::size_t>(u)] >= 0) valid_users_.push_back(u);
    }
    std::shuffle(valid_users_.begin(), valid_users_.end(), rng_);
    if (valid_users_.size() > 2000) valid_users_.resize(2000);
    net_ = std::make_shared<NeuMfNet>(params_, by_user.rows, in_.data.by_item.rows);
    if (in_.init_users.size() > 0) {
      // A trained MF starts the GMF branch (its width must be the MF's factors).
      torch::NoGradGuard no_grad;
      net_->p_gmf->weight.copy_(torch::from_blob(in_.init_users.data(), {in_.init_users.rows(), in_.init_users.cols()}));
      net_->q_gmf->weight.copy_(torch::from_blob(in_.init_items.data(), {in_.init_items.rows(), in_.init_items.cols()}));
    }
    net_->to(device_);
    make_optimizer();
  }

 protected:
  double train_epoch(CancelToken& token) override {
    const Csr& by_user = in_.data.by_user;
    const std::int32_t n_items = by_user.cols;
    const std::int32_t neg = params_.negatives;
    std::vector<std::size_t> order(pos_users_.size());
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), rng_);
    std::uniform_int_distribution<std::int32_t> any_item(0, n_items - 1);
    // A sampled item the user has not interacted with (a few tries, then any).
    const auto negative = [&](std::int32_t u) {
      const auto first = by_user.indices.begin() + by_user.offsets[u], last = by_user.indices.begin() + by_user.offsets[u + 1];
      std::int32_t j = any_item(rng_);
      for (int t = 0; t < 10 && std::binary_search(first, last, j); ++t) j = any_item(rng_);
      return j;
    };
    const std::size_t batch = static_cast<std::size_t>(params_.batch_size);
    double total = 0;
    std::int64_t counted = 0;
    for (std::size_t first = 0; first < order.size(); first += batch) {
      token.check();
      const std::size_t last = std::min(order.size(), first + batch);
      std::vector<std::int64_t> users, items;
      std::vector<float> labels;
      for (std::size_t k = first; k < last; ++k) {
        const std::int32_t u = pos_users_[order[k]];
        users.push_back(u);
        items.push_back(pos_items_[order[k]]);
        labels.push_back(1.0f);
        for (std::int32_t s = 0; s < neg; ++s) {
          users.push_back(u);
          items.push_back(negative(u));
          labels.push_back(0.0f);
        }
      }
      const Tensor y = torch::from_blob(labels.data(), {static_cast<std::int64_t>(labels.size())}).clone().to(device_);
      const Tensor logits = net_->forward(index_tensor(users, device_), index_tensor(items, device_));
      const Tensor loss = torch::nn::functional::binary_cross_entropy_with_logits(logits, y);
      optimizer_->zero_grad();
      loss.backward();
      optimizer_->step();
      total += loss.item<double>() * static_cast<double>(labels.size());
      counted += static_cast<std::int64_t>(labels.size());
    }
    return counted > 0 ? total / static_cast<double>(counted) : 0.0;
  }

  double validate(CancelToken& token) override {
    const Csr& by_user = in_.data.by_user;
    const std::int64_t n_items = by_user.cols;
    const Tensor all_items = torch::arange(n_items, torch::TensorOptions().dtype(torch::kInt64).device(device_));
    double sum = 0;
    for (std::size_t first = 0; first < valid_users_.size(); first += 64) {
      token.check();
      const std::size_t last = std::min(valid_users_.size(), first + 64);
      const auto rows = static_cast<std::int64_t>(last - first);
      std::vector<std::int64_t> users, targets, skip_rows, skip_cols;
      for (std::size_t j = first; j < last; ++j) {
        const std::int32_t u = valid_users_[j];
        users.push_back(u);
        targets.push_back(held_[static_cast<std::size_t>(u)]);
        for (std::int64_t p = by_user.offsets[u]; p < by_user.offsets[u + 1]; ++p) {
          skip_rows.push_back(static_cast<std::int64_t>(j - first));
          skip_cols.push_back(by_user.indices[static_cast<std::size_t>(p)]);
        }
      }
      const Tensor u = index_tensor(users, device_).repeat_interleave(n_items);
      const Tensor scores = net_->forward(u, all_items.repeat({rows})).view({rows, n_items});
      Tensor skip = torch::zeros({rows, n_items}, torch::TensorOptions().dtype(torch::kBool).device(device_));
      skip.index_put_({index_tensor(skip_rows, device_), index_tensor(skip_cols, device_)}, true);
      const Tensor y = index_tensor(targets, device_);
      skip.scatter_(1, y.unsqueeze(1), false);
      sum += ndcg_at_10(scores, skip, y);
    }
    return valid_users_.empty() ? 0.0 : sum / static_cast<double>(valid_users_.size());
  }

  bool has_validation() const override { return !valid_users_.empty(); }
  torch::nn::Module& network() override { return *net_; }

  Model export_model() override {
    Model m;
    m.kind = ModelKind::NeuralMf;
    m.explicit_ratings = false;
    m.user_factors = to_matrix(torch::cat({net_->p_gmf->weight, net_->p_mlp->weight}, 1));
    m.item_factors = to_matrix(torch::cat({net_->q_gmf->weight, net_->q_mlp->weight}, 1));
    m.net.gmf_factors = params_.factors;
    for (std::size_t j = 0; j < net_->layers.size(); ++j) {
      m.net.tensors.push_back(to_net_tensor("mlp." + std::to_string(j) + ".w", net_->layers[j]->weight));
      m.net.tensors.push_back(to_net_tensor("mlp." + std::to_string(j) + ".b", net_->layers[j]->bias));
    }
    m.net.tensors.push_back(to_net_tensor("out.w", net_->out->weight));
    m.net.tensors.push_back(to_net_tensor("out.b", net_->out->bias));
    m.popularity = row_counts(in_.data.by_item);
    m.seen = std::move(in_.data.by_user);
    m.users = std::move(in_.data.users);
    m.items = std::move(in_.data.items);
    return m;
  }

 private:
  NeuralInput in_;
  std::vector<std::int32_t> held_;
  std::vector<std::int32_t> pos_users_, pos_items_;
  std::vector<std::int32_t> valid_users_;
  std::shared_ptr<NeuMfNet> net_;
};

}  // namespace

std::unique_ptr<Trainer> make_neumf_trainer(NeuralInput input, const NeuralParams& params, const std::string& device) {
  return std::make_unique<NeuMfTrainer>(std::move(input), params, torch::Device(device));
}

}  // namespace pgrec::neural
