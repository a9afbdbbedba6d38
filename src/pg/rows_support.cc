// The planner's row estimate for the serving functions: k (or n) rows, not a fixed guess.
#include "postgres_includes.h"

extern "C" {
PG_FUNCTION_INFO_V1(pgrec_rows_support);
}

namespace {

// The position of the parameter named `name` of function `fn`, or -1.
int parameter_position(Oid fn, const char* name) {
  HeapTuple tuple = SearchSysCache1(PROCOID, ObjectIdGetDatum(fn));
  if (!HeapTupleIsValid(tuple)) return -1;
  Oid* types;
  char** names;
  char* modes;
  const int n = get_func_arg_info(tuple, &types, &names, &modes);
  ReleaseSysCache(tuple);
  for (int j = 0; names != nullptr && j < n; ++j)
    if (names[j] != nullptr && strcmp(names[j], name) == 0) return j;
  return -1;
}

// The value of argument `position` of a call when it is a non-null constant integer, else -1.
double constant_int(const List* args, int position) {
  if (position < 0 || position >= list_length(args)) return -1;
  const Node* arg = static_cast<const Node*>(list_nth(args, position));
  if (!IsA(arg, Const)) return -1;
  const Const* c = reinterpret_cast<const Const*>(arg);
  if (c->constisnull || c->consttype != INT4OID) return -1;
  return DatumGetInt32(c->constvalue);
}

// The number of elements of argument `position` when it is a non-null constant array, else -1.
double constant_array_length(const List* args, int position) {
  if (position < 0 || position >= list_length(args)) return -1;
  const Node* arg = static_cast<const Node*>(list_nth(args, position));
  if (!IsA(arg, Const)) return -1;
  const Const* c = reinterpret_cast<const Const*>(arg);
  if (c->constisnull) return -1;
  ArrayType* array = DatumGetArrayTypeP(c->constvalue);
  return ArrayGetNItems(ARR_NDIM(array), ARR_DIMS(array));
}

}  // namespace

// Planner support: SupportRequestRows answered with the k (or n) of the call, times the number of
// users listed for rec.recommend_all; other requests and non-constant arguments are left alone.
Datum pgrec_rows_support(PG_FUNCTION_ARGS) {
  Node* raw = reinterpret_cast<Node*>(PG_GETARG_POINTER(0));
  if (!IsA(raw, SupportRequestRows)) PG_RETURN_POINTER(nullptr);
  SupportRequestRows* request = reinterpret_cast<SupportRequestRows*>(raw);
  if (request->node == nullptr || !IsA(request->node, FuncExpr)) PG_RETURN_POINTER(nullptr);
  const List* args = reinterpret_cast<FuncExpr*>(request->node)->args;
  int k_position = parameter_position(request->funcid, "k");
  if (k_position < 0) k_position = parameter_position(request->funcid, "n");
  const double k = constant_int(args, k_position);
  if (k < 1) PG_RETURN_POINTER(nullptr);
  double rows = k;
  const int users_position = parameter_position(request->funcid, "users");
  if (users_position >= 0) {
    const double users = constant_array_length(args, users_position);
    if (users < 0) PG_RETURN_POINTER(nullptr);  // every user of the model: keep the declared guess
    rows = k * (users > 0 ? users : 1);
  }
  request->rows = rows;
  PG_RETURN_POINTER(request);
}
