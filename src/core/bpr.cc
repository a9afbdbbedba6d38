#include "bpr.h"
#include "json_out.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <sstream>
#include <thread>

#include "als.h"
#include "errors.h"
#include "kernels.h"
#include "parallel.h"

namespace pgrec {

namespace {

// A small fast generator (splitmix64) for the sampling hot loop.
inline std::uint64_t next_random(std::uint64_t& s) {
  std::uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// A uniform integer in [0, n) from a random word (multiply-high: no division).
inline std::size_t below(std::uint64_t r, std::size_t n) {
  return static_cast<std::size_t>((static_cast<unsigned __int128>(r) * n) >> 64);
}

// A uniform double in [0, 1).
inline double unit(std::uint64_t& s) { return static_cast<double>(next_random(s) >> 11) * (1.0 / 9007199254740992.0); }

}  // namespace

BprParams BprParams::parse(const std::vector<Param>& params) {
  ParamReader r(params, "bpr");
  BprParams p;
  p.factors = static_cast<std::int32_t>(r.integer("factors", 64, 1, 1024));
  p.epochs = static_cast<std::int32_t>(r.integer("epochs", 50, 1, 10000));
  p.learning_rate = r.real("learning_rate", 0.05, 1e-9, 10.0);
  p.regularization = r.real("regularization", 0.01, 0.0, 100.0);
  p.sampling = r.choice("sampling", "uniform", {"uniform", "popularity"});
  p.seed = static_cast<std::uint64_t>(r.integer("seed", 42, 0, INT64_MAX));
  p.validation = r.boolean("validation", false);
  r.reject_unknown();
  return p;
}

std::string BprParams::to_json() const {
  JsonOut out;
  out << "{\"factors\": " << factors << ", \"epochs\": " << epochs << ", \"learning_rate\": " << learning_rate
      << ", \"regularization\": " << regularization << ", \"sampling\": \"" << sampling << "\", \"seed\": " << seed;
  if (validation) out << ", \"validation\": true";
  out << "}";
  return out.str();
}

BprTrainer::BprTrainer(Interactions data, const BprParams& params, int threads)
    : data_(std::move(data)), params_(params), threads_(threads) {
  chunk_loss_.assign(kChunks, 0.0);
  std::mt19937_64 rng(params_.seed);
  std::normal_distribution<float> normal(0.0f, 0.1f);
  p_.resize(data_.by_user.rows, params_.factors);
  q_.resize(data_.by_item.rows, params_.factors + 1);  // the item bias in the last column
  for (Eigen::Index k = 0; k < p_.size(); ++k) p_.data()[k] = normal(rng);
  for (Eigen::Index k = 0; k < q_.rows() * params_.factors; ++k) q_(k / params_.factors, k % params_.factors) = normal(rng);
  q_.col(params_.factors).setZero();
  // Slice c of the users starts at the first user boundary at or after c/kChunks of the entries.
  const std::vector<std::int64_t>& offsets = data_.by_user.offsets;
  const std::int64_t nnz = data_.by_user.nnz();
  slice_start_.resize(kChunks + 1);
  for (std::size_t c = 0; c <= kChunks; ++c)
    slice_start_[c] = static_cast<std::size_t>(
        *std::lower_bound(offsets.begin(), offsets.end(), nnz * static_cast<std::int64_t>(c) / static_cast<std::int64_t>(kChunks)));
  entry_user_.resize(data_.by_user.indices.size());
  for (std::int32_t u = 0; u < data_.by_user.rows; ++u)
    for (std::int64_t e = data_.by_user.offsets[u]; e < data_.by_user.offsets[u + 1]; ++e)
      entry_user_[static_cast<std::size_t>(e)] = u;
  if (params_.validation) {
    // One interaction of each user with two or more, drawn with the seed, is never trained on.
    held_.assign(data_.by_user.indices.size(), 0);
    std::uint64_t state = params_.seed ^ 0x5bd1e995ULL;
    for (std::int32_t u = 0; u < data_.by_user.rows; ++u) {
      const std::int64_t begin = data_.by_user.offsets[u], n = data_.by_user.offsets[u + 1] - begin;
      if (n < 2) continue;
      const std::int64_t e = begin + static_cast<std::int64_t>(next_random(state) % static_cast<std::uint64_t>(n));
      held_[static_cast<std::size_t>(e)] = 1;
      held_entry_.push_back(e);
    }
  }
  if (params_.sampling == "popularity") set_popularity(row_counts(data_.by_item));
}

void BprTrainer::set_popularity(const std::vector<float>& counts) {
  cumulative_.resize(counts.size());
  double total = 0;
  for (std::size_t i = 0; i < counts.size(); ++i) cumulative_[i] = total += std::pow(counts[i], 0.75);
}

void BprTrainer::share_items(const RankSums& sums) {
  ranks_ = sums;
  take_rank0(q_, sums);
  if (params_.sampling == "popularity") {
    std::vector<float> counts = row_counts(data_.by_item);
    sums.floats(counts.data(), counts.size());
    set_popularity(counts);
  }
}

std::int32_t BprTrainer::draw_negative(std::int32_t u, std::uint64_t& state) const {
  const std::int32_t n = data_.by_item.rows;
  const auto first = data_.by_user.indices.begin() + data_.by_user.offsets[u];
  const auto last = data_.by_user.indices.begin() + data_.by_user.offsets[u + 1];
  std::int32_t j = 0;
  for (int attempt = 0; attempt < 10; ++attempt) {
    if (cumulative_.empty()) {
      j = static_cast<std::int32_t>(below(next_random(state), static_cast<std::size_t>(n)));
    } else {
      const double x = unit(state) * cumulative_.back();
      j = static_cast<std::int32_t>(std::upper_bound(cumulative_.begin(), cumulative_.end(), x) - cumulative_.begin());
      j = std::min(j, n - 1);
    }
    if (!std::binary_search(first, last, j)) return j;
  }
  return j;
}

void BprTrainer::step(CancelToken& token) {
  for (std::int32_t part = 0; part < kParts; ++part) step_part(part, token);
}

void BprTrainer::run_chunk(std::int32_t part, std::size_t chunk, FactorMatrix& items) {
  const std::int32_t f = static_cast<std::int32_t>(p_.cols());
  const float lr = static_cast<float>(params_.learning_rate);
  const float reg = static_cast<float>(params_.regularization);
  const std::size_t nnz = entry_user_.size();
  // Stratified by user: chunk c draws its entries from the c-th slice of the users (their entries,
  // sorted by user), as many as the slice's share of the part's samples, so every entry stays
  // equally likely, while a chunk's user rows and entries are its own (no two threads write one
  // user row) and stay in its thread's cache.
  const std::size_t slice = slice_start_[chunk], slice_n = slice_start_[chunk + 1] - slice;
  if (slice_n == 0) return;
  const std::size_t samples = nnz * static_cast<std::size_t>(part + 1) / kParts - nnz * static_cast<std::size_t>(part) / kParts;
  const std::size_t from = samples * slice / nnz, to = samples * (slice + slice_n) / nnz;
  std::uint64_t state = params_.seed * 0x2545f4914f6cdd1dULL +
                        (static_cast<std::uint64_t>(done_) * kParts + static_cast<std::uint64_t>(part)) * kChunks + chunk + 1;
  double loss = 0;
  const auto draw_entry = [&](std::uint64_t& st) { return slice + below(next_random(st), slice_n); };
  // Entries are drawn two samples ahead and their (user, item) one ahead, each prefetched, so the
  // random reads of one sample overlap the arithmetic of the one before.
  std::uint64_t entry_state = state ^ 0x9e3779b97f4a7c15ULL;
  std::size_t e_next = draw_entry(entry_state), e_after = draw_entry(entry_state);
  __builtin_prefetch(&entry_user_[e_next]);
  __builtin_prefetch(&data_.by_user.indices[e_next]);
  for (std::size_t s = from; s < to; ++s) {
    const std::size_t e = e_next;
    e_next = e_after;
    e_after = draw_entry(entry_state);
    __builtin_prefetch(&entry_user_[e_after]);
    __builtin_prefetch(&data_.by_user.indices[e_after]);
    __builtin_prefetch(p_.row(entry_user_[e_next]).data());
    __builtin_prefetch(items.row(data_.by_user.indices[e_next]).data());
    if (!held_.empty() && held_[e]) continue;
    const std::int32_t u = entry_user_[e];
    const std::int32_t i = data_.by_user.indices[e];
    const std::int32_t j = draw_negative(u, state);
    if (i == j) continue;
    const float x = kernels::bpr_update(p_.row(u).data(), items.row(i).data(), items.row(j).data(), f, lr, reg);
    loss += x > -30.0f ? std::log1p(std::exp(-x)) : -x;  // -ln sigmoid(x)
  }
  chunk_loss_[chunk] += loss;
}

void BprTrainer::step_part(std::int32_t part, CancelToken& token) {
  const std::size_t nnz = entry_user_.size();
  if (part == 0) std::fill(chunk_loss_.begin(), chunk_loss_.end(), 0.0);
  const bool distributed = ranks_.size > 1;
  const FactorMatrix start = distributed ? q_ : FactorMatrix();
  const std::size_t threads = static_cast<std::size_t>(std::max(threads_, 1));
  if (threads == 1 || !bpr_item_replicas(q_.rows(), params_.factors, threads_)) {
    // Lock-free parallel SGD (Hogwild): the part's samples in kChunks chunks, each with its own
    // generator seeded by (seed, epoch, part, chunk), so the samples drawn do not depend on the
    // number of threads; threads update the shared factors without locks.
    parallel_for(kChunks, 1, threads_, token, [&](std::size_t begin, std::size_t end) {
      for (std::size_t chunk = begin; chunk < end; ++chunk) run_chunk(part, chunk, q_);
    });
  } else {
    // A small catalog: threads would keep stealing the same item rows' cache lines from each other,
    // so each thread updates its own copy of the item rows through the part and the copies' changes
    // are summed at its end. Copy t runs chunks t, t + T, ...: the result depends only on T.
    replicas_.resize(threads);
    for (FactorMatrix& r : replicas_) r = q_;
    const auto owner = std::this_thread::get_id();
    parallel_for(threads, 1, threads_, token, [&](std::size_t begin, std::size_t end) {
      for (std::size_t t = begin; t < end; ++t)
        for (std::size_t chunk = t; chunk < kChunks && !token.cancelled(); chunk += threads) {
          if (std::this_thread::get_id() == owner) token.poll();
          run_chunk(part, chunk, replicas_[t]);
        }
    });
    if (token.cancelled()) throw Cancelled();
    FactorMatrix before = q_;
    for (const FactorMatrix& r : replicas_) q_ += r - before;
  }
  if (distributed) sum_changes(q_, start, ranks_);  // every rank's samples of this part
  if (part == kParts - 1) {
    double loss = 0;
    for (const double l : chunk_loss_) loss += l;
    double ndcg = held_entry_.empty() ? std::nan("") : validation_ndcg();
    double n = static_cast<double>(nnz);
    if (distributed) {  // every rank's loss and held-out users
      double all[4] = {loss, n, held_entry_.empty() ? 0.0 : ndcg * static_cast<double>(held_entry_.size()),
                       static_cast<double>(held_entry_.size())};
      ranks_.doubles(all, 4);
      loss = all[0];
      n = all[1];
      ndcg = all[3] > 0 ? all[2] / all[3] : std::nan("");
    }
    last_loss_ = n > 0 ? loss / n : 0.0;
    ++done_;
    history_.emplace_back(last_loss_, ndcg);
  }
}

bool bpr_item_replicas(std::int64_t items, std::int32_t factors, int threads) {
  return threads > 1 && static_cast<double>(items) * (factors + 1) * sizeof(float) <= kBprReplicaBytes;
}

double BprTrainer::validation_ndcg() const {
  double sum = 0;
  const Eigen::Index f = p_.cols();
  for (const std::int64_t e : held_entry_) {
    const std::int32_t u = entry_user_[static_cast<std::size_t>(e)];
    const std::int32_t target = data_.by_user.indices[e];
    const float* pu = p_.row(u).data();
    const auto score = [&](std::int32_t i) {
      const float* qi = q_.row(i).data();
      float x = qi[f];
      for (Eigen::Index c = 0; c < f; ++c) x += pu[c] * qi[c];
      return x;
    };
    const float mine = score(target);
    // The target's rank: items scoring higher that the user did not train on.
    const auto first = data_.by_user.indices.begin() + data_.by_user.offsets[u];
    const auto last = data_.by_user.indices.begin() + data_.by_user.offsets[u + 1];
    std::int32_t above = 0;
    for (std::int32_t i = 0; i < data_.by_item.rows && above < 10; ++i)
      if (i != target && score(i) > mine && !std::binary_search(first, last, i)) ++above;
    if (above < 10) sum += 1.0 / std::log2(above + 2.0);
  }
  return held_entry_.empty() ? 0.0 : sum / static_cast<double>(held_entry_.size());
}

std::string BprTrainer::history_json() const {
  // Without validation the driver records the loss itself (rec.training_curve).
  if (held_entry_.empty()) return "";
  JsonOut out;
  out << "[";
  for (std::size_t e = 0; e < history_.size(); ++e)
    out << (e ? ", " : "") << "{\"epoch\": " << e + 1 << ", \"loss\": " << history_[e].first << ", \"ndcg@10\": " << history_[e].second << "}";
  out << "]";
  return out.str();
}

WarmStart BprTrainer::warm_start(const Model& previous) {
  const Eigen::Index f = p_.cols();
  check_warm_start(previous, "bpr", f + 1, f + 1);
  WarmStart w;
  w.users = copy_rows_by_id(previous.users, previous.user_factors, 0, data_.users, p_, 0, f);
  w.items = copy_rows_by_id(previous.items, previous.item_factors, 0, data_.items, q_, 0, f + 1);
  return w;
}

Model BprTrainer::finish(const std::string& user_type, const std::string& item_type) {
  // The item bias rides in an extra factor column: user [p_u, 1] . item [q_i, b_i].
  const Eigen::Index f = p_.cols();
  FactorMatrix users(p_.rows(), f + 1);
  users.leftCols(f) = p_;
  users.col(f).setOnes();
  Model m = make_factor_model("bpr", false, std::move(data_), 0.0f, std::move(users), std::move(q_), user_type,
                              item_type);
  m.fold_in_reg = static_cast<float>(params_.regularization);
  m.fixed_user_columns = 1;
  return m;
}

}  // namespace pgrec
