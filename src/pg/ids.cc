#include <cstdio>
#include <cstring>

#include "ids.h"

namespace pgrec::pg {

bool is_integer_id_type(Oid type) {
  return type == INT2OID || type == INT4OID || type == INT8OID;
}

IdRef id_from_datum(Datum value, Oid type, FmgrInfo* output_fn) {
  switch (type) {
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
      FmgrInfo local;
      if (output_fn == nullptr || output_fn->fn_oid == InvalidOid) {
        Oid fn;
        bool varlena;
        getTypeOutputInfo(type, &fn, &varlena);
        if (output_fn == nullptr) output_fn = &local;
        fmgr_info(fn, output_fn);
      }
      const char* s = OutputFunctionCall(output_fn, value);
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
