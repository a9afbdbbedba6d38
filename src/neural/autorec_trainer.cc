// I-AutoRec (Sedhain et al. 2015): each item's ratings over the users pass through one sigmoid
// hidden layer and are reconstructed; the loss is the squared error on the observed ratings plus
// L2 on the weights (optionally denoising: a share of the inputs dropped). Served as a factor model: an item's code [h_i, 1] against a user's output
// row [W_u, b_u] gives the reconstructed rating, so top-k, IVF and fold-in are the factor path's.
#include <algorithm>
#include <cmath>

#include "als.h"
#include "neural_factories.h"
#include "neural_trainer.h"

namespace pgrec::neural {

namespace {

using torch::Tensor;

struct AutoRecNet : torch::nn::Module {
  AutoRecNet(std::int64_t users, std::int64_t hidden) {
    encode = register_module("encode", torch::nn::Linear(users, hidden));
    decode = register_module("decode", torch::nn::Linear(hidden, users));
  }
  // The hidden codes of a batch of item rating vectors [B, users].
  Tensor code(const Tensor& ratings) { return torch::sigmoid(encode->forward(ratings)); }
  torch::nn::Linear encode{nullptr}, decode{nullptr};
};

class AutoRecTrainer : public NeuralTrainer {
 public:
  AutoRecTrainer(NeuralInput input, const NeuralParams& params, const torch::Device& device)
      : NeuralTrainer(std::move(input), params, device) {
    const Csr& by_user = in_.data.by_user;
    held_ = params_.validation ? hold_out_one(by_user, params_.seed)
                               : std::vector<std::int32_t>(static_cast<std::size_t>(by_user.rows), -1);
    // The training matrix items x users (dense: I-AutoRec reads whole item vectors) and its mask.
    const std::int64_t users = by_user.rows, items = by_user.cols;
    std::vector<float> r(static_cast<std::size_t>(items * users), 0.0f), mask(r.size(), 0.0f);
    std::vector<std::int64_t> vu, vi;
    std::vector<float> vr;
    for (std::int32_t u = 0; u < by_user.rows; ++u)
      for (std::int64_t p = by_user.offsets[u]; p < by_user.offsets[u + 1]; ++p) {
        const std::int32_t i = by_user.indices[static_cast<std::size_t>(p)];
        const float v = by_user.values[static_cast<std::size_t>(p)];
        if (i == held_[static_cast<std::size_t>(u)]) {
          vu.push_back(u);
          vi.push_back(i);
          vr.push_back(v);
          continue;
        }
        r[static_cast<std::size_t>(i * users + u)] = v;
        mask[static_cast<std::size_t>(i * users + u)] = 1.0f;
      }
    ratings_ = torch::from_blob(r.data(), {items, users}).clone().to(device_);
    mask_ = torch::from_blob(mask.data(), {items, users}).clone().to(device_);
    observed_ = std::max(1.0, mask_.sum().item<double>());
    // Distributed: every rank holds every rating and trains its share of the items.
    own_begin_ = in_.own_end < 0 ? 0 : in_.own_begin;
    own_end_ = in_.own_end < 0 ? items : in_.own_end;
    own_observed_ = std::max(1.0, mask_.narrow(0, own_begin_, own_end_ - own_begin_).sum().item<double>());
    valid_users_ = index_tensor(vu, device_);
    valid_items_ = index_tensor(vi, device_);
    valid_ratings_ = torch::from_blob(vr.data(), {static_cast<std::int64_t>(vr.size())}).clone().to(device_);
    net_ = std::make_shared<AutoRecNet>(users, params_.factors);
    // Each user's output starts at their mean training rating (the global mean for users without one).
    {
      torch::NoGradGuard no_grad;
      const Tensor count = mask_.sum(0);
      const double global = ratings_.sum().item<double>() / observed_;
      net_->decode->bias.copy_(torch::where(count > 0, ratings_.sum(0) / count.clamp_min(1), torch::full_like(count, global)).cpu());
    }
    net_->to(device_);
    make_optimizer();
  }

 protected:
  double train_epoch(CancelToken& token) override {
    const std::int64_t items = ratings_.size(0);
    std::vector<std::int64_t> order(static_cast<std::size_t>(own_end_ - own_begin_));
    std::iota(order.begin(), order.end(), own_begin_);
    double total = 0;
    for_each_batch(order, token, [&](auto first, auto last) {
      const Tensor ids = index_tensor(std::vector<std::int64_t>(first, last), device_);
      const Tensor r = ratings_.index_select(0, ids), m = mask_.index_select(0, ids);
      // Denoising: `dropout` of the observed inputs hidden, all of them still reconstructed.
      const Tensor in = params_.dropout > 0 ? r * torch::bernoulli(torch::full_like(r, 1.0 - params_.dropout)) : r;
      const Tensor out = net_->decode->forward(net_->code(in));
      const Tensor err = ((out - r) * m).pow(2).sum();
      // The batch's share of the L2 term (the whole objective's over one epoch).
      const double share = static_cast<double>(ids.size(0)) / static_cast<double>(items);
      const Tensor l2 = (net_->encode->weight.pow(2).sum() + net_->decode->weight.pow(2).sum()) *
                        (0.5 * params_.regularization * share);
      const double n = std::max(1.0, m.sum().item<double>());
      const Tensor loss = (err + l2) / n;
      total += descend(loss, 1) * n;
    });
    return total / own_observed_;
  }

  // RMSE of the held-out ratings (one per user), predicted from the training ratings.
  double validate(CancelToken& token) override {
    token.check();
    const Tensor codes = net_->code(ratings_.index_select(0, valid_items_));  // [V, hidden]
    const Tensor w = net_->decode->weight.index_select(0, valid_users_);      // [V, hidden]
    const Tensor pred = (codes * w).sum(1) + net_->decode->bias.index_select(0, valid_users_);
    return std::sqrt((pred - valid_ratings_).pow(2).mean().item<double>());
  }
  bool has_validation() const override { return valid_users_.numel() > 0; }
  std::size_t validation_users() const override { return static_cast<std::size_t>(valid_users_.numel()); }
  const char* score_name() const override { return "rmse"; }
  bool lower_is_better() const override { return true; }
  torch::nn::Module& network() override { return *net_; }
  // The encoder's input columns and the decoder's output rows are the users'.
  WarmLayout warm_layout(const std::string& name) const override {
    if (name == "encode.weight") return {{{false, 1, 0, false}}, false};
    if (name.rfind("decode.", 0) == 0) return {{{false, 0, 0, false}}, false};
    return {};
  }

  Model export_model() override {
    const Tensor codes = net_->code(ratings_);
    const auto ones = torch::ones({codes.size(0), 1}, codes.options());
    const Tensor items = torch::cat({codes, ones}, 1);
    const Tensor users = torch::cat({net_->decode->weight, net_->decode->bias.unsqueeze(1)}, 1);
    Model m = make_factor_model(params_.algorithm, true, std::move(in_.data), 0.0f, to_matrix(users), to_matrix(items), "", "");
    m.fold_in_reg = 0.1f;
    return m;
  }

 private:
  std::vector<std::int32_t> held_;
  Tensor ratings_, mask_, valid_users_, valid_items_, valid_ratings_;
  double observed_ = 1;
  std::int64_t own_begin_ = 0, own_end_ = 0;  // the items this rank trains on
  double own_observed_ = 1;                  // their training ratings
  std::shared_ptr<AutoRecNet> net_;
};

}  // namespace

std::unique_ptr<Trainer> make_autorec_trainer(NeuralInput input, const NeuralParams& params, const std::string& device) {
  return std::make_unique<AutoRecTrainer>(std::move(input), params, torch::Device(device));
}

}  // namespace pgrec::neural
