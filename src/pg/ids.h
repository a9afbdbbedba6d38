// Conversions between SQL id values and the core's ids.
#pragma once

#include "id_map.h"
#include "postgres_includes.h"

namespace pgrec::pg {

// Whether ids of this SQL type are kept as integers (smallint, integer, bigint, or a domain over one).
bool is_integer_id_type(Oid type);

// The type whose representation ids of `type` have: the base type of a domain over an integer or
// text type, else `type` itself.
Oid id_storage_type(Oid type);

// Prepares `output_fn` for id_from_datum over many values of `type`: the type's output function,
// looked up once, with its cache in `cxt` (which must outlive every call). Integer and text types
// need none (fn_oid stays InvalidOid).
void prepare_id_output(Oid type, FmgrInfo* output_fn, MemoryContext cxt);

// Raises 42804 unless a value of SQL type `arg_type` can name one of a model's `what` ids (`ids`,
// trained from SQL type `model_type`): text (any id's text form) or an untyped literal; an
// integer type for integer ids; the model's own type for any other ids.
void check_id_type(Oid arg_type, const IdMap& ids, const char* model_type, const char* what);

// Converts an id of any SQL type to a core id; text is borrowed or palloc'd in the current
// memory context. `output_fn` is null or was set by prepare_id_output.
IdRef id_from_datum(Datum value, Oid type, FmgrInfo* output_fn);

// The SQL value of model id `index` as a bigint (false when the map holds non-integer ids).
bool id_as_int8(const IdMap& ids, std::int32_t index, Datum* out);

// The SQL value of model id `index` as text, palloc'd in the current memory context.
Datum id_as_text(const IdMap& ids, std::int32_t index);

}  // namespace pgrec::pg
