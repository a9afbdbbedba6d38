// What the serving functions share: the bound on k, and ids out as bigint or text.
#pragma once

#include "ids.h"
#include "postgres_includes.h"

namespace pgrec::pg {

constexpr int kMaxK = 100000;

// Raises 22023 unless 1 <= value <= kMaxK; `name` is the argument's name.
inline void check_k(int32 value, const char* name = "k") {
  if (value < 1 || value > kMaxK)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("%s must be between 1 and %d, not %d", name, kMaxK, value)));
}

// The SQL value of id `index` of `ids` for a result column of type `type` (bigint, else text);
// 42804 when the column is bigint and the ids (of SQL type `sql_type`) are not integers.
inline Datum output_id(const IdMap& ids, std::int32_t index, Oid type, const char* what, const char* sql_type) {
  if (type != INT8OID) return id_as_text(ids, index);
  Datum d;
  if (!id_as_int8(ids, index, &d))
    ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH),
                    errmsg("this model's %s ids are %s, not integers", what, sql_type),
                    errhint("Use the _keys variant of the function, which returns ids as text.")));
  return d;
}

}  // namespace pgrec::pg
