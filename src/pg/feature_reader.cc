#include <string>
#include <vector>

#include "feature_reader.h"

#include "boundary.h"
#include "ids.h"
#include "source_reader.h"

namespace pgrec::pg {

namespace {

// Whether values of `type` are numeric features.
bool is_numeric_type(Oid type) {
  return type == INT2OID || type == INT4OID || type == INT8OID || type == FLOAT4OID || type == FLOAT8OID ||
         type == NUMERICOID;
}

// The text of a non-null value through its type's output function.
const char* value_text(Datum value, Oid type) {
  Oid fn;
  bool varlena;
  getTypeOutputInfo(type, &fn, &varlena);
  return OidOutputFunctionCall(fn, value);
}

}  // namespace

void read_features(const char* query, const char* argument, bool items, InteractionBuilder* builder,
                   const char* search_path, FeatureTable* out) {
  const int nest = use_search_path(search_path);
  if (SPI_execute(query, true, 0) != SPI_OK_SELECT)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("%s must be a query that returns rows", argument)));
  if (nest >= 0) AtEOXact_GUC(true, nest);
  TupleDesc desc = SPI_tuptable->tupdesc;
  if (desc->natts < 2)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("%s must return the id and at least one feature column", argument)));
  const Oid id_type = SPI_gettypeid(desc, 1);
  const IdKind want = items ? builder->item_kind() : builder->user_kind();
  if ((is_integer_id_type(id_type) ? IdKind::Int : IdKind::Text) != want)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("the first column of %s (%s) must be the same kind of id as the source's %s column", argument,
                           format_type_be(id_type), items ? "item" : "user")));
  const int n_cols = desc->natts - 1;
  Oid* types = static_cast<Oid*>(palloc(sizeof(Oid) * n_cols));
  Oid* elems = static_cast<Oid*>(palloc(sizeof(Oid) * n_cols));
  const char** names = static_cast<const char**>(palloc(sizeof(char*) * n_cols));
  for (int c = 0; c < n_cols; ++c) {
    types[c] = SPI_gettypeid(desc, c + 2);
    elems[c] = is_numeric_type(types[c]) ? InvalidOid : get_element_type(types[c]);
    names[c] = SPI_fname(desc, c + 2);
  }
  FeatureBuilder* f = nullptr;
  PGREC_CXX({
    std::vector<std::string> column_names(names, names + n_cols);
    std::vector<bool> numeric;
    for (int c = 0; c < n_cols; ++c) numeric.push_back(is_numeric_type(types[c]));
    f = new FeatureBuilder(std::move(column_names), std::move(numeric));
  });
  auto* owner = own(f, CurrentMemoryContext);
  for (uint64 r = 0; r < SPI_processed; ++r) {
    HeapTuple row = SPI_tuptable->vals[r];
    bool null;
    const Datum id = SPI_getbinval(row, desc, 1, &null);
    if (null) continue;
    const IdRef ref = id_from_datum(id, id_type, nullptr);
    const char* shown = value_text(id, id_type);
    int32 index = -1;
    PGREC_CXX({
      index = items ? builder->add_item(ref) : builder->find_user(ref);
      if (index >= 0) f->begin_row(index, shown);
    });
    if (index < 0) continue;
    for (int c = 0; c < n_cols; ++c) {
      const Datum value = SPI_getbinval(row, desc, c + 2, &null);
      if (null) continue;
      if (is_numeric_type(types[c])) {
        const double number = DatumGetFloat8(DirectFunctionCall1(float8in, CStringGetDatum(value_text(value, types[c]))));
        PGREC_CXX(f->add_number(static_cast<std::size_t>(c), number));
      } else if (OidIsValid(elems[c])) {
        ArrayType* array = DatumGetArrayTypeP(value);
        int16 len;
        bool byval;
        char align;
        get_typlenbyvalalign(elems[c], &len, &byval, &align);
        Datum* values;
        bool* nulls;
        int n;
        deconstruct_array(array, elems[c], len, byval, align, &values, &nulls, &n);
        for (int e = 0; e < n; ++e) {
          if (nulls[e]) continue;
          const char* text = value_text(values[e], elems[c]);
          PGREC_CXX(f->add_category(static_cast<std::size_t>(c), text));
        }
      } else {
        const char* text = value_text(value, types[c]);
        PGREC_CXX(f->add_category(static_cast<std::size_t>(c), text));
      }
    }
  }
  const std::int32_t rows = items ? builder->item_count() : builder->user_count();
  PGREC_CXX(*out = f->build(rows));
  release(owner);
}

}  // namespace pgrec::pg
