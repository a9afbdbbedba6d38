#include "factor_import.h"

#include <cmath>
#include <cstring>

#include "als.h"
#include "errors.h"
#include "json_out.h"

namespace pgrec {

ImportSettings ImportSettings::parse(const std::vector<Param>& params, bool explicit_ratings) {
  ParamReader r(params, "rec.import_factors");
  ImportSettings s;
  s.explicit_ratings = explicit_ratings;
  s.regularization = r.real("regularization", 0.1, 0, 1e6);
  s.alpha = r.real("alpha", 1.0, 0, 1e6);
  s.global_mean = r.real("global_mean", 0, -1e9, 1e9);
  r.reject_unknown();
  return s;
}

std::string ImportSettings::to_json() const {
  JsonOut j;
  j << "{\"kind\": \"" << (explicit_ratings ? "explicit" : "implicit") << "\", \"regularization\": " << regularization
    << ", \"alpha\": " << alpha;
  if (explicit_ratings) j << ", \"global_mean\": " << global_mean;
  j << "}";
  return j.str();
}

FactorImport::FactorImport(IdKind user_kind, IdKind item_kind, bool explicit_ratings, std::uint64_t max_bytes)
    : builder_(user_kind, item_kind, explicit_ratings), max_bytes_(max_bytes) {}

void FactorImport::add_vector(bool users, const IdRef& id, const float* values, std::int32_t n) {
  const char* what = users ? "user" : "item";
  const auto name = [&id]() { return id.is_text() ? "\"" + std::string(id.text, id.length) + "\"" : std::to_string(id.number); };
  if (n < 1 || n > kMaxImportedFactors)
    bad_data(std::string(what) + " " + name() + " has " + std::to_string(n) + " factors: a vector needs 1 to " +
             std::to_string(kMaxImportedFactors));
  if (dims_ < 0) dims_ = n;
  if (n != dims_)
    bad_data(std::string(what) + " " + name() + " has " + std::to_string(n) + " factors, the vectors before it " +
             std::to_string(dims_) + ": every user and item vector must have the same length");
  for (std::int32_t j = 0; j < n; ++j)
    if (!std::isfinite(values[j]))
      bad_data(std::string(what) + " " + name() + " has a factor that is not a finite number (element " +
               std::to_string(j + 1) + ")");
  // The values, then the model's matrices built from them: twice the floats at the peak.
  const std::uint64_t floats = user_values_.size() + item_values_.size() + static_cast<std::uint64_t>(n);
  if (floats * sizeof(float) * 2 > max_bytes_)
    throw Error(ErrorKind::OutOfMemory, "importing these factors needs more than " +
                                            std::to_string(floats * sizeof(float) * 2 / (1024 * 1024)) +
                                            " MB, over the limit of " + std::to_string(max_bytes_ / (1024 * 1024)) +
                                            " MB (pgrec.max_training_memory)");
  const std::int32_t before = users ? builder_.user_count() : builder_.item_count();
  const std::int32_t index = users ? builder_.add_user(id) : builder_.add_item(id);
  if (index < before) bad_data(std::string(what) + " " + name() + " appears twice");
  std::vector<float>& out = users ? user_values_ : item_values_;
  out.insert(out.end(), values, values + n);
}

bool FactorImport::add_seen(const IdRef& user, const IdRef& item, float value) {
  const std::int32_t u = builder_.find_user(user);
  const std::int32_t i = builder_.item_ids().find(item);
  if (u < 0 || i < 0) return false;
  // The ids as the maps hold them (the seen query's ids may be of another SQL type).
  builder_.add(builder_.user_ids().ref(u), builder_.item_ids().ref(i), value);
  return true;
}

Model FactorImport::build(const ImportSettings& settings, const std::string& user_type, const std::string& item_type) {
  if (builder_.user_count() == 0) bad_data("the users query returned no vectors");
  if (builder_.item_count() == 0) bad_data("the items query returned no vectors");
  const auto matrix = [this](std::vector<float>& values) {
    FactorMatrix m(static_cast<Eigen::Index>(values.size() / static_cast<std::size_t>(dims_)), dims_);
    std::memcpy(m.data(), values.data(), values.size() * sizeof(float));
    std::vector<float>().swap(values);
    return m;
  };
  FactorMatrix users = matrix(user_values_);
  FactorMatrix items = matrix(item_values_);
  Model m = make_factor_model("imported", settings.explicit_ratings, builder_.build(true),
                              static_cast<float>(settings.global_mean),
                              std::move(users), std::move(items), user_type, item_type);
  m.fold_in_reg = static_cast<float>(settings.regularization);
  m.fold_in_alpha = static_cast<float>(settings.alpha);
  m.params_json = settings.to_json();
  return m;
}

}  // namespace pgrec
