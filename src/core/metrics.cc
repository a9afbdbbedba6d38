#include "metrics.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <unordered_set>

#include "errors.h"
#include "parallel.h"
#include "ranking.h"

namespace pgrec {

namespace {

// 1 / log2(rank + 1), the discount of a 1-based rank.
double discount(std::int64_t rank) { return 1.0 / std::log2(static_cast<double>(rank) + 1.0); }

// One test user: model index (or -1) and relevant item indices (unknown items as -1, -2, ...).
struct TestUser {
  std::int32_t user;
  std::vector<std::int32_t> relevant;
};

}  // namespace

UserRanking score_ranking(const std::vector<std::int32_t>& ranked,
                          const std::vector<std::int32_t>& relevant, std::int32_t k) {
  UserRanking r{0, 0, 0, 0, 0, 0};
  if (relevant.empty() || k <= 0) return r;
  double hits = 0, dcg = 0, ap = 0;
  const std::size_t n = std::min<std::size_t>(ranked.size(), static_cast<std::size_t>(k));
  for (std::size_t j = 0; j < n; ++j) {
    if (!std::binary_search(relevant.begin(), relevant.end(), ranked[j])) continue;
    hits += 1;
    dcg += discount(static_cast<std::int64_t>(j) + 1);
    ap += hits / static_cast<double>(j + 1);
    if (r.rr == 0) r.rr = 1.0 / static_cast<double>(j + 1);
  }
  const std::int64_t ideal_n = std::min<std::int64_t>(k, static_cast<std::int64_t>(relevant.size()));
  double idcg = 0;
  for (std::int64_t j = 1; j <= ideal_n; ++j) idcg += discount(j);
  r.precision = hits / k;
  r.recall = hits / static_cast<double>(relevant.size());
  r.ndcg = dcg / idcg;
  r.hit = hits > 0 ? 1 : 0;
  r.ap = ap / static_cast<double>(ideal_n);
  return r;
}

MetricList evaluate(const Model& model, const std::vector<TestRow>& rows, const EvalOptions& o,
                    CancelToken& token) {
  if (o.k < 1) invalid_parameter("k must be at least 1");
  if (rows.empty()) bad_data("no test interactions: the test source has no rows with a user and an item");
  const std::int32_t n_items = static_cast<std::int32_t>(model.items.size());

  // Group rows by test user.
  std::vector<TestRow> sorted = rows;
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const TestRow& a, const TestRow& b) { return a.group < b.group; });
  std::vector<TestUser> users;
  std::int64_t unknown_items = 0, cold_users = 0;
  double se = 0, ae = 0;
  std::int64_t rated = 0;
  for (std::size_t p = 0; p < sorted.size();) {
    TestUser u{sorted[p].user, {}};
    std::int32_t next_unknown = -1;
    const std::int32_t group = sorted[p].group;
    for (; p < sorted.size() && sorted[p].group == group; ++p) {
      const TestRow& row = sorted[p];
      if (row.item < 0) {
        ++unknown_items;
        u.relevant.push_back(next_unknown--);  // relevant, never rankable
      } else {
        u.relevant.push_back(row.item);
        if (o.has_ratings && u.user >= 0) {
          const double e = predict(model, u.user, row.item) - row.rating;
          se += e * e;
          ae += std::abs(e);
          ++rated;
        }
      }
    }
    std::sort(u.relevant.begin(), u.relevant.end());
    u.relevant.erase(std::unique(u.relevant.begin(), u.relevant.end()), u.relevant.end());
    if (u.user < 0) ++cold_users;
    users.push_back(std::move(u));
  }

  const std::size_t n_users = users.size();
  std::vector<UserRanking> per_user(n_users);
  std::vector<std::vector<std::int32_t>> lists(n_users);
  std::vector<double> sampled_hit(n_users, 0), sampled_ndcg(n_users, 0);
  std::vector<std::int64_t> sampled_count(n_users, 0);
  auto work = [&](std::size_t begin, std::size_t end) {
    for (std::size_t j = begin; j < end; ++j) {
      const TestUser& u = users[j];
      if (o.sampled_negatives == 0) {
        for (const Scored& s : recommend(model, u.user, o.k, o.exclude_seen)) lists[j].push_back(s.index);
        per_user[j] = score_ranking(lists[j], u.relevant, o.k);
        continue;
      }
      // Sampled protocol: each known relevant item against n sampled items the user has not seen.
      if (u.user < 0) continue;
      std::mt19937_64 rng(o.seed ^ (static_cast<std::uint64_t>(u.user) * 0x9e3779b97f4a7c15ULL));
      std::uniform_int_distribution<std::int32_t> pick(0, n_items - 1);
      const std::int64_t lo = model.seen.offsets[u.user], hi = model.seen.offsets[u.user + 1];
      auto seen = [&](std::int32_t i) {
        return std::binary_search(model.seen.indices.begin() + lo, model.seen.indices.begin() + hi, i) ||
               std::binary_search(u.relevant.begin(), u.relevant.end(), i);
      };
      const std::int64_t forbidden = (hi - lo) + static_cast<std::int64_t>(u.relevant.size());
      if (n_items - forbidden < o.sampled_negatives) continue;
      for (std::int32_t pos : u.relevant) {
        if (pos < 0) continue;
        const float pos_score = predict(model, u.user, pos);
        std::int64_t better = 0;
        for (std::int32_t s = 0; s < o.sampled_negatives;) {
          const std::int32_t neg = pick(rng);
          if (seen(neg)) continue;
          const float score = predict(model, u.user, neg);
          if (score > pos_score || (score == pos_score && neg < pos)) ++better;
          ++s;
        }
        const std::int64_t rank = better + 1;
        if (rank <= o.k) {
          sampled_hit[j] += 1;
          sampled_ndcg[j] += discount(rank);
        }
        ++sampled_count[j];
      }
    }
  };
  parallel_for(n_users, 16, o.threads, token, work);

  MetricList out;
  const std::string at = "@" + std::to_string(o.k);
  if (o.sampled_negatives == 0) {
    UserRanking sum{0, 0, 0, 0, 0, 0};
    std::vector<char> recommended(static_cast<std::size_t>(n_items), 0);
    double popularity = 0;
    std::int64_t n_recommended = 0;
    for (std::size_t j = 0; j < n_users; ++j) {
      sum.precision += per_user[j].precision;
      sum.recall += per_user[j].recall;
      sum.ndcg += per_user[j].ndcg;
      sum.hit += per_user[j].hit;
      sum.ap += per_user[j].ap;
      sum.rr += per_user[j].rr;
      for (std::int32_t i : lists[j]) {
        recommended[static_cast<std::size_t>(i)] = 1;
        popularity += model.popularity[static_cast<std::size_t>(i)];
        ++n_recommended;
      }
    }
    const double nu = static_cast<double>(n_users);
    out.emplace_back("precision" + at, sum.precision / nu);
    out.emplace_back("recall" + at, sum.recall / nu);
    out.emplace_back("ndcg" + at, sum.ndcg / nu);
    out.emplace_back("hr" + at, sum.hit / nu);
    out.emplace_back("map" + at, sum.ap / nu);
    out.emplace_back("mrr" + at, sum.rr / nu);
    const double covered = static_cast<double>(std::count(recommended.begin(), recommended.end(), 1));
    out.emplace_back("coverage" + at, n_items > 0 ? covered / n_items : 0.0);
    out.emplace_back("popularity" + at, n_recommended > 0 ? popularity / static_cast<double>(n_recommended) : 0.0);
  } else {
    double hits = 0, ndcg = 0, count = 0;
    for (std::size_t j = 0; j < n_users; ++j) {
      hits += sampled_hit[j];
      ndcg += sampled_ndcg[j];
      count += static_cast<double>(sampled_count[j]);
    }
    const std::string tag = " (" + std::to_string(o.sampled_negatives) + " sampled negatives)";
    out.emplace_back("hr" + at + tag, count > 0 ? hits / count : 0.0);
    out.emplace_back("ndcg" + at + tag, count > 0 ? ndcg / count : 0.0);
  }
  if (o.has_ratings && model.explicit_ratings && rated > 0) {
    out.emplace_back("rmse", std::sqrt(se / static_cast<double>(rated)));
    out.emplace_back("mae", ae / static_cast<double>(rated));
  }
  out.emplace_back("users", static_cast<double>(n_users));
  out.emplace_back("cold_users", static_cast<double>(cold_users));
  out.emplace_back("test_rows", static_cast<double>(rows.size()));
  out.emplace_back("unknown_items", static_cast<double>(unknown_items));
  return out;
}

}  // namespace pgrec
