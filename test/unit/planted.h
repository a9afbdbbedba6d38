// Small synthetic data with planted structure for the core's unit tests.
#pragma once
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>

#include "algorithms.h"
#include "interactions.h"
#include "ranking.h"

namespace pgrec::synth {

// Users and items fall into `clusters` taste groups (item i is in group i % clusters, user u in
// u % clusters); each user interacts with `per_user` random items of its own group.
inline Interactions planted_implicit(int users, int items, int clusters, int per_user,
                                     unsigned seed) {
  std::mt19937 rng(seed);
  InteractionBuilder b(IdKind::Int, IdKind::Int, false);
  const int per_group = items / clusters;
  std::uniform_int_distribution<int> pick(0, per_group - 1);
  for (int u = 0; u < users; ++u) {
    const int g = u % clusters;
    for (int n = 0; n < per_user; ++n)
      b.add(IdRef::of(1000 + u), IdRef::of(pick(rng) * clusters + g), 1.0f);
  }
  return b.build();
}

// Ratings r = 3 + u_f . v_f + noise from rank-2 true factors, a fraction `density` observed.
inline Interactions planted_explicit(int users, int items, double density, unsigned seed,
                                     std::vector<std::tuple<int, int, float>>* held_out) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> n01(0.f, 1.f);
  std::uniform_real_distribution<double> unit(0, 1);
  std::vector<float> uf(users * 2), vf(items * 2);
  for (auto& v : uf) v = n01(rng);
  for (auto& v : vf) v = n01(rng) * 0.7f;
  InteractionBuilder b(IdKind::Int, IdKind::Int, true);
  for (int u = 0; u < users; ++u)
    for (int i = 0; i < items; ++i) {
      if (unit(rng) > density) continue;
      const float r = 3.f + uf[u * 2] * vf[i * 2] + uf[u * 2 + 1] * vf[i * 2 + 1] + 0.1f * n01(rng);
      if (held_out != nullptr && unit(rng) < 0.1)
        held_out->emplace_back(u, i, r);
      else
        b.add(IdRef::of(u), IdRef::of(i), r);
    }
  return b.build();
}

// A number parameter, as the SQL layer would pass it.
inline Param num(const std::string& key, double v) {
  Param p;
  p.key = key;
  p.type = ParamType::Number;
  p.number = v;
  p.text = std::to_string(v);
  return p;
}

// Trains `algorithm` to the end on `data` with `params` (one thread).
inline Model train(const std::string& algorithm, Interactions data, const std::vector<Param>& params = {},
                   int threads = 1) {
  auto t = make_trainer(parse_algorithm(algorithm, params, data.explicit_ratings), std::move(data), threads);
  CancelToken token;
  train_to_end(*t, token);
  return t->finish("int4", "int4");
}

// The share of the first `users` users' top-k recommendations that fall in the user's planted
// group (data from planted_implicit with `groups` groups).
inline double in_group_rate(const Model& m, int groups, std::int32_t k, std::int32_t users) {
  int hits = 0, total = 0;
  for (std::int32_t u = 0; u < users && u < static_cast<std::int32_t>(m.users.size()); ++u) {
    const int group = static_cast<int>(m.users.int_at(u) - 1000) % groups;
    for (const Scored& s : recommend(m, u, k, true)) {
      hits += (m.items.int_at(s.index) % groups) == group;
      ++total;
    }
  }
  return total > 0 ? static_cast<double>(hits) / total : 0.0;
}

// With PGREC_WRITE_FUZZ_SEEDS=DIR, writes the model's bytes to DIR/NAME: how test/fuzz/corpus
// gets a seed of each model kind.
inline void write_fuzz_seed(const Model& m, const std::string& name) {
  const char* dir = std::getenv("PGREC_WRITE_FUZZ_SEEDS");
  if (dir == nullptr) return;
  const std::string bytes = serialize_model(m);
  std::FILE* f = std::fopen((std::string(dir) + "/" + name).c_str(), "wb");
  if (f == nullptr) return;
  std::fwrite(bytes.data(), 1, bytes.size(), f);
  std::fclose(f);
}

}  // namespace pgrec::synth
