// The dispatched float kernels agree with plain double-precision references (Eigen or loops) at
// every size, including sizes that are not multiples of the vector width.
#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <cmath>
#include <random>
#include <vector>

#include "kernels.h"

using namespace pgrec;

namespace {

// n uniform values in [-1, 1) from a seeded generator.
std::vector<float> random_values(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = u(rng);
  return v;
}

const std::int32_t kSizes[] = {1, 3, 7, 16, 17, 31, 32, 33, 64, 65, 100, 128};

}  // namespace

TEST(Kernels, ReportsALevel) {
  const std::string level = kernels::level();
  EXPECT_TRUE(level == "avx512" || level == "avx2+fma" || level == "baseline") << level;
}

TEST(Kernels, DotAndScoresMatchReference) {
  for (const std::int32_t f : kSizes) {
    const std::int64_t rows = 37;
    const std::vector<float> m = random_values(static_cast<std::size_t>(rows * f), 1), q = random_values(f, 2);
    std::vector<float> out(rows), listed(5);
    kernels::score_rows(m.data(), rows, f, q.data(), out.data());
    const std::int32_t index[5] = {36, 0, 5, 5, 17};
    kernels::score_listed_rows(m.data(), index, 5, f, q.data(), listed.data());
    for (std::int64_t r = 0; r < rows; ++r) {
      double ref = 0;
      for (std::int32_t c = 0; c < f; ++c) ref += static_cast<double>(m[r * f + c]) * q[c];
      EXPECT_NEAR(out[r], ref, 1e-4 * (1 + std::abs(ref))) << "f " << f;
      EXPECT_NEAR(kernels::dot(m.data() + r * f, q.data(), f), ref, 1e-4 * (1 + std::abs(ref)));
    }
    for (int k = 0; k < 5; ++k) EXPECT_FLOAT_EQ(listed[k], out[index[k]]);
  }
}

TEST(Kernels, NormalEquationsAndCholeskyMatchEigen) {
  for (const std::int32_t f : kSizes) {
    for (const std::int64_t n : {0, 1, 5, 8, 9, 23}) {
      const std::int32_t items = 40;
      const std::vector<float> y = random_values(static_cast<std::size_t>(items * f), 3 + f);
      std::vector<std::int32_t> index(n);
      std::vector<float> weight(n), target(n);
      for (std::int64_t k = 0; k < n; ++k) {
        index[k] = static_cast<std::int32_t>((k * 7 + f) % items);
        weight[k] = 0.5f + static_cast<float>(k % 3);
        target[k] = 1.0f - 0.1f * static_cast<float>(k);
      }
      // a starts as reg I; the kernel adds the weighted gram to its upper triangle.
      std::vector<float> a(static_cast<std::size_t>(f * f), 0.0f), b(f, 0.0f);
      for (std::int32_t c = 0; c < f; ++c) a[c * f + c] = 0.7f;
      kernels::add_normal_equations(a.data(), b.data(), y.data(), f, f, index.data(), weight.data(), target.data(), n);
      Eigen::MatrixXd ref = 0.7 * Eigen::MatrixXd::Identity(f, f);
      Eigen::VectorXd rhs = Eigen::VectorXd::Zero(f);
      for (std::int64_t k = 0; k < n; ++k) {
        Eigen::VectorXd yk(f);
        for (std::int32_t c = 0; c < f; ++c) yk[c] = y[index[k] * f + c];
        ref += weight[k] * yk * yk.transpose();
        rhs += target[k] * yk;
      }
      for (std::int32_t i = 0; i < f; ++i) {
        EXPECT_NEAR(b[i], rhs[i], 1e-4 * (1 + std::abs(rhs[i])));
        for (std::int32_t j = i; j < f; ++j) ASSERT_NEAR(a[i * f + j], ref(i, j), 1e-4 * (1 + std::abs(ref(i, j))));
      }
      ASSERT_TRUE(kernels::cholesky_solve(a.data(), b.data(), f));
      const Eigen::VectorXd x = ref.ldlt().solve(rhs);
      for (std::int32_t i = 0; i < f; ++i) EXPECT_NEAR(b[i], x[i], 2e-3 * (1 + std::abs(x[i]))) << "f " << f << " n " << n;
    }
  }
}

TEST(Kernels, NormalEquationsReadTheFirstColumnsOfWiderRows) {
  // Rows of 7 floats of which the first 5 are the factors (a model with fixed user columns).
  const std::int32_t f = 5, stride = 7;
  const std::vector<float> y = random_values(10 * stride, 21);
  const std::int32_t index[3] = {9, 2, 4};
  const float weight[3] = {1, 2, 3}, target[3] = {0.5f, -1, 2};
  std::vector<float> a(f * f, 0.0f), b(f, 0.0f);
  kernels::add_normal_equations(a.data(), b.data(), y.data(), f, stride, index, weight, target, 3);
  for (std::int32_t i = 0; i < f; ++i) {
    double bi = 0;
    for (int k = 0; k < 3; ++k) bi += target[k] * y[index[k] * stride + i];
    EXPECT_NEAR(b[i], bi, 1e-5);
    for (std::int32_t j = i; j < f; ++j) {
      double aij = 0;
      for (int k = 0; k < 3; ++k) aij += weight[k] * y[index[k] * stride + i] * y[index[k] * stride + j];
      EXPECT_NEAR(a[i * f + j], aij, 1e-5);
    }
  }
}

TEST(Kernels, CholeskyRefusesAMatrixThatIsNotPositiveDefinite) {
  // [[1, 2], [2, 1]] has eigenvalues 3 and -1; a zero matrix is singular.
  std::vector<float> a = {1, 2, 2, 1}, b = {1, 1};
  EXPECT_FALSE(kernels::cholesky_solve(a.data(), b.data(), 2));
  std::vector<float> zero(9, 0.0f), c(3, 1.0f);
  EXPECT_FALSE(kernels::cholesky_solve(zero.data(), c.data(), 3));
}

TEST(Kernels, ImplicitConjugateGradientConvergesToTheExactSolve) {
  for (const std::int32_t f : {3, 16, 33}) {
    const std::int32_t items = 30;
    const std::int64_t n = 12;
    const std::vector<float> y = random_values(static_cast<std::size_t>(items * f), 11);
    Eigen::MatrixXd Y(items, f);
    for (std::int32_t i = 0; i < items; ++i)
      for (std::int32_t c = 0; c < f; ++c) Y(i, c) = y[i * f + c];
    Eigen::MatrixXd yty = Y.transpose() * Y + 0.5 * Eigen::MatrixXd::Identity(f, f);
    std::vector<float> yty_f(static_cast<std::size_t>(f * f));
    for (std::int32_t i = 0; i < f; ++i)
      for (std::int32_t j = 0; j < f; ++j) yty_f[i * f + j] = static_cast<float>(yty(i, j));
    std::vector<std::int32_t> index(n);
    std::vector<float> value(n);
    for (std::int64_t k = 0; k < n; ++k) {
      index[k] = static_cast<std::int32_t>(k * 2 % items);
      value[k] = 1.0f + static_cast<float>(k % 4);
    }
    const float alpha = 2.0f;
    Eigen::MatrixXd A = yty;
    Eigen::VectorXd rhs = Eigen::VectorXd::Zero(f);
    for (std::int64_t k = 0; k < n; ++k) {
      const Eigen::VectorXd yk = Y.row(index[k]).transpose();
      A += alpha * value[k] * yk * yk.transpose();
      rhs += (1 + alpha * value[k]) * yk;
    }
    const Eigen::VectorXd exact = A.ldlt().solve(rhs);
    std::vector<float> x(f, 0.0f), scratch(3 * static_cast<std::size_t>(f));
    kernels::implicit_cg(yty_f.data(), y.data(), f, index.data(), value.data(), n, alpha, 3 * f, x.data(), scratch.data());
    for (std::int32_t c = 0; c < f; ++c) EXPECT_NEAR(x[c], exact[c], 1e-3 * (1 + std::abs(exact[c]))) << "f " << f;
  }
}

TEST(Kernels, BprUpdateFollowsTheGradient) {
  for (const std::int32_t f : {1, 16, 65}) {
    std::vector<float> p = random_values(f, 5), qi = random_values(f + 1, 6), qj = random_values(f + 1, 7);
    const std::vector<float> p0 = p, qi0 = qi, qj0 = qj;
    const float lr = 0.1f, reg = 0.01f;
    const float x = kernels::bpr_update(p.data(), qi.data(), qj.data(), f, lr, reg);
    double ref = qi0[f] - qj0[f];
    for (std::int32_t c = 0; c < f; ++c) ref += static_cast<double>(p0[c]) * (qi0[c] - qj0[c]);
    EXPECT_NEAR(x, ref, 1e-5 * (1 + std::abs(ref)));
    const double g = 1.0 / (1.0 + std::exp(ref));
    for (std::int32_t c = 0; c < f; ++c) {
      EXPECT_NEAR(p[c], p0[c] + lr * (g * (qi0[c] - qj0[c]) - reg * p0[c]), 1e-5);
      EXPECT_NEAR(qi[c], qi0[c] + lr * (g * p0[c] - reg * qi0[c]), 1e-5);
      EXPECT_NEAR(qj[c], qj0[c] + lr * (-g * p0[c] - reg * qj0[c]), 1e-5);
    }
    EXPECT_NEAR(qi[f], qi0[f] + lr * (g - reg * qi0[f]), 1e-5);
    EXPECT_NEAR(qj[f], qj0[f] + lr * (-g - reg * qj0[f]), 1e-5);
  }
}
