// The module's entry points for the neural families: check the device, create the trainer (one
// rank's, for a distributed training).
#include "torch_includes.h"

#include <cstdio>
#include <stdexcept>
#include <string>

#include "collective.h"
#include "neural_factories.h"
#include "neural_trainer.h"
#include "shard.h"
#include "torch_api.h"

namespace {

// Checks that `device` exists and sets LibTorch's threads.
void prepare_device(const std::string& dev, int threads) {
  if (dev.rfind("cuda", 0) == 0) {
    const int index = dev.size() > 5 ? std::stoi(dev.substr(5)) : 0;
    if (index >= static_cast<int>(torch::cuda::device_count()))
      throw std::runtime_error("device " + dev + " is not available");
  }
  if (threads > 0) at::set_num_threads(threads);
}

// The trainer of params->algorithm over `input`.
std::unique_ptr<pgrec::Trainer> make_family(pgrec::NeuralInput* input, const pgrec::NeuralParams* params,
                                            const std::string& dev) {
  std::unique_ptr<pgrec::Trainer> t;
  if (params->sequential())
    t = pgrec::neural::make_sequence_trainer(std::move(*input), *params, dev);
  else if (params->algorithm == "neumf")
    t = pgrec::neural::make_neumf_trainer(std::move(*input), *params, dev);
  else if (params->algorithm == "two_tower")
    t = pgrec::neural::make_two_tower_trainer(std::move(*input), *params, dev);
  else if (params->algorithm == "autorec")
    t = pgrec::neural::make_autorec_trainer(std::move(*input), *params, dev);
  else if (params->algorithm == "multvae")
    t = pgrec::neural::make_multvae_trainer(std::move(*input), *params, dev);
  else if (params->algorithm == "lightgcn")
    t = pgrec::neural::make_lightgcn_trainer(std::move(*input), *params, dev);
  else
    throw std::runtime_error("unknown neural algorithm " + params->algorithm);
  return t;
}

}  // namespace

pgrec::Trainer* pgrec_torch_neural_trainer(pgrec::NeuralInput* input, const pgrec::NeuralParams* params,
                                           const char* device, int threads, char* error, std::size_t error_size) {
  try {
    prepare_device(device, threads);
    return make_family(input, params, device).release();
  } catch (const std::exception& e) {
    std::snprintf(error, error_size, "%s", e.what());
  } catch (...) {
    std::snprintf(error, error_size, "unknown error creating the LibTorch trainer");
  }
  return nullptr;
}

pgrec::Trainer* pgrec_torch_distributed_neural_trainer(pgrec::InteractionBuilder* rows, const pgrec::NeuralParams* params,
                                                       pgrec::neural::Collective* ranks, const char* device,
                                                       int threads, char* error, std::size_t error_size) {
  try {
    prepare_device(device, threads);
    // Every rank numbers every rank's users (in rank order) and items (sorted) alike.
    const pgrec::IdMap items = pgrec::agreed_items(ranks->all_bytes(pgrec::item_ids_bytes(*rows)), rows->item_kind());
    const pgrec::IdMap users = pgrec::agreed_users(ranks->all_bytes(pgrec::user_ids_bytes(*rows)), rows->user_kind());
    std::string bytes = rows->serialize();
    pgrec::NeuralInput input;
    if (params->algorithm == "lightgcn" || params->algorithm == "autorec") {
      // LightGCN's graph and AutoRec's item vectors are every rank's rows: each rank holds them
      // all. A LightGCN rank trains its own users (one run: the agreed users are every rank's in
      // rank order); an AutoRec rank its share of the items.
      const std::vector<std::string> all = ranks->all_bytes(bytes);
      if (params->algorithm == "lightgcn") {
        input.own_begin = 0;
        for (int r = 0; r < ranks->rank(); ++r)
          input.own_begin += pgrec::InteractionBuilder::deserialize(all[static_cast<std::size_t>(r)].data(),
                                                                    all[static_cast<std::size_t>(r)].size()).user_count();
        input.own_end = input.own_begin + rows->user_count();
      } else {
        const auto n = static_cast<std::int64_t>(items.size());
        input.own_begin = static_cast<std::int32_t>(n * ranks->rank() / ranks->size());
        input.own_end = static_cast<std::int32_t>(n * (ranks->rank() + 1) / ranks->size());
      }
      input.data = pgrec::gathered_rows(all, users, items).build(true);
    } else {
      pgrec::InteractionBuilder mine = pgrec::shard_rows(*rows, users, items);
      if (params->sequential()) input.sequences = mine.sequences();
      input.data = mine.build(true);
    }
    torch::Tensor counts = torch::from_blob(pgrec::row_counts(input.data.by_item).data(), {input.data.by_item.rows}).clone();
    ranks->sum(counts);
    input.item_counts.assign(counts.data_ptr<float>(), counts.data_ptr<float>() + counts.numel());
    std::unique_ptr<pgrec::Trainer> t = make_family(&input, params, device);
    static_cast<pgrec::neural::NeuralTrainer*>(t.get())->distribute(ranks, std::move(bytes), users, items);
    return t.release();
  } catch (const std::exception& e) {
    std::snprintf(error, error_size, "%s", e.what());
  } catch (...) {
    std::snprintf(error, error_size, "unknown error creating the LibTorch trainer");
  }
  return nullptr;
}
