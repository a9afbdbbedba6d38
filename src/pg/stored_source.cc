// The source a model version was trained on, and the role whose rights read it again.
#include "stored_source.h"

#include "model_store.h"

namespace pgrec::pg {

StoredSource stored_source(int64 version_id, const char* why) {
  const bool owners = has_model_owners();
  const char* sql = psprintf(
      "SELECT v.source, v.user_col, v.item_col, v.rating_col, %s, %s, COALESCE(%s, %s) FROM rec.model_versions v %s "
      "WHERE v.id OPERATOR(pg_catalog.=) $1",
      owners ? psprintf("COALESCE(%s, pg_catalog.quote_ident(v.created_by))", owner_name_sql("o.owner"))
             : "pg_catalog.quote_ident(v.created_by)",
      catalog_has_column("model_versions", "search_path") ? "v.search_path" : "NULL::pg_catalog.text",
      owners ? owner_oid_sql("o.owner") : "NULL::pg_catalog.oid",
      "pg_catalog.to_regrole(pg_catalog.quote_ident(v.created_by))::pg_catalog.oid",
      owners ? "LEFT JOIN rec.model_owners o ON o.model OPERATOR(pg_catalog.=) v.model" : "");
  Oid t[1] = {INT8OID};
  Datum v[1] = {Int64GetDatum(version_id)};
  if (SPI_execute_with_args(sql, 1, t, v, nullptr, true, 1) != SPI_OK_SELECT || SPI_processed != 1)
    ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT), errmsg("model version %lld does not exist",
                                                              static_cast<long long>(version_id))));
  HeapTuple row = SPI_tuptable->vals[0];
  TupleDesc desc = SPI_tuptable->tupdesc;
  StoredSource s;
  s.spec.source = SPI_getvalue(row, desc, 1);
  // Built by rec.train_agg or rec.import_factors: "(rec.train_agg)", "(rec.import_factors)".
  if (strcmp(s.spec.source, "(rec.train_agg)") == 0 || strcmp(s.spec.source, "(rec.import_factors)") == 0)
    ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                    errmsg("%s needs the model's source, and this model was built by %.*s", why,
                           static_cast<int>(strlen(s.spec.source) - 2), s.spec.source + 1),
                    errhint("Pass the user's items to rec.recommend_for_items instead.")));
  if (strcmp(s.spec.source, "(rec.hybrid)") == 0)
    ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                    errmsg("%s needs the model's source, and this hybrid's models come from different sources", why),
                    errhint("Pass the user's items to rec.recommend_for_items instead.")));
  s.spec.user_col = SPI_getvalue(row, desc, 2);
  s.spec.item_col = SPI_getvalue(row, desc, 3);
  s.spec.rating_col = SPI_getvalue(row, desc, 4);
  const char* owner_name = SPI_getvalue(row, desc, 5);
  s.search_path = SPI_getvalue(row, desc, 6);
  bool no_owner;
  const Datum owner = SPI_getbinval(row, desc, 7, &no_owner);
  s.owner = no_owner ? InvalidOid : DatumGetObjectId(owner);
  if (!OidIsValid(s.owner) || !SearchSysCacheExists1(AUTHOID, ObjectIdGetDatum(s.owner)))
    ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT),
                    errmsg("the owner of model version %lld, role %s, no longer exists", static_cast<long long>(version_id),
                           owner_name),
                    errhint("A model's source is read with its owner's rights; train the model again.")));
  return s;
}

}  // namespace pgrec::pg
