/* Values of every pointwise loss of the registry, every verb through the C API, f32 and f64,
 * against its conformance case (cases.h, generated from the registry and tests/data: PyTorch
 * float64 autograd or mpmath), and hand-computed results for what the vectors lack
 * (expectile, pseudo-Huber and Barron by hand, Barron's gradient in alpha, the KL divergence
 * with log_target, the Gaussian NLL's third input); reductions, weights and add mode. Each
 * loss run prints `case <loss> <case>` (tests/c_api.rs checks that every registered
 * pointwise loss is run). The row losses are in rows.c.
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
#define expectile_h_P() 0.2,
static const double expectile_h_pred[3] = {1.0, 3.0, 2.0};
static const double expectile_h_target[3] = {2.0, 2.0, 2.0};
static const double expectile_h_value = 1.0;
static const double expectile_h_grad[3] = {-0.4, 1.6, 0.0};
static const double expectile_h_hess[3] = {0.4, 1.6, 0.4};
/* Pseudo-Huber, delta = 2: r = (0, 2, -2); s = sqrt(1 + (r/2)^2) = (1, sqrt 2, sqrt 2);
 * l = 4 (s - 1); dl/dpred = r / s; d2l = 1 / s^3. */
#define pseudo_huber_h_LEN 3
#define pseudo_huber_h_P() 2.0,
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
#define barron_gm_h_P() -2.0, 1.0,
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
#define barron_cauchy_h_P() 0.0, 2.0,
static const double barron_cauchy_h_pred[3] = {0.0, 2.0, -4.0};
static const double barron_cauchy_h_target[3] = {0.0, 0.0, 0.0};
static const double barron_cauchy_h_value = 1.5040773967762742; /* ln 4.5 */
static const double barron_cauchy_h_grad[3] = {0.0, 1.0 / 3.0, -1.0 / 3.0};
static const double barron_cauchy_h_hess[3] = {0.25, 1.0 / 18.0, -1.0 / 36.0};

/* Every verb of a two-input pointwise loss in one precision, on the case `id`: `id##_P` is
 * its parameter list, a function-like macro expanding to the parameters each with a trailing
 * comma (so that their commas survive being passed on). Checks: value (sum, mean, divisor, weights),
 * elementwise (sums to the value), grad (write and add), value_and_grad, and the Hessian
 * diagonal when `HESS` is an array (else NULL). */
#define CHECK_POINTWISE(loss, T, sfx, id, HESS, tol)                                         \
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
        CHECK(losskit_##loss##_value_##sfx(p, t, NULL, n, id##_P() LOSSKIT_REDUCTION_SUM, 0.0, &v) ==  \
                  LOSSKIT_STATUS_OK, #loss);                                                    \
        CHECK(close_to((double)v, id##_value, tol, 1e-3), #loss " value %.17g vs %.17g",       \
              (double)v, id##_value);                                                           \
        CHECK(losskit_##loss##_value_##sfx(p, t, NULL, n, id##_P() LOSSKIT_REDUCTION_MEAN, 0.0, &vm) == \
                  LOSSKIT_STATUS_OK, #loss);                                                    \
        CHECK(close_to((double)vm, id##_value / (double)n, tol, 1e-3), #loss " mean");          \
        CHECK(losskit_##loss##_value_##sfx(p, t, NULL, n, id##_P() LOSSKIT_REDUCTION_DIVISOR, 4.0,     \
                                          &vd) == LOSSKIT_STATUS_OK, #loss);                    \
        CHECK(close_to((double)vd, id##_value / 4.0, tol, 1e-3), #loss " divisor");             \
        CHECK(losskit_##loss##_value_##sfx(p, t, w, n, id##_P() LOSSKIT_REDUCTION_SUM, 0.0, &vw) ==    \
                  LOSSKIT_STATUS_OK, #loss);                                                    \
        CHECK(close_to((double)vw, 2.0 * id##_value, tol, 1e-3), #loss " weighted");            \
        CHECK(losskit_##loss##_value_elementwise_##sfx(p, t, NULL, n, id##_P() e) == LOSSKIT_STATUS_OK, \
              #loss);                                                                           \
        for (i = 0; i < n; i++) esum += (double)e[i];                                           \
        CHECK(close_to(esum, id##_value, tol, 1e-3), #loss " elementwise sum %.17g", esum);     \
        CHECK(losskit_##loss##_grad_##sfx(p, t, NULL, n, id##_P() LOSSKIT_REDUCTION_SUM, 0.0,          \
                                         LOSSKIT_GRAD_MODE_WRITE, g) == LOSSKIT_STATUS_OK, #loss);   \
        for (i = 0; i < n; i++) g2[i] = (T)1;                                                   \
        CHECK(losskit_##loss##_value_and_grad_##sfx(p, t, NULL, n, id##_P() LOSSKIT_REDUCTION_SUM, 0.0, \
                                                   LOSSKIT_GRAD_MODE_ADD, g2, &v2) ==                \
                  LOSSKIT_STATUS_OK, #loss);                                                    \
        CHECK(v2 == v, #loss " value_and_grad value %.17g vs %.17g", (double)v2, (double)v);    \
        for (i = 0; i < n; i++) {                                                               \
            CHECK(close_to((double)g[i], id##_grad[i], tol, gs), #loss " grad[%d] %.17g vs %.17g", \
                  (int)i, (double)g[i], id##_grad[i]);                                          \
            CHECK(close_to((double)g2[i] - 1.0, id##_grad[i], tol, gs + 1.0),                   \
                  #loss " added grad[%d]", (int)i);                                             \
        }                                                                                       \
        CHECK(losskit_##loss##_hessian_diag_##sfx(p, t, NULL, n, id##_P() LOSSKIT_REDUCTION_SUM, 0.0,  \
                                                 LOSSKIT_GRAD_MODE_WRITE, h) == LOSSKIT_STATUS_OK,   \
              #loss);                                                                           \
        for (i = 0; hx != NULL && i < n; i++) {                                                 \
            CHECK(close_to((double)h[i], hx[i], tol, max_abs(hx, n)), #loss " hess[%d]", (int)i); \
        }                                                                                       \
    } while (0)

#define BOTH(loss, id, HESS)                                   \
    do {                                                       \
        printf("case %s %s\n", #loss, #id);                    \
        CHECK_POINTWISE(loss, double, f64, id, HESS, TOL_F64); \
        CHECK_POINTWISE(loss, float, f32, id, HESS, TOL_F32);  \
    } while (0)


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

/* Gaussian NLL (pred, target, var) on the case `id`, both gradients. */
#define CHECK_GAUSSIAN(T, sfx, tol, id)                                                             \
    do {                                                                                        \
        T p[MAXN], t[MAXN], a[MAXN], g[MAXN], ga[MAXN], h[MAXN], e[MAXN], v = 0, v2 = 0;        \
        const size_t n = id##_LEN;                                                  \
        double esum = 0.0;                                                                      \
        size_t i;                                                                               \
        for (i = 0; i < n; i++) {                                                               \
            p[i] = (T)id##_pred[i];                                                 \
            t[i] = (T)id##_target[i];                                               \
            a[i] = (T)id##_var[i];                                                  \
        }                                                                                       \
        CHECK(losskit_gaussian_nll_value_##sfx(p, t, a, n, id##_P() LOSSKIT_REDUCTION_SUM, 0.0, \
                                              &v) == LOSSKIT_STATUS_OK, "gaussian");            \
        CHECK(close_to((double)v, id##_value, tol, 1e-3), "gaussian value");        \
        CHECK(losskit_gaussian_nll_value_elementwise_##sfx(p, t, a, n, id##_P() e) ==           \
                  LOSSKIT_STATUS_OK, "gaussian");                                               \
        for (i = 0; i < n; i++) esum += (double)e[i];                                           \
        CHECK(close_to(esum, id##_value, tol, 1e-3), "gaussian elementwise");       \
        CHECK(losskit_gaussian_nll_value_and_grad_##sfx(p, t, a, n, id##_P() LOSSKIT_REDUCTION_SUM, \
                                                       0.0, LOSSKIT_GRAD_MODE_WRITE, g, ga, &v2) ==  \
                  LOSSKIT_STATUS_OK, "gaussian");                                               \
        CHECK(v2 == v, "gaussian value_and_grad value");                                        \
        for (i = 0; i < n; i++) {                                                               \
            CHECK(close_to((double)g[i], id##_grad[i], tol,                          \
                           max_abs(id##_grad, n)), "gaussian grad[%d]", (int)i);    \
            CHECK(close_to((double)ga[i], id##_grad_var[i], tol,                     \
                           max_abs(id##_grad_var, n)), "gaussian grad_var[%d]", (int)i); \
            ga[i] = (T)-7;                                                                      \
        }                                                                                       \
        /* grad without grad_var (NULL: not computed), then the Hessian 1 / max(var, eps). */   \
        CHECK(losskit_gaussian_nll_grad_##sfx(p, t, a, n, id##_P() LOSSKIT_REDUCTION_SUM, 0.0,  \
                                             LOSSKIT_GRAD_MODE_WRITE, g, NULL) == LOSSKIT_STATUS_OK, \
              "gaussian");                                                                      \
        CHECK(losskit_gaussian_nll_hessian_diag_##sfx(p, t, a, n, id##_P() LOSSKIT_REDUCTION_SUM, \
                                                     0.0, LOSSKIT_GRAD_MODE_WRITE, h) ==             \
                  LOSSKIT_STATUS_OK, "gaussian");                                               \
        for (i = 0; i < n; i++) {                                                               \
            CHECK(close_to((double)g[i], id##_grad[i], tol,                          \
                           max_abs(id##_grad, n)), "gaussian grad[%d]", (int)i);    \
            CHECK(close_to((double)h[i], 1.0 / id##_var[i], tol, 1.0),              \
                  "gaussian hess[%d]", (int)i);                                                 \
        }                                                                                       \
        CHECK(close_to((double)ga[0], -7.0, 0.0, 1.0), "grad_var untouched when NULL");         \
        /* full = 1 adds ln(2 pi) / 2 per element. */                                           \
        CHECK(losskit_gaussian_nll_value_##sfx(p, t, a, n, 1, 1e-6, LOSSKIT_REDUCTION_SUM, 0.0, \
                                              &v2) == LOSSKIT_STATUS_OK, "gaussian full");      \
        CHECK(close_to((double)v2, id##_value + 0.5 * (double)n * log(2.0 * 3.141592653589793), \
                       tol, 1e-3), "gaussian full value");                                      \
    } while (0)

/* BOTH as an item of an X-macro list (which puts no semicolons between its items). */
#define BOTH_CASE(loss, id, HESS) BOTH(loss, id, HESS);

#define CHECK_AUX_gaussian_nll(id)                 \
    do {                                           \
        CHECK_GAUSSIAN(double, f64, TOL_F64, id);  \
        CHECK_GAUSSIAN(float, f32, TOL_F32, id);   \
    } while (0)

#define RUN_AUX(loss, id)                     \
    do {                                      \
        printf("case %s %s\n", #loss, #id);   \
        CHECK_AUX_##loss(id);                 \
    } while (0);

/* The KL divergence with log_target = 1, which the vectors lack, on the log-probabilities x
 * of the kl_div case and the logs s of its targets (a zero target as s = -30): references
 * computed here in double, l = exp(s) (s - x), dl/dx = -exp(s), d2l/dx2 = 0 (sum). */
#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define KL CAT(LOSSKIT_CASE_, kl_div)
#define kl_div_log_P() 1,
static double kl_div_log_pred[MAXN], kl_div_log_target[MAXN], kl_div_log_grad[MAXN];
static double kl_div_log_value = 0.0;
static const double kl_div_log_hess[MAXN] = {0.0};
static size_t kl_div_log_LEN = 0;
#define CHECK_KL_LOG_TARGET()                                                          \
    do {                                                                               \
        size_t i_;                                                                     \
        kl_div_log_LEN = CAT(KL, _LEN);                                                \
        for (i_ = 0; i_ < kl_div_log_LEN; i_++) {                                      \
            double x_ = CAT(KL, _pred)[i_], t_ = CAT(KL, _target)[i_];                 \
            double s_ = t_ > 0.0 ? log(t_) : -30.0;                                    \
            kl_div_log_pred[i_] = x_;                                                  \
            kl_div_log_target[i_] = s_;                                                \
            kl_div_log_grad[i_] = -exp(s_);                                            \
            kl_div_log_value += exp(s_) * (s_ - x_);                                   \
        }                                                                              \
        BOTH(kl_div, kl_div_log, kl_div_log_hess);                                     \
    } while (0)

int main(void) {
    const char *version = losskit_version();
    const char *backend = losskit_backend_name();
    CHECK(version != NULL && strlen(version) >= 5, "version");
    CHECK(backend != NULL && (strcmp(backend, "portable") == 0 || strcmp(backend, "avx2") == 0 ||
                              strcmp(backend, "avx512") == 0),
          "backend %s", backend);
    printf("losskit %s, backend %s\n", version, backend);

    /* Every two-input pointwise loss of the registry on its conformance case (cases.h). */
    LOSSKIT_POINTWISE_CASES(BOTH_CASE);

    /* What the vectors lack, by hand. */
    BOTH(expectile, expectile_h, expectile_h_hess);
    BOTH(pseudo_huber, pseudo_huber_h, pseudo_huber_h_hess);
    BOTH(barron, barron_gm_h, barron_gm_h_hess);
    BOTH(barron, barron_cauchy_h, barron_cauchy_h_hess);
    CHECK_BARRON_GRAD_ALPHA(double, f64, TOL_F64);
    CHECK_BARRON_GRAD_ALPHA(float, f32, TOL_F32);
    CHECK_KL_LOG_TARGET();

    /* The losses with a third input: CHECK_AUX_<loss> (a new one needs its own). */
    LOSSKIT_AUX_CASES(RUN_AUX);

    return finish("values");
}
