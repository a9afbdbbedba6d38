// LibTorch is linked and trains: a one-layer fit converges.
#include <gtest/gtest.h>

#include "smoke.h"

TEST(NeuralSmoke, LinearFitConverges) {
  const auto r = pgrec::neural::fit_line(300, 7);
  EXPECT_GT(r.first_loss, 0.5);
  EXPECT_LT(r.last_loss, 1e-3);
  EXPECT_NEAR(r.weight, 3.0, 0.05);
  EXPECT_NEAR(r.bias, -1.0, 0.05);
}
