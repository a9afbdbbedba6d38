#include <cstdio>
#include <cstring>

#include "ids.h"

namespace pgrec::pg {

bool is_integer_id_type(Oid type) {
  const Oid base = getBaseType(type);
  return base == INT2OID || base == INT4OID || base == INT8OID;
}

Oid id_storage_type(Oid type) {
  const Oid base = getBaseType(type);
  return base == INT2OID || base == INT4OID || base == INT8OID || base == TEXTOID || base == VARCHAROID ? base : type;
}

void prepare_id_output(Oid type, FmgrInfo* output_fn, MemoryContext cxt) {
  output_fn->fn_oid = InvalidOid;
  const Oid storage = id_storage_type(type);
  if (storage == INT2OID || storage == INT4OID || storage == INT8OID || storage == TEXTOID || storage == VARCHAROID ||
      storage == UNKNOWNOID)
    return;
  Oid fn;
  bool varlena;
  getTypeOutputInfo(type, &fn, &varlena);
  fmgr_info_cxt(fn, output_fn, cxt);
}

void check_id_type(Oid arg_type, const IdMap& ids, const char* model_type, const char* what) {
  const Oid storage = id_storage_type(arg_type);
  // Text names any id by its text form (the _keys functions' ids), and a literal is either.
  if (storage == UNKNOWNOID || storage == TEXTOID || storage == VARCHAROID || storage == BPCHAROID ||
      storage == NAMEOID)
    return;
  const bool integer = storage == INT2OID || storage == INT4OID || storage == INT8OID;
  if (ids.kind() == IdKind::Int) {
    if (integer) return;
    ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH),
                    errmsg("this model's %s ids are %s, not %s", what, model_type, format_type_be(arg_type)),
                    errhint("Pass the %s id as an integer (a smallint, integer or bigint value) or as text.", what)));
  }
  const char* given = format_type_be(arg_type);
  if (strcmp(given, model_type) == 0 || strcmp(format_type_be(getBaseType(arg_type)), model_type) == 0) return;
  const bool text_model = strcmp(model_type, "text") == 0;
  ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH),
                  errmsg("this model's %s ids are %s, not %s", what, model_type, given),
                  text_model ? errhint("Pass the %s id as text.", what)
                             : errhint("Pass the %s id as %s or as text.", what, model_type)));
}

IdRef id_from_datum(Datum value, Oid type, FmgrInfo* output_fn) {
  switch (id_storage_type(type)) {
    case INT2OID: return IdRef::of(static_cast<std::int64_t>(DatumGetInt16(value)));
    case INT4OID: return IdRef::of(static_cast<std::int64_t>(DatumGetInt32(value)));
    case INT8OID: return IdRef::of(DatumGetInt64(value));
    case UNKNOWNOID: {
      const char* s = DatumGetCString(value);
      return IdRef{0, s, std::strlen(s)};
    }
    case TEXTOID:
    case VARCHAROID: {
      text* t = DatumGetTextPP(value);
      return IdRef{0, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t)};
    }
    default: {
      // A prepared output function (its cache lives as long as the FmgrInfo's context), or a
      // one-off call whose cache lives in the current context.
      const char* s;
      if (output_fn != nullptr && output_fn->fn_oid != InvalidOid) {
        s = OutputFunctionCall(output_fn, value);
      } else {
        Oid fn;
        bool varlena;
        getTypeOutputInfo(type, &fn, &varlena);
        s = OidOutputFunctionCall(fn, value);
      }
      return IdRef{0, s, std::strlen(s)};
    }
  }
}

bool id_as_int8(const IdMap& ids, std::int32_t index, Datum* out) {
  if (ids.kind() != IdKind::Int) return false;
  *out = Int64GetDatum(ids.int_at(index));
  return true;
}

Datum id_as_text(const IdMap& ids, std::int32_t index) {
  if (ids.kind() == IdKind::Int) {
    char buffer[32];
    snprintf(buffer, sizeof buffer, "%lld", static_cast<long long>(ids.int_at(index)));
    return PointerGetDatum(cstring_to_text(buffer));
  }
  const auto& s = ids.text_at(index);
  return PointerGetDatum(cstring_to_text_with_len(s.data(), static_cast<int>(s.size())));
}

}  // namespace pgrec::pg
