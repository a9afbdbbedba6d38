// rec.algorithms(): what each algorithm rec.train knows can do, read from the core's table.
#include "boundary.h"

#include "algorithms.h"

extern "C" {
PG_FUNCTION_INFO_V1(pgrec_algorithms);
}

// rec.algorithms() -> one row per algorithm: its name, whether it trains on a LibTorch device
// when asked, whether a retraining can start from the serving version (warm_start)
Datum pgrec_algorithms(PG_FUNCTION_ARGS) {
  InitMaterializedSRF(fcinfo, 0);
  ReturnSetInfo* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
  for (std::size_t i = 0; i < pgrec::algorithm_count(); ++i) {
    const pgrec::AlgorithmSpec& a = pgrec::algorithm_at(i);
    Datum values[3] = {CStringGetTextDatum(a.name), BoolGetDatum(a.gpu), BoolGetDatum(a.warm_start)};
    bool nulls[3] = {false, false, false};
    tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
  }
  return (Datum)0;
}
