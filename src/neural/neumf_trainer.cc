// NeuMF (He et al. 2017): a GMF branch (element-wise product of embeddings) and an MLP branch
// over concatenated embeddings, fused by one output layer; BCE against sampled negatives.
#include <algorithm>
#include <cmath>

#include "als.h"
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
      : NeuralTrainer(std::move(input), params, device) {
    const Csr& by_user = in_.data.by_user;
    split_ = split_held_out(by_user, params_.validation, params_.seed, rng_);
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
    std::vector<std::size_t> order(split_.users.size());
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
    double total = 0;
    std::int64_t counted = 0;
    for_each_range(order.size(), token, [&](std::size_t first, std::size_t last) {
      std::vector<std::int64_t> users, items;
      std::vector<float> labels;
      for (std::size_t k = first; k < last; ++k) {
        const std::int32_t u = split_.users[order[k]];
        users.push_back(u);
        items.push_back(split_.items[order[k]]);
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
      total += descend(loss, static_cast<std::int64_t>(labels.size()));
      counted += static_cast<std::int64_t>(labels.size());
    });
    return counted > 0 ? total / static_cast<double>(counted) : 0.0;
  }

  double validate(CancelToken& token) override {
    const Csr& by_user = in_.data.by_user;
    const std::int64_t n_items = by_user.cols;
    const Tensor all_items = torch::arange(n_items, torch::TensorOptions().dtype(torch::kInt64).device(device_));
    // Every (user, item) pair runs through the MLP: few users per block.
    return validate_held_out(by_user, split_, validation_block(n_items, 2 * params_.mlp_factors, 32), device_, token,
                             [&](const Tensor& users) {
      const std::int64_t rows = users.size(0);
      return net_->forward(users.repeat_interleave(n_items), all_items.repeat({rows})).view({rows, n_items});
    });
  }

  bool has_validation() const override { return !split_.valid_users.empty(); }
  std::size_t validation_users() const override { return split_.valid_users.size(); }
  torch::nn::Module& network() override { return *net_; }
  // The embeddings by id (p_ the users', q_ the items'), the MLP and output layers whole.
  WarmLayout warm_layout(const std::string& name) const override {
    if (name[0] == 'p' || name[0] == 'q') return {{{name[0] == 'q', 0, 0, false}}, false};
    return {};
  }

  Model export_model() override {
    Model m = make_factor_model(params_.algorithm, false, std::move(in_.data), 0.0f,
                                to_matrix(torch::cat({net_->p_gmf->weight, net_->p_mlp->weight}, 1)),
                                to_matrix(torch::cat({net_->q_gmf->weight, net_->q_mlp->weight}, 1)), "", "");
    m.kind = ModelKind::NeuralMf;
    m.net.gmf_factors = params_.factors;
    for (std::size_t j = 0; j < net_->layers.size(); ++j) {
      m.net.tensors.push_back(to_net_tensor("mlp." + std::to_string(j) + ".w", net_->layers[j]->weight));
      m.net.tensors.push_back(to_net_tensor("mlp." + std::to_string(j) + ".b", net_->layers[j]->bias));
    }
    m.net.tensors.push_back(to_net_tensor("out.w", net_->out->weight));
    m.net.tensors.push_back(to_net_tensor("out.b", net_->out->bias));
    return m;
  }

 private:
  HeldOutSplit split_;
  std::shared_ptr<NeuMfNet> net_;
};

}  // namespace

std::unique_ptr<Trainer> make_neumf_trainer(NeuralInput input, const NeuralParams& params, const std::string& device) {
  return std::make_unique<NeuMfTrainer>(std::move(input), params, torch::Device(device));
}

}  // namespace pgrec::neural
