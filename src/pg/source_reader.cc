#include <cmath>
#include <cstdlib>
#include <cstring>

#include "source_reader.h"

#include "boundary.h"
#include "ids.h"

namespace pgrec::pg {

namespace {

constexpr long kBatchRows = 10000;

// Skips white space, parentheses and SQL comments (-- to the end of the line, /* ... */).
const char* skip_lead(const char* p) {
  for (;;) {
    while (*p == '(' || isspace(static_cast<unsigned char>(*p))) ++p;
    if (p[0] == '-' && p[1] == '-') {
      while (*p != '\0' && *p != '\n') ++p;
    } else if (p[0] == '/' && p[1] == '*') {
      const char* end = strstr(p + 2, "*/");
      p = end != nullptr ? end + 2 : p + strlen(p);
    } else {
      return p;
    }
  }
}

// Whether the text is a (possibly schema-qualified, possibly quoted) name: identifiers joined by dots.
bool looks_like_name(const char* p) {
  while (isspace(static_cast<unsigned char>(*p))) ++p;
  for (;;) {
    if (*p == '"') {
      for (++p;; ++p) {
        if (*p == '\0') return false;
        if (*p == '"' && p[1] == '"') { ++p; continue; }
        if (*p == '"') { ++p; break; }
      }
    } else {
      const char* start = p;
      while (isalnum(static_cast<unsigned char>(*p)) || *p == '_' || *p == '$' || static_cast<unsigned char>(*p) >= 0x80) ++p;
      if (p == start) return false;
    }
    while (isspace(static_cast<unsigned char>(*p))) ++p;
    if (*p == '\0') return true;
    if (*p != '.') return false;
    ++p;
    while (isspace(static_cast<unsigned char>(*p))) ++p;
  }
}

}  // namespace

bool looks_like_query(const char* source) {
  const char* p = skip_lead(source);
  for (const char* word : {"select", "with", "values", "table"}) {
    const size_t n = strlen(word);
    if (pg_strncasecmp(p, word, n) == 0 && !isalnum(static_cast<unsigned char>(p[n])) && p[n] != '_')
      return true;
  }
  return false;
}

char* build_source_query(const SourceSpec* spec, const char* user_type) {
  StringInfoData sql;
  initStringInfo(&sql);
  appendStringInfo(&sql, "SELECT %s, %s", quote_identifier(spec->user_col),
                   quote_identifier(spec->item_col));
  if (spec->rating_col != nullptr)
    appendStringInfo(&sql, ", (%s)::pg_catalog.float8", quote_identifier(spec->rating_col));
  if (looks_like_query(spec->source))
    appendStringInfo(&sql, " FROM (%s\n) AS pgrec_source", spec->source);
  else
    appendStringInfo(&sql, " FROM %s", qualified_source(spec->source));
  if (user_type != nullptr)
    appendStringInfo(&sql, " WHERE %s OPERATOR(pg_catalog.=) ($1::pg_catalog.text)::%s",
                     quote_identifier(spec->user_col), user_type);
  if (spec->time_col != nullptr)
    appendStringInfo(&sql, " ORDER BY %s, %s", quote_identifier(spec->time_col), quote_identifier(spec->item_col));
  return sql.data;
}

const char* qualified_source(const char* source) {
  if (looks_like_query(source)) return source;
  if (!looks_like_name(source))
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("source is neither a table or view name nor a SELECT, WITH, VALUES or TABLE query"),
                    errdetail("It starts with \"%.40s\".", skip_lead(source)),
                    errhint("Give a relation name (schema-qualified or on search_path) or a read-only query.")));
  const Oid rel = DatumGetObjectId(DirectFunctionCall1(regclassin, CStringGetDatum(source)));
  return quote_qualified_identifier(get_namespace_name(get_rel_namespace(rel)), get_rel_name(rel));
}

void read_params(Jsonb* params, std::vector<Param>* out) {
  Oid types[1] = {JSONBOID};
  Datum values[1] = {JsonbPGetDatum(params)};
  if (!JB_ROOT_IS_OBJECT(params) || JB_ROOT_IS_SCALAR(params))
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("params must be a JSON object, like '{\"factors\": 64}'")));
  if (SPI_execute_with_args(
          "SELECT key, pg_catalog.jsonb_typeof(value), value OPERATOR(pg_catalog.#>>) '{}' "
          "FROM pg_catalog.jsonb_each($1) ORDER BY key",
          1, types, values, nullptr, true, 0) != SPI_OK_SELECT)
    elog(ERROR, "pgrec: could not read params");
  for (uint64 r = 0; r < SPI_processed; ++r) {
    HeapTuple row = SPI_tuptable->vals[r];
    const char* key = SPI_getvalue(row, SPI_tuptable->tupdesc, 1);
    const char* type = SPI_getvalue(row, SPI_tuptable->tupdesc, 2);
    const char* value = SPI_getvalue(row, SPI_tuptable->tupdesc, 3);
    if (value == nullptr) value = "null";
    PGREC_CXX({
      Param p;
      p.key = key;
      p.text = value;
      if (strcmp(type, "number") == 0) {
        p.type = ParamType::Number;
        p.number = strtod(value, nullptr);
      } else if (strcmp(type, "string") == 0) {
        p.type = ParamType::String;
      } else if (strcmp(type, "boolean") == 0) {
        p.type = ParamType::Bool;
        p.boolean = strcmp(value, "true") == 0;
      } else if (strcmp(type, "null") == 0) {
        p.type = ParamType::Null;
      } else {
        p.type = ParamType::Other;
      }
      out->push_back(std::move(p));
    });
  }
}

int use_search_path(const char* path) {
  if (path == nullptr) return -1;
  const int nest = NewGUCNestLevel();
  (void)set_config_option("search_path", path, PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
  return nest;
}

void enter_owner_context(Oid owner, const char* path, OwnerContext* saved) {
  // The owner's path without pg_temp, then pg_temp: the caller's temporary tables shadow nothing.
  StringInfoData pinned;
  initStringInfo(&pinned);
  List* names = nullptr;
  char* copy = pstrdup(path != nullptr ? path : "\"$user\", public");
  if (!SplitIdentifierString(copy, ',', &names))
    ereport(ERROR, (errcode(ERRCODE_DATA_CORRUPTED), errmsg("the stored search_path \"%s\" is not a list of names", path)));
  ListCell* cell;
  foreach (cell, names) {
    const char* name = static_cast<const char*>(lfirst(cell));
    if (strcmp(name, "pg_temp") == 0) continue;
    appendStringInfo(&pinned, "%s, ", strcmp(name, "$user") == 0 ? "\"$user\"" : quote_identifier(name));
  }
  appendStringInfoString(&pinned, "pg_temp");
  GetUserIdAndSecContext(&saved->saved_user, &saved->saved_sec);
  SetUserIdAndSecContext(owner, saved->saved_sec | SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION);
  saved->nest = NewGUCNestLevel();
  (void)set_config_option("search_path", pinned.data, PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
}

void leave_owner_context(const OwnerContext* saved) {
  AtEOXact_GUC(false, saved->nest);
  SetUserIdAndSecContext(saved->saved_user, saved->saved_sec);
}

bool catalog_has_column(const char* table, const char* column) {
  const Oid rel = get_relname_relid(table, get_namespace_oid("rec", false));
  return OidIsValid(rel) && get_attnum(rel, column) != InvalidAttrNumber;
}

void read_source(const SourceSpec* spec, RowSink* sink, SourceStats* stats) {
  // The caller's search_path while the source is read (functions pinned to pg_catalog pass it);
  // undone when this returns, or by the error's transaction abort.
  const int nest = use_search_path(spec->search_path);
  const char* sql = build_source_query(spec, nullptr);
  SPIPlanPtr plan = SPI_prepare(sql, 0, nullptr);
  if (plan == nullptr) elog(ERROR, "pgrec: could not plan the source query");
  Portal portal = SPI_cursor_open(nullptr, plan, nullptr, nullptr, true);
  TupleDesc desc = portal->tupDesc;
  stats->user_type = TupleDescAttr(desc, 0)->atttypid;
  stats->item_type = TupleDescAttr(desc, 1)->atttypid;
  stats->rows_read = 0;
  stats->rows_skipped = 0;
  const bool has_rating = spec->rating_col != nullptr;
  const IdKind user_kind = is_integer_id_type(stats->user_type) ? IdKind::Int : IdKind::Text;
  const IdKind item_kind = is_integer_id_type(stats->item_type) ? IdKind::Int : IdKind::Text;
  PGREC_CXX({
    sink->start(user_kind, item_kind, has_rating);
    sink->batch_users.resize(kBatchRows);
    sink->batch_items.resize(kBatchRows);
    sink->batch_values.resize(kBatchRows);
  });
  // Output functions outlive the batches (their caches must not live in the batch context).
  FmgrInfo user_out, item_out;
  prepare_id_output(stats->user_type, &user_out, CurrentMemoryContext);
  prepare_id_output(stats->item_type, &item_out, CurrentMemoryContext);
  MemoryContext batch_ctx =
      AllocSetContextCreate(CurrentMemoryContext, "pgrec source batch", ALLOCSET_DEFAULT_SIZES);
  for (;;) {
    SPI_cursor_fetch(portal, true, kBatchRows);
    const uint64 n = SPI_processed;
    if (n == 0) break;
    MemoryContext outer = MemoryContextSwitchTo(batch_ctx);
    long used = 0;
    for (uint64 r = 0; r < n; ++r) {
      HeapTuple row = SPI_tuptable->vals[r];
      ++stats->rows_read;
      bool null_user, null_item, null_rating = false;
      const Datum u = SPI_getbinval(row, desc, 1, &null_user);
      const Datum i = SPI_getbinval(row, desc, 2, &null_item);
      float value = 1.0f;
      if (has_rating) {
        const double rating = DatumGetFloat8(SPI_getbinval(row, desc, 3, &null_rating));
        if (!null_rating && !std::isfinite(static_cast<float>(rating)))
          ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                          errmsg("column \"%s\" has a non-finite value (%s)", spec->rating_col,
                                 std::isnan(rating) ? "NaN" : std::isinf(rating) ? (rating < 0 ? "-Infinity" : "Infinity") : "out of range for real"),
                          errdetail("Row %lld of the source.", static_cast<long long>(stats->rows_read))));
        value = static_cast<float>(rating);
      }
      if (null_user || null_item || null_rating) {
        ++stats->rows_skipped;
        continue;
      }
      sink->batch_users[used] = id_from_datum(u, stats->user_type, &user_out);
      sink->batch_items[used] = id_from_datum(i, stats->item_type, &item_out);
      sink->batch_values[used] = value;
      ++used;
    }
    MemoryContextSwitchTo(outer);
    PGREC_CXX({
      for (long j = 0; j < used; ++j)
        sink->add(sink->batch_users[j], sink->batch_items[j], sink->batch_values[j]);
    });
    SPI_freetuptable(SPI_tuptable);
    MemoryContextReset(batch_ctx);
    CHECK_FOR_INTERRUPTS();
  }
  SPI_cursor_close(portal);
  MemoryContextDelete(batch_ctx);
  if (nest >= 0) AtEOXact_GUC(true, nest);
}

}  // namespace pgrec::pg

extern "C" {
PG_FUNCTION_INFO_V1(pgrec_qualify);
}

// rec._qualify(source) -> the relation schema-qualified as the caller's search_path finds it,
// or the query unchanged
Datum pgrec_qualify(PG_FUNCTION_ARGS) {
  PG_RETURN_TEXT_P(cstring_to_text(pgrec::pg::qualified_source(text_to_cstring(PG_GETARG_TEXT_PP(0)))));
}
