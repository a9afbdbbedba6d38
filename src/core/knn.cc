#include "knn.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <sstream>

#include "errors.h"
#include "parallel.h"

namespace pgrec {

KnnParams KnnParams::parse(const std::vector<Param>& params, bool has_ratings) {
  ParamReader r(params, "item_knn");
  KnnParams p;
  p.similarity = r.choice("similarity", "cosine", {"cosine", "pearson", "adjusted_cosine"});
  p.neighbors = static_cast<std::int32_t>(r.integer("neighbors", 100, 1, 100000));
  p.shrinkage = r.real("shrinkage", 0.0, 0.0, 1e9);
  r.reject_unknown();
  if (p.similarity != "cosine" && !has_ratings)
    invalid_parameter("similarity \"" + p.similarity + "\" needs a rating column");
  return p;
}

std::string KnnParams::to_json() const {
  std::ostringstream out;
  out << "{\"similarity\": \"" << similarity << "\", \"neighbors\": " << neighbors
      << ", \"shrinkage\": " << shrinkage << "}";
  return out.str();
}

void ItemKnnTrainer::step(CancelToken& token) {
  const Csr& by_user = data_.by_user;
  const Csr& by_item = data_.by_item;
  const std::int32_t n_items = by_item.rows;

  // The value each interaction contributes to similarities: 1 for implicit data, the rating
  // (centred on the item's or the user's mean for Pearson / adjusted cosine) for explicit.
  std::vector<float> user_value(by_user.values.size(), 1.0f);
  if (data_.explicit_ratings) {
    std::vector<double> item_mean(static_cast<std::size_t>(n_items), 0.0);
    for (std::int32_t i = 0; i < n_items; ++i) {
      double sum = 0;
      for (std::int64_t q = by_item.offsets[i]; q < by_item.offsets[i + 1]; ++q) sum += by_item.values[q];
      item_mean[static_cast<std::size_t>(i)] = sum / std::max<std::int64_t>(1, by_item.offsets[i + 1] - by_item.offsets[i]);
    }
    for (std::int32_t u = 0; u < by_user.rows; ++u) {
      double sum = 0;
      for (std::int64_t p = by_user.offsets[u]; p < by_user.offsets[u + 1]; ++p) sum += by_user.values[p];
      const double user_mean = sum / std::max<std::int64_t>(1, by_user.offsets[u + 1] - by_user.offsets[u]);
      for (std::int64_t p = by_user.offsets[u]; p < by_user.offsets[u + 1]; ++p) {
        double v = by_user.values[p];
        if (params_.similarity == "pearson") v -= item_mean[static_cast<std::size_t>(by_user.indices[p])];
        if (params_.similarity == "adjusted_cosine") v -= user_mean;
        user_value[static_cast<std::size_t>(p)] = static_cast<float>(v);
      }
    }
  }
  std::vector<double> norm(static_cast<std::size_t>(n_items), 0.0);
  for (std::size_t p = 0; p < user_value.size(); ++p)
    norm[static_cast<std::size_t>(by_user.indices[p])] += static_cast<double>(user_value[p]) * user_value[p];
  for (double& v : norm) v = std::sqrt(v);
  // Where user u's entry for item i sits in by_user (to find u's value of i).
  std::vector<std::int64_t> position(by_item.indices.size());
  {
    std::vector<std::int64_t> fill(by_item.offsets.begin(), by_item.offsets.end() - 1);
    for (std::int32_t u = 0; u < by_user.rows; ++u)
      for (std::int64_t p = by_user.offsets[u]; p < by_user.offsets[u + 1]; ++p)
        position[static_cast<std::size_t>(fill[by_user.indices[p]]++)] = p;
  }

  std::vector<std::vector<std::pair<std::int32_t, float>>> kept(static_cast<std::size_t>(n_items));
  auto work = [&](std::size_t begin, std::size_t end) {
    std::vector<double> dot(static_cast<std::size_t>(n_items), 0.0);
    std::vector<std::int32_t> common(static_cast<std::size_t>(n_items), 0);
    std::vector<std::int32_t> touched;
    std::vector<std::pair<std::int32_t, float>> candidates;
    for (std::size_t i = begin; i < end; ++i) {
      touched.clear();
      for (std::int64_t q = by_item.offsets[i]; q < by_item.offsets[i + 1]; ++q) {
        const std::int32_t u = by_item.indices[q];
        const double vi = user_value[static_cast<std::size_t>(position[static_cast<std::size_t>(q)])];
        for (std::int64_t p = by_user.offsets[u]; p < by_user.offsets[u + 1]; ++p) {
          const std::int32_t j = by_user.indices[p];
          if (common[static_cast<std::size_t>(j)]++ == 0) touched.push_back(j);
          dot[static_cast<std::size_t>(j)] += vi * user_value[static_cast<std::size_t>(p)];
        }
      }
      candidates.clear();
      for (std::int32_t j : touched) {
        const auto js = static_cast<std::size_t>(j);
        const double denom = norm[i] * norm[js];
        if (j != static_cast<std::int32_t>(i) && denom > 0) {
          double sim = dot[js] / denom;
          if (params_.shrinkage > 0) sim *= common[js] / (common[js] + params_.shrinkage);
          if (sim > 0) candidates.emplace_back(j, static_cast<float>(sim));
        }
        dot[js] = 0;
        common[js] = 0;
      }
      const std::size_t keep = std::min<std::size_t>(candidates.size(), static_cast<std::size_t>(params_.neighbors));
      std::partial_sort(candidates.begin(), candidates.begin() + static_cast<std::ptrdiff_t>(keep), candidates.end(),
                        [](const auto& a, const auto& b) { return a.second > b.second || (a.second == b.second && a.first < b.first); });
      candidates.resize(keep);
      std::sort(candidates.begin(), candidates.end());
      kept[i] = candidates;
    }
  };
  parallel_for(static_cast<std::size_t>(n_items), 32, threads_, token, work);

  neighbors_ = Csr();
  neighbors_.rows = n_items;
  neighbors_.cols = n_items;
  neighbors_.offsets.assign(static_cast<std::size_t>(n_items) + 1, 0);
  for (std::int32_t i = 0; i < n_items; ++i) {
    for (const auto& [j, s] : kept[static_cast<std::size_t>(i)]) {
      neighbors_.indices.push_back(j);
      neighbors_.values.push_back(s);
    }
    neighbors_.offsets[static_cast<std::size_t>(i) + 1] = static_cast<std::int64_t>(neighbors_.indices.size());
  }
  done_ = 1;
}

Model ItemKnnTrainer::finish(const std::string& user_type, const std::string& item_type) {
  Model m;
  m.kind = ModelKind::ItemNeighbors;
  m.algorithm = "item_knn";
  m.explicit_ratings = data_.explicit_ratings;
  m.user_type = user_type;
  m.item_type = item_type;
  m.global_mean = data_.explicit_ratings ? mean_value(data_.by_user) : 0.0f;
  m.popularity = row_counts(data_.by_item);
  m.users = std::move(data_.users);
  m.items = std::move(data_.items);
  m.seen = std::move(data_.by_user);
  m.neighbors = std::move(neighbors_);
  m.prepare();
  return m;
}

}  // namespace pgrec
