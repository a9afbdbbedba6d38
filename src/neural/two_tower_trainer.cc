// Two towers: a user tower and an item tower over an id embedding plus side features
// (categorical columns embedded and averaged, numeric columns projected), each an MLP, scored by
// a dot product and trained with a softmax over every item that has interactions. The id
// embedding is dropped at random while training so that features alone place a new item.
#include <algorithm>
#include <cmath>

#include "als.h"
#include "neural_factories.h"
#include "neural_trainer.h"

namespace pgrec::neural {

namespace {

using torch::Tensor;

// A side-feature table as tensors: per categorical column a padded code matrix, one numeric matrix.
struct FeatureTensors {
  std::vector<Tensor> codes;        // [rows, widest] int64, 0 = padding
  std::vector<std::int64_t> cards;  // cardinality per categorical column
  Tensor numeric;                   // [rows, numeric columns] or undefined

  FeatureTensors(const FeatureTable& table, const torch::Device& device) {
    std::vector<float> nums;
    std::int64_t n_numeric = 0;
    for (const FeatureColumn& c : table.columns) {
      if (c.numeric) {
        ++n_numeric;
        continue;
      }
      std::int64_t widest = 1;
      for (std::int32_t r = 0; r < table.rows; ++r) widest = std::max(widest, c.offsets[r + 1] - c.offsets[r]);
      std::vector<std::int64_t> m(static_cast<std::size_t>(table.rows * widest), 0);
      for (std::int32_t r = 0; r < table.rows; ++r)
        for (std::int64_t p = c.offsets[r]; p < c.offsets[r + 1]; ++p)
          m[static_cast<std::size_t>(r * widest + (p - c.offsets[r]))] = c.codes[static_cast<std::size_t>(p)];
      codes.push_back(index_tensor(m, device).view({table.rows, widest}));
      cards.push_back(c.cardinality);
    }
    if (n_numeric > 0) {
      nums.resize(static_cast<std::size_t>(table.rows * n_numeric));
      std::int64_t k = 0;
      for (const FeatureColumn& c : table.columns) {
        if (!c.numeric) continue;
        for (std::int32_t r = 0; r < table.rows; ++r) nums[static_cast<std::size_t>(r * n_numeric + k)] = c.values[static_cast<std::size_t>(r)];
        ++k;
      }
      numeric = torch::from_blob(nums.data(), {table.rows, n_numeric}).clone().to(device);
    }
  }
};

// One tower: id embedding + feature embeddings -> Linear -> ReLU -> Linear.
struct Tower : torch::nn::Module {
  Tower(std::int64_t rows, const FeatureTensors& f, std::int64_t d, double dropout) {
    ids = register_module("ids", torch::nn::Embedding(rows, d));
    torch::nn::init::normal_(ids->weight, 0.0, 0.05);
    for (std::size_t c = 0; c < f.cards.size(); ++c)
      cats.push_back(register_module("cat" + std::to_string(c),
                                     torch::nn::Embedding(torch::nn::EmbeddingOptions(f.cards[c], d).padding_idx(0))));
    if (f.numeric.defined()) nums = register_module("nums", torch::nn::Linear(f.numeric.size(1), d));
    hidden = register_module("hidden", torch::nn::Linear(d, 2 * d));
    out = register_module("out", torch::nn::Linear(2 * d, d));
    drop = register_module("drop", torch::nn::Dropout(dropout));
  }

  // The tower's output for `rows` (indices); `keep_id` [n] scales each row's id embedding (0 or 1).
  Tensor forward(const Tensor& rows, const FeatureTensors& f, const Tensor& keep_id) {
    Tensor x = ids->forward(rows) * keep_id.unsqueeze(1);
    for (std::size_t c = 0; c < cats.size(); ++c) {
      const Tensor codes = f.codes[c].index_select(0, rows);
      const Tensor count = codes.ne(0).sum(1, true).clamp_min(1).to(x.dtype());
      x = x + cats[c]->forward(codes).sum(1) / count;
    }
    if (nums) x = x + nums->forward(f.numeric.index_select(0, rows));
    return out->forward(drop->forward(torch::relu(hidden->forward(x))));
  }

  torch::nn::Embedding ids{nullptr};
  std::vector<torch::nn::Embedding> cats;
  torch::nn::Linear nums{nullptr}, hidden{nullptr}, out{nullptr};
  torch::nn::Dropout drop{nullptr};
};

struct TwoTowerNet : torch::nn::Module {
  TwoTowerNet(std::int64_t users, std::int64_t items, const FeatureTensors& uf, const FeatureTensors& itf,
              const NeuralParams& p) {
    user = register_module("user", std::make_shared<Tower>(users, uf, p.factors, p.dropout));
    item = register_module("item", std::make_shared<Tower>(items, itf, p.factors, p.dropout));
  }
  std::shared_ptr<Tower> user, item;
};

class TwoTowerTrainer : public NeuralTrainer {
 public:
  TwoTowerTrainer(NeuralInput input, const NeuralParams& params, const torch::Device& device)
      : NeuralTrainer(std::move(input), params, device),
        user_f_(in_.user_features, device),
        item_f_(in_.item_features, device) {
    const Csr& by_user = in_.data.by_user;
    split_ = split_held_out(by_user, params_.validation, params_.seed, rng_);
    // The softmax runs over items with interactions; the rest are known by their features only.
    std::vector<std::int64_t> warm, warm_pos(static_cast<std::size_t>(by_user.cols), -1);
    const std::vector<float> counts = item_counts();
    for (std::int32_t i = 0; i < in_.data.by_item.rows; ++i)
      if (counts[static_cast<std::size_t>(i)] > 0) {
        warm_pos[static_cast<std::size_t>(i)] = static_cast<std::int64_t>(warm.size());
        warm.push_back(i);
      }
    warm_ = index_tensor(warm, device_);
    warm_pos_ = index_tensor(warm_pos, device_);
    net_ = std::make_shared<TwoTowerNet>(by_user.rows, by_user.cols, user_f_, item_f_, params_);
    net_->to(device_);
    make_optimizer();
  }

 protected:
  double train_epoch(CancelToken& token) override {
    std::vector<std::size_t> order(split_.users.size());
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), rng_);
    // Without item features the id is all an item has: never drop it.
    const double drop = in_.item_features.empty() ? 0.0 : params_.id_dropout;
    const auto n_warm = warm_.size(0);
    double total = 0;
    std::int64_t counted = 0;
    for_each_range(order.size(), token, [&](std::size_t first, std::size_t last) {
      std::vector<std::int64_t> users, targets;
      for (std::size_t k = first; k < last; ++k) {
        users.push_back(split_.users[order[k]]);
        targets.push_back(split_.items[order[k]]);
      }
      const Tensor u = index_tensor(users, device_);
      const Tensor ones_u = torch::ones({u.size(0)}, torch::TensorOptions().device(device_));
      const Tensor keep = torch::bernoulli(torch::full({n_warm}, 1.0 - drop, torch::TensorOptions().device(device_)));
      const Tensor items = net_->item->forward(warm_, item_f_, keep);
      const Tensor logits = torch::matmul(net_->user->forward(u, user_f_, ones_u), items.t());
      const Tensor y = warm_pos_.index_select(0, index_tensor(targets, device_));
      const Tensor loss = torch::nn::functional::cross_entropy(logits, y);
      total += descend(loss, static_cast<std::int64_t>(users.size()));
      counted += static_cast<std::int64_t>(users.size());
    });
    return counted > 0 ? total / static_cast<double>(counted) : 0.0;
  }

  // Every user's and item's tower output; items without interactions by their features alone.
  std::pair<Tensor, Tensor> embed_all() {
    const Csr& by_user = in_.data.by_user;
    const auto opts = torch::TensorOptions().dtype(torch::kInt64).device(device_);
    const Tensor all_users = torch::arange(by_user.rows, opts), all_items = torch::arange(by_user.cols, opts);
    const Tensor keep_items = warm_pos_.ge(0).to(torch::kFloat32);
    return {net_->user->forward(all_users, user_f_, torch::ones({by_user.rows}, keep_items.options())),
            net_->item->forward(all_items, item_f_, keep_items)};
  }

  double validate(CancelToken& token) override {
    const auto [users, items] = embed_all();
    return validate_held_out(in_.data.by_user, split_, validation_block(in_.data.by_user.cols, 1, 256), device_, token,
                             [&](const Tensor& ids) { return torch::matmul(users.index_select(0, ids), items.t()); });
  }

  bool has_validation() const override { return !split_.valid_users.empty(); }
  std::size_t validation_users() const override { return split_.valid_users.size(); }
  torch::nn::Module& network() override { return *net_; }

  // Id embeddings by id; feature embeddings stay as drawn (a retraining numbers the codes anew).
  WarmLayout warm_layout(const std::string& name) const override {
    if (name == "user.ids.weight" || name == "item.ids.weight") return {{{name[0] == 'i', 0, 0, false}}, false};
    if (name.find(".cat") != std::string::npos) return {{}, true};
    return {};
  }

  Model export_model() override {
    const auto [users, items] = embed_all();
    return make_factor_model(params_.algorithm, false, std::move(in_.data), 0.0f, to_matrix(users), to_matrix(items), "", "");
  }

 private:
  FeatureTensors user_f_, item_f_;
  HeldOutSplit split_;
  Tensor warm_, warm_pos_;
  std::shared_ptr<TwoTowerNet> net_;
};

}  // namespace

std::unique_ptr<Trainer> make_two_tower_trainer(NeuralInput input, const NeuralParams& params, const std::string& device) {
  return std::make_unique<TwoTowerTrainer>(std::move(input), params, torch::Device(device));
}

}  // namespace pgrec::neural
