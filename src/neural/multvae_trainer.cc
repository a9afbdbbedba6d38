// Mult-VAE (Liang et al. 2018): a user's items as an L2-normalised 0/1 vector, dropped out, pass
// through a tanh encoder to a Gaussian (μ, σ); a sample of it is decoded into logits over every
// item; the loss is the multinomial log-likelihood plus β·KL, β rising to a cap over the first epochs. The decoder is
// linear, so the served model is a factor model ([μ_u, 1] · [W_i, b_i]) that keeps its encoder:
// fold-in runs the encoder on the given items (encoder.h).
#include <algorithm>
#include <cmath>

#include "als.h"
#include "encoder.h"
#include "neural_factories.h"
#include "neural_trainer.h"

namespace pgrec::neural {

namespace {

using torch::Tensor;

struct MultVaeNet : torch::nn::Module {
  MultVaeNet(std::int64_t items, std::int64_t hidden, std::int64_t latent, double dropout) {
    input = register_module("input", torch::nn::Linear(items, hidden));
    mean = register_module("mean", torch::nn::Linear(hidden, latent));
    logvar = register_module("logvar", torch::nn::Linear(hidden, latent));
    decode = register_module("decode", torch::nn::Linear(latent, items));
    drop = register_module("drop", torch::nn::Dropout(dropout));
  }
  // The encoder's hidden layer of a batch of 0/1 item vectors [B, items].
  Tensor hidden(const Tensor& x) {
    const Tensor norm = x / x.norm(2, 1, true).clamp_min(1e-12);
    return torch::tanh(input->forward(drop->forward(norm)));
  }
  torch::nn::Linear input{nullptr}, mean{nullptr}, logvar{nullptr}, decode{nullptr};
  torch::nn::Dropout drop{nullptr};
};

class MultVaeTrainer : public NeuralTrainer {
 public:
  MultVaeTrainer(NeuralInput input, const NeuralParams& params, const torch::Device& device)
      : NeuralTrainer(std::move(input), params, device) {
    const Csr& by_user = in_.data.by_user;
    split_ = split_held_out(by_user, params_.validation, params_.seed, rng_);
    // Each user's training items (the held-out one left out), for dense batches.
    rows_.assign(static_cast<std::size_t>(by_user.rows), {});
    for (std::size_t k = 0; k < split_.users.size(); ++k)
      rows_[static_cast<std::size_t>(split_.users[k])].push_back(split_.items[k]);
    for (std::int32_t u = 0; u < by_user.rows; ++u)
      if (!rows_[static_cast<std::size_t>(u)].empty()) active_.push_back(u);
    net_ = std::make_shared<MultVaeNet>(by_user.cols, params_.hidden, params_.factors, params_.dropout);
    // The decoder's bias starts at log popularity: the first epoch starts from the popularity ranking.
    {
      torch::NoGradGuard no_grad;
      std::vector<float> log_count(static_cast<std::size_t>(by_user.cols), 0.0f);
      if (!in_.item_counts.empty())
        log_count = in_.item_counts;  // every rank's
      else
        for (std::int32_t i : split_.items) log_count[static_cast<std::size_t>(i)] += 1.0f;
      for (float& c : log_count) c = std::log(c + 1.0f);
      net_->decode->bias.copy_(torch::from_blob(log_count.data(), {by_user.cols}).clone());
    }
    net_->to(device_);
    make_optimizer();
  }

 protected:
  // The 0/1 item vectors of `users` [B, items].
  Tensor batch_of(const std::vector<std::int64_t>& users) {
    std::vector<std::int64_t> r, c;
    for (std::size_t k = 0; k < users.size(); ++k)
      for (std::int32_t i : rows_[static_cast<std::size_t>(users[k])]) {
        r.push_back(static_cast<std::int64_t>(k));
        c.push_back(i);
      }
    Tensor x = torch::zeros({static_cast<std::int64_t>(users.size()), in_.data.by_user.cols},
                            torch::TensorOptions().device(device_));
    x.index_put_({index_tensor(r, device_), index_tensor(c, device_)}, 1.0);
    return x;
  }

  double train_epoch(CancelToken& token) override {
    std::vector<std::int32_t> order = active_;
    const auto batch = static_cast<std::size_t>(params_.batch_size);
    double total = 0;
    for_each_batch(order, token, [&](auto first, auto last) {
      const Tensor x = batch_of(std::vector<std::int64_t>(first, last));
      const Tensor h = net_->hidden(x);
      const Tensor mu = net_->mean->forward(h), logvar = net_->logvar->forward(h);
      const Tensor z = mu + torch::randn_like(mu) * torch::exp(0.5 * logvar);
      const Tensor nll = -(torch::log_softmax(net_->decode->forward(z), 1) * x).sum(1).mean();
      const Tensor kl = (-0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(1)).mean();
      // β rises linearly to its cap over the first `anneal_epochs` epochs.
      const double per_epoch = std::ceil(static_cast<double>(order.size()) / static_cast<double>(batch));
      const double beta = params_.beta_cap * std::min(1.0, static_cast<double>(updates_) / (params_.anneal_epochs * per_epoch));
      ++updates_;
      total += descend(nll + beta * kl, static_cast<std::int64_t>(last - first));
    });
    return order.empty() ? 0.0 : total / static_cast<double>(order.size());
  }

  // Logits over every item for `ids`' training items, through μ (no sampling).
  Tensor scores(const Tensor& ids) {
    const Tensor cpu = ids.to(torch::kCPU);
    std::vector<std::int64_t> users(cpu.data_ptr<std::int64_t>(), cpu.data_ptr<std::int64_t>() + cpu.numel());
    return net_->decode->forward(net_->mean->forward(net_->hidden(batch_of(users))));
  }

  double validate(CancelToken& token) override {
    return validate_held_out(in_.data.by_user, split_, validation_block(in_.data.by_user.cols, 2, 256), device_, token,
                             [&](const Tensor& ids) { return scores(ids); });
  }
  bool has_validation() const override { return !split_.valid_users.empty(); }
  std::size_t validation_users() const override { return split_.valid_users.size(); }
  torch::nn::Module& network() override { return *net_; }
  // The encoder's input columns and the decoder's output rows are the items'.
  WarmLayout warm_layout(const std::string& name) const override {
    if (name == "input.weight") return {{{true, 1, 0, false}}, false};
    if (name.rfind("decode.", 0) == 0) return {{{true, 0, 0, false}}, false};
    return {};
  }

  Model export_model() override {
    // Every user's μ from all of their items (the held-out one included: it is theirs).
    const Csr& by_user = in_.data.by_user;
    for (std::int32_t u = 0; u < by_user.rows; ++u)
      rows_[static_cast<std::size_t>(u)].assign(by_user.indices.begin() + by_user.offsets[u],
                                                by_user.indices.begin() + by_user.offsets[u + 1]);
    std::vector<Tensor> parts;
    for (std::int64_t first = 0; first < by_user.rows; first += 1024) {
      std::vector<std::int64_t> ids;
      for (std::int64_t u = first; u < std::min<std::int64_t>(by_user.rows, first + 1024); ++u) ids.push_back(u);
      parts.push_back(net_->mean->forward(net_->hidden(batch_of(ids))));
    }
    const Tensor mu = parts.empty() ? torch::zeros({0, params_.factors}, torch::TensorOptions().device(device_)) : torch::cat(parts, 0);
    const Tensor users = torch::cat({mu, torch::ones({mu.size(0), 1}, mu.options())}, 1);
    const Tensor items = torch::cat({net_->decode->weight, net_->decode->bias.unsqueeze(1)}, 1);
    Model m = make_factor_model(params_.algorithm, false, std::move(in_.data), 0.0f, to_matrix(users), to_matrix(items), "", "");
    m.fixed_user_columns = 1;
    m.net.tensors.push_back(to_net_tensor(kEncoderInput, net_->input->weight.t()));
    m.net.tensors.push_back(to_net_tensor(kEncoderInputBias, net_->input->bias));
    m.net.tensors.push_back(to_net_tensor(kEncoderMean, net_->mean->weight));
    m.net.tensors.push_back(to_net_tensor(kEncoderMeanBias, net_->mean->bias));
    return m;
  }

 private:
  HeldOutSplit split_;
  std::vector<std::vector<std::int32_t>> rows_;
  std::vector<std::int32_t> active_;
  std::int64_t updates_ = 0;
  std::shared_ptr<MultVaeNet> net_;
};

}  // namespace

std::unique_ptr<Trainer> make_multvae_trainer(NeuralInput input, const NeuralParams& params, const std::string& device) {
  return std::make_unique<MultVaeTrainer>(std::move(input), params, torch::Device(device));
}

}  // namespace pgrec::neural
