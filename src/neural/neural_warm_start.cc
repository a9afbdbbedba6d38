// Warm starts of the LibTorch families: the serving version's training weights ("warm." + the
// torch parameter's name, stored by NeuralTrainer::finish) copied into a new network, rows of
// users and items matched by id, every other weight whole when its shape is unchanged.
#include <cstring>
#include <map>

#include "errors.h"
#include "neural_trainer.h"

namespace pgrec::neural {

namespace {

// A shape as "[a, b]" for messages.
std::string shape_text(const std::vector<std::int64_t>& shape) {
  std::string out = "[";
  for (std::size_t d = 0; d < shape.size(); ++d) out += (d > 0 ? ", " : "") + std::to_string(shape[d]);
  return out + "]";
}

// Checks that a stored weight fits the new one in every dimension the ids do not index.
void check_shape(const std::string& name, const NetTensor& stored, const torch::Tensor& weight, const WarmLayout& layout) {
  const std::vector<std::int64_t> now(weight.sizes().begin(), weight.sizes().end());
  bool fits = stored.shape.size() == now.size();
  for (std::size_t d = 0; fits && d < now.size(); ++d) {
    bool by_id = false;
    for (const IdAxis& a : layout.axes) by_id = by_id || a.dim == static_cast<std::int64_t>(d);
    fits = by_id || stored.shape[d] == now[d];
  }
  if (!fits)
    invalid_parameter("warm_start needs the serving version's network shape: its weight " + name + " is " +
                      shape_text(stored.shape) + ", this training's " + shape_text(now) +
                      " (train without warm_start to change the network's size or features)");
}

// The (new, stored) positions along the ids' dimension that a warm start copies: padding before
// the ids, then every id both versions know.
void matched_positions(const WarmLayout& layout, const Interactions& now, const Model& previous,
                       std::int64_t stored_size, std::vector<std::int64_t>* to, std::vector<std::int64_t>* from) {
  for (const IdAxis& a : layout.axes) {
    const IdMap& now_ids = a.items ? now.items : now.users;
    const IdMap& old_ids = a.items ? previous.items : previous.users;
    const auto now_start = a.base + (a.after_users ? static_cast<std::int64_t>(now.users.size()) : 0);
    const auto old_start = a.base + (a.after_users ? static_cast<std::int64_t>(previous.users.size()) : 0);
    if (old_start + static_cast<std::int64_t>(old_ids.size()) > stored_size)
      bad_data("model data is corrupt (a training weight does not cover the version's ids)");
    if (!a.after_users)
      for (std::int64_t p = 0; p < a.base; ++p) {
        to->push_back(p);
        from->push_back(p);
      }
    for (std::int32_t r = 0; r < static_cast<std::int32_t>(now_ids.size()); ++r) {
      const std::int32_t at = old_ids.find(now_ids.ref(r));
      if (at < 0) continue;
      to->push_back(now_start + r);
      from->push_back(old_start + at);
    }
  }
}

// How many of `now`'s ids `previous` also knows.
std::int32_t shared_ids(const IdMap& now, const IdMap& previous) {
  std::int32_t n = 0;
  for (std::int32_t r = 0; r < static_cast<std::int32_t>(now.size()); ++r) n += previous.find(now.ref(r)) >= 0 ? 1 : 0;
  return n;
}

}  // namespace

WarmStart NeuralTrainer::warm_start(const Model& previous) {
  if (previous.algorithm != params_.algorithm)
    invalid_parameter("warm_start needs the serving version to be a " + params_.algorithm + " model, not " +
                      previous.algorithm + " (train without warm_start once)");
  std::map<std::string, const NetTensor*> stored;
  const std::size_t prefix = std::strlen(kTrainingWeightPrefix);
  for (const NetTensor& t : previous.net.tensors)
    if (is_training_weight(t.name)) stored[t.name.substr(prefix)] = &t;
  WarmStart w;
  if (stored.empty()) return w;  // a version trained before pgrec kept training weights: a cold start
  bool users = false, items = false;
  guarded([&] {
    torch::NoGradGuard no_grad;
    for (const auto& named : network().named_parameters()) {
      const std::string& name = named.key();
      torch::Tensor weight = named.value();
      const WarmLayout layout = warm_layout(name);
      const auto found = stored.find(name);
      if (layout.cold || found == stored.end()) continue;  // a weight the serving version lacks starts as drawn
      const NetTensor& t = *found->second;
      check_shape(name, t, weight, layout);
      const torch::Tensor old =
          torch::from_blob(const_cast<float*>(t.data.data()), t.shape, torch::kFloat32).to(device_, weight.scalar_type());
      if (layout.axes.empty()) {
        weight.copy_(old);
        continue;
      }
      const std::int64_t dim = layout.axes.front().dim;
      std::vector<std::int64_t> to, from;
      matched_positions(layout, in_.data, previous, t.shape[static_cast<std::size_t>(dim)], &to, &from);
      if (!to.empty()) weight.index_copy_(dim, index_tensor(to, device_), old.index_select(dim, index_tensor(from, device_)));
      for (const IdAxis& a : layout.axes) (a.items ? items : users) = true;
    }
  });
  if (users) w.users = shared_ids(in_.data.users, previous.users);
  if (items) w.items = shared_ids(in_.data.items, previous.items);
  return w;
}

}  // namespace pgrec::neural
