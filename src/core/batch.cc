#include "batch.h"

#include <algorithm>

#include "parallel.h"

namespace pgrec {

namespace {

constexpr std::size_t kUsersPerProduct = 64;

// Scores the known users among users[begin, end) with one product and ranks each of them.
void rank_factor_block(const Model& m, const std::vector<std::int32_t>& users, std::size_t begin, std::size_t end,
                       std::int32_t k, bool exclude_seen, std::vector<std::vector<Scored>>& lists) {
  std::vector<std::size_t> slots;
  for (std::size_t j = begin; j < end; ++j)
    if (users[j] >= 0) slots.push_back(j);
  if (slots.empty()) return;
  FactorMatrix block(static_cast<Eigen::Index>(slots.size()), m.item_factors.cols());
  for (std::size_t b = 0; b < slots.size(); ++b) block.row(static_cast<Eigen::Index>(b)) = m.user_factors.row(users[slots[b]]);
  // items x users, column-major: each user's scores are contiguous.
  Eigen::MatrixXf scores = m.item_factors * block.transpose();
  if (m.explicit_ratings) scores.array() += m.global_mean;
  for (std::size_t b = 0; b < slots.size(); ++b) {
    const std::int32_t u = users[slots[b]];
    const std::int64_t lo = m.seen.offsets[u], hi = m.seen.offsets[u + 1];
    lists[slots[b]] = top_k(scores.col(static_cast<Eigen::Index>(b)).data(), m.n_items(), k,
                            exclude_seen ? m.seen.indices.data() + lo : nullptr,
                            exclude_seen ? static_cast<std::size_t>(hi - lo) : 0);
  }
}

}  // namespace

std::vector<std::vector<Scored>> recommend_many(const Model& m, const std::vector<std::int32_t>& users,
                                                std::int32_t k, bool exclude_seen, int threads, CancelToken& token) {
  std::vector<std::vector<Scored>> lists(users.size());
  const std::vector<Scored> popular_items = popular(m, k);
  for (std::size_t j = 0; j < users.size(); ++j)
    if (users[j] < 0) lists[j] = popular_items;
  const bool factors = m.kind == ModelKind::Factors;
  parallel_for(users.size(), factors ? kUsersPerProduct : 16, threads, token, [&](std::size_t begin, std::size_t end) {
    if (factors) {
      rank_factor_block(m, users, begin, end, k, exclude_seen, lists);
      return;
    }
    for (std::size_t j = begin; j < end; ++j)
      if (users[j] >= 0) lists[j] = recommend(m, users[j], k, exclude_seen);
  });
  return lists;
}

}  // namespace pgrec
