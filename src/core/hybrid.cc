#include "hybrid.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "errors.h"
#include "fold_in.h"
#include "model_kind.h"
#include "ranking.h"

namespace pgrec {

namespace {

constexpr std::size_t kMaxParts = 16;

// Accumulates the parts' per-item scores into the hybrid's items: a weighted mean per item.
class Mixer {
 public:
  explicit Mixer(const Model& hybrid)
      : hybrid_(hybrid), sum_(static_cast<std::size_t>(hybrid.n_items()), 0.0), weight_(sum_.size(), 0.0) {}

  // Adds one part's scores (indexed by the part's items), z-normalised when `normalise`.
  void add(const HybridPart& part, const float* scores, bool normalise) {
    double mean = 0, scale = 1;
    if (normalise) {
      double s = 0, s2 = 0, n = 0;
      for (std::int32_t i = 0; i < part.model->n_items(); ++i) {
        if (!std::isfinite(scores[i])) continue;
        s += scores[i];
        s2 += static_cast<double>(scores[i]) * scores[i];
        n += 1;
      }
      if (n > 0) {
        mean = s / n;
        const double var = s2 / n - mean * mean;
        scale = var > 1e-12 ? std::sqrt(var) : 1.0;
      }
    }
    for (std::size_t h = 0; h < sum_.size(); ++h) {
      const std::int32_t i = part.item_index[h];
      if (i < 0 || !std::isfinite(scores[i])) continue;
      sum_[h] += part.weight * ((scores[i] - mean) / scale);
      weight_[h] += part.weight;
    }
  }

  // Writes the mixed scores; items no part scored get the neutral score (0, or the mean rating).
  void finish(float* out) const {
    const float neutral = hybrid_.mix == HybridMix::Raw ? hybrid_.global_mean : 0.0f;
    for (std::size_t h = 0; h < sum_.size(); ++h)
      out[h] = weight_[h] > 0 ? static_cast<float>(sum_[h] / weight_[h]) : neutral;
  }

 private:
  const Model& hybrid_;
  std::vector<double> sum_, weight_;
};

// Maps a part's indices onto the hybrid's (interning the part's ids into `ids`).
std::vector<std::int32_t> intern_all(IdMap& ids, const IdMap& part) {
  std::vector<std::int32_t> to_hybrid(part.size());
  for (std::size_t i = 0; i < part.size(); ++i) to_hybrid[i] = ids.intern(part.ref(static_cast<std::int32_t>(i)));
  return to_hybrid;
}

// The union of the parts' seen matrices on the hybrid's indices (the first part's value wins).
Csr merge_seen(const Model& hybrid, const std::vector<std::vector<std::int32_t>>& item_maps) {
  Csr seen;
  seen.rows = static_cast<std::int32_t>(hybrid.users.size());
  seen.cols = static_cast<std::int32_t>(hybrid.items.size());
  seen.offsets.push_back(0);
  std::vector<std::pair<std::int32_t, float>> row;
  for (std::int32_t u = 0; u < seen.rows; ++u) {
    row.clear();
    for (std::size_t p = 0; p < hybrid.parts.size(); ++p) {
      const HybridPart& part = hybrid.parts[p];
      const std::int32_t pu = part.user_index[static_cast<std::size_t>(u)];
      if (pu < 0) continue;
      const Csr& s = part.model->seen;
      for (std::int64_t q = s.offsets[pu]; q < s.offsets[pu + 1]; ++q)
        row.emplace_back(item_maps[p][static_cast<std::size_t>(s.indices[q])], s.values[q]);
    }
    std::stable_sort(row.begin(), row.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    for (std::size_t j = 0; j < row.size(); ++j) {
      if (j > 0 && row[j].first == row[j - 1].first) continue;
      seen.indices.push_back(row[j].first);
      seen.values.push_back(row[j].second);
    }
    seen.offsets.push_back(static_cast<std::int64_t>(seen.indices.size()));
  }
  return seen;
}

// Runs a part's operation; false when the part's kind does not support it (it is left out).
template <typename Operation>
bool supported(Operation&& op) {
  try {
    op();
    return true;
  } catch (const Error& e) {
    if (e.kind() != ErrorKind::NotSupported) throw;
    return false;
  }
}

// The part's index of a hybrid item, or -1.
std::int32_t part_item(const HybridPart& part, std::int32_t item) {
  return part.item_index[static_cast<std::size_t>(item)];
}

}  // namespace

Model make_hybrid(std::vector<HybridInput> inputs, const std::string& mix) {
  if (inputs.empty()) invalid_parameter("a hybrid needs at least one model, like {\"models\": {\"knn\": 0.3, \"mf\": 0.7}}");
  if (inputs.size() > kMaxParts) invalid_parameter("a hybrid mixes at most " + std::to_string(kMaxParts) + " models");
  if (mix != "" && mix != "zscore" && mix != "raw")
    invalid_parameter("normalize must be \"zscore\" or \"raw\", not \"" + mix + "\"");
  const Model& first = *inputs.front().model;
  Model h;
  h.kind = ModelKind::Hybrid;
  h.algorithm = "hybrid";
  h.user_type = first.user_type;
  h.item_type = first.item_type;
  h.users = IdMap(first.users.kind());
  h.items = IdMap(first.items.kind());
  h.explicit_ratings = true;
  double weight_sum = 0, mean_sum = 0;
  std::vector<std::vector<std::int32_t>> item_maps;
  for (HybridInput& in : inputs) {
    const Model& m = *in.model;
    // Checked as stored (a float), with room for the sum of every part's weight.
    if (!(in.weight >= 1e-30 && in.weight <= 1e30))
      invalid_parameter("the weight of model \"" + in.name + "\" must be a positive number between 1e-30 and 1e30");
    if (m.kind == ModelKind::Hybrid) invalid_parameter("model \"" + in.name + "\" is itself a hybrid; mix its parts instead");
    if (m.user_type != h.user_type || m.item_type != h.item_type)
      invalid_parameter("model \"" + in.name + "\" has " + m.user_type + " users and " + m.item_type +
                        " items, and \"" + h.parts.front().name + "\" has " + h.user_type + " and " + h.item_type +
                        ": a hybrid's models must share their id types");
    intern_all(h.users, m.users);
    item_maps.push_back(intern_all(h.items, m.items));
    h.explicit_ratings = h.explicit_ratings && m.explicit_ratings;
    weight_sum += in.weight;
    mean_sum += in.weight * m.global_mean;
    HybridPart part;
    part.name = std::move(in.name);
    part.weight = static_cast<float>(in.weight);
    part.model = std::move(in.model);
    h.parts.push_back(std::move(part));
  }
  h.global_mean = static_cast<float>(mean_sum / weight_sum);
  // Only a raw mix of rating models predicts ratings; z-scores rank but are not ratings.
  const bool all_explicit = h.explicit_ratings;
  h.mix = mix == "zscore" ? HybridMix::ZScore : mix == "raw" ? HybridMix::Raw
          : all_explicit ? HybridMix::Raw : HybridMix::ZScore;
  h.explicit_ratings = all_explicit && h.mix == HybridMix::Raw;
  link_hybrid_parts(h);
  h.seen = merge_seen(h, item_maps);
  h.popularity.assign(static_cast<std::size_t>(h.items.size()), 0.0f);
  for (std::size_t p = 0; p < h.parts.size(); ++p) {
    const Array<float>& pop = h.parts[p].model->popularity;
    for (std::size_t i = 0; i < pop.size(); ++i) {
      float& slot = h.popularity[static_cast<std::size_t>(item_maps[p][i])];
      slot = std::max(slot, pop[i]);
    }
  }
  h.prepare();
  return h;
}

void hybrid_score_items(const Model& h, std::int32_t user, float* out) {
  Mixer mixer(h);
  std::vector<float> buffer;
  for (const HybridPart& part : h.parts) {
    const std::int32_t pu = part.user_index[static_cast<std::size_t>(user)];
    if (pu < 0) continue;
    buffer.resize(static_cast<std::size_t>(part.model->n_items()));
    if (h.mix == HybridMix::Raw) {
      rating_scores(*part.model, pu, buffer.data());
    } else {
      score_items(*part.model, pu, buffer.data());
    }
    mixer.add(part, buffer.data(), h.mix == HybridMix::ZScore);
  }
  mixer.finish(out);
}

float hybrid_predict(const Model& h, std::int32_t user, std::int32_t item) {
  if (h.mix == HybridMix::ZScore) {
    std::vector<float> scores(static_cast<std::size_t>(h.n_items()));
    hybrid_score_items(h, user, scores.data());
    return scores[static_cast<std::size_t>(item)];
  }
  double sum = 0, weight = 0;
  for (const HybridPart& part : h.parts) {
    const std::int32_t pu = part.user_index[static_cast<std::size_t>(user)], pi = part_item(part, item);
    if (pu < 0 || pi < 0) continue;
    sum += part.weight * static_cast<double>(predict(*part.model, pu, pi));
    weight += part.weight;
  }
  return weight > 0 ? static_cast<float>(sum / weight) : h.global_mean;
}

void hybrid_fold_in_scores(const Model& h, const std::vector<std::int32_t>& items,
                           const std::vector<float>& values, float* out) {
  Mixer mixer(h);
  std::vector<float> buffer;
  for (const HybridPart& part : h.parts) {
    std::vector<std::int32_t> part_items;
    std::vector<float> part_values;
    for (std::size_t g = 0; g < items.size(); ++g) {
      const std::int32_t pi = part_item(part, items[g]);
      if (pi < 0) continue;
      part_items.push_back(pi);
      if (!values.empty()) part_values.push_back(values[g]);
    }
    if (part_items.empty()) continue;
    buffer.resize(static_cast<std::size_t>(part.model->n_items()));
    fold_in_scores(*part.model, part_items, part_values, buffer.data());
    mixer.add(part, buffer.data(), h.mix == HybridMix::ZScore);
  }
  mixer.finish(out);
}

void hybrid_similarities(const Model& h, std::int32_t item, float* out) {
  Mixer mixer(h);
  std::vector<float> buffer;
  bool any = false;
  for (const HybridPart& part : h.parts) {
    const std::int32_t pi = part_item(part, item);
    if (pi < 0) continue;
    buffer.resize(static_cast<std::size_t>(part.model->n_items()));
    if (!supported([&] { item_similarities(*part.model, pi, buffer.data()); })) continue;
    mixer.add(part, buffer.data(), false);
    any = true;
  }
  if (!any) throw Error(ErrorKind::NotSupported, "no model of this hybrid that knows the item has a notion of similar items");
  mixer.finish(out);
}

Explanation hybrid_explain(const Model& h, std::int32_t user, std::int32_t item, std::int32_t n) {
  std::vector<double> share(static_cast<std::size_t>(h.n_items()), 0.0);
  double weight = 0;
  for (const HybridPart& part : h.parts) {
    const std::int32_t pu = part.user_index[static_cast<std::size_t>(user)], pi = part_item(part, item);
    if (pu < 0 || pi < 0) continue;
    Explanation e;
    if (!supported([&] { e = explain(*part.model, pu, pi, std::numeric_limits<std::int32_t>::max()); })) continue;
    double scale = 0;
    for (const Scored& s : e.top) scale += std::abs(s.score);
    weight += part.weight;
    if (scale <= 0) continue;
    // The part's items back onto the hybrid's: the hybrid holds every part item.
    for (const Scored& s : e.top) {
      const std::int32_t hi = h.items.find(part.model->items.ref(s.index));
      share[static_cast<std::size_t>(hi)] += part.weight * s.score / scale;
    }
  }
  if (weight == 0) throw Error(ErrorKind::NotSupported, "no model of this hybrid explains its scores by the user's items");
  std::vector<std::int32_t> items;
  std::vector<float> contrib;
  for (std::size_t i = 0; i < share.size(); ++i) {
    if (share[i] == 0) continue;
    items.push_back(static_cast<std::int32_t>(i));
    contrib.push_back(static_cast<float>(share[i] / weight));
  }
  return top_contributions(items, contrib, n);
}

// Hybrids score, predict, fold in, compare items and explain by mixing their parts'.
const KindOps kHybridKind = {false, false, NeighborRows::None, false, NetUse::None, nullptr, hybrid_score_items,
                             hybrid_score_items, hybrid_predict, hybrid_fold_in_scores, hybrid_similarities, nullptr,
                             hybrid_explain};

}  // namespace pgrec
