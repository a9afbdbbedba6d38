// The hot float loops of training and serving, on raw row-major arrays. kernels.cc compiles each
// for several x86-64 levels (baseline SSE2, AVX2+FMA, AVX-512) and the loader picks the best the
// CPU has (GCC target_clones, an ifunc), the way pgvector dispatches its distance functions; the
// rest of the tree keeps the baseline flags, so pgrec.so and pgrec_torch.so agree on Eigen's layout.
#pragma once
#include <cstdint>

namespace pgrec::kernels {

// The instruction set the loader chose for these kernels ("avx512", "avx2+fma" or "baseline").
const char* level();

// Returns a . b over n floats.
float dot(const float* a, const float* b, std::int64_t n);

// out[r] = rows[r] . q for the n rows (f floats each, contiguous) of a row-major matrix.
void score_rows(const float* rows, std::int64_t n, std::int32_t f, const float* q, float* out);

// out[k] = rows[index[k]] . q for the n listed rows of a row-major matrix of f columns.
void score_listed_rows(const float* rows, const std::int32_t* index, std::int64_t n, std::int32_t f,
                       const float* q, float* out);

// Adds one row's least-squares terms over its n interactions: the upper triangle of the
// row-major f x f matrix `a` gains sum_k weight[k] y_k y_k^T and `b` gains sum_k target[k] y_k,
// where y_k is the first f floats of row index[k] of the row-major matrix `y` (`stride` floats
// per row, at least f).
void add_normal_equations(float* a, float* b, const float* y, std::int32_t f, std::int32_t stride,
                          const std::int32_t* index, const float* weight, const float* target, std::int64_t n);

// Solves a x = b in place (x overwrites b) for a symmetric positive definite a given by its upper
// triangle (row-major f x f; overwritten by its Cholesky factor U, a = U^T U). Returns false, leaving b
// unspecified, when a is not positive definite (or a pivot falls below 1e-6 of the largest
// diagonal entry: numerically singular).
bool cholesky_solve(float* a, float* b, std::int32_t f);

// Implicit ALS's conjugate-gradient steps for one row, warm-started from x: solves
// (YtY + sum_k (c_k - 1) y_k y_k^T) x = sum_k c_k y_k with c_k = 1 + alpha * value[k], y_k the
// rows index[k] of y. `scratch` holds 3 f floats.
void implicit_cg(const float* yty, const float* y, std::int32_t f, const std::int32_t* index, const float* value,
                 std::int64_t n, float alpha, std::int32_t steps, float* x, float* scratch);

// One BPR step on (user p, positive q_i, negative q_j), each item row holding f factors and then
// its bias: returns the score margin x = (b_i - b_j) + p . (q_i - q_j) and moves the vectors and
// biases by the gradient of ln sigmoid(x), with learning rate lr and L2 regularisation reg.
float bpr_update(float* p, float* qi, float* qj, std::int32_t f, float lr, float reg);

}  // namespace pgrec::kernels
