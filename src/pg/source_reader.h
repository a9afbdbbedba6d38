// Reads a training source (table, view or query) through a cursor, in batches, into the builder.
#pragma once

#include "postgres_includes.h"
#include "row_sink.h"
#include "train_state.h"

namespace pgrec::pg {

struct SourceSpec {
  const char* source;      // a relation name or a query
  const char* user_col;
  const char* item_col;
  const char* rating_col;  // null for implicit feedback
  const char* search_path = nullptr;  // read with this search_path (the caller's), or the current one
  const char* time_col = nullptr;     // rows ordered by this column (then the item), for sequences
};

struct SourceStats {
  std::int64_t rows_read;     // rows the source returned
  std::int64_t rows_skipped;  // rows with a NULL user, item or rating
  Oid user_type;
  Oid item_type;
};

// Whether the source text is a query (SELECT, WITH, VALUES, TABLE) rather than a relation name.
bool looks_like_query(const char* source);

// The source as a schema-qualified relation name (raising PostgreSQL's error when there is no
// such relation), or the query unchanged: what a job worker, with its own search_path, can read.
const char* qualified_source(const char* source);

// The SELECT of (user, item[, rating::float8]) over the source; names are quoted, never spliced.
// With `user_type` (the SQL type of the user column), only the rows of user $1 (given as text);
// with a time column, in time order.
char* build_source_query(const SourceSpec* spec, const char* user_type);

// Sets search_path to `path` until the returned nest level is closed by AtEOXact_GUC(true, level)
// (or the transaction ends); -1, changing nothing, when `path` is null.
int use_search_path(const char* path);

// What enter_owner_context changed, to be put back by leave_owner_context.
struct OwnerContext {
  Oid saved_user;
  int saved_sec;
  int nest;
};

// Makes what follows run as `owner` inside a security-restricted operation, with search_path
// `path` (the owner's, from training; null for "$user", public) and pg_temp searched last, as
// PostgreSQL runs code on someone else's behalf (REFRESH MATERIALIZED VIEW, index expressions).
// An error's transaction abort undoes it too.
void enter_owner_context(Oid owner, const char* path, OwnerContext* saved);

// Undoes enter_owner_context.
void leave_owner_context(const OwnerContext* saved);

// Whether rec.<table> has the column (catalogs of older versions of pgrec's SQL lack some).
bool catalog_has_column(const char* table, const char* column);

// Reads every row of the source into the sink, in batches. Call inside SPI_connect.
void read_source(const SourceSpec* spec, RowSink* sink, SourceStats* stats);

// Reads a jsonb object of parameters into `out`. Call inside SPI_connect.
void read_params(Jsonb* params, std::vector<Param>* out);

}  // namespace pgrec::pg
