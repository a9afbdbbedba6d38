// Batch recommendation: the top-k of many users at once, with one matrix product per block of
// users for factor models, on several threads.
#pragma once
#include <cstdint>
#include <vector>

#include "cancel.h"
#include "model.h"
#include "ranking.h"

namespace pgrec {

// The k best items of each listed user (model indices; -1 for a user the model does not know,
// who gets popular items), as `recommend` ranks them; lists[j] belongs to users[j]. Factor
// models score a block of users with one matrix product; other kinds call recommend per user.
// Runs on up to `threads` threads; `token` is polled between blocks.
std::vector<std::vector<Scored>> recommend_many(const Model& model, const std::vector<std::int32_t>& users,
                                                std::int32_t k, bool exclude_seen, int threads, CancelToken& token);

}  // namespace pgrec
