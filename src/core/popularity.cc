#include "popularity.h"
#include "json_out.h"

#include <sstream>

#include "errors.h"

namespace pgrec {

PopularityParams PopularityParams::parse(const std::vector<Param>& params, bool has_ratings) {
  ParamReader r(params, "popularity");
  PopularityParams p;
  p.weighting = r.choice("weighting", "count", {"count", "rating"});
  p.damping = r.real("damping", 10.0, 0.0, 1e9);
  r.reject_unknown();
  if (p.weighting == "rating" && !has_ratings) invalid_parameter("weighting \"rating\" needs a rating column");
  return p;
}

std::string PopularityParams::to_json() const {
  JsonOut out;
  out << "{\"weighting\": \"" << weighting << "\", \"damping\": " << damping << "}";
  return out.str();
}

void PopularityTrainer::step(CancelToken& token) {
  token.check();
  const Csr& by_item = data_.by_item;
  scores_ = row_counts(by_item);
  if (params_.weighting == "rating") {
    const double mean = mean_value(by_item);
    for (std::int32_t i = 0; i < by_item.rows; ++i) {
      double sum = 0;
      for (std::int64_t q = by_item.offsets[i]; q < by_item.offsets[i + 1]; ++q) sum += by_item.values[q];
      const double n = static_cast<double>(by_item.offsets[i + 1] - by_item.offsets[i]);
      scores_[static_cast<std::size_t>(i)] = static_cast<float>((sum + params_.damping * mean) / (n + params_.damping));
    }
  }
  done_ = 1;
}

Model PopularityTrainer::finish(const std::string& user_type, const std::string& item_type) {
  Model m;
  m.kind = ModelKind::ItemScores;
  m.algorithm = "popularity";
  m.explicit_ratings = params_.weighting == "rating";
  m.user_type = user_type;
  m.item_type = item_type;
  m.global_mean = data_.explicit_ratings ? mean_value(data_.by_user) : 0.0f;
  m.popularity = row_counts(data_.by_item);
  m.item_scores = std::move(scores_);
  m.users = std::move(data_.users);
  m.items = std::move(data_.items);
  m.seen = std::move(data_.by_user);
  m.prepare();
  return m;
}

}  // namespace pgrec
