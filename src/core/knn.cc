#include "knn.h"
#include "json_out.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <sstream>

#include "errors.h"
#include "parallel.h"

namespace pgrec {

KnnParams KnnParams::parse(const std::vector<Param>& params, bool has_ratings, const char* algorithm) {
  ParamReader r(params, algorithm);
  KnnParams p;
  p.similarity = r.choice("similarity", "cosine", {"cosine", "pearson", "adjusted_cosine"});
  // Defaults measured on MovieLens (bench/cases/defaults.sql): items do best with few, shrunk
  // neighbours; users with many.
  const bool items = std::string(algorithm) == "item_knn";
  p.neighbors = static_cast<std::int32_t>(r.integer("neighbors", items ? 20 : 100, 1, 100000));
  p.shrinkage = r.real("shrinkage", items ? 10.0 : 0.0, 0.0, 1e9);
  r.reject_unknown();
  if (p.similarity != "cosine" && !has_ratings)
    invalid_parameter("similarity \"" + p.similarity + "\" needs a rating column");
  return p;
}

std::string KnnParams::to_json() const {
  JsonOut out;
  out << "{\"similarity\": \"" << similarity << "\", \"neighbors\": " << neighbors
      << ", \"shrinkage\": " << shrinkage << "}";
  return out.str();
}

Csr neighbor_graph(const Csr& by_row, const Csr& by_other, bool explicit_ratings, const KnnParams& params,
                   int threads, CancelToken& token) {
  const std::int32_t n_rows = by_row.rows;

  // The value each interaction contributes to similarities: 1 for implicit data, the rating
  // (centred on the row entity's mean for Pearson, the other entity's for adjusted cosine) for
  // explicit data.
  std::vector<float> other_value(by_other.values.size(), 1.0f);
  if (explicit_ratings) {
    std::vector<double> row_mean(static_cast<std::size_t>(n_rows), 0.0);
    for (std::int32_t i = 0; i < n_rows; ++i) {
      double sum = 0;
      for (std::int64_t q = by_row.offsets[i]; q < by_row.offsets[i + 1]; ++q) sum += by_row.values[q];
      row_mean[static_cast<std::size_t>(i)] = sum / std::max<std::int64_t>(1, by_row.offsets[i + 1] - by_row.offsets[i]);
    }
    for (std::int32_t u = 0; u < by_other.rows; ++u) {
      double sum = 0;
      for (std::int64_t p = by_other.offsets[u]; p < by_other.offsets[u + 1]; ++p) sum += by_other.values[p];
      const double other_mean = sum / std::max<std::int64_t>(1, by_other.offsets[u + 1] - by_other.offsets[u]);
      for (std::int64_t p = by_other.offsets[u]; p < by_other.offsets[u + 1]; ++p) {
        double v = by_other.values[p];
        if (params.similarity == "pearson") v -= row_mean[static_cast<std::size_t>(by_other.indices[p])];
        if (params.similarity == "adjusted_cosine") v -= other_mean;
        other_value[static_cast<std::size_t>(p)] = static_cast<float>(v);
      }
    }
  }
  std::vector<double> norm(static_cast<std::size_t>(n_rows), 0.0);
  for (std::size_t p = 0; p < other_value.size(); ++p)
    norm[static_cast<std::size_t>(by_other.indices[p])] += static_cast<double>(other_value[p]) * other_value[p];
  for (double& v : norm) v = std::sqrt(v);
  // Where each by_row entry sits in by_other (to find its value there).
  std::vector<std::int64_t> position(by_row.indices.size());
  {
    std::vector<std::int64_t> fill(by_row.offsets.begin(), by_row.offsets.end() - 1);
    for (std::int32_t u = 0; u < by_other.rows; ++u)
      for (std::int64_t p = by_other.offsets[u]; p < by_other.offsets[u + 1]; ++p)
        position[static_cast<std::size_t>(fill[by_other.indices[p]]++)] = p;
  }

  std::vector<std::vector<std::pair<std::int32_t, float>>> kept(static_cast<std::size_t>(n_rows));
  auto work = [&](std::size_t begin, std::size_t end) {
    std::vector<double> dot(static_cast<std::size_t>(n_rows), 0.0);
    std::vector<std::int32_t> common(static_cast<std::size_t>(n_rows), 0);
    std::vector<std::int32_t> touched;
    std::vector<std::pair<std::int32_t, float>> candidates;
    for (std::size_t i = begin; i < end; ++i) {
      touched.clear();
      for (std::int64_t q = by_row.offsets[i]; q < by_row.offsets[i + 1]; ++q) {
        const std::int32_t u = by_row.indices[q];
        const double vi = other_value[static_cast<std::size_t>(position[static_cast<std::size_t>(q)])];
        for (std::int64_t p = by_other.offsets[u]; p < by_other.offsets[u + 1]; ++p) {
          const std::int32_t j = by_other.indices[p];
          if (common[static_cast<std::size_t>(j)]++ == 0) touched.push_back(j);
          dot[static_cast<std::size_t>(j)] += vi * other_value[static_cast<std::size_t>(p)];
        }
      }
      candidates.clear();
      for (std::int32_t j : touched) {
        const auto js = static_cast<std::size_t>(j);
        const double denom = norm[i] * norm[js];
        if (j != static_cast<std::int32_t>(i) && denom > 0) {
          double sim = dot[js] / denom;
          if (params.shrinkage > 0) sim *= common[js] / (common[js] + params.shrinkage);
          if (sim > 0) candidates.emplace_back(j, static_cast<float>(sim));
        }
        dot[js] = 0;
        common[js] = 0;
      }
      const std::size_t keep = std::min<std::size_t>(candidates.size(), static_cast<std::size_t>(params.neighbors));
      std::partial_sort(candidates.begin(), candidates.begin() + static_cast<std::ptrdiff_t>(keep), candidates.end(),
                        [](const auto& a, const auto& b) { return a.second > b.second || (a.second == b.second && a.first < b.first); });
      candidates.resize(keep);
      std::sort(candidates.begin(), candidates.end());
      kept[i] = candidates;
    }
  };
  parallel_for(static_cast<std::size_t>(n_rows), 32, threads, token, work);

  Csr neighbors;
  neighbors.rows = n_rows;
  neighbors.cols = n_rows;
  neighbors.offsets.assign(static_cast<std::size_t>(n_rows) + 1, 0);
  for (std::int32_t i = 0; i < n_rows; ++i) {
    for (const auto& [j, s] : kept[static_cast<std::size_t>(i)]) {
      neighbors.indices.push_back(j);
      neighbors.values.push_back(s);
    }
    neighbors.offsets[static_cast<std::size_t>(i) + 1] = static_cast<std::int64_t>(neighbors.indices.size());
  }
  return neighbors;
}

void KnnTrainer::step(CancelToken& token) {
  neighbors_ = users_ ? neighbor_graph(data_.by_user, data_.by_item, data_.explicit_ratings, params_, threads_, token)
                      : neighbor_graph(data_.by_item, data_.by_user, data_.explicit_ratings, params_, threads_, token);
  done_ = 1;
}

Model KnnTrainer::finish(const std::string& user_type, const std::string& item_type) {
  Model m;
  m.kind = users_ ? ModelKind::UserNeighbors : ModelKind::ItemNeighbors;
  m.algorithm = users_ ? "user_knn" : "item_knn";
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
