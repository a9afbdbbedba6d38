// The module's entry point for the neural families: checks the device, creates the trainer.
#include "torch_includes.h"

#include <cstdio>
#include <stdexcept>
#include <string>

#include "neural_factories.h"
#include "torch_api.h"

pgrec::Trainer* pgrec_torch_neural_trainer(pgrec::NeuralInput* input, const pgrec::NeuralParams* params,
                                           const char* device, int threads, char* error, std::size_t error_size) {
  try {
    const std::string dev(device);
    if (dev.rfind("cuda", 0) == 0) {
      const int index = dev.size() > 5 ? std::stoi(dev.substr(5)) : 0;
      if (index >= static_cast<int>(torch::cuda::device_count()))
        throw std::runtime_error("device " + dev + " is not available");
    }
    if (threads > 0) at::set_num_threads(threads);
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
    return t.release();
  } catch (const std::exception& e) {
    std::snprintf(error, error_size, "%s", e.what());
  } catch (...) {
    std::snprintf(error, error_size, "unknown error creating the LibTorch trainer");
  }
  return nullptr;
}
