// Everything one rec.train call holds in C++: owned by the call's memory context, so an error
// anywhere (a PostgreSQL one included) frees it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "als.h"
#include "cancel.h"
#include "interactions.h"
#include "model.h"
#include "params.h"

namespace pgrec::pg {

bool interrupt_pending();

struct TrainState {
  std::vector<Param> params;
  AlsParams als;
  std::string params_json;
  std::unique_ptr<InteractionBuilder> builder;
  std::unique_ptr<AlsTrainer> trainer;
  std::unique_ptr<Model> model;
  std::string bytes;
  CancelToken token{&interrupt_pending};
  // One batch of source rows on its way into the builder.
  std::vector<IdRef> batch_users;
  std::vector<IdRef> batch_items;
  std::vector<float> batch_values;
};

}  // namespace pgrec::pg
