// SASRec (Kang & McAuley 2018, pre-norm blocks) and GRU4Rec-style GRU models, trained for
// next-item prediction with a full softmax (cross-entropy over every item) at every position.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "als.h"
#include "neural_factories.h"
#include "neural_trainer.h"

namespace pgrec::neural {

namespace {

using torch::Tensor;

// The network: tied item embeddings (row 0 is padding), then attention blocks or a GRU.
struct SequenceNet : torch::nn::Module {
  SequenceNet(const NeuralParams& p, std::int64_t n_items) : p_(p), d_(p.factors) {
    items = register_module("items", torch::nn::Embedding(torch::nn::EmbeddingOptions(n_items + 1, d_).padding_idx(0)));
    torch::nn::init::normal_(items->weight, 0.0, 1.0 / std::sqrt(static_cast<double>(d_)));
    {
      torch::NoGradGuard no_grad;
      items->weight[0].zero_();
    }
    dropout = register_module("dropout", torch::nn::Dropout(p.dropout));
    if (p.algorithm == "sasrec") {
      pos = register_module("pos", torch::nn::Embedding(p.max_len, d_));
      torch::nn::init::normal_(pos->weight, 0.0, 0.02);
      for (std::int32_t b = 0; b < p.blocks; ++b) {
        const std::string n = "block" + std::to_string(b) + "_";
        ln1.push_back(register_module(n + "ln1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({d_}))));
        ln2.push_back(register_module(n + "ln2", torch::nn::LayerNorm(torch::nn::LayerNormOptions({d_}))));
        for (const char* lin : {"q", "k", "v", "o", "ff1", "ff2"})
          linears.push_back(register_module(n + lin, torch::nn::Linear(d_, d_)));
      }
      ln = register_module("ln", torch::nn::LayerNorm(torch::nn::LayerNormOptions({d_})));
    } else {
      gru = register_module("gru", torch::nn::GRUCell(d_, d_));
    }
  }

  // The hidden state at every position of left-padded inputs [B, L] (item index + 1, 0 = pad).
  Tensor forward(const Tensor& inputs) {
    const Tensor real = inputs.ne(0);
    Tensor x = items->forward(inputs);
    if (p_.algorithm == "sasrec") return attend(x * std::sqrt(static_cast<double>(d_)), real);
    return recur(dropout->forward(x), real);
  }

  // The item embeddings without the padding row.
  Tensor item_weights() { return items->weight.slice(0, 1); }

  // The weights under the names the core reads.
  std::vector<NetTensor> export_tensors() {
    std::vector<NetTensor> out;
    if (p_.algorithm == "sasrec") {
      out.push_back(to_net_tensor("pos", pos->weight));
      const char* names[] = {"q", "k", "v", "o", "ff1", "ff2"};
      for (std::int32_t b = 0; b < p_.blocks; ++b) {
        const std::string n = "block" + std::to_string(b) + ".";
        out.push_back(to_net_tensor(n + "ln1.w", ln1[b]->weight));
        out.push_back(to_net_tensor(n + "ln1.b", ln1[b]->bias));
        out.push_back(to_net_tensor(n + "ln2.w", ln2[b]->weight));
        out.push_back(to_net_tensor(n + "ln2.b", ln2[b]->bias));
        for (int j = 0; j < 6; ++j) {
          out.push_back(to_net_tensor(n + names[j] + ".w", linears[b * 6 + j]->weight));
          out.push_back(to_net_tensor(n + names[j] + ".b", linears[b * 6 + j]->bias));
        }
      }
      out.push_back(to_net_tensor("ln.w", ln->weight));
      out.push_back(to_net_tensor("ln.b", ln->bias));
    } else {
      out.push_back(to_net_tensor("gru.w_ih", gru->weight_ih));
      out.push_back(to_net_tensor("gru.w_hh", gru->weight_hh));
      out.push_back(to_net_tensor("gru.b_ih", gru->bias_ih));
      out.push_back(to_net_tensor("gru.b_hh", gru->bias_hh));
    }
    return out;
  }

  torch::nn::Embedding items{nullptr}, pos{nullptr};
  torch::nn::Dropout dropout{nullptr};
  std::vector<torch::nn::LayerNorm> ln1, ln2;
  std::vector<torch::nn::Linear> linears;
  torch::nn::LayerNorm ln{nullptr};
  torch::nn::GRUCell gru{nullptr};

 private:
  // Pre-norm transformer blocks with causal attention that skips padding.
  Tensor attend(Tensor x, const Tensor& real) {
    const std::int64_t b = x.size(0), len = x.size(1), heads = p_.heads, dh = d_ / heads;
    x = x + pos->weight.unsqueeze(0);
    x = dropout->forward(x) * real.unsqueeze(-1);
    const Tensor eye = torch::eye(len, torch::TensorOptions().dtype(torch::kBool).device(x.device()));
    const Tensor causal = torch::ones({len, len}, eye.options()).tril();
    // Each position sees earlier real items and itself (so that padding rows stay finite).
    const Tensor allowed = (causal & (real.view({b, 1, 1, len}) | eye)).view({b, 1, len, len});
    const auto split = [&](const Tensor& t) { return t.view({b, len, heads, dh}).transpose(1, 2); };
    for (std::size_t k = 0; k < ln1.size(); ++k) {
      auto* lin = &linears[k * 6];
      const Tensor h = ln1[k]->forward(x);
      Tensor s = torch::matmul(split(lin[0]->forward(h)), split(lin[1]->forward(h)).transpose(-2, -1)) /
                 std::sqrt(static_cast<double>(dh));
      s = s.masked_fill(allowed.logical_not(), -std::numeric_limits<float>::infinity()).softmax(-1);
      const Tensor a = torch::matmul(dropout->forward(s), split(lin[2]->forward(h))).transpose(1, 2).reshape({b, len, d_});
      x = x + dropout->forward(lin[3]->forward(a));
      const Tensor f = lin[5]->forward(dropout->forward(torch::relu(lin[4]->forward(ln2[k]->forward(x)))));
      x = x + dropout->forward(f);
    }
    return ln->forward(x);
  }

  // The GRU over the positions; padding leaves the state at zero.
  Tensor recur(const Tensor& x, const Tensor& real) {
    Tensor h = torch::zeros({x.size(0), d_}, x.options());
    std::vector<Tensor> states;
    for (std::int64_t t = 0; t < x.size(1); ++t) {
      const Tensor next = gru->forward(x.select(1, t), h);
      h = torch::where(real.select(1, t).unsqueeze(1), next, h);
      states.push_back(h);
    }
    return dropout->forward(torch::stack(states, 1));
  }

  NeuralParams p_;
  std::int64_t d_;
};

// One training window of a user's sequence: inputs seq[a, b), targets seq[a + 1, b + 1).
struct Window {
  std::int32_t user;
  std::int64_t a, b;
};

class SequenceTrainer : public NeuralTrainer {
 public:
  SequenceTrainer(NeuralInput input, const NeuralParams& params, const torch::Device& device)
      : NeuralTrainer(std::move(input), params, device) {
    const Csr& seq = in_.sequences;
    const std::int64_t len = params_.max_len;
    // The last item of each user with two or more is the validation target.
    for (std::int32_t u = 0; u < seq.rows; ++u) {
      const std::int64_t n = seq.offsets[u + 1] - seq.offsets[u];
      const bool hold = params_.validation && n >= 2;
      if (hold) valid_users_.push_back(u);
      for (std::int64_t b = (hold ? n - 1 : n) - 1; b > 0;) {
        const std::int64_t a = std::max<std::int64_t>(0, b - len);
        windows_.push_back({u, a, b});
        b = a;
      }
    }
    std::shuffle(valid_users_.begin(), valid_users_.end(), rng_);
    if (valid_users_.size() > 2000) valid_users_.resize(2000);
    sampled_ = params_.sampled_loss(in_.data.by_item.rows);
    if (sampled_) {
      // Draws follow popularity (plus one, so every item can be drawn).
      std::vector<float> counts = item_counts();
      for (float& c : counts) c += 1.0f;
      draw_ = torch::from_blob(counts.data(), {static_cast<std::int64_t>(counts.size())}).clone().to(device_);
      draw_ = draw_ / draw_.sum();
    }
    net_ = std::make_shared<SequenceNet>(params_, in_.data.by_item.rows);
    net_->to(device_);
    make_optimizer();
  }

 protected:
  double train_epoch(CancelToken& token) override {
    std::shuffle(windows_.begin(), windows_.end(), rng_);
    const std::int64_t len = params_.max_len;
    double total = 0;
    std::int64_t counted = 0;
    for_each_range(windows_.size(), token, [&](std::size_t first, std::size_t last) {
      const auto rows = static_cast<std::int64_t>(last - first);
      std::vector<std::int64_t> inputs(static_cast<std::size_t>(rows * len), 0), targets(inputs.size(), 0);
      for (std::size_t w = first; w < last; ++w) {
        const Window& win = windows_[w];
        const std::int64_t base = in_.sequences.offsets[win.user];
        const std::int64_t width = win.b - win.a;
        for (std::int64_t t = 0; t < width; ++t) {
          const auto at = static_cast<std::size_t>(static_cast<std::int64_t>(w - first) * len + len - width + t);
          inputs[at] = in_.sequences.indices[static_cast<std::size_t>(base + win.a + t)] + 1;
          targets[at] = in_.sequences.indices[static_cast<std::size_t>(base + win.a + t + 1)] + 1;
        }
      }
      const Tensor x = index_tensor(inputs, device_).view({rows, len});
      const Tensor y = index_tensor(targets, device_);
      const Tensor mask = y.ne(0);
      const Tensor h = net_->forward(x).reshape({rows * len, -1}).index({mask});
      const Tensor target = y.index({mask}) - 1;
      const Tensor loss = sampled_ ? sampled_loss(h, target) : torch::nn::functional::cross_entropy(
                                                                   torch::matmul(h, net_->item_weights().t()), target);
      total += descend(loss, h.size(0));
      counted += h.size(0);
    });
    return counted > 0 ? total / static_cast<double>(counted) : 0.0;
  }

  double validate(CancelToken& token) override {
    const std::int64_t len = params_.max_len;
    const Csr& seq = in_.sequences;
    double sum = 0;
    const std::size_t block = validation_block(in_.data.by_item.rows, 1, 256);
    for (std::size_t first = 0; first < valid_users_.size(); first += block) {
      token.check();
      const std::size_t last = std::min(valid_users_.size(), first + block);
      const auto rows = static_cast<std::int64_t>(last - first);
      std::vector<std::int64_t> inputs(static_cast<std::size_t>(rows * len), 0), targets, skip_rows, skip_cols;
      for (std::size_t j = first; j < last; ++j) {
        const std::int32_t u = valid_users_[j];
        const std::int64_t lo = seq.offsets[u], hi = seq.offsets[u + 1] - 1;  // hi: the target
        const std::int64_t width = std::min(len, hi - lo);
        for (std::int64_t t = 0; t < width; ++t)
          inputs[static_cast<std::size_t>(static_cast<std::int64_t>(j - first) * len + len - width + t)] =
              seq.indices[static_cast<std::size_t>(hi - width + t)] + 1;
        for (std::int64_t p = lo; p < hi; ++p) {
          skip_rows.push_back(static_cast<std::int64_t>(j - first));
          skip_cols.push_back(seq.indices[static_cast<std::size_t>(p)]);
        }
        targets.push_back(seq.indices[static_cast<std::size_t>(hi)]);
      }
      const Tensor h = net_->forward(index_tensor(inputs, device_).view({rows, len})).select(1, len - 1);
      sum += ndcg_of_targets(torch::matmul(h, net_->item_weights().t()), skip_rows, skip_cols, targets);
    }
    return valid_users_.empty() ? 0.0 : sum / static_cast<double>(valid_users_.size());
  }

  bool has_validation() const override { return !valid_users_.empty(); }
  std::size_t validation_users() const override { return valid_users_.size(); }
  torch::nn::Module& network() override { return *net_; }
  // The item embeddings by id (after the padding row), every other weight whole.
  WarmLayout warm_layout(const std::string& name) const override {
    if (name == "items.weight") return {{{true, 0, 1, false}}, false};
    return {};
  }

  // Softmax over each position's next item and `sampled` items drawn in proportion to their
  // popularity, shared by the batch, every logit corrected by the log of its expected draws
  // (sampled softmax, Jean et al. 2015); a draw equal to the position's target is masked out.
  Tensor sampled_loss(const Tensor& h, const Tensor& target) {
    const Tensor negatives = torch::multinomial(draw_, params_.sampled, /*replacement=*/true);
    const Tensor weights = net_->item_weights();
    const Tensor log_q = torch::log(draw_ * static_cast<double>(params_.sampled));
    const Tensor positive = (h * weights.index_select(0, target)).sum(1, true) - log_q.index_select(0, target).unsqueeze(1);
    Tensor negative = torch::matmul(h, weights.index_select(0, negatives).t()) - log_q.index_select(0, negatives).unsqueeze(0);
    negative = negative.masked_fill(negatives.unsqueeze(0).eq(target.unsqueeze(1)), -std::numeric_limits<float>::infinity());
    const Tensor logits = torch::cat({positive, negative}, 1);
    return torch::nn::functional::cross_entropy(logits, torch::zeros({h.size(0)}, target.options()));
  }

  Model export_model() override {
    // Each user's most recent max_len items serve users the source no longer shows.
    const Csr& seq = in_.sequences;
    Csr kept;
    kept.rows = seq.rows;
    kept.cols = seq.cols;
    kept.offsets.assign(1, 0);
    for (std::int32_t u = 0; u < seq.rows; ++u) {
      const std::int64_t lo = std::max(seq.offsets[u], seq.offsets[u + 1] - params_.max_len);
      kept.indices.append(seq.indices.begin() + lo, seq.indices.begin() + seq.offsets[u + 1]);
      kept.offsets.push_back(static_cast<std::int64_t>(kept.indices.size()));
    }
    kept.values.assign(kept.indices.size(), 1.0f);
    FactorMatrix items = to_matrix(net_->item_weights());
    FactorMatrix users(0, items.cols());
    Model m = make_factor_model(params_.algorithm, false, std::move(in_.data), 0.0f, std::move(users), std::move(items), "", "");
    m.kind = ModelKind::Sequence;
    m.net.max_len = params_.max_len;
    m.net.blocks = params_.algorithm == "sasrec" ? params_.blocks : 0;
    m.net.heads = params_.algorithm == "sasrec" ? params_.heads : 1;
    m.net.time_col = params_.time_col;
    m.net.tensors = net_->export_tensors();
    m.net.sequences = std::move(kept);
    return m;
  }

 private:
  std::vector<Window> windows_;
  std::vector<std::int32_t> valid_users_;
  std::shared_ptr<SequenceNet> net_;
  bool sampled_ = false;
  Tensor draw_;  // the sampled loss's draw probability of every item
};

}  // namespace

std::unique_ptr<Trainer> make_sequence_trainer(NeuralInput input, const NeuralParams& params, const std::string& device) {
  return std::make_unique<SequenceTrainer>(std::move(input), params, torch::Device(device));
}

}  // namespace pgrec::neural
