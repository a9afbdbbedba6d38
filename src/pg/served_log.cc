// Recording what rec.recommend served.
#include "served_log.h"

extern "C" {
#include "access/xlog.h"
#include "common/pg_prng.h"
}

#include "module.h"
#include "source_reader.h"

namespace pgrec::pg {

namespace {

// An id as text: the number written out, or the text copied.
Datum id_text(const IdRef& id) {
  if (id.is_text()) return PointerGetDatum(cstring_to_text_with_len(id.text, static_cast<int>(id.length)));
  return CStringGetTextDatum(psprintf("%lld", static_cast<long long>(id.number)));
}

}  // namespace

void log_served(std::int64_t version_id, const Model* model, const IdRef& user, const Scored* ranked, int count) {
  if (!guc_log_recommendations || guc_log_sample_rate <= 0) return;
  if (RecoveryInProgress() || XactReadOnly || IsInParallelMode()) return;
  if (guc_log_sample_rate < 1 && pg_prng_double(&pg_global_prng_state) >= guc_log_sample_rate) return;
  if (!catalog_has_column("served", "items")) return;  // the SQL of an older pgrec, not yet updated
  Datum* items = static_cast<Datum*>(palloc(sizeof(Datum) * (count + 1)));
  for (int j = 0; j < count; ++j) items[j] = id_text(model->items.ref(ranked[j].index));
  ArrayType* array = construct_array(items, count, TEXTOID, -1, false, TYPALIGN_INT);
  Oid types[3] = {INT8OID, TEXTOID, TEXTARRAYOID};
  Datum values[3] = {Int64GetDatum(version_id), id_text(user), PointerGetDatum(array)};
  SPI_connect();
  if (SPI_execute_with_args("INSERT INTO rec.served (model, version, user_id, items) "
                            "SELECT v.model, v.version, $2, $3 FROM rec.model_versions v WHERE v.id OPERATOR(pg_catalog.=) $1",
                            3, types, values, nullptr, false, 0) != SPI_OK_INSERT)
    elog(ERROR, "pgrec: could not record the served recommendations");
  SPI_finish();
}

}  // namespace pgrec::pg
