// Reads the side features of a two_tower model from a query: the id first, then one column per
// feature (numbers are numeric features; text, booleans and other scalars are categories; arrays
// give several categories).
#pragma once

#include "interactions.h"
#include "side_features.h"

#include "postgres_includes.h"

namespace pgrec::pg {

// Runs `query` (argument `argument`, for messages) with `search_path` and fills `out` with one
// row per item (items = true; ids the source lacks become new items) or per known user (others
// are skipped). Call inside SPI_connect.
void read_features(const char* query, const char* argument, bool items, InteractionBuilder* builder,
                   const char* search_path, FeatureTable* out);

}  // namespace pgrec::pg
