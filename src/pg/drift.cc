// rec.drift: how a model's source changed since its serving version was trained; and the row
// count a schedule's min_new_rows compares with.
#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>
#include <vector>

#include "boundary.h"
#include "model_store.h"
#include "module.h"
#include "source_reader.h"
#include "stored_source.h"
#include "train_run.h"

extern "C" {
PG_FUNCTION_INFO_V1(pgrec_drift);
PG_FUNCTION_INFO_V1(pgrec_source_rows);
}

namespace {

// Counts the source's rows now against what the model knows.
struct DriftRows : pgrec::pg::RowSink {
  const pgrec::Model* model = nullptr;
  std::unique_ptr<pgrec::IdMap> new_users;
  std::unique_ptr<pgrec::IdMap> items;  // every item now
  std::vector<double> item_rows;
  std::int64_t rows = 0, unknown_user = 0, unknown_item = 0, unknown_either = 0, new_items = 0;

  // Makes the maps in the source's id kinds.
  void start(pgrec::IdKind user_kind, pgrec::IdKind item_kind, bool) override {
    new_users = std::make_unique<pgrec::IdMap>(user_kind);
    items = std::make_unique<pgrec::IdMap>(item_kind);
  }
  // Counts one row.
  void add(const pgrec::IdRef& user, const pgrec::IdRef& item, float) override {
    ++rows;
    const bool user_known = user.is_text() == (model->users.kind() == pgrec::IdKind::Text) && model->users.find(user) >= 0;
    const bool item_known = item.is_text() == (model->items.kind() == pgrec::IdKind::Text) && model->items.find(item) >= 0;
    if (!user_known) {
      ++unknown_user;
      (void)new_users->intern(user);
    }
    if (!item_known) ++unknown_item;
    if (!user_known || !item_known) ++unknown_either;
    const std::size_t before = items->size();
    const std::int32_t at = items->intern(item);
    if (items->size() > before) {
      item_rows.push_back(0);
      if (!item_known) ++new_items;
    }
    item_rows[static_cast<std::size_t>(at)] += 1;
  }
};

// The share of all interactions that the most popular 1% of items (at least one) hold.
double top_share(std::vector<double> counts) {
  if (counts.empty()) return 0;
  const std::size_t top = std::max<std::size_t>(1, static_cast<std::size_t>(std::ceil(counts.size() * 0.01)));
  std::partial_sort(counts.begin(), counts.begin() + static_cast<std::ptrdiff_t>(top), counts.end(), std::greater<double>());
  double all = 0, head = 0;
  for (std::size_t i = 0; i < counts.size(); ++i) {
    all += counts[i];
    if (i < top) head += counts[i];
  }
  return all > 0 ? head / all : 0;
}

}  // namespace

// rec.drift(model) -> one row comparing the model's source now with the serving version's training
Datum pgrec_drift(PG_FUNCTION_ARGS) {
  using namespace pgrec::pg;
  const char* model = model_name_argument(fcinfo, 0);
  const std::int64_t version_id = resolve_model(model);
  const pgrec::Model* current = load_model(version_id);
  TupleDesc desc;
  if (get_call_result_type(fcinfo, nullptr, &desc) != TYPEFUNC_COMPOSITE) elog(ERROR, "pgrec: rec.drift must return a row");
  desc = BlessTupleDesc(desc);

  SPI_connect();
  StoredSource stored = stored_source(version_id, "rec.drift");
  Oid t[1] = {INT8OID};
  Datum v[1] = {Int64GetDatum(version_id)};
  if (SPI_execute_with_args("SELECT COALESCE((metrics OPERATOR(pg_catalog.#>>) '{gate,source_rows}')::pg_catalog.int8, rows_read), "
                            "version, created_at FROM rec.model_versions WHERE id OPERATOR(pg_catalog.=) $1",
                            1, t, v, nullptr, true, 1) != SPI_OK_SELECT || SPI_processed != 1)
    elog(ERROR, "pgrec: model version %lld vanished", static_cast<long long>(version_id));
  bool isnull;
  const int64 rows_then = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
  const int32 version = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
  const Datum trained_at = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &isnull);

  DriftRows* rows = nullptr;
  PGREC_CXX(rows = new DriftRows());
  Owned<DriftRows>* owner = own(rows, CurrentMemoryContext);
  rows->model = current;
  // The stored source is the owner's SQL: read as the owner, security-restricted.
  OwnerContext as_owner;
  enter_owner_context(stored.owner, stored.search_path, &as_owner);
  SourceStats stats;
  read_source(&stored.spec, rows, &stats);
  leave_owner_context(&as_owner);
  double share_then = 0, share_now = 0;
  PGREC_CXX({
    share_then = top_share(std::vector<double>(current->popularity.begin(), current->popularity.end()));
    share_now = top_share(rows->item_rows);
  });
  const double n = rows->rows > 0 ? static_cast<double>(rows->rows) : 1.0;
  Datum values[12] = {Int32GetDatum(version),
                      trained_at,
                      Int64GetDatum(rows_then),
                      Int64GetDatum(rows->rows),
                      Int64GetDatum(rows->rows - rows_then),
                      Int64GetDatum(static_cast<int64>(rows->new_users->size())),
                      Int64GetDatum(rows->new_items),
                      Float8GetDatum(rows->unknown_user / n),
                      Float8GetDatum(rows->unknown_item / n),
                      Float8GetDatum(rows->unknown_either / n),
                      Float8GetDatum(share_then),
                      Float8GetDatum(share_now)};
  bool nulls[12] = {};
  release(owner);
  SPI_finish();
  PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}

// rec._source_rows(version_id, role) -> the rows of the version's source now, counted as `role`
// (security-restricted, on the version's search_path); an estimate for a table of over a million
// rows. Superusers only: the scheduler's.
Datum pgrec_source_rows(PG_FUNCTION_ARGS) {
  using namespace pgrec::pg;
  if (!superuser()) ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE), errmsg("rec._source_rows is pgrec's own")));
  const int64 version_id = PG_GETARG_INT64(0);
  const Oid role = PG_GETARG_OID(1);
  SPI_connect();
  StoredSource stored = stored_source(version_id, "min_new_rows");
  int64 count = -1;
  if (!looks_like_query(stored.spec.source)) {
    Oid t[1] = {TEXTOID};
    Datum v[1] = {CStringGetTextDatum(stored.spec.source)};
    if (SPI_execute_with_args("SELECT GREATEST(c.reltuples, pg_catalog.pg_stat_get_live_tuples(c.oid))::pg_catalog.int8 "
                              "FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) pg_catalog.to_regclass($1)",
                              1, t, v, nullptr, true, 1) == SPI_OK_SELECT && SPI_processed == 1) {
      bool isnull;
      const int64 estimate = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
      if (!isnull && estimate > 1000000) count = estimate;
    }
  }
  if (count < 0) {
    SourceSpec all = stored.spec;
    all.rating_col = nullptr;
    const char* sql = psprintf("SELECT pg_catalog.count(*) FROM (%s) s", build_source_query(&all, nullptr));
    OwnerContext as_role;
    enter_owner_context(role, stored.search_path, &as_role);
    const int rc = SPI_execute(sql, true, 1);
    leave_owner_context(&as_role);
    if (rc != SPI_OK_SELECT) elog(ERROR, "pgrec: could not count the source's rows");
    bool isnull;
    count = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
  }
  SPI_finish();
  PG_RETURN_INT64(count);
}
