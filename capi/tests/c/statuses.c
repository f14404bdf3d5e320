/* Every status code the current functions can return, on bad input, and that outputs are
 * untouched on error (the one documented exception: NON_FINITE / INVALID_INPUT found during
 * a pass reset a write-mode output to zeros; add mode leaves it as it was).
 *
 * LENGTH_MISMATCH cannot be returned by any current function (every function takes one
 * length, or rows and classes, for all its arrays); its code and description are checked
 * here, and the functions that can return it will bring their own cases. Code 6 is reserved
 * (unknown until a function takes a workspace). LABEL_OUT_OF_RANGE comes from the row losses: see
 * rows.c. INTERNAL is never expected.
 *
 * The statuses every pointwise loss shares are checked for each loss of the registry
 * (LOSSKIT_POINTWISE_CASES of the generated cases.h); the loss-specific ones (invalid
 * parameters and inputs outside a domain) by hand below. */
#include "losskit.h"
#include "cases.h"
#include "check.h"

#include <stdint.h>
#include <string.h>

#define N 5
#define SENTINEL 42.0f

static float pred[N] = {0.5f, -1.0f, 2.0f, 0.0f, 3.0f};
static float target[N] = {0.0f, 1.0f, 2.5f, -1.0f, 3.0f};
static float weight[N] = {1.0f, 2.0f, 1.0f, 0.5f, 1.0f};
static float var[N] = {1.0f, 0.5f, 2.0f, 1.0f, 0.25f};
static float grad[N];
static float grad_var[N];

static void fill(float *x, float v) {
    int i;
    for (i = 0; i < N; i++) x[i] = v;
}

static int all_equal(const float *x, float v) {
    int i;
    for (i = 0; i < N; i++) {
        if (x[i] != v) return 0;
    }
    return 1;
}

/* A Huber value_and_grad (delta, reduction, divisor, mode) expected to fail with `want`,
 * leaving `grad` and the value untouched. */
static void huber_fails(const float *p, const float *t, const float *w, size_t len, double delta,
                        int32_t reduction, double divisor, int32_t mode, float *g, float *v,
                        int32_t want, int line) {
    float value = SENTINEL;
    int32_t got;
    fill(grad, SENTINEL);
    got = losskit_huber_value_and_grad_f32(p, t, w, len, delta, reduction, divisor, mode, g,
                                           v ? v : &value);
    CHECK(got == want, "line %d: status %d, want %d (%s)", line, (int)got, (int)want,
          losskit_status_str(got));
    CHECK(all_equal(grad, SENTINEL), "line %d: grad written on error", line);
    CHECK(value == SENTINEL, "line %d: value written on error", line);
}

#define FAILS(p, t, w, len, delta, red, div, mode, g, v, want) \
    huber_fails(p, t, w, len, delta, red, div, mode, g, v, want, __LINE__)

static int first_equal(const float *x, size_t n, float v) {
    size_t i;
    for (i = 0; i < n; i++) {
        if (x[i] != v) return 0;
    }
    return 1;
}

/* A pointwise loss on the first (up to N) elements of its conformance case, which are in its
 * domain, with the case's parameters: the call succeeds; a NULL input, an unknown reduction
 * and a gradient over the prediction fail with nothing written; a NaN prediction is
 * NON_FINITE, leaving an add-mode gradient as it was and resetting a write-mode one to
 * zeros, the value untouched. */
#define SHARED_STATUSES(loss, id, HESS)                                                       \
    do {                                                                                      \
        float p_[N], t_[N], g_[N], v_ = SENTINEL;                                             \
        const size_t n_ = id##_LEN < N ? id##_LEN : N;                                        \
        size_t i_;                                                                            \
        for (i_ = 0; i_ < n_; i_++) {                                                         \
            p_[i_] = (float)id##_pred[i_];                                                    \
            t_[i_] = (float)id##_target[i_];                                                  \
            g_[i_] = SENTINEL;                                                                \
        }                                                                                     \
        CHECK(losskit_##loss##_value_and_grad_f32(p_, t_, NULL, n_, id##_P() 0, 0.0,          \
                                                  LOSSKIT_GRAD_MODE_WRITE, g_, &v_) ==        \
                  LOSSKIT_STATUS_OK, #loss " baseline");                                      \
        for (i_ = 0; i_ < n_; i_++) g_[i_] = SENTINEL;                                        \
        v_ = SENTINEL;                                                                        \
        CHECK(losskit_##loss##_value_and_grad_f32(p_, NULL, NULL, n_, id##_P() 0, 0.0,        \
                                                  LOSSKIT_GRAD_MODE_WRITE, g_, &v_) ==        \
                  LOSSKIT_STATUS_NULL_POINTER, #loss " NULL target");                         \
        CHECK(losskit_##loss##_value_and_grad_f32(p_, t_, NULL, n_, id##_P() 3, 0.0,          \
                                                  LOSSKIT_GRAD_MODE_WRITE, g_, &v_) ==        \
                  LOSSKIT_STATUS_INVALID_PARAMETER, #loss " reduction 3");                    \
        CHECK(losskit_##loss##_value_and_grad_f32(p_, t_, NULL, n_, id##_P() 0, 0.0,          \
                                                  LOSSKIT_GRAD_MODE_WRITE, p_, &v_) ==        \
                  LOSSKIT_STATUS_ALIASING, #loss " grad over pred");                          \
        p_[n_ - 1] = (float)NAN;                                                              \
        CHECK(losskit_##loss##_value_and_grad_f32(p_, t_, NULL, n_, id##_P() 0, 0.0,          \
                                                  LOSSKIT_GRAD_MODE_ADD, g_, &v_) ==          \
                  LOSSKIT_STATUS_NON_FINITE, #loss " NaN pred, add mode");                    \
        CHECK(first_equal(g_, n_, SENTINEL) && v_ == SENTINEL, #loss ": written on error");   \
        CHECK(losskit_##loss##_value_and_grad_f32(p_, t_, NULL, n_, id##_P() 0, 0.0,          \
                                                  LOSSKIT_GRAD_MODE_WRITE, g_, &v_) ==        \
                  LOSSKIT_STATUS_NON_FINITE, #loss " NaN pred, write mode");                  \
        CHECK(first_equal(g_, n_, 0.0f) && v_ == SENTINEL, #loss ": write mode not zeros");   \
    } while (0);

int main(void) {
    float v = SENTINEL;
    float misaligned_buf[N + 1];
    const float *misaligned = (const float *)(const void *)((const char *)misaligned_buf + 1);
    int32_t s;
    int code;

    LOSSKIT_POINTWISE_CASES(SHARED_STATUSES);

    /* The baseline call succeeds. */
    fill(grad, 0.0f);
    CHECK(losskit_huber_value_and_grad_f32(pred, target, weight, N, 1.0, LOSSKIT_REDUCTION_MEAN,
                                           0.0, LOSSKIT_GRAD_MODE_WRITE, grad, &v) ==
              LOSSKIT_STATUS_OK,
          "baseline");

    /* NULL_POINTER: a required array, the output array, the scalar output. */
    FAILS(NULL, target, weight, N, 1.0, 0, 0.0, 0, grad, NULL, LOSSKIT_STATUS_NULL_POINTER);
    FAILS(pred, NULL, weight, N, 1.0, 0, 0.0, 0, grad, NULL, LOSSKIT_STATUS_NULL_POINTER);
    FAILS(pred, target, weight, N, 1.0, 0, 0.0, 0, NULL, NULL, LOSSKIT_STATUS_NULL_POINTER);
    fill(grad, SENTINEL);
    CHECK(losskit_huber_value_and_grad_f32(pred, target, weight, N, 1.0, 0, 0.0, 0, grad, NULL) ==
              LOSSKIT_STATUS_NULL_POINTER,
          "NULL value_out");
    CHECK(all_equal(grad, SENTINEL), "grad written with NULL value_out");
    CHECK(losskit_mse_value_f64(NULL, NULL, NULL, 1, LOSSKIT_REDUCTION_SUM, 0.0, NULL) ==
              LOSSKIT_STATUS_NULL_POINTER,
          "NULL everything");

    /* EMPTY: NULL with length 0 is accepted, and the empty input is then reported. */
    FAILS(NULL, NULL, NULL, 0, 1.0, 0, 0.0, 0, NULL, NULL, LOSSKIT_STATUS_EMPTY);
    FAILS(pred, target, NULL, 0, 1.0, 0, 0.0, 0, grad, NULL, LOSSKIT_STATUS_EMPTY);

    /* MISALIGNED (pointers are never dereferenced before this check). */
    FAILS(misaligned, target, NULL, N, 1.0, 0, 0.0, 0, grad, NULL, LOSSKIT_STATUS_MISALIGNED);
    FAILS(pred, target, misaligned, N, 1.0, 0, 0.0, 0, grad, NULL, LOSSKIT_STATUS_MISALIGNED);
    FAILS(pred, target, NULL, N, 1.0, 0, 0.0, 0, grad, (float *)(void *)((char *)&v + 1),
          LOSSKIT_STATUS_MISALIGNED);

    /* INVALID_PARAMETER: the loss parameter, the options, the length's byte size. */
    FAILS(pred, target, NULL, N, -1.0, 0, 0.0, 0, grad, NULL, LOSSKIT_STATUS_INVALID_PARAMETER);
    FAILS(pred, target, NULL, N, (double)NAN, 0, 0.0, 0, grad, NULL,
          LOSSKIT_STATUS_INVALID_PARAMETER);
    FAILS(pred, target, NULL, N, 1.0, 3, 0.0, 0, grad, NULL, LOSSKIT_STATUS_INVALID_PARAMETER);
    FAILS(pred, target, NULL, N, 1.0, -1, 0.0, 0, grad, NULL, LOSSKIT_STATUS_INVALID_PARAMETER);
    FAILS(pred, target, NULL, N, 1.0, LOSSKIT_REDUCTION_DIVISOR, 0.0, 0, grad, NULL,
          LOSSKIT_STATUS_INVALID_PARAMETER);
    FAILS(pred, target, NULL, N, 1.0, LOSSKIT_REDUCTION_DIVISOR, (double)INFINITY, 0, grad, NULL,
          LOSSKIT_STATUS_INVALID_PARAMETER);
    /* Beyond 2^126 the divisor's reciprocal is not a normal f32 number. */
    FAILS(pred, target, NULL, N, 1.0, LOSSKIT_REDUCTION_DIVISOR, 1e300, 0, grad, NULL,
          LOSSKIT_STATUS_INVALID_PARAMETER);
    FAILS(pred, target, NULL, N, 1.0, 0, 0.0, 2, grad, NULL, LOSSKIT_STATUS_INVALID_PARAMETER);
    FAILS(pred, target, NULL, SIZE_MAX / 2, 1.0, 0, 0.0, 0, grad, NULL,
          LOSSKIT_STATUS_INVALID_PARAMETER);
    v = SENTINEL;
    CHECK(losskit_poisson_nll_value_f32(pred, target, NULL, N, 2, 0, 1e-8, 0, 0.0, &v) ==
              LOSSKIT_STATUS_INVALID_PARAMETER,
          "flag 2");
    CHECK(losskit_gaussian_nll_value_f32(pred, target, var, N, 0, 0.0, 0, 0.0, &v) ==
              LOSSKIT_STATUS_INVALID_PARAMETER,
          "eps 0");
    CHECK(v == SENTINEL, "value written on error");

    /* ALIASING: an output overlapping an input (exactly or partly), the weight, or the
     * scalar output lying inside the gradient. Inputs may overlap each other. */
    FAILS(pred, target, NULL, N, 1.0, 0, 0.0, 0, (float *)pred, NULL, LOSSKIT_STATUS_ALIASING);
    FAILS(pred, target, weight, N, 1.0, 0, 0.0, 0, weight + 1, NULL, LOSSKIT_STATUS_ALIASING);
    FAILS(pred, target, NULL, N, 1.0, 0, 0.0, 0, grad, grad + 2, LOSSKIT_STATUS_ALIASING);
    fill(grad, 0.0f);
    CHECK(losskit_huber_value_and_grad_f32(pred, pred, pred, N, 1.0, 0, 0.0, 0, grad, &v) ==
              LOSSKIT_STATUS_OK,
          "inputs may alias each other");
    fill(grad_var, SENTINEL);
    CHECK(losskit_gaussian_nll_grad_f32(pred, target, var, N, 0, 1e-6, 0, 0.0, 0, grad_var,
                                        grad_var) == LOSSKIT_STATUS_ALIASING,
          "grad_var == grad");
    CHECK(losskit_mse_value_elementwise_f32(pred, target, NULL, N, (float *)target) ==
              LOSSKIT_STATUS_ALIASING,
          "out == target");
    CHECK(all_equal(grad_var, SENTINEL), "written on aliasing");

    /* NON_FINITE: value_out untouched; a write-mode gradient is reset to zeros, an add-mode
     * one is untouched. */
    pred[2] = (float)NAN;
    FAILS(pred, target, NULL, N, 1.0, 0, 0.0, LOSSKIT_GRAD_MODE_ADD, grad, NULL,
          LOSSKIT_STATUS_NON_FINITE);
    fill(grad, SENTINEL);
    v = SENTINEL;
    CHECK(losskit_huber_value_and_grad_f32(pred, target, NULL, N, 1.0, 0, 0.0,
                                           LOSSKIT_GRAD_MODE_WRITE, grad, &v) ==
              LOSSKIT_STATUS_NON_FINITE,
          "NaN pred");
    CHECK(all_equal(grad, 0.0f) && v == SENTINEL, "write mode: zeros, value untouched");
    pred[2] = 2.0f;
    target[4] = (float)INFINITY;
    CHECK(losskit_mse_value_f32(pred, target, NULL, N, 0, 0.0, &v) == LOSSKIT_STATUS_NON_FINITE,
          "inf target");
    target[4] = 3.0f;
    weight[1] = (float)NAN;
    CHECK(losskit_mse_value_f32(pred, target, weight, N, 0, 0.0, &v) == LOSSKIT_STATUS_NON_FINITE,
          "NaN weight");
    weight[1] = 2.0f;
    var[0] = (float)NAN;
    CHECK(losskit_gaussian_nll_value_f32(pred, target, var, N, 0, 1e-6, 0, 0.0, &v) ==
              LOSSKIT_STATUS_NON_FINITE,
          "NaN var");
    CHECK(v == SENTINEL, "value written on error");

    /* INVALID_INPUT: a negative variance, a negative Poisson count. */
    var[0] = -1.0f;
    fill(grad, SENTINEL);
    fill(grad_var, SENTINEL);
    CHECK(losskit_gaussian_nll_value_and_grad_f32(pred, target, var, N, 0, 1e-6, 0, 0.0,
                                                  LOSSKIT_GRAD_MODE_ADD, grad, grad_var, &v) ==
              LOSSKIT_STATUS_INVALID_INPUT,
          "negative var");
    CHECK(all_equal(grad, SENTINEL) && all_equal(grad_var, SENTINEL) && v == SENTINEL,
          "add mode untouched");
    var[0] = 1.0f;
    CHECK(losskit_poisson_nll_value_f32(pred, target, NULL, N, 1, 0, 1e-8, 0, 0.0, &v) ==
              LOSSKIT_STATUS_INVALID_INPUT,
          "negative count (target[3] = -1)");
    CHECK(v == SENTINEL, "value written on error");

    /* Tweedie: a negative target (target[3] = -1) is INVALID_INPUT, a power outside (1, 2)
     * INVALID_PARAMETER (checked first); gamma: a target <= 0 (target[0] = 0) is
     * INVALID_INPUT; deviance is a 0/1 flag. */
    CHECK(losskit_tweedie_value_f32(pred, target, NULL, N, 1.5, 1, 0, 0.0, &v) ==
              LOSSKIT_STATUS_INVALID_INPUT,
          "tweedie negative target");
    CHECK(losskit_tweedie_value_f32(pred, target, NULL, N, 2.0, 0, 0, 0.0, &v) ==
              LOSSKIT_STATUS_INVALID_PARAMETER,
          "tweedie power 2");
    CHECK(losskit_tweedie_value_f32(pred, target, NULL, N, 1.0, 0, 0, 0.0, &v) ==
              LOSSKIT_STATUS_INVALID_PARAMETER,
          "tweedie power 1");
    fill(grad, SENTINEL);
    CHECK(losskit_gamma_value_and_grad_f32(pred, target, NULL, N, 0, 0, 0.0,
                                           LOSSKIT_GRAD_MODE_ADD, grad, &v) ==
              LOSSKIT_STATUS_INVALID_INPUT,
          "gamma zero target");
    CHECK(all_equal(grad, SENTINEL), "gamma: add mode untouched");
    CHECK(losskit_gamma_value_f32(pred, target, NULL, N, 2, 0, 0.0, &v) ==
              LOSSKIT_STATUS_INVALID_PARAMETER,
          "gamma deviance 2");
    CHECK(v == SENTINEL, "value written on error");

    /* KL divergence: a negative target probability (target[3] = -1) is INVALID_INPUT, a
     * log-probability target may be negative; log_target is a 0/1 flag; a -inf pred is
     * NON_FINITE. */
    fill(grad, SENTINEL);
    CHECK(losskit_kl_div_value_and_grad_f32(pred, target, NULL, N, 0, 0, 0.0,
                                            LOSSKIT_GRAD_MODE_ADD, grad, &v) ==
              LOSSKIT_STATUS_INVALID_INPUT,
          "kl_div negative target");
    CHECK(all_equal(grad, SENTINEL) && v == SENTINEL, "kl_div: add mode untouched");
    CHECK(losskit_kl_div_value_f32(pred, target, NULL, N, 2, 0, 0.0, &v) ==
              LOSSKIT_STATUS_INVALID_PARAMETER,
          "kl_div log_target 2");
    CHECK(v == SENTINEL, "value written on error");
    CHECK(losskit_kl_div_value_f32(pred, target, NULL, N, 1, 0, 0.0, &v) == LOSSKIT_STATUS_OK,
          "kl_div log_target accepts a negative target");
    pred[1] = -(float)INFINITY;
    CHECK(losskit_kl_div_value_f32(pred, target, NULL, N, 1, 0, 0.0, &v) ==
              LOSSKIT_STATUS_NON_FINITE,
          "kl_div -inf log-probability");
    pred[1] = -1.0f;

    /* Every code has a description; unknown codes too. */
    for (code = 0; code <= 11; code++) {
        const char *d = losskit_status_str(code);
        if (code == 6) {
            CHECK(strcmp(d, "unknown status") == 0, "reserved code 6");
            continue;
        }
        CHECK(d != NULL && strlen(d) > 0 && strcmp(d, "unknown status") != 0, "code %d", code);
    }
    CHECK(strcmp(losskit_status_str(12), "unknown status") == 0, "12");
    CHECK(strcmp(losskit_status_str(-1), "unknown status") == 0, "-1");
    CHECK(LOSSKIT_STATUS_OK == 0 && LOSSKIT_STATUS_LENGTH_MISMATCH == 2 &&
              LOSSKIT_STATUS_LABEL_OUT_OF_RANGE == 5 && LOSSKIT_STATUS_NON_FINITE == 7 &&
              LOSSKIT_STATUS_INTERNAL == 9,
          "the documented table");
    CHECK(sizeof(losskit_status) == 4, "fixed width");

    s = losskit_mse_value_f32(pred, target, NULL, N, 0, 0.0, &v);
    CHECK(s == LOSSKIT_STATUS_OK, "still fine after all that: %d", (int)s);
    return finish("statuses");
}
