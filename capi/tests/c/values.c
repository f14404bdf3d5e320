/* Values of the regression losses and the KL divergence, every verb through the C API, f32
 * and f64, against PyTorch float64 autograd or mpmath (Tweedie, gamma) (cases.h), or
 * hand-computed / Python float64 results; reductions, weights and add mode. The row losses are in rows.c.
 * Built with -std=c99 -Wall -Wextra -Werror -pedantic, and again as C++. */
#include "losskit.h"
#include "cases.h"
#include "check.h"

#include <string.h>

#define MAXN 16
#define TOL_F64 1e-10
#define TOL_F32 2e-5

/* Hand-computed cases for the losses PyTorch has no module for.
 * Expectile, tau = 0.2: u = target - pred = (1, -1, 0); c = (0.2, 0.8, 0.2);
 * l = c u^2 = (0.2, 0.8, 0); dl/dpred = -2 c u = (-0.4, 1.6, 0); d2l = 2c. */
#define expectile_h_LEN 3
static const double expectile_h_pred[3] = {1.0, 3.0, 2.0};
static const double expectile_h_target[3] = {2.0, 2.0, 2.0};
static const double expectile_h_value = 1.0;
static const double expectile_h_grad[3] = {-0.4, 1.6, 0.0};
static const double expectile_h_hess[3] = {0.4, 1.6, 0.4};
/* Pseudo-Huber, delta = 2: r = (0, 2, -2); s = sqrt(1 + (r/2)^2) = (1, sqrt 2, sqrt 2);
 * l = 4 (s - 1); dl/dpred = r / s; d2l = 1 / s^3. */
#define pseudo_huber_h_LEN 3
#define SQRT2 1.4142135623730951
static const double pseudo_huber_h_pred[3] = {1.0, 3.0, -1.0};
static const double pseudo_huber_h_target[3] = {1.0, 1.0, 1.0};
static const double pseudo_huber_h_value = 8.0 * (SQRT2 - 1.0);
static const double pseudo_huber_h_grad[3] = {0.0, SQRT2, -SQRT2};
static const double pseudo_huber_h_hess[3] = {1.0, 1.0 / (2.0 * SQRT2), 1.0 / (2.0 * SQRT2)};

/* Barron's loss, Geman-McClure (alpha = -2, scale = 1): x = r = (0, 2, -2); l = 2 x^2 / (x^2 + 4)
 * = (0, 1, 1); dl/dpred = x (1 + x^2/4)^-2 = (0, 1/2, -1/2); d2l = (1 + u)^-2 (1 - 4 u / (1 + u)),
 * u = x^2/4: (1, -1/4, -1/4); dl/dalpha = 3/8 - ln(2)/2 at x = +-2 (the derivative of
 * b/alpha ((1 + x^2/b)^(alpha/2) - 1), b = |alpha - 2|, at alpha = -2), 0 at x = 0. */
#define barron_gm_h_LEN 3
static const double barron_gm_h_pred[3] = {1.0, 3.0, -1.0};
static const double barron_gm_h_target[3] = {1.0, 1.0, 1.0};
static const double barron_gm_h_value = 2.0;
static const double barron_gm_h_grad[3] = {0.0, 0.5, -0.5};
static const double barron_gm_h_hess[3] = {1.0, -0.25, -0.25};
#define BARRON_GM_DALPHA (0.375 - 0.5 * 0.6931471805599453)
/* Barron's loss, Cauchy (alpha = 0, scale = 2): r = (0, 2, -4), x = r/2 = (0, 1, -2);
 * l = ln(1 + x^2/2) = (0, ln 1.5, ln 3); dl/dpred = (x/2) / (1 + x^2/2) = (0, 1/3, -1/3);
 * d2l = (1/4) (1 - x^2/2) / (1 + x^2/2)^2 = (1/4, 1/18, -1/36). */
#define barron_cauchy_h_LEN 3
static const double barron_cauchy_h_pred[3] = {0.0, 2.0, -4.0};
static const double barron_cauchy_h_target[3] = {0.0, 0.0, 0.0};
static const double barron_cauchy_h_value = 1.5040773967762742; /* ln 4.5 */
static const double barron_cauchy_h_grad[3] = {0.0, 1.0 / 3.0, -1.0 / 3.0};
static const double barron_cauchy_h_hess[3] = {0.25, 1.0 / 18.0, -1.0 / 36.0};

/* Every verb of a two-input pointwise loss in one precision. `P` is the loss's parameter
 * list: a function-like macro expanding to the parameters with a trailing comma. Checks: value (sum, mean, divisor, weights),
 * elementwise (sums to the value), grad (write and add), value_and_grad, and the Hessian
 * diagonal when `HESS` is an array (else NULL). */
#define CHECK_POINTWISE(loss, P, T, sfx, id, HESS, tol)                                         \
    do {                                                                                        \
        T p[MAXN], t[MAXN], w[MAXN], g[MAXN], g2[MAXN], h[MAXN], e[MAXN];                       \
        T v = 0, v2 = 0, vm = 0, vd = 0, vw = 0;                                                \
        const size_t n = id##_LEN;                                                              \
        const double gs = max_abs(id##_grad, n);                                                \
        const double *hx = (HESS);                                                              \
        double esum = 0.0;                                                                      \
        size_t i;                                                                               \
        for (i = 0; i < n; i++) {                                                               \
            p[i] = (T)id##_pred[i];                                                             \
            t[i] = (T)id##_target[i];                                                           \
            w[i] = (T)2;                                                                        \
        }                                                                                       \
        CHECK(losskit_##loss##_value_##sfx(p, t, NULL, n, P() LOSSKIT_REDUCTION_SUM, 0.0, &v) ==  \
                  LOSSKIT_STATUS_OK, #loss);                                                    \
        CHECK(close_to((double)v, id##_value, tol, 1e-3), #loss " value %.17g vs %.17g",       \
              (double)v, id##_value);                                                           \
        CHECK(losskit_##loss##_value_##sfx(p, t, NULL, n, P() LOSSKIT_REDUCTION_MEAN, 0.0, &vm) == \
                  LOSSKIT_STATUS_OK, #loss);                                                    \
        CHECK(close_to((double)vm, id##_value / (double)n, tol, 1e-3), #loss " mean");          \
        CHECK(losskit_##loss##_value_##sfx(p, t, NULL, n, P() LOSSKIT_REDUCTION_DIVISOR, 4.0,     \
                                          &vd) == LOSSKIT_STATUS_OK, #loss);                    \
        CHECK(close_to((double)vd, id##_value / 4.0, tol, 1e-3), #loss " divisor");             \
        CHECK(losskit_##loss##_value_##sfx(p, t, w, n, P() LOSSKIT_REDUCTION_SUM, 0.0, &vw) ==    \
                  LOSSKIT_STATUS_OK, #loss);                                                    \
        CHECK(close_to((double)vw, 2.0 * id##_value, tol, 1e-3), #loss " weighted");            \
        CHECK(losskit_##loss##_value_elementwise_##sfx(p, t, NULL, n, P() e) == LOSSKIT_STATUS_OK, \
              #loss);                                                                           \
        for (i = 0; i < n; i++) esum += (double)e[i];                                           \
        CHECK(close_to(esum, id##_value, tol, 1e-3), #loss " elementwise sum %.17g", esum);     \
        CHECK(losskit_##loss##_grad_##sfx(p, t, NULL, n, P() LOSSKIT_REDUCTION_SUM, 0.0,          \
                                         LOSSKIT_GRAD_MODE_WRITE, g) == LOSSKIT_STATUS_OK, #loss);   \
        for (i = 0; i < n; i++) g2[i] = (T)1;                                                   \
        CHECK(losskit_##loss##_value_and_grad_##sfx(p, t, NULL, n, P() LOSSKIT_REDUCTION_SUM, 0.0, \
                                                   LOSSKIT_GRAD_MODE_ADD, g2, &v2) ==                \
                  LOSSKIT_STATUS_OK, #loss);                                                    \
        CHECK(v2 == v, #loss " value_and_grad value %.17g vs %.17g", (double)v2, (double)v);    \
        for (i = 0; i < n; i++) {                                                               \
            CHECK(close_to((double)g[i], id##_grad[i], tol, gs), #loss " grad[%d] %.17g vs %.17g", \
                  (int)i, (double)g[i], id##_grad[i]);                                          \
            CHECK(close_to((double)g2[i] - 1.0, id##_grad[i], tol, gs + 1.0),                   \
                  #loss " added grad[%d]", (int)i);                                             \
        }                                                                                       \
        CHECK(losskit_##loss##_hessian_diag_##sfx(p, t, NULL, n, P() LOSSKIT_REDUCTION_SUM, 0.0,  \
                                                 LOSSKIT_GRAD_MODE_WRITE, h) == LOSSKIT_STATUS_OK,   \
              #loss);                                                                           \
        for (i = 0; hx != NULL && i < n; i++) {                                                 \
            CHECK(close_to((double)h[i], hx[i], tol, max_abs(hx, n)), #loss " hess[%d]", (int)i); \
        }                                                                                       \
    } while (0)

#define BOTH(loss, P, id, HESS)                                \
    do {                                                       \
        CHECK_POINTWISE(loss, P, double, f64, id, HESS, TOL_F64); \
        CHECK_POINTWISE(loss, P, float, f32, id, HESS, TOL_F32);  \
    } while (0)

/* Parameter lists as function-like macros, so that their commas survive being passed on. */
#define NO_PARAMS()
#define HUBER_P() 1.0,
#define SMOOTH_L1_P() 1.0,
#define QUANTILE_P() 0.25,
#define EXPECTILE_P() 0.2,
#define PSEUDO_HUBER_P() 2.0,
/* log_input = 1, full = 0, eps = 1e-8: PyTorch's defaults. */
#define POISSON_P() 1, 0, 1e-8,
/* log_target = 0 (PyTorch's default), and 1 (the targets' logs, Python float64 references). */
#define KL_P() 0,
#define KL_LOG_P() 1,
/* Tweedie: power 1.5, the deviance; gamma: the likelihood (mpmath references). */
#define TWEEDIE_P() 1.5, 1,
#define GAMMA_P() 0,
#define NO_HESS ((const double *)NULL)
/* Barron: alpha, scale. */
#define BARRON_GM_P() -2.0, 1.0,
#define BARRON_CAUCHY_P() 0.0, 2.0,

/* Barron's gradient in alpha on the Geman-McClure case: the sum, a weighted mean, the
 * per-element terms written and added, the pole at alpha = 2 (+inf, but 0 from a zero
 * weight), and the statuses of its own checks. */
#define CHECK_BARRON_GRAD_ALPHA(T, sfx, tol)                                                    \
    do {                                                                                        \
        T p[3], t[3], w[3] = {3, 2, 0}, o[3], d = 0;                                            \
        const T one[3] = {1, 1, 1};                                                             \
        const double D = BARRON_GM_DALPHA;                                                      \
        size_t i;                                                                               \
        for (i = 0; i < 3; i++) {                                                               \
            p[i] = (T)barron_gm_h_pred[i];                                                      \
            t[i] = (T)barron_gm_h_target[i];                                                    \
        }                                                                                       \
        CHECK(losskit_barron_grad_alpha_##sfx(p, t, NULL, 3, -2.0, 1.0, LOSSKIT_REDUCTION_SUM,   \
                                              0.0, LOSSKIT_GRAD_MODE_WRITE, NULL, &d) ==        \
                  LOSSKIT_STATUS_OK, "grad_alpha");                                             \
        CHECK(close_to((double)d, 2.0 * D, tol, 0.0), "grad_alpha sum %.17g", (double)d);      \
        /* Weights (3, 2, 0), mean over 3: (3 * 0 + 2 D + 0 * D) / 3. */                        \
        CHECK(losskit_barron_grad_alpha_##sfx(p, t, w, 3, -2.0, 1.0, LOSSKIT_REDUCTION_MEAN,     \
                                              0.0, LOSSKIT_GRAD_MODE_WRITE, NULL, &d) ==        \
                  LOSSKIT_STATUS_OK, "grad_alpha");                                             \
        CHECK(close_to((double)d, 2.0 * D / 3.0, tol, 0.0), "grad_alpha weighted mean");       \
        CHECK(losskit_barron_grad_alpha_##sfx(p, t, NULL, 3, -2.0, 1.0, LOSSKIT_REDUCTION_SUM,   \
                                              0.0, LOSSKIT_GRAD_MODE_WRITE, o, &d) ==           \
                  LOSSKIT_STATUS_OK, "grad_alpha");                                             \
        CHECK(o[0] == 0 && close_to((double)o[1], D, tol, 0.0) &&                               \
                  close_to((double)o[2], D, tol, 0.0) && close_to((double)d, 2.0 * D, tol, 0.0), \
              "grad_alpha terms");                                                              \
        for (i = 0; i < 3; i++) o[i] = (T)1;                                                    \
        CHECK(losskit_barron_grad_alpha_##sfx(p, t, NULL, 3, -2.0, 1.0, LOSSKIT_REDUCTION_SUM,   \
                                              0.0, LOSSKIT_GRAD_MODE_ADD, o, &d) ==             \
                  LOSSKIT_STATUS_OK, "grad_alpha");                                             \
        CHECK(o[0] == 1 && close_to((double)o[1] - 1.0, D, tol, 1.0), "grad_alpha added");     \
        /* At the pole: +inf from x = 2, 0 where the weight is 0 (and from x = 0). */           \
        CHECK(losskit_barron_grad_alpha_##sfx(p, t, one, 3, 2.0, 1.0, LOSSKIT_REDUCTION_SUM,     \
                                              0.0, LOSSKIT_GRAD_MODE_WRITE, NULL, &d) ==        \
                  LOSSKIT_STATUS_OK, "grad_alpha");                                             \
        CHECK(isinf((double)d) && d > 0, "grad_alpha at alpha = 2: %g", (double)d);            \
        w[0] = (T)1;                                                                            \
        w[1] = (T)0;                                                                            \
        CHECK(losskit_barron_grad_alpha_##sfx(p, t, w, 3, 2.0, 1.0, LOSSKIT_REDUCTION_SUM, 0.0,  \
                                              LOSSKIT_GRAD_MODE_WRITE, NULL, &d) ==             \
                  LOSSKIT_STATUS_OK, "grad_alpha");                                             \
        CHECK(d == 0, "grad_alpha zero weights at the pole: %g", (double)d);                   \
        /* Statuses. */                                                                         \
        CHECK(losskit_barron_grad_alpha_##sfx(p, t, NULL, 3, -2.0, 1.0, LOSSKIT_REDUCTION_SUM,   \
                                              0.0, LOSSKIT_GRAD_MODE_WRITE, o, NULL) ==         \
                  LOSSKIT_STATUS_NULL_POINTER, "grad_alpha NULL result");                       \
        CHECK(losskit_barron_grad_alpha_##sfx(p, t, NULL, 3, NAN, 1.0, LOSSKIT_REDUCTION_SUM,    \
                                              0.0, LOSSKIT_GRAD_MODE_WRITE, o, &d) ==           \
                  LOSSKIT_STATUS_INVALID_PARAMETER, "grad_alpha alpha NaN");                    \
        CHECK(losskit_barron_grad_alpha_##sfx(p, t, NULL, 3, -2.0, 0.0, LOSSKIT_REDUCTION_SUM,   \
                                              0.0, LOSSKIT_GRAD_MODE_WRITE, o, &d) ==           \
                  LOSSKIT_STATUS_INVALID_PARAMETER, "grad_alpha scale 0");                      \
        CHECK(losskit_barron_grad_alpha_##sfx(p, t, NULL, 3, -2.0, 1.0, LOSSKIT_REDUCTION_SUM,   \
                                              0.0, 2, NULL, &d) ==                              \
                  LOSSKIT_STATUS_INVALID_PARAMETER, "grad_alpha grad_mode");                    \
        CHECK(losskit_barron_grad_alpha_##sfx(p, t, NULL, 3, -2.0, 1.0, LOSSKIT_REDUCTION_SUM,   \
                                              0.0, LOSSKIT_GRAD_MODE_WRITE, o, (T *)o) ==       \
                  LOSSKIT_STATUS_ALIASING, "grad_alpha aliasing");                              \
        p[1] = (T)NAN;                                                                          \
        for (i = 0; i < 3; i++) o[i] = (T)5;                                                    \
        CHECK(losskit_barron_grad_alpha_##sfx(p, t, NULL, 3, -2.0, 1.0, LOSSKIT_REDUCTION_SUM,   \
                                              0.0, LOSSKIT_GRAD_MODE_WRITE, o, &d) ==           \
                  LOSSKIT_STATUS_NON_FINITE, "grad_alpha NaN");                                 \
        CHECK(o[0] == 0 && o[1] == 0 && o[2] == 0, "grad_alpha reset on NaN");                 \
    } while (0)

/* Gaussian NLL (pred, target, var), both gradients. */
#define CHECK_GAUSSIAN(T, sfx, tol)                                                             \
    do {                                                                                        \
        T p[MAXN], t[MAXN], a[MAXN], g[MAXN], ga[MAXN], h[MAXN], e[MAXN], v = 0, v2 = 0;        \
        const size_t n = gaussian_nll_110_LEN;                                                  \
        double esum = 0.0;                                                                      \
        size_t i;                                                                               \
        for (i = 0; i < n; i++) {                                                               \
            p[i] = (T)gaussian_nll_110_pred[i];                                                 \
            t[i] = (T)gaussian_nll_110_target[i];                                               \
            a[i] = (T)gaussian_nll_110_var[i];                                                  \
        }                                                                                       \
        CHECK(losskit_gaussian_nll_value_##sfx(p, t, a, n, 0, 1e-6, LOSSKIT_REDUCTION_SUM, 0.0, \
                                              &v) == LOSSKIT_STATUS_OK, "gaussian");            \
        CHECK(close_to((double)v, gaussian_nll_110_value, tol, 1e-3), "gaussian value");        \
        CHECK(losskit_gaussian_nll_value_elementwise_##sfx(p, t, a, n, 0, 1e-6, e) ==           \
                  LOSSKIT_STATUS_OK, "gaussian");                                               \
        for (i = 0; i < n; i++) esum += (double)e[i];                                           \
        CHECK(close_to(esum, gaussian_nll_110_value, tol, 1e-3), "gaussian elementwise");       \
        CHECK(losskit_gaussian_nll_value_and_grad_##sfx(p, t, a, n, 0, 1e-6, LOSSKIT_REDUCTION_SUM, \
                                                       0.0, LOSSKIT_GRAD_MODE_WRITE, g, ga, &v2) ==  \
                  LOSSKIT_STATUS_OK, "gaussian");                                               \
        CHECK(v2 == v, "gaussian value_and_grad value");                                        \
        for (i = 0; i < n; i++) {                                                               \
            CHECK(close_to((double)g[i], gaussian_nll_110_grad[i], tol,                          \
                           max_abs(gaussian_nll_110_grad, n)), "gaussian grad[%d]", (int)i);    \
            CHECK(close_to((double)ga[i], gaussian_nll_110_grad_var[i], tol,                     \
                           max_abs(gaussian_nll_110_grad_var, n)), "gaussian grad_var[%d]", (int)i); \
            ga[i] = (T)-7;                                                                      \
        }                                                                                       \
        /* grad without grad_var (NULL: not computed), then the Hessian 1 / max(var, eps). */   \
        CHECK(losskit_gaussian_nll_grad_##sfx(p, t, a, n, 0, 1e-6, LOSSKIT_REDUCTION_SUM, 0.0,  \
                                             LOSSKIT_GRAD_MODE_WRITE, g, NULL) == LOSSKIT_STATUS_OK, \
              "gaussian");                                                                      \
        CHECK(losskit_gaussian_nll_hessian_diag_##sfx(p, t, a, n, 0, 1e-6, LOSSKIT_REDUCTION_SUM, \
                                                     0.0, LOSSKIT_GRAD_MODE_WRITE, h) ==             \
                  LOSSKIT_STATUS_OK, "gaussian");                                               \
        for (i = 0; i < n; i++) {                                                               \
            CHECK(close_to((double)g[i], gaussian_nll_110_grad[i], tol,                          \
                           max_abs(gaussian_nll_110_grad, n)), "gaussian grad[%d]", (int)i);    \
            CHECK(close_to((double)h[i], 1.0 / gaussian_nll_110_var[i], tol, 1.0),              \
                  "gaussian hess[%d]", (int)i);                                                 \
        }                                                                                       \
        CHECK(close_to((double)ga[0], -7.0, 0.0, 1.0), "grad_var untouched when NULL");         \
        /* full = 1 adds ln(2 pi) / 2 per element. */                                           \
        CHECK(losskit_gaussian_nll_value_##sfx(p, t, a, n, 1, 1e-6, LOSSKIT_REDUCTION_SUM, 0.0, \
                                              &v2) == LOSSKIT_STATUS_OK, "gaussian full");      \
        CHECK(close_to((double)v2, gaussian_nll_110_value + 0.5 * (double)n * log(2.0 * 3.141592653589793), \
                       tol, 1e-3), "gaussian full value");                                      \
    } while (0)

int main(void) {
    const char *version = losskit_version();
    const char *backend = losskit_backend_name();
    CHECK(version != NULL && strlen(version) >= 5, "version");
    CHECK(backend != NULL && (strcmp(backend, "portable") == 0 || strcmp(backend, "avx2") == 0 ||
                              strcmp(backend, "avx512") == 0),
          "backend %s", backend);
    printf("losskit %s, backend %s\n", version, backend);

    BOTH(mse, NO_PARAMS, mse_28, mse_28_hess);
    BOTH(mae, NO_PARAMS, mae_29, NO_HESS);
    BOTH(huber, HUBER_P, huber_30, huber_30_hess);
    BOTH(smooth_l1, SMOOTH_L1_P, smooth_l1_31, NO_HESS);
    BOTH(quantile, QUANTILE_P, quantile_32, NO_HESS);
    BOTH(expectile, EXPECTILE_P, expectile_h, expectile_h_hess);
    BOTH(pseudo_huber, PSEUDO_HUBER_P, pseudo_huber_h, pseudo_huber_h_hess);
    BOTH(log_cosh, NO_PARAMS, log_cosh_33, log_cosh_33_hess);
    BOTH(barron, BARRON_GM_P, barron_gm_h, barron_gm_h_hess);
    BOTH(barron, BARRON_CAUCHY_P, barron_cauchy_h, barron_cauchy_h_hess);
    CHECK_BARRON_GRAD_ALPHA(double, f64, TOL_F64);
    CHECK_BARRON_GRAD_ALPHA(float, f32, TOL_F32);
    BOTH(poisson_nll, POISSON_P, poisson_nll_111, NO_HESS);
    BOTH(tweedie, TWEEDIE_P, tweedie_16, tweedie_16_hess);
    BOTH(gamma, GAMMA_P, gamma_38, gamma_38_hess);
    BOTH(kl_div, KL_P, kl_div_69, kl_div_hess);
    BOTH(kl_div, KL_LOG_P, kl_div_log, kl_div_hess);
    CHECK_GAUSSIAN(double, f64, TOL_F64);
    CHECK_GAUSSIAN(float, f32, TOL_F32);

    return finish("values");
}
