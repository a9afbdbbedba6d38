// Conversions between SQL id values and the core's ids.
#pragma once

#include "id_map.h"
#include "postgres_includes.h"

namespace pgrec::pg {

// Whether ids of this SQL type are kept as integers (smallint, integer, bigint).
bool is_integer_id_type(Oid type);

// Converts an id of any SQL type to a core id; text is borrowed or palloc'd in the current
// memory context. `output_fn` caches the type's output function (may be null).
IdRef id_from_datum(Datum value, Oid type, FmgrInfo* output_fn);

// The SQL value of model id `index` as a bigint (false when the map holds non-integer ids).
bool id_as_int8(const IdMap& ids, std::int32_t index, Datum* out);

// The SQL value of model id `index` as text, palloc'd in the current memory context.
Datum id_as_text(const IdMap& ids, std::int32_t index);

}  // namespace pgrec::pg
