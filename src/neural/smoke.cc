#include "smoke.h"

#include "torch_includes.h"

namespace pgrec::neural {

FitResult fit_line(int steps, unsigned seed) {
  torch::manual_seed(seed);
  auto x = torch::linspace(-1, 1, 64).unsqueeze(1);
  auto y = 3 * x - 1;
  torch::nn::Linear layer(1, 1);
  torch::optim::Adam opt(layer->parameters(), torch::optim::AdamOptions(0.1));
  FitResult out{0, 0, 0, 0};
  for (int i = 0; i < steps; ++i) {
    opt.zero_grad();
    auto loss = torch::mse_loss(layer->forward(x), y);
    loss.backward();
    opt.step();
    const double v = loss.item<double>();
    if (i == 0) out.first_loss = v;
    out.last_loss = v;
  }
  out.weight = layer->weight.item<double>();
  out.bias = layer->bias.item<double>();
  return out;
}

}  // namespace pgrec::neural
