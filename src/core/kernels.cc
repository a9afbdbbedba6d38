#include "kernels.h"

#include <cmath>

// Each exported kernel is cloned per x86-64 level; GCC resolves the clone once, at load time.
// Helpers are inlined into every clone so they run at the clone's level too.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define PGREC_CLONES __attribute__((target_clones("default", "arch=x86-64-v3", "arch=x86-64-v4")))
#else
#define PGREC_CLONES
#endif
#define PGREC_INLINE inline __attribute__((always_inline))

// GCC 12 reports a dot product's tail loop, inlined into implicit_cg's f = 64 and 128 bodies where
// it runs no iteration, as overflowing (a false positive of its loop bound analysis).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Waggressive-loop-optimizations"
#endif

namespace pgrec::kernels {

namespace {

// a . b with 16 partial sums (one AVX-512 register, two AVX2, four SSE) folded in halves at the
// end: no -ffast-math needed, and no lane-by-lane horizontal sum.
PGREC_INLINE float dot_inline(const float* a, const float* b, std::int64_t n) {
  float acc[16] = {0};
  std::int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    for (int j = 0; j < 16; ++j) acc[j] += a[i + j] * b[i + j];
  float tail = 0;
  for (; i < n; ++i) tail += a[i] * b[i];
  for (int j = 0; j < 8; ++j) acc[j] += acc[j + 8];
  for (int j = 0; j < 4; ++j) acc[j] += acc[j + 4];
  return (acc[0] + acc[2]) + (acc[1] + acc[3]) + tail;
}

// y += a x.
PGREC_INLINE void axpy_inline(float a, const float* __restrict__ x, float* __restrict__ y, std::int64_t n) {
#pragma omp simd
  for (std::int64_t i = 0; i < n; ++i) y[i] += a * x[i];
}

// out = m x for a symmetric row-major f x f matrix m.
PGREC_INLINE void symv_inline(const float* __restrict__ m, const float* __restrict__ x, float* __restrict__ out,
                              std::int32_t f) {
  for (std::int32_t r = 0; r < f; ++r) out[r] = dot_inline(m + static_cast<std::int64_t>(r) * f, x, f);
}

}  // namespace

const char* level() {
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("x86-64-v4")) return "avx512";
  if (__builtin_cpu_supports("x86-64-v3")) return "avx2+fma";
#endif
  return "baseline";
}

PGREC_CLONES
float dot(const float* a, const float* b, std::int64_t n) { return dot_inline(a, b, n); }

PGREC_CLONES
void score_rows(const float* rows, std::int64_t n, std::int32_t f, const float* q, float* out) {
  for (std::int64_t r = 0; r < n; ++r) out[r] = dot_inline(rows + r * f, q, f);
}

PGREC_CLONES
void score_listed_rows(const float* rows, const std::int32_t* index, std::int64_t n, std::int32_t f,
                       const float* q, float* out) {
  // Listed rows are scattered: fetch a few rows ahead (every cache line of each) while scoring.
  constexpr std::int64_t kAhead = 4;
  for (std::int64_t k = 0; k < n; ++k) {
    if (k + kAhead < n) {
      const char* next = reinterpret_cast<const char*>(rows + static_cast<std::int64_t>(index[k + kAhead]) * f);
      for (std::int64_t byte = 0; byte < static_cast<std::int64_t>(f) * 4; byte += 64) __builtin_prefetch(next + byte);
    }
    out[k] = dot_inline(rows + static_cast<std::int64_t>(index[k]) * f, q, f);
  }
}

PGREC_CLONES
void add_normal_equations(float* a, float* b, const float* y, std::int32_t f, std::int32_t stride,
                          const std::int32_t* index, const float* weight, const float* target, std::int64_t n) {
  // Row i of the triangle is updated from column i rounded down to a multiple of 16, so the
  // vector loop has no peeled start (the entries left of the diagonal are never read).
  std::int64_t k = 0;
  // Eight interactions at a time: each row of the triangle is loaded and stored once per eight.
  for (; k + 8 <= n; k += 8) {
    const float* __restrict__ v[8];
    float w[8];
    for (int m = 0; m < 8; ++m) {
      v[m] = y + static_cast<std::int64_t>(index[k + m]) * stride;
      w[m] = weight[k + m];
    }
    for (std::int32_t i = 0; i < f; ++i) {
      float c[8];
      for (int m = 0; m < 8; ++m) c[m] = w[m] * v[m][i];
      float* __restrict__ row = a + static_cast<std::int64_t>(i) * f;
#pragma omp simd
      for (std::int32_t j = i & ~15; j < f; ++j)
        row[j] += c[0] * v[0][j] + c[1] * v[1][j] + c[2] * v[2][j] + c[3] * v[3][j] + c[4] * v[4][j] +
                  c[5] * v[5][j] + c[6] * v[6][j] + c[7] * v[7][j];
    }
    for (int m = 0; m < 8; ++m) axpy_inline(target[k + m], v[m], b, f);
  }
  for (; k < n; ++k) {
    const float* __restrict__ y0 = y + static_cast<std::int64_t>(index[k]) * stride;
    for (std::int32_t i = 0; i < f; ++i) {
      const float c0 = weight[k] * y0[i];
      float* __restrict__ row = a + static_cast<std::int64_t>(i) * f;
#pragma omp simd
      for (std::int32_t j = i & ~15; j < f; ++j) row[j] += c0 * y0[j];
    }
    axpy_inline(target[k], y0, b, f);
  }
}

PGREC_CLONES
bool cholesky_solve(float* a, float* b, std::int32_t f) {
  // a = U^T U, right-looking: row k of U is final once the rows above it have updated it, and
  // every update is an axpy over a contiguous row segment (no horizontal sums).
  // A pivot this far below the largest diagonal entry means a (numerically) singular matrix.
  float largest = 0;
  for (std::int32_t k = 0; k < f; ++k) largest = std::fmax(largest, a[static_cast<std::int64_t>(k) * f + k]);
  const float tiny = largest * 1e-6f;
  for (std::int32_t k = 0; k < f; ++k) {
    float* __restrict__ uk = a + static_cast<std::int64_t>(k) * f;
    const float d = uk[k];
    if (!(d > tiny) || !std::isfinite(d)) return false;
    const float root = std::sqrt(d), inv = 1.0f / root;
    // Loops start at a multiple of 16 (no peeled start); what they touch left of the diagonal
    // is never read.
#pragma omp simd
    for (std::int32_t j = k & ~15; j < f; ++j) uk[j] *= inv;
    uk[k] = root;
    for (std::int32_t i = k + 1; i < f; ++i) {
      float* __restrict__ ui = a + static_cast<std::int64_t>(i) * f;
      const float s = uk[i];
#pragma omp simd
      for (std::int32_t j = i & ~15; j < f; ++j) ui[j] -= s * uk[j];
    }
  }
  // U^T z = b by rows of U (forward), then U x = z (backward, contiguous dot products).
  for (std::int32_t k = 0; k < f; ++k) {
    const float* uk = a + static_cast<std::int64_t>(k) * f;
    b[k] /= uk[k];
    axpy_inline(-b[k], uk + k + 1, b + k + 1, f - k - 1);
  }
  for (std::int32_t i = f - 1; i >= 0; --i) {
    const float* ui = a + static_cast<std::int64_t>(i) * f;
    b[i] = (b[i] - dot_inline(ui + i + 1, b + i + 1, f - i - 1)) / ui[i];
  }
  return true;
}

// implicit_cg's body; F > 0 fixes the number of factors at compile time (the vectors then live
// in registers across an interaction loop), F = 0 reads it from f.
template <int F>
PGREC_INLINE void implicit_cg_body(const float* yty, const float* y, std::int32_t f_arg, const std::int32_t* index,
                                   const float* value, std::int64_t n, float alpha, std::int32_t steps, float* x,
                                   float* scratch) {
  const std::int32_t f = F > 0 ? F : f_arg;
  float* __restrict__ r = scratch;
  float* __restrict__ dir = scratch + f;
  float* __restrict__ ad = scratch + 2 * f;
  // r = b - A x.
  symv_inline(yty, x, r, f);
  for (std::int32_t c = 0; c < f; ++c) r[c] = -r[c];
  for (std::int64_t k = 0; k < n; ++k) {
    const float* yk = y + static_cast<std::int64_t>(index[k]) * f;
    const float conf = 1.0f + alpha * value[k];
    axpy_inline(conf - (conf - 1.0f) * dot_inline(yk, x, f), yk, r, f);
  }
  for (std::int32_t c = 0; c < f; ++c) dir[c] = r[c];
  float rs_old = dot_inline(r, r, f);
  for (std::int32_t step = 0; step < steps && rs_old > 1e-20f; ++step) {
    symv_inline(yty, dir, ad, f);
    for (std::int64_t k = 0; k < n; ++k) {
      const float* yk = y + static_cast<std::int64_t>(index[k]) * f;
      axpy_inline(alpha * value[k] * dot_inline(yk, dir, f), yk, ad, f);
    }
    const float step_size = rs_old / dot_inline(dir, ad, f);
    axpy_inline(step_size, dir, x, f);
    axpy_inline(-step_size, ad, r, f);
    const float rs_new = dot_inline(r, r, f);
    const float beta = rs_new / rs_old;
#pragma omp simd
    for (std::int32_t c = 0; c < f; ++c) dir[c] = r[c] + beta * dir[c];
    rs_old = rs_new;
  }
}

PGREC_CLONES
void implicit_cg(const float* yty, const float* y, std::int32_t f, const std::int32_t* index, const float* value,
                 std::int64_t n, float alpha, std::int32_t steps, float* x, float* scratch) {
  // The common sizes get a body with f fixed; any other f takes the general one.
  switch (f) {
    case 32: return implicit_cg_body<32>(yty, y, f, index, value, n, alpha, steps, x, scratch);
    case 64: return implicit_cg_body<64>(yty, y, f, index, value, n, alpha, steps, x, scratch);
    case 128: return implicit_cg_body<128>(yty, y, f, index, value, n, alpha, steps, x, scratch);
    default: return implicit_cg_body<0>(yty, y, f, index, value, n, alpha, steps, x, scratch);
  }
}

PGREC_CLONES
float bpr_update(float* p, float* qi, float* qj, std::int32_t f, float lr, float reg) {
  float x = qi[f] - qj[f];
#pragma omp simd reduction(+ : x)
  for (std::int32_t c = 0; c < f; ++c) x += p[c] * (qi[c] - qj[c]);
  const float g = 1.0f / (1.0f + std::exp(x));  // sigmoid(-x)
#pragma omp simd
  for (std::int32_t c = 0; c < f; ++c) {
    const float pc = p[c], a = qi[c], bj = qj[c];
    p[c] = pc + lr * (g * (a - bj) - reg * pc);
    qi[c] = a + lr * (g * pc - reg * a);
    qj[c] = bj + lr * (-g * pc - reg * bj);
  }
  qi[f] += lr * (g - reg * qi[f]);
  qj[f] += lr * (-g - reg * qj[f]);
  return x;
}

}  // namespace pgrec::kernels
