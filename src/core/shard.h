// Data-parallel training's bookkeeping, whatever carries the bytes between ranks: the item
// dictionary every rank agrees on, one rank's interactions over it, and all ranks' rows gathered
// back for the model that rank 0 stores.
#pragma once
#include <string>
#include <vector>

#include "interactions.h"

namespace pgrec {

// The item ids `rows` holds, as bytes for the other ranks.
std::string item_ids_bytes(const InteractionBuilder& rows);

// The sorted union (integers ascending, texts bytewise) of every rank's item_ids_bytes: the
// same dictionary on every rank, whatever order the ranks read their rows in.
IdMap agreed_items(const std::vector<std::string>& per_rank, IdKind kind);

// One rank's rows over the agreed items (items it has no rows of are empty columns); `rows` is
// left empty.
Interactions shard_over(InteractionBuilder& rows, const IdMap& items);

// Every rank's rows (InteractionBuilder::serialize, in rank order) over the agreed items: users
// in rank order, each rank's in the order it read them.
Interactions gather_shards(const std::vector<std::string>& per_rank_rows, const IdMap& items);

}  // namespace pgrec
