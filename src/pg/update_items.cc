// rec.update_items: new and changed items of a factor model solved against its user factors, as
// a new version, without retraining.
#include <cstring>
#include <memory>

#include "item_update.h"

#include "boundary.h"
#include "model_store.h"
#include "module.h"
#include "source_reader.h"
#include "train_run.h"

extern "C" {
PG_FUNCTION_INFO_V1(pgrec_update_items);
}

namespace {

// Collects the rows of the items to update, by item, keeping those of users the model knows.
struct ItemRows : pgrec::pg::RowSink {
  const pgrec::Model* model = nullptr;
  std::unique_ptr<pgrec::IdMap> ids;
  pgrec::ItemUsers users;
  bool kinds_match = true;
  std::int64_t unknown_users = 0;

  // Checks the source's id kinds against the model's.
  void start(pgrec::IdKind user_kind, pgrec::IdKind item_kind, bool) override {
    kinds_match = user_kind == model->users.kind() && item_kind == model->items.kind();
    ids = std::make_unique<pgrec::IdMap>(item_kind);
  }
  // Files one row under its item.
  void add(const pgrec::IdRef& user, const pgrec::IdRef& item, float value) override {
    if (!kinds_match) return;
    const std::int32_t u = model->users.find(user);
    const std::int32_t at = ids->intern(item);
    if (static_cast<std::size_t>(at) >= users.size()) users.resize(static_cast<std::size_t>(at) + 1);
    if (u < 0) {
      ++unknown_users;
      return;
    }
    users[static_cast<std::size_t>(at)].emplace_back(u, value);
  }
};

// State of one call: the rows read and the model built, freed with the call's memory context.
struct UpdateState {
  ItemRows rows;
  pgrec::ItemUpdateStats stats;
  std::unique_ptr<pgrec::Model> updated;
  std::string bytes;
  std::string params_json;
  pgrec::CancelToken token{&pgrec::pg::interrupt_pending};
};

// Returns text column `n` of the current SPI row (null stays null).
const char* text_column(int n) { return SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, n); }

}  // namespace

// rec.update_items(model, source, user_col, item_col, rating_col) -> the new version
Datum pgrec_update_items(PG_FUNCTION_ARGS) {
  using namespace pgrec::pg;
  const double started = now_seconds();
  const char* model = model_name_argument(fcinfo, 0);
  const char* source = required_text(fcinfo, 1, "source");
  const std::int64_t from = resolve_model(model);
  require_model_owner(model, "update_items writes a new version of the model");
  const pgrec::Model* current = load_model(from);

  SPI_connect();
  Oid t[1] = {INT8OID};
  Datum v[1] = {Int64GetDatum(from)};
  if (SPI_execute_with_args("SELECT source, user_col, item_col, rating_col, user_type, item_type, algorithm, params::text, "
                            "n_users, n_interactions, COALESCE((metrics OPERATOR(pg_catalog.#>>) '{gate,source_rows}')::pg_catalog.int8, rows_read), "
                            "rows_skipped, search_path "
                            "FROM rec.model_versions WHERE id OPERATOR(pg_catalog.=) $1",
                            1, t, v, nullptr, true, 1) != SPI_OK_SELECT || SPI_processed != 1)
    ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT), errmsg("model \"%s\" does not exist", model)));
  SaveRequest save;
  save.model = model;
  save.source = text_column(1);
  save.user_col = text_column(2);
  save.item_col = text_column(3);
  save.rating_col = text_column(4);
  save.user_type = text_column(5);
  save.item_type = text_column(6);
  save.algorithm = text_column(7);
  const char* params = text_column(8);
  bool isnull;
  save.n_users = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 9, &isnull));
  const int64 interactions = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 10, &isnull));
  // The size of the source the version came from (a gated version's includes its held-out rows):
  // what a schedule's min_new_rows counts new rows from.
  save.rows_read = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 11, &isnull));
  save.rows_skipped = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 12, &isnull));
  save.search_path = text_column(13);

  SourceSpec spec;
  spec.source = source;
  spec.user_col = PG_ARGISNULL(2) ? save.user_col : required_text(fcinfo, 2, "user_col");
  spec.item_col = PG_ARGISNULL(3) ? save.item_col : required_text(fcinfo, 3, "item_col");
  spec.rating_col = PG_ARGISNULL(4) ? save.rating_col : required_text(fcinfo, 4, "rating_col");
  if (strcmp(spec.user_col, "(aggregate)") == 0 || strcmp(spec.user_col, "(import)") == 0)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("model \"%s\" has no source columns: name user_col and item_col", model)));
  if (current->explicit_ratings && spec.rating_col == nullptr)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("model \"%s\" predicts ratings: update_items needs rating_col", model)));

  UpdateState* state = nullptr;
  PGREC_CXX(state = new UpdateState());
  Owned<UpdateState>* owner = own(state, CurrentMemoryContext);
  state->rows.model = current;
  SourceStats stats;
  read_source(&spec, &state->rows, &stats);
  if (!state->rows.kinds_match)
    ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH),
                    errmsg("the source's ids are %s and %s, and model \"%s\" has %s and %s ids",
                           format_type_be(stats.user_type), format_type_be(stats.item_type), model,
                           current->user_type.c_str(), current->item_type.c_str())));
  PGREC_CXX({
    state->rows.users.resize(state->rows.ids->size());
    state->updated = std::make_unique<pgrec::Model>(pgrec::update_items(*current, *state->rows.ids, state->rows.users, &state->stats));
    state->params_json = params;
    index_large_catalog(state->updated.get(), &state->params_json, state->token);
    state->bytes = pgrec::serialize_model(*state->updated);
  });
  if (state->stats.updated + state->stats.added == 0)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("no item of the source has rows of a user model \"%s\" knows: nothing to update", model)));
  save.params_json = state->params_json.c_str();
  save.n_items = state->updated->n_items();
  save.n_interactions = interactions + state->stats.rows;
  save.train_seconds = now_seconds() - started;
  save.bytes = &state->bytes;
  save.metrics_json = psprintf("{\"update_items\": {\"from_version_id\": %lld, \"items_updated\": %d, \"items_added\": %d, "
                               "\"rows\": %lld, \"rows_of_unknown_users\": %lld}}",
                               static_cast<long long>(from), state->stats.updated, state->stats.added,
                               static_cast<long long>(state->stats.rows), static_cast<long long>(state->rows.unknown_users));
  const std::int32_t version = save_model(&save);
  ereport(NOTICE, (errmsg("update_items: %d items updated, %d added, from %lld rows", state->stats.updated,
                          state->stats.added, static_cast<long long>(state->stats.rows))));
  release(owner);
  SPI_finish();
  PG_RETURN_INT32(version);
}
