// Data-parallel training's bookkeeping, whatever carries the bytes between ranks: the item
// dictionary every rank agrees on, one rank's interactions over it, and all ranks' rows gathered
// back for the model that rank 0 stores.
#pragma once
#include <string>
#include <vector>

#include "interactions.h"
#include "model.h"

namespace pgrec {

// The item ids `rows` holds, as bytes for the other ranks.
std::string item_ids_bytes(const InteractionBuilder& rows);

// The sorted union (integers ascending, texts bytewise) of every rank's item_ids_bytes: the
// same dictionary on every rank, whatever order the ranks read their rows in.
IdMap agreed_items(const std::vector<std::string>& per_rank, IdKind kind);

// The user ids `rows` holds, in the order read, as bytes for the other ranks.
std::string user_ids_bytes(const InteractionBuilder& rows);

// Every rank's users (user_ids_bytes) one after another in rank order: the same dictionary on
// every rank, in the order gather_shards builds. A user read by two ranks is bad data.
IdMap agreed_users(const std::vector<std::string>& per_rank, IdKind kind);

// One rank's rows over every rank's users and the agreed items (the others' users and the items
// it has no rows of stay empty), still as rows: for a model whose weights every rank holds
// whole. `rows` is left empty.
InteractionBuilder shard_rows(InteractionBuilder& rows, const IdMap& users, const IdMap& items);

// Every rank's rows (InteractionBuilder::serialize, in rank order) over the agreed users and items.
InteractionBuilder gathered_rows(const std::vector<std::string>& per_rank_rows, const IdMap& users, const IdMap& items);

// One rank's rows over the agreed items (items it has no rows of are empty columns); `rows` is
// left empty.
Interactions shard_over(InteractionBuilder& rows, const IdMap& items);

// Every rank's rows (InteractionBuilder::serialize, in rank order) over the agreed items: users
// in rank order, each rank's in the order it read them.
Interactions gather_shards(const std::vector<std::string>& per_rank_rows, const IdMap& items);

// One rank's part of a factor model for rank 0: its users, its rows (`rows`: its
// InteractionBuilder::serialize) and its users' factor rows.
std::string factor_part_bytes(const Model& mine, const std::string& rows);

// Rank 0's whole factor model: `mine` (its own, whose item side every rank shares) over every
// rank's users and rows (`parts`: factor_part_bytes in rank order, rank 0's included).
Model gather_factor_model(Model mine, const std::vector<std::string>& parts, const IdMap& items);

}  // namespace pgrec
