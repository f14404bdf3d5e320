/* The row losses and row utilities of the C API: values against the PyTorch vectors and the
 * Python references in rows_cases.h, then every status code on bad input, and that outputs
 * are untouched on error (the documented exception: NON_FINITE / INVALID_INPUT found during
 * the pass reset a write-mode output to zeros; add mode and the in-place logits are left as
 * they were). Every row loss of the registry is first run on its generated conformance
 * cases (cases.h: LOSSKIT_ROW_CASES, LOSSKIT_ROW_ELEMENTWISE_CASES); each loss run prints
 * `case <loss> ...` (tests/c_api.rs checks that every registered row loss is run). */
#include "losskit.h"
#include "cases.h"
#include "check.h"
#include "rows_cases.h"

#include <stdint.h>
#include <string.h>

#define R 3
#define C 5
#define N (R * C)
#define TOL 1e-10
#define TOL32 1e-5
#define SENTINEL 42.0

#define MEAN LOSSKIT_REDUCTION_MEAN
#define SUM LOSSKIT_REDUCTION_SUM
#define DIVISOR LOSSKIT_REDUCTION_DIVISOR
#define WRITE LOSSKIT_GRAD_MODE_WRITE
#define ADD LOSSKIT_GRAD_MODE_ADD

/* a ≈ b elementwise, relative to the largest |b| (scale-aware, as values.c). */
static int close_all(const double *a, const double *b, size_t n, double tol) {
    double scale = max_abs(b, n);
    size_t i;
    for (i = 0; i < n; i++) {
        if (!close_to(a[i], b[i], tol, scale > 0.0 ? scale : 1.0)) return 0;
    }
    return 1;
}

static int close_all_f32(const float *a, const double *b, size_t n, double tol) {
    double scale = max_abs(b, n);
    size_t i;
    for (i = 0; i < n; i++) {
        if (!close_to((double)a[i], b[i], tol, scale > 0.0 ? scale : 1.0)) return 0;
    }
    return 1;
}

static void fill(double *x, size_t n, double v) {
    size_t i;
    for (i = 0; i < n; i++) x[i] = v;
}

static int all_equal(const double *x, size_t n, double v) {
    size_t i;
    for (i = 0; i < n; i++) {
        if (!(x[i] == v)) return 0;
    }
    return 1;
}

static void to_f32(float *dst, const double *src, size_t n) {
    size_t i;
    for (i = 0; i < n; i++) dst[i] = (float)src[i];
}

/* Checks a status, naming the line and the description on failure. */
#define STATUS(call, want)                                                                  \
    do {                                                                                    \
        int32_t got_ = (call);                                                              \
        CHECK(got_ == (want), "status %d (%s), want %d", (int)got_, losskit_status_str(got_), \
              (int)(want));                                                                 \
    } while (0)

/* ---- every row loss of the registry (cases.h) ---- */

#define ROW_MAX 64

/* A reduced case, f64: value_and_grad against the vector, value agrees with it, grad in add
 * mode accumulates. */
#define CHECK_ROW_CASE(loss, id)                                                             \
    do {                                                                                     \
        double g_[ROW_MAX], v_ = 0.0, v2_ = 0.0;                                             \
        const size_t n_ = (size_t)id##_ROWS * id##_COLS;                                     \
        size_t i_;                                                                           \
        printf("case %s %s\n", #loss, #id);                                                  \
        STATUS(losskit_##loss##_value_and_grad_f64(id##_x, id##_ROWS, id##_COLS, id##_IN()   \
                                                   id##_RED, 0.0, WRITE, g_, &v_),           \
               LOSSKIT_STATUS_OK);                                                           \
        CHECK(close_to(v_, id##_value, TOL, 1.0), #loss " value %.17g vs %.17g", v_,        \
              id##_value);                                                                   \
        CHECK(close_all(g_, id##_grad, n_, TOL), #loss " grad");                             \
        STATUS(losskit_##loss##_value_f64(id##_x, id##_ROWS, id##_COLS, id##_IN() id##_RED,  \
                                          0.0, &v2_),                                        \
               LOSSKIT_STATUS_OK);                                                           \
        CHECK(close_to(v2_, v_, TOL, 1.0), #loss " value vs value_and_grad");                \
        fill(g_, n_, 1.0);                                                                   \
        STATUS(losskit_##loss##_grad_f64(id##_x, id##_ROWS, id##_COLS, id##_IN() id##_RED,   \
                                         0.0, ADD, g_),                                      \
               LOSSKIT_STATUS_OK);                                                           \
        for (i_ = 0; i_ < n_; i_++) g_[i_] -= 1.0;                                           \
        CHECK(close_all(g_, id##_grad, n_, 1e-9), #loss " grad add mode");                   \
    } while (0);

/* A per-row ("none") case, f64: value_elementwise against the vector's values. */
#define CHECK_ROW_ELEMENTWISE_CASE(loss, id)                                                 \
    do {                                                                                     \
        double o_[ROW_MAX];                                                                  \
        printf("case %s %s\n", #loss, #id);                                                  \
        STATUS(losskit_##loss##_value_elementwise_f64(id##_x, id##_ROWS, id##_COLS,          \
                                                      id##_IN() o_),                         \
               LOSSKIT_STATUS_OK);                                                           \
        CHECK(close_all(o_, id##_values, id##_NVALUES, TOL), #loss " per row");              \
    } while (0);

/* ---- values ---- */

static void cross_entropy_values(void) {
    double g[N], v = 0.0, v2 = 0.0, sum = 0.0, x[N], out[R];
    float x32[N], w32[C], v32 = 0.0f;
    const double *w = cross_entropy_74_class_weights;
    size_t i;


    /* mean over the rows not ignored, class weights, smoothing 0.1, row 0 ignored (-100) */
    STATUS(losskit_cross_entropy_value_f64(cross_entropy_74_logits, R, C, cross_entropy_74_labels,
                                           w, -100, 1, 0.1, 0, 0.0, 0.0, MEAN, 0.0, &v),
           LOSSKIT_STATUS_OK);
    CHECK(close_to(v, cross_entropy_74_value, TOL, 1.0), "ce value %.17g", v);
    STATUS(losskit_cross_entropy_value_and_grad_f64(cross_entropy_74_logits, R, C,
                                                    cross_entropy_74_labels, w, -100, 1, 0.1, 0,
                                                    0.0, 0.0, MEAN, 0.0, WRITE, g, &v),
           LOSSKIT_STATUS_OK);
    CHECK(close_to(v, cross_entropy_74_value, TOL, 1.0), "ce value_and_grad value");
    CHECK(close_all(g, cross_entropy_74_grad, N, TOL), "ce value_and_grad grad");
    /* add mode accumulates onto what is there */
    fill(g, N, 1.0);
    STATUS(losskit_cross_entropy_grad_f64(cross_entropy_74_logits, R, C, cross_entropy_74_labels,
                                          w, -100, 1, 0.1, 0, 0.0, 0.0, MEAN, 0.0, ADD, g),
           LOSSKIT_STATUS_OK);
    for (i = 0; i < N; i++) g[i] -= 1.0;
    CHECK(close_all(g, cross_entropy_74_grad, N, 1e-9), "ce grad add mode");
    /* SUM is MEAN times the weight of the rows not ignored; DIVISOR divides SUM */
    STATUS(losskit_cross_entropy_value_f64(cross_entropy_74_logits, R, C, cross_entropy_74_labels,
                                           w, -100, 1, 0.1, 0, 0.0, 0.0, SUM, 0.0, &sum),
           LOSSKIT_STATUS_OK);
    CHECK(close_to(sum, cross_entropy_74_value * (w[4] + w[3]), TOL, 1.0), "ce sum %.17g", sum);
    STATUS(losskit_cross_entropy_value_f64(cross_entropy_74_logits, R, C, cross_entropy_74_labels,
                                           w, -100, 1, 0.1, 0, 0.0, 0.0, DIVISOR, 2.5, &v2),
           LOSSKIT_STATUS_OK);
    CHECK(close_to(v2, sum / 2.5, TOL, 1.0), "ce divisor");
    /* in place: the gradient overwrites the logits, bit-identical to value_and_grad */
    memcpy(x, cross_entropy_74_logits, sizeof x);
    STATUS(losskit_cross_entropy_value_and_grad_in_place_f64(x, R, C, cross_entropy_74_labels, w,
                                                             -100, 1, 0.1, 0, 0.0, 0.0, MEAN, 0.0,
                                                             &v2),
           LOSSKIT_STATUS_OK);
    STATUS(losskit_cross_entropy_value_and_grad_f64(cross_entropy_74_logits, R, C,
                                                    cross_entropy_74_labels, w, -100, 1, 0.1, 0,
                                                    0.0, 0.0, MEAN, 0.0, WRITE, g, &v),
           LOSSKIT_STATUS_OK);
    CHECK(v2 == v && memcmp(x, g, sizeof x) == 0, "in place == value_and_grad");
    /* f32 */
    to_f32(x32, cross_entropy_74_logits, N);
    to_f32(w32, w, C);
    STATUS(losskit_cross_entropy_value_f32(x32, R, C, cross_entropy_74_labels, w32, -100, 1, 0.1,
                                           0, 0.0, 0.0, MEAN, 0.0, &v32),
           LOSSKIT_STATUS_OK);
    CHECK(close_to((double)v32, cross_entropy_74_value, TOL32, 1.0), "ce f32 %g", (double)v32);

    /* per row (reduction "none"), 0 for the ignored row */
    STATUS(losskit_cross_entropy_value_elementwise_f64(
               cross_entropy_46_logits, R, C, cross_entropy_46_labels,
               cross_entropy_46_class_weights, -100, 1, 0.1, 0, 0.0, 0.0, out),
           LOSSKIT_STATUS_OK);
    CHECK(close_all(out, cross_entropy_46_values, R, TOL) && out[0] == 0.0, "ce per row");

    /* z-loss 1e-4 (Liger-Kernel's mean: over the rows not ignored) */
    STATUS(losskit_cross_entropy_value_and_grad_f64(cross_entropy_86_logits, R, C,
                                                    cross_entropy_86_labels, NULL, -100, 1, 0.0,
                                                    0, 1e-4, 0.0, MEAN, 0.0, WRITE, g, &v),
           LOSSKIT_STATUS_OK);
    CHECK(close_to(v, cross_entropy_86_value, TOL, 1.0), "ce z-loss value");
    CHECK(close_all(g, cross_entropy_86_grad, N, TOL), "ce z-loss grad");

    /* Hessian diagonal and Hessian-vector product of the plain cross-entropy, SUM */
    STATUS(losskit_cross_entropy_hessian_diag_f64(cross_entropy_86_logits, R, C,
                                                  cross_entropy_86_labels, NULL, -100, 1, 0.0, 0,
                                                  0.0, 0.0, SUM, 0.0, g),
           LOSSKIT_STATUS_OK);
    CHECK(close_all(g, hess_diag, N, TOL), "ce hessian_diag");
    STATUS(losskit_cross_entropy_hvp_f64(cross_entropy_86_logits, R, C, cross_entropy_86_labels,
                                         NULL, -100, 1, 0.0, 0, 0.0, 0.0, SUM, 0.0, hess_v, g),
           LOSSKIT_STATUS_OK);
    CHECK(close_all(g, hess_hv, N, TOL), "ce hvp");
}

static void soft_cross_entropy_values(void) {
    double g[N], v = 0.0, v2 = 0.0, x[N], out[R];
    STATUS(losskit_soft_cross_entropy_value_and_grad_f64(
               cross_entropy_dense_76_logits, R, C, cross_entropy_dense_76_target, NULL, 0.2, MEAN,
               0.0, WRITE, g, &v),
           LOSSKIT_STATUS_OK);
    CHECK(close_to(v, cross_entropy_dense_76_value, TOL, 1.0), "soft ce value");
    CHECK(close_all(g, cross_entropy_dense_76_grad, N, TOL), "soft ce grad");
    memcpy(x, cross_entropy_dense_76_logits, sizeof x);
    STATUS(losskit_soft_cross_entropy_value_and_grad_in_place_f64(
               x, R, C, cross_entropy_dense_76_target, NULL, 0.2, MEAN, 0.0, &v2),
           LOSSKIT_STATUS_OK);
    CHECK(v2 == v && memcmp(x, g, sizeof x) == 0, "soft ce in place");
    STATUS(losskit_soft_cross_entropy_hessian_diag_f64(cross_entropy_dense_76_logits, R, C,
                                                       cross_entropy_dense_76_target, NULL, 0.2,
                                                       MEAN, 0.0, g),
           LOSSKIT_STATUS_OK);
    CHECK(close_all(g, soft_hess_diag, N, TOL), "soft ce hessian_diag");
    STATUS(losskit_soft_cross_entropy_value_elementwise_f64(
               cross_entropy_dense_48_logits, R, C, cross_entropy_dense_48_target, NULL, 0.2, out),
           LOSSKIT_STATUS_OK);
    CHECK(close_all(out, cross_entropy_dense_48_values, R, TOL), "soft ce per row");
}

static void other_values(void) {
    double g[N], v = 0.0, out[R];
    size_t i;


    STATUS(losskit_nll_value_and_grad_f64(nll_77_log_probs, R, C, nll_77_labels,
                                          nll_77_class_weights, -100, 1, MEAN, 0.0, WRITE, g, &v),
           LOSSKIT_STATUS_OK);
    CHECK(close_to(v, nll_77_value, TOL, 1.0) && close_all(g, nll_77_grad, N, TOL), "nll");
    STATUS(losskit_nll_value_elementwise_f64(nll_49_log_probs, R, C, nll_49_labels,
                                             nll_49_class_weights, -100, 0, out),
           LOSSKIT_STATUS_OK);
    CHECK(close_all(out, nll_49_values, R, TOL), "nll per row");

    STATUS(losskit_softmax_focal_value_and_grad_f64(softmax_focal_79_logits, R, C,
                                                    softmax_focal_79_labels, NULL, 0.5, -100, 1,
                                                    MEAN, 0.0, WRITE, g, &v),
           LOSSKIT_STATUS_OK);
    CHECK(close_to(v, softmax_focal_79_value, TOL, 1.0) &&
              close_all(g, softmax_focal_79_grad, N, TOL),
          "softmax focal");
    STATUS(losskit_softmax_focal_value_elementwise_f64(softmax_focal_50_logits, R, C,
                                                       softmax_focal_50_labels, NULL, 2.0, -100, 1,
                                                       out),
           LOSSKIT_STATUS_OK);
    CHECK(close_all(out, softmax_focal_50_values, R, TOL), "softmax focal per row");

    STATUS(losskit_multi_margin_value_and_grad_f64(multi_margin_81_logits, R, C,
                                                   multi_margin_81_labels, NULL, 2, 1.0, MEAN, 0.0,
                                                   WRITE, g, &v),
           LOSSKIT_STATUS_OK);
    CHECK(close_to(v, multi_margin_81_value, TOL, 1.0) &&
              close_all(g, multi_margin_81_grad, N, TOL),
          "multi margin");
    STATUS(losskit_multi_margin_value_elementwise_f64(multi_margin_52_logits, R, C,
                                                      multi_margin_52_labels, NULL, 1, 1.0, out),
           LOSSKIT_STATUS_OK);
    CHECK(close_all(out, multi_margin_52_values, R, TOL), "multi margin per row");

    STATUS(losskit_multiclass_hinge_value_and_grad_f64(multiclass_hinge_82_logits, R, C,
                                                       multiclass_hinge_82_labels, MEAN, 0.0, WRITE,
                                                       g, &v),
           LOSSKIT_STATUS_OK);
    CHECK(close_to(v, multiclass_hinge_82_value, TOL, 1.0) &&
              close_all(g, multiclass_hinge_82_grad, N, TOL),
          "multiclass hinge");
    STATUS(losskit_multiclass_hinge_value_elementwise_f64(multiclass_hinge_54_logits, R, C,
                                                          multiclass_hinge_54_labels, out),
           LOSSKIT_STATUS_OK);
    CHECK(close_all(out, multiclass_hinge_54_values, R, TOL), "multiclass hinge per row");

    STATUS(losskit_distillation_value_and_grad_f64(
               distillation_84_student_logits, R, C, distillation_84_labels,
               distillation_84_teacher_logits, 0.5, 2.0, MEAN, 0.0, WRITE, g, &v),
           LOSSKIT_STATUS_OK);
    CHECK(close_to(v, distillation_84_value, TOL, 1.0) &&
              close_all(g, distillation_84_grad, N, TOL),
          "distillation");
    fill(g, N, -1.0);
    STATUS(losskit_distillation_grad_f64(distillation_84_student_logits, R, C,
                                         distillation_84_labels, distillation_84_teacher_logits,
                                         0.5, 2.0, MEAN, 0.0, ADD, g),
           LOSSKIT_STATUS_OK);
    for (i = 0; i < N; i++) g[i] += 1.0;
    CHECK(close_all(g, distillation_84_grad, N, 1e-9), "distillation add mode");
}

/* Poly-1: against the mpmath vectors (tests/data/poly1.json), class weights, smoothing 0.1,
 * epsilon 0.5, row 1 ignored; in place, add mode, f32, epsilon = 0 is cross-entropy, and
 * the parameter statuses. */
static void poly1_values(void) {
    double g[N], g2[N], x[N], v = 0.0, v2 = 0.0, out[R];
    float x32[N], w32[C], v32 = 0.0f;
    const double *w = poly1_29_class_weights;
    size_t i;


    STATUS(losskit_poly1_value_f64(poly1_29_logits, R, C, poly1_29_labels, w, 0.5, -100, 1, 0.1,
                                   0, MEAN, 0.0, &v),
           LOSSKIT_STATUS_OK);
    CHECK(close_to(v, poly1_29_value, TOL, 1.0), "poly1 value %.17g", v);
    STATUS(losskit_poly1_value_and_grad_f64(poly1_29_logits, R, C, poly1_29_labels, w, 0.5, -100,
                                            1, 0.1, 0, MEAN, 0.0, WRITE, g, &v),
           LOSSKIT_STATUS_OK);
    CHECK(close_to(v, poly1_29_value, TOL, 1.0) && close_all(g, poly1_29_grad, N, TOL),
          "poly1 value_and_grad");
    fill(g2, N, -1.0);
    STATUS(losskit_poly1_grad_f64(poly1_29_logits, R, C, poly1_29_labels, w, 0.5, -100, 1, 0.1, 0,
                                  MEAN, 0.0, ADD, g2),
           LOSSKIT_STATUS_OK);
    for (i = 0; i < N; i++) g2[i] += 1.0;
    CHECK(close_all(g2, poly1_29_grad, N, 1e-9), "poly1 grad add mode");
    memcpy(x, poly1_29_logits, sizeof x);
    STATUS(losskit_poly1_value_and_grad_in_place_f64(x, R, C, poly1_29_labels, w, 0.5, -100, 1,
                                                     0.1, 0, MEAN, 0.0, &v2),
           LOSSKIT_STATUS_OK);
    CHECK(v2 == v && memcmp(x, g, sizeof x) == 0, "poly1 in place == value_and_grad");
    to_f32(x32, poly1_29_logits, N);
    to_f32(w32, w, C);
    STATUS(losskit_poly1_value_f32(x32, R, C, poly1_29_labels, w32, 0.5, -100, 1, 0.1, 0, MEAN,
                                   0.0, &v32),
           LOSSKIT_STATUS_OK);
    CHECK(close_to((double)v32, poly1_29_value, TOL32, 1.0), "poly1 f32 %g", (double)v32);
    STATUS(losskit_poly1_value_elementwise_f64(poly1_19_logits, R, C, poly1_19_labels,
                                               poly1_19_class_weights, 0.5, -100, 1, 0.1, 0, out),
           LOSSKIT_STATUS_OK);
    CHECK(close_all(out, poly1_19_values, R, TOL) && out[1] == 0.0, "poly1 per row");

    /* epsilon = 0: cross-entropy, bit for bit */
    STATUS(losskit_poly1_value_and_grad_f64(poly1_29_logits, R, C, poly1_29_labels, w, 0.0, -100,
                                            1, 0.1, 0, MEAN, 0.0, WRITE, g, &v),
           LOSSKIT_STATUS_OK);
    STATUS(losskit_cross_entropy_value_and_grad_f64(poly1_29_logits, R, C, poly1_29_labels, w,
                                                    -100, 1, 0.1, 0, 0.0, 0.0, MEAN, 0.0, WRITE,
                                                    g2, &v2),
           LOSSKIT_STATUS_OK);
    CHECK(v == v2 && memcmp(g, g2, sizeof g) == 0, "poly1 at epsilon 0 != cross_entropy");

    /* epsilon in [-1, FLT_MAX] (beyond, f32 would hold inf), smoothing in [0, 1], the
       flag: nothing written */
    v = SENTINEL;
    fill(g, N, SENTINEL);
    STATUS(losskit_poly1_value_and_grad_f64(poly1_29_logits, R, C, poly1_29_labels, w, -1.5, -100,
                                            1, 0.0, 0, MEAN, 0.0, WRITE, g, &v),
           LOSSKIT_STATUS_INVALID_PARAMETER);
    STATUS(losskit_poly1_value_and_grad_f64(poly1_29_logits, R, C, poly1_29_labels, w, 1e39, -100,
                                            1, 0.0, 0, MEAN, 0.0, WRITE, g, &v),
           LOSSKIT_STATUS_INVALID_PARAMETER);
    STATUS(losskit_poly1_value_and_grad_f64(poly1_29_logits, R, C, poly1_29_labels, w,
                                            (double)NAN, -100, 1, 0.0, 0, MEAN, 0.0, WRITE, g, &v),
           LOSSKIT_STATUS_INVALID_PARAMETER);
    STATUS(losskit_poly1_value_and_grad_f64(poly1_29_logits, R, C, poly1_29_labels, w, 1.0, -100,
                                            1, 1.5, 0, MEAN, 0.0, WRITE, g, &v),
           LOSSKIT_STATUS_INVALID_PARAMETER);
    STATUS(losskit_poly1_value_and_grad_f64(poly1_29_logits, R, C, poly1_29_labels, w, 1.0, -100,
                                            1, 0.0, 2, MEAN, 0.0, WRITE, g, &v),
           LOSSKIT_STATUS_INVALID_PARAMETER);
    CHECK(all_equal(g, N, SENTINEL) && v == SENTINEL, "poly1: written on a parameter error");
    STATUS(losskit_poly1_value_f64(poly1_29_logits, R, C, poly1_29_labels, w, -1.0, -100, 1, 0.0,
                                   0, MEAN, 0.0, &v),
           LOSSKIT_STATUS_OK);
}

static void multilabel_values(void) {
    double g[N], h[N], e[N], out[R], v = 0.0, v2 = 0.0;
    float x32[N], t32[N], pw32[C], w32[C], g32[N], v32 = 0.0f;
    const double *x = ml_logits, *t = ml_targets, *pw = ml_pos_weight, *w = ml_class_weights;
    size_t i;


    /* BCE: MEAN over the elements with pos_weight and class weights; value_and_grad's value
     * is value's, bit for bit */
    STATUS(losskit_multilabel_bce_with_logits_value_and_grad_f64(x, R, C, t, pw, w, MEAN, 0.0,
                                                                 WRITE, g, &v),
           LOSSKIT_STATUS_OK);
    CHECK(close_to(v, ml_bce_mean, TOL, 1.0), "ml bce value %.17g", v);
    CHECK(close_all(g, ml_bce_mean_grad, N, TOL), "ml bce grad");
    STATUS(losskit_multilabel_bce_with_logits_value_f64(x, R, C, t, pw, w, MEAN, 0.0, &v2),
           LOSSKIT_STATUS_OK);
    CHECK(v2 == v, "ml bce value == value_and_grad");
    fill(g, N, 1.0);
    STATUS(losskit_multilabel_bce_with_logits_grad_f64(x, R, C, t, pw, w, MEAN, 0.0, ADD, g),
           LOSSKIT_STATUS_OK);
    for (i = 0; i < N; i++) g[i] -= 1.0;
    CHECK(close_all(g, ml_bce_mean_grad, N, 1e-9), "ml bce grad add mode");
    STATUS(losskit_multilabel_bce_with_logits_value_elementwise_f64(x, R, C, t, pw, w, e),
           LOSSKIT_STATUS_OK);
    CHECK(close_all(e, ml_bce_elementwise, N, TOL), "ml bce per element");
    STATUS(losskit_multilabel_bce_with_logits_hessian_diag_f64(x, R, C, t, pw, w, SUM, 0.0, WRITE,
                                                               h),
           LOSSKIT_STATUS_OK);
    CHECK(close_all(h, ml_bce_sum_hess, N, TOL), "ml bce hessian_diag");
    STATUS(losskit_multilabel_bce_with_logits_value_f64(x, R, C, t, pw, w, DIVISOR, 4.0, &v2),
           LOSSKIT_STATUS_OK);
    CHECK(close_to(v2, ml_bce_mean * (double)N / 4.0, TOL, 1.0), "ml bce divisor");
    /* NULL per-class tensors: all 1 */
    STATUS(losskit_multilabel_bce_with_logits_value_and_grad_f64(x, R, C, t, NULL, NULL, SUM, 0.0,
                                                                 WRITE, g, &v),
           LOSSKIT_STATUS_OK);
    CHECK(close_to(v, ml_bce_plain_sum, TOL, 1.0) && close_all(g, ml_bce_plain_sum_grad, N, TOL),
          "ml bce without per-class tensors");
    /* f32 */
    to_f32(x32, x, N);
    to_f32(t32, t, N);
    to_f32(pw32, pw, C);
    to_f32(w32, w, C);
    STATUS(losskit_multilabel_bce_with_logits_value_and_grad_f32(x32, R, C, t32, pw32, w32, MEAN,
                                                                 0.0, WRITE, g32, &v32),
           LOSSKIT_STATUS_OK);
    CHECK(close_to((double)v32, ml_bce_mean, TOL32, 1.0) &&
              close_all_f32(g32, ml_bce_mean_grad, N, TOL32),
          "ml bce f32 %g", (double)v32);

    /* soft margin: per row the mean over the classes; MEAN over the rows */
    STATUS(losskit_multilabel_soft_margin_value_elementwise_f64(x, R, C, t, pw, w, out),
           LOSSKIT_STATUS_OK);
    CHECK(close_all(out, ml_soft_margin_rows, R, TOL), "ml soft margin per row");
    STATUS(losskit_multilabel_soft_margin_value_and_grad_f64(x, R, C, t, pw, w, MEAN, 0.0, WRITE,
                                                             g, &v),
           LOSSKIT_STATUS_OK);
    CHECK(close_to(v, ml_soft_margin_mean, TOL, 1.0) &&
              close_all(g, ml_soft_margin_mean_grad, N, TOL),
          "ml soft margin mean");
    STATUS(losskit_multilabel_soft_margin_value_f64(x, R, C, t, pw, w, SUM, 0.0, &v2),
           LOSSKIT_STATUS_OK);
    CHECK(close_to(v2, ml_soft_margin_rows[0] + ml_soft_margin_rows[1] + ml_soft_margin_rows[2],
                   TOL, 1.0),
          "ml soft margin sum");
    STATUS(losskit_multilabel_soft_margin_hessian_diag_f64(x, R, C, t, pw, w, SUM, 0.0, WRITE, h),
           LOSSKIT_STATUS_OK);
    CHECK(close_all(h, ml_soft_margin_sum_hess, N, TOL), "ml soft margin hessian_diag");
    fill(h, N, -2.0);
    STATUS(losskit_multilabel_soft_margin_hessian_diag_f64(x, R, C, t, pw, w, SUM, 0.0, ADD, h),
           LOSSKIT_STATUS_OK);
    for (i = 0; i < N; i++) h[i] += 2.0;
    CHECK(close_all(h, ml_soft_margin_sum_hess, N, 1e-9), "ml soft margin hessian add mode");
    STATUS(losskit_multilabel_soft_margin_grad_f64(x, R, C, t, NULL, NULL, SUM, 0.0, WRITE, g),
           LOSSKIT_STATUS_OK);
    for (i = 0; i < N; i++) g[i] *= (double)C;
    CHECK(close_all(g, ml_bce_plain_sum_grad, N, TOL), "ml soft margin grad = bce grad / C");
    STATUS(losskit_multilabel_soft_margin_value_f64(x, R, C, t, NULL, NULL, SUM, 0.0, &v2),
           LOSSKIT_STATUS_OK);
    CHECK(close_to(v2, ml_soft_margin_plain_sum, TOL, 1.0), "ml soft margin plain");
}

static void utility_values(void) {
    double out[8], lse[2];
    float x32[4], out32[4], lse32[1];
    STATUS(losskit_logsumexp_f64(util_x, 2, 4, lse), LOSSKIT_STATUS_OK);
    CHECK(close_all(lse, util_lse, 2, 1e-15), "logsumexp %.17g %.17g", lse[0], lse[1]);
    STATUS(losskit_softmax_f64(util_x, 2, 4, out), LOSSKIT_STATUS_OK);
    CHECK(close_all(out, util_softmax, 8, 1e-14) && out[2] == 0.0, "softmax");
    STATUS(losskit_log_softmax_f64(util_x, 2, 4, out), LOSSKIT_STATUS_OK);
    /* the -inf entry separately (close_to cannot compare infinities) */
    CHECK(out[2] == -(double)INFINITY, "log_softmax of -inf");
    out[2] = 0.0;
    {
        double want[8];
        memcpy(want, util_log_softmax, sizeof want);
        want[2] = 0.0;
        CHECK(close_all(out, want, 8, 1e-15), "log_softmax");
    }
    /* f32: the first row only (1e8 - 1 is not a float) */
    to_f32(x32, util_x, 4);
    STATUS(losskit_logsumexp_f32(x32, 1, 4, lse32), LOSSKIT_STATUS_OK);
    CHECK(close_to((double)lse32[0], util_lse[0], TOL32, 1.0), "logsumexp f32");
    STATUS(losskit_softmax_f32(x32, 1, 4, out32), LOSSKIT_STATUS_OK);
    CHECK(close_all_f32(out32, util_softmax, 4, TOL32), "softmax f32");
    STATUS(losskit_log_softmax_f32(x32, 1, 4, out32), LOSSKIT_STATUS_OK);
    CHECK(out32[2] == -(float)INFINITY && close_to((double)out32[0], util_log_softmax[0], TOL32, 1.0),
          "log_softmax f32");
}

/* ---- statuses ---- */

static double xs[N];
static int64_t row_labels[R] = {0, 4, 3};
static double weights[C] = {1.0, 2.0, 0.5, 1.0, 1.5};
static double grad[N];
static double value;

/* One cross-entropy value_and_grad call; `ce()` gives a valid one to modify. */
typedef struct {
    const double *x;
    size_t rows, classes;
    const int64_t *labels;
    const double *w;
    int64_t ignore;
    int32_t use_ignore;
    double eps;
    int32_t unmasked;
    double z, cap;
    int32_t red;
    double div;
    int32_t mode;
    double *g, *v;
} ce_call;

static ce_call ce(void) {
    ce_call c;
    c.x = xs;
    c.rows = R;
    c.classes = C;
    c.labels = row_labels;
    c.w = weights;
    c.ignore = -100;
    c.use_ignore = 1;
    c.eps = 0.1;
    c.unmasked = 0;
    c.z = 0.0;
    c.cap = 0.0;
    c.red = MEAN;
    c.div = 0.0;
    c.mode = WRITE;
    c.g = grad;
    c.v = &value;
    return c;
}

static int32_t run(ce_call c) {
    return losskit_cross_entropy_value_and_grad_f64(c.x, c.rows, c.classes, c.labels, c.w,
                                                    c.ignore, c.use_ignore, c.eps, c.unmasked,
                                                    c.z, c.cap, c.red, c.div, c.mode, c.g, c.v);
}

/* The call fails with `want`, leaving the gradient and the value untouched. */
static void fails(ce_call c, int32_t want, int line) {
    int32_t got;
    fill(grad, N, SENTINEL);
    value = SENTINEL;
    got = run(c);
    CHECK(got == want, "line %d: status %d (%s), want %d", line, (int)got,
          losskit_status_str(got), (int)want);
    CHECK(all_equal(grad, N, SENTINEL) && value == SENTINEL, "line %d: written on error", line);
}
#define FAILS(c, want) fails(c, want, __LINE__)

static void cross_entropy_statuses(void) {
    double buf[N + 1];
    const double *mis = (const double *)(const void *)((const char *)buf + 1);
    const int64_t *mis_labels = (const int64_t *)(const void *)((const char *)buf + 4);
    int64_t big[R] = {0, 4, 3};
    double hv[N], out[R];
    ce_call c;

    memcpy(xs, cross_entropy_74_logits, sizeof xs);
    memset(buf, 0, sizeof buf);
    CHECK(run(ce()) == LOSSKIT_STATUS_OK, "baseline");

    /* NULL_POINTER: each required pointer; NULL is fine for the class weights */
    c = ce(); c.x = NULL; FAILS(c, LOSSKIT_STATUS_NULL_POINTER);
    c = ce(); c.labels = NULL; FAILS(c, LOSSKIT_STATUS_NULL_POINTER);
    c = ce(); c.g = NULL; FAILS(c, LOSSKIT_STATUS_NULL_POINTER);
    c = ce(); c.v = NULL; FAILS(c, LOSSKIT_STATUS_NULL_POINTER);
    c = ce(); c.classes = 0; c.labels = NULL; FAILS(c, LOSSKIT_STATUS_NULL_POINTER);
    c = ce(); c.w = NULL;
    CHECK(run(c) == LOSSKIT_STATUS_OK, "NULL class weights are all 1");

    /* EMPTY: no rows or no classes; the arrays of 0 elements may then be NULL */
    c = ce(); c.rows = 0; c.x = NULL; c.labels = NULL; c.g = NULL;
    FAILS(c, LOSSKIT_STATUS_EMPTY);
    c = ce(); c.classes = 0; c.x = NULL; c.g = NULL; c.w = NULL;
    FAILS(c, LOSSKIT_STATUS_EMPTY);

    /* MISALIGNED */
    c = ce(); c.x = mis; FAILS(c, LOSSKIT_STATUS_MISALIGNED);
    c = ce(); c.labels = mis_labels; FAILS(c, LOSSKIT_STATUS_MISALIGNED);
    c = ce(); c.w = mis; FAILS(c, LOSSKIT_STATUS_MISALIGNED);
    c = ce(); c.v = (double *)(void *)((char *)&value + 2); FAILS(c, LOSSKIT_STATUS_MISALIGNED);

    /* INVALID_PARAMETER (size): rows * classes overflows, or its byte size exceeds PTRDIFF_MAX
     * (checked before anything is read) */
    c = ce(); c.rows = SIZE_MAX / 2; c.classes = 3; FAILS(c, LOSSKIT_STATUS_INVALID_PARAMETER);
    c = ce(); c.rows = SIZE_MAX / 16; c.classes = 2; FAILS(c, LOSSKIT_STATUS_INVALID_PARAMETER);
    c = ce(); c.rows = SIZE_MAX / 4; c.classes = 1; FAILS(c, LOSSKIT_STATUS_INVALID_PARAMETER);

    /* ALIASING: the gradient over the logits, the labels or the weights; the value inside
     * the gradient. Inputs may overlap each other. */
    c = ce(); c.g = xs; FAILS(c, LOSSKIT_STATUS_ALIASING);
    c = ce(); c.g = (double *)(void *)row_labels; FAILS(c, LOSSKIT_STATUS_ALIASING);
    c = ce(); c.g = weights; FAILS(c, LOSSKIT_STATUS_ALIASING);
    c = ce(); c.v = grad + 7; FAILS(c, LOSSKIT_STATUS_ALIASING);

    /* INVALID_PARAMETER (options, parameters), also before EMPTY */
    c = ce(); c.eps = 2.0; FAILS(c, LOSSKIT_STATUS_INVALID_PARAMETER);
    c = ce(); c.eps = -0.1; FAILS(c, LOSSKIT_STATUS_INVALID_PARAMETER);
    c = ce(); c.eps = (double)NAN; FAILS(c, LOSSKIT_STATUS_INVALID_PARAMETER);
    c = ce(); c.use_ignore = 2; FAILS(c, LOSSKIT_STATUS_INVALID_PARAMETER);
    c = ce(); c.unmasked = -1; FAILS(c, LOSSKIT_STATUS_INVALID_PARAMETER);
    c = ce(); c.z = -1e-4; FAILS(c, LOSSKIT_STATUS_INVALID_PARAMETER);
    c = ce(); c.z = (double)INFINITY; FAILS(c, LOSSKIT_STATUS_INVALID_PARAMETER);
    c = ce(); c.cap = -30.0; FAILS(c, LOSSKIT_STATUS_INVALID_PARAMETER);
    c = ce(); c.cap = (double)NAN; FAILS(c, LOSSKIT_STATUS_INVALID_PARAMETER);
    c = ce(); c.red = 3; FAILS(c, LOSSKIT_STATUS_INVALID_PARAMETER);
    c = ce(); c.red = DIVISOR; c.div = 0.0; FAILS(c, LOSSKIT_STATUS_INVALID_PARAMETER);
    c = ce(); c.red = DIVISOR; c.div = 0.0; c.rows = 0;
    FAILS(c, LOSSKIT_STATUS_INVALID_PARAMETER);
    c = ce(); c.mode = 2; FAILS(c, LOSSKIT_STATUS_INVALID_PARAMETER);
    c = ce(); c.eps = 2.0; c.rows = 0; FAILS(c, LOSSKIT_STATUS_INVALID_PARAMETER);
    c = ce(); c.cap = 30.0;
    CHECK(run(c) == LOSSKIT_STATUS_OK, "soft-capping");

    /* LABEL_OUT_OF_RANGE: past the classes, negative, the ignore index when not used or
     * another one */
    big[1] = 5; c = ce(); c.labels = big; FAILS(c, LOSSKIT_STATUS_LABEL_OUT_OF_RANGE);
    big[1] = -1; FAILS(c, LOSSKIT_STATUS_LABEL_OUT_OF_RANGE);
    big[1] = INT64_MIN; FAILS(c, LOSSKIT_STATUS_LABEL_OUT_OF_RANGE);
    big[1] = INT64_MAX; FAILS(c, LOSSKIT_STATUS_LABEL_OUT_OF_RANGE);
    big[1] = -100; c.use_ignore = 0; FAILS(c, LOSSKIT_STATUS_LABEL_OUT_OF_RANGE);
    c.use_ignore = 1; c.ignore = -1; FAILS(c, LOSSKIT_STATUS_LABEL_OUT_OF_RANGE);
    c.ignore = -100;
    CHECK(run(c) == LOSSKIT_STATUS_OK && all_equal(grad + C, C, 0.0), "row 1 ignored");
    big[1] = 4;

    /* NON_FINITE: a class weight (found before the pass: nothing written); a NaN or +inf
     * logit (found in the pass: a write-mode gradient is reset to zeros, add mode untouched) */
    weights[2] = (double)NAN;
    FAILS(ce(), LOSSKIT_STATUS_NON_FINITE);
    weights[2] = 0.5;
    xs[7] = (double)NAN;
    c = ce(); c.mode = ADD; FAILS(c, LOSSKIT_STATUS_NON_FINITE);
    fill(grad, N, SENTINEL);
    value = SENTINEL;
    STATUS(run(ce()), LOSSKIT_STATUS_NON_FINITE);
    CHECK(all_equal(grad, N, 0.0) && value == SENTINEL, "write mode: zeros, value untouched");
    xs[7] = (double)INFINITY;
    c = ce(); c.mode = ADD; FAILS(c, LOSSKIT_STATUS_NON_FINITE);

    /* INVALID_INPUT: a negative class weight; a row of -inf only */
    xs[7] = cross_entropy_74_logits[7];
    weights[0] = -1.0;
    FAILS(ce(), LOSSKIT_STATUS_INVALID_INPUT);
    weights[0] = 1.0;
    fill(xs + C, C, -(double)INFINITY);
    c = ce(); c.mode = ADD; FAILS(c, LOSSKIT_STATUS_INVALID_INPUT);
    memcpy(xs, cross_entropy_74_logits, sizeof xs);

    /* hessian_diag and hvp: no soft-capping; v is an input that the output must not overlap */
    fill(hv, N, SENTINEL);
    STATUS(losskit_cross_entropy_hessian_diag_f64(xs, R, C, row_labels, NULL, -100, 1, 0.0, 0, 0.0,
                                                  30.0, MEAN, 0.0, hv),
           LOSSKIT_STATUS_INVALID_PARAMETER);
    STATUS(losskit_cross_entropy_hvp_f64(xs, R, C, row_labels, NULL, -100, 1, 0.0, 0, 0.0, 30.0, MEAN,
                                         0.0, hess_v, hv),
           LOSSKIT_STATUS_INVALID_PARAMETER);
    STATUS(losskit_cross_entropy_hvp_f64(xs, R, C, row_labels, NULL, -100, 1, 0.0, 0, 0.0, 0.0, MEAN,
                                         0.0, NULL, hv),
           LOSSKIT_STATUS_NULL_POINTER);
    STATUS(losskit_cross_entropy_hvp_f64(xs, R, C, row_labels, NULL, -100, 1, 0.0, 0, 0.0, 0.0, MEAN,
                                         0.0, hv, hv),
           LOSSKIT_STATUS_ALIASING);
    CHECK(all_equal(hv, N, SENTINEL), "hessian outputs written on error");

    /* value_elementwise: `rows` outputs, which must not overlap an input */
    fill(out, R, SENTINEL);
    STATUS(losskit_cross_entropy_value_elementwise_f64(xs, R, C, row_labels, NULL, -100, 1, 0.0, 0, 0.0,
                                                       0.0, NULL),
           LOSSKIT_STATUS_NULL_POINTER);
    STATUS(losskit_cross_entropy_value_elementwise_f64(xs, R, C, row_labels, NULL, -100, 1, 0.0, 0, 0.0,
                                                       0.0, xs + 2),
           LOSSKIT_STATUS_ALIASING);
    big[2] = 9;
    STATUS(losskit_cross_entropy_value_elementwise_f64(xs, R, C, big, NULL, -100, 1, 0.0, 0, 0.0,
                                                       0.0, out),
           LOSSKIT_STATUS_LABEL_OUT_OF_RANGE);
    CHECK(all_equal(out, R, SENTINEL), "per-row output written on error");

    /* in place: the logits are the output (value_out must not lie in them) and are left
     * exactly as they were on every error */
    value = SENTINEL;
    STATUS(losskit_cross_entropy_value_and_grad_in_place_f64(xs, R, C, row_labels, NULL, -100, 1, 0.0,
                                                             0, 0.0, 0.0, MEAN, 0.0, xs + 3),
           LOSSKIT_STATUS_ALIASING);
    STATUS(losskit_cross_entropy_value_and_grad_in_place_f64(xs, R, C, big, NULL, -100, 1, 0.0,
                                                             0, 0.0, 0.0, MEAN, 0.0, &value),
           LOSSKIT_STATUS_LABEL_OUT_OF_RANGE);
    STATUS(losskit_cross_entropy_value_and_grad_in_place_f64(xs, R, C, row_labels, (double *)xs, -100, 1,
                                                             0.0, 0, 0.0, 0.0, MEAN, 0.0, &value),
           LOSSKIT_STATUS_ALIASING);
    xs[11] = (double)NAN;
    STATUS(losskit_cross_entropy_value_and_grad_in_place_f64(xs, R, C, row_labels, NULL, -100, 1, 0.0,
                                                             0, 0.0, 0.0, MEAN, 0.0, &value),
           LOSSKIT_STATUS_NON_FINITE);
    CHECK(memcmp(xs, cross_entropy_74_logits, 11 * sizeof(double)) == 0 &&
              memcmp(xs + 12, cross_entropy_74_logits + 12, 3 * sizeof(double)) == 0 &&
              value == SENTINEL,
          "in place: logits untouched on error");
    memcpy(xs, cross_entropy_74_logits, sizeof xs);
}

static void other_statuses(void) {
    double g[N], v = SENTINEL, out[8], t[N], x[N];
    int64_t lab[R] = {0, 4, 3};
    size_t i;

    memcpy(x, cross_entropy_74_logits, sizeof x);
    fill(g, N, SENTINEL);

    /* soft cross-entropy: smoothing outside [0, 1], a non-finite target, the size */
    memcpy(t, cross_entropy_dense_76_target, sizeof t);
    STATUS(losskit_soft_cross_entropy_value_and_grad_f64(x, R, C, t, NULL, 2.0, MEAN, 0.0, WRITE,
                                                         g, &v),
           LOSSKIT_STATUS_INVALID_PARAMETER);
    STATUS(losskit_soft_cross_entropy_value_and_grad_f64(x, SIZE_MAX / 2, 3, t, NULL, 0.0, MEAN,
                                                         0.0, WRITE, g, &v),
           LOSSKIT_STATUS_INVALID_PARAMETER);
    STATUS(losskit_soft_cross_entropy_value_and_grad_f64(x, R, C, NULL, NULL, 0.0, MEAN, 0.0,
                                                         WRITE, g, &v),
           LOSSKIT_STATUS_NULL_POINTER);
    STATUS(losskit_soft_cross_entropy_value_and_grad_f64(x, R, C, t, NULL, 0.0, MEAN, 0.0, WRITE,
                                                         t, &v),
           LOSSKIT_STATUS_ALIASING);
    t[4] = (double)NAN;
    STATUS(losskit_soft_cross_entropy_value_and_grad_f64(x, R, C, t, NULL, 0.0, MEAN, 0.0, ADD, g,
                                                         &v),
           LOSSKIT_STATUS_NON_FINITE);
    CHECK(all_equal(g, N, SENTINEL) && v == SENTINEL, "soft ce: written on error");

    /* NLL: labels, a NaN log-probability; -inf at the label is probability 0: value +inf */
    lab[0] = 5;
    STATUS(losskit_nll_value_f64(x, R, C, lab, NULL, -100, 1, MEAN, 0.0, &v),
           LOSSKIT_STATUS_LABEL_OUT_OF_RANGE);
    lab[0] = -100;
    STATUS(losskit_nll_value_f64(x, R, C, lab, NULL, -100, 0, MEAN, 0.0, &v),
           LOSSKIT_STATUS_LABEL_OUT_OF_RANGE);
    lab[0] = 0;
    x[0] = (double)NAN;
    STATUS(losskit_nll_value_and_grad_f64(x, R, C, lab, NULL, -100, 1, SUM, 0.0, WRITE, g, &v),
           LOSSKIT_STATUS_NON_FINITE);
    /* NON_FINITE is found in the data: a write-mode gradient is reset to zeros (the header's
     * documented exception), the value is not written. */
    CHECK(all_equal(g, N, 0.0) && v == SENTINEL, "nll: write mode not reset to zeros");
    fill(g, N, SENTINEL);
    x[0] = -(double)INFINITY;
    STATUS(losskit_nll_value_f64(x, R, C, lab, NULL, -100, 1, SUM, 0.0, &v), LOSSKIT_STATUS_OK);
    CHECK(v == (double)INFINITY, "nll of probability 0: %g", v);
    x[0] = cross_entropy_74_logits[0];
    v = SENTINEL;

    /* softmax focal: gamma, a negative alpha */
    STATUS(losskit_softmax_focal_value_f64(x, R, C, lab, NULL, -1.0, -100, 1, MEAN, 0.0, &v),
           LOSSKIT_STATUS_INVALID_PARAMETER);
    {
        double alpha[C] = {0.25, 0.75, 0.75, -0.75, 0.75};
        STATUS(losskit_softmax_focal_value_f64(x, R, C, lab, alpha, 2.0, -100, 1, MEAN, 0.0, &v),
               LOSSKIT_STATUS_INVALID_INPUT);
        alpha[3] = 0.75;
        STATUS(losskit_softmax_focal_value_f64(x, R, C, lab, alpha, 2.0, -100, 1, MEAN, 0.0,
                                               (double *)alpha + 1),
               LOSSKIT_STATUS_ALIASING);
    }
    CHECK(v == SENTINEL, "focal: value written on error");

    /* distillation: no ignore index, alpha and temperature, the teacher */
    lab[1] = -100;
    STATUS(losskit_distillation_value_and_grad_f64(x, R, C, lab, x, 0.5, 2.0, MEAN, 0.0, WRITE, g,
                                                   &v),
           LOSSKIT_STATUS_LABEL_OUT_OF_RANGE);
    lab[1] = 4;
    {
        double same = SENTINEL;
        STATUS(losskit_distillation_value_f64(x, R, C, lab, x, 0.5, 2.0, MEAN, 0.0, &same),
               LOSSKIT_STATUS_OK);
        CHECK(same != SENTINEL, "inputs may overlap each other (teacher = student)");
    }
    STATUS(losskit_distillation_value_f64(x, R, C, lab, x, 1.5, 2.0, MEAN, 0.0, &v),
           LOSSKIT_STATUS_INVALID_PARAMETER);
    STATUS(losskit_distillation_value_f64(x, R, C, lab, x, 0.5, 0.0, MEAN, 0.0, &v),
           LOSSKIT_STATUS_INVALID_PARAMETER);
    STATUS(losskit_distillation_value_f64(x, R, C, lab, NULL, 0.5, 2.0, MEAN, 0.0, &v),
           LOSSKIT_STATUS_NULL_POINTER);
    STATUS(losskit_distillation_grad_f64(x, R, C, lab, t, 0.5, 2.0, MEAN, 0.0, WRITE, t),
           LOSSKIT_STATUS_ALIASING);
    memcpy(t, x, sizeof t);
    t[9] = (double)NAN;
    STATUS(losskit_distillation_grad_f64(x, R, C, lab, t, 0.5, 2.0, MEAN, 0.0, ADD, g),
           LOSSKIT_STATUS_NON_FINITE);
    CHECK(all_equal(g, N, SENTINEL) && v == SENTINEL, "distillation: written on error");

    /* multi-margin: p in {1, 2}, a finite margin, finite logits */
    STATUS(losskit_multi_margin_value_f64(x, R, C, lab, NULL, 3, 1.0, MEAN, 0.0, &v),
           LOSSKIT_STATUS_INVALID_PARAMETER);
    STATUS(losskit_multi_margin_value_f64(x, R, C, lab, NULL, -1, 1.0, MEAN, 0.0, &v),
           LOSSKIT_STATUS_INVALID_PARAMETER);
    STATUS(losskit_multi_margin_value_f64(x, R, C, lab, NULL, 257, 1.0, MEAN, 0.0, &v),
           LOSSKIT_STATUS_INVALID_PARAMETER);
    STATUS(losskit_multi_margin_value_f64(x, R, C, lab, NULL, 1, (double)INFINITY, MEAN, 0.0, &v),
           LOSSKIT_STATUS_INVALID_PARAMETER);
    x[3] = -(double)INFINITY;
    STATUS(losskit_multi_margin_value_and_grad_f64(x, R, C, lab, NULL, 1, 1.0, MEAN, 0.0, WRITE,
                                                   g, &v),
           LOSSKIT_STATUS_NON_FINITE);
    x[3] = cross_entropy_74_logits[3];
    CHECK(all_equal(g, N, 0.0) && v == SENTINEL, "multi margin: write mode not reset to zeros");
    fill(g, N, SENTINEL);

    /* multiclass hinge: labels, shapes */
    lab[2] = 7;
    STATUS(losskit_multiclass_hinge_value_and_grad_f64(x, R, C, lab, MEAN, 0.0, WRITE, g, &v),
           LOSSKIT_STATUS_LABEL_OUT_OF_RANGE);
    lab[2] = 3;
    STATUS(losskit_multiclass_hinge_value_f64(NULL, R, 0, lab, MEAN, 0.0, &v),
           LOSSKIT_STATUS_EMPTY);
    STATUS(losskit_multiclass_hinge_value_elementwise_f64(x, R, C, lab, (double *)(void *)lab),
           LOSSKIT_STATUS_ALIASING);
    CHECK(all_equal(g, N, SENTINEL) && v == SENTINEL, "multiclass hinge: written on error");

    /* the row utilities */
    fill(out, 8, SENTINEL);
    STATUS(losskit_softmax_f64(NULL, 2, 4, out), LOSSKIT_STATUS_NULL_POINTER);
    STATUS(losskit_softmax_f64(util_x, 2, 4, NULL), LOSSKIT_STATUS_NULL_POINTER);
    STATUS(losskit_softmax_f64(x, 2, 4, x + 1), LOSSKIT_STATUS_ALIASING);
    STATUS(losskit_log_softmax_f64(util_x, SIZE_MAX / 2, 4, out), LOSSKIT_STATUS_INVALID_PARAMETER);
    STATUS(losskit_logsumexp_f64(NULL, 0, 4, NULL), LOSSKIT_STATUS_EMPTY);
    STATUS(losskit_logsumexp_f64(NULL, 2, 0, out), LOSSKIT_STATUS_EMPTY);
    STATUS(losskit_logsumexp_f64(util_x, 2, 4, (double *)(void *)((char *)out + 4)),
           LOSSKIT_STATUS_MISALIGNED);
    CHECK(all_equal(out, 8, SENTINEL), "utility output written on error");
    memcpy(t, util_x, 8 * sizeof(double));
    fill(t + 4, 4, -(double)INFINITY);
    STATUS(losskit_softmax_f64(t, 2, 4, out), LOSSKIT_STATUS_INVALID_INPUT);
    CHECK(all_equal(out, 8, 0.0), "softmax: zeros after an error in the pass");
    STATUS(losskit_logsumexp_f64(t, 2, 4, out), LOSSKIT_STATUS_OK);
    CHECK(out[1] == -(double)INFINITY, "logsumexp of a row of -inf is -inf");
    t[0] = (double)NAN;
    STATUS(losskit_log_softmax_f64(t, 2, 4, out), LOSSKIT_STATUS_NON_FINITE);
    for (i = 0; i < 8; i++) CHECK(out[i] == 0.0, "log_softmax: zeros after NaN at %d", (int)i);
}

static void multilabel_statuses(void) {
    double x[N], t[N], pw[C], w[C], g[N], out[N], v = SENTINEL;
    float x32[N], t32[N], g32[N], v32 = (float)SENTINEL;

    memcpy(x, ml_logits, sizeof x);
    memcpy(t, ml_targets, sizeof t);
    memcpy(pw, ml_pos_weight, sizeof pw);
    memcpy(w, ml_class_weights, sizeof w);
    fill(g, N, SENTINEL);
    fill(out, N, SENTINEL);

    /* NULL_POINTER: logits, targets, the outputs; the per-class tensors may be NULL */
    STATUS(losskit_multilabel_bce_with_logits_value_and_grad_f64(NULL, R, C, t, pw, w, MEAN, 0.0,
                                                                 WRITE, g, &v),
           LOSSKIT_STATUS_NULL_POINTER);
    STATUS(losskit_multilabel_bce_with_logits_value_and_grad_f64(x, R, C, NULL, pw, w, MEAN, 0.0,
                                                                 WRITE, g, &v),
           LOSSKIT_STATUS_NULL_POINTER);
    STATUS(losskit_multilabel_bce_with_logits_value_and_grad_f64(x, R, C, t, pw, w, MEAN, 0.0,
                                                                 WRITE, g, NULL),
           LOSSKIT_STATUS_NULL_POINTER);
    STATUS(losskit_multilabel_soft_margin_value_elementwise_f64(x, R, C, t, pw, w, NULL),
           LOSSKIT_STATUS_NULL_POINTER);
    STATUS(losskit_multilabel_bce_with_logits_hessian_diag_f64(x, R, C, t, pw, w, SUM, 0.0, WRITE,
                                                               NULL),
           LOSSKIT_STATUS_NULL_POINTER);

    /* INVALID_PARAMETER (size): rows * classes overflows, or its byte size exceeds
     * PTRDIFF_MAX; checked before anything is read */
    STATUS(losskit_multilabel_bce_with_logits_value_and_grad_f64(x, SIZE_MAX / 2, 3, t, pw, w,
                                                                 MEAN, 0.0, WRITE, g, &v),
           LOSSKIT_STATUS_INVALID_PARAMETER);
    STATUS(losskit_multilabel_soft_margin_value_f64(x, SIZE_MAX / 16, 2, t, NULL, NULL, MEAN, 0.0,
                                                    &v),
           LOSSKIT_STATUS_INVALID_PARAMETER);
    STATUS(losskit_multilabel_soft_margin_value_elementwise_f64(x, 3, SIZE_MAX / 2, t, NULL, NULL,
                                                                out),
           LOSSKIT_STATUS_INVALID_PARAMETER);

    /* MISALIGNED, ALIASING (the gradient over an input or a per-class tensor, the value
     * inside the gradient, the per-row output over the targets) */
    STATUS(losskit_multilabel_bce_with_logits_value_f64(
               x, R, C, t, (const double *)(const void *)((const char *)pw + 4), w, MEAN, 0.0, &v),
           LOSSKIT_STATUS_MISALIGNED);
    STATUS(losskit_multilabel_bce_with_logits_grad_f64(x, R, C, t, pw, w, MEAN, 0.0, WRITE, x),
           LOSSKIT_STATUS_ALIASING);
    STATUS(losskit_multilabel_bce_with_logits_grad_f64(x, R, C, t, pw, w, MEAN, 0.0, WRITE, t),
           LOSSKIT_STATUS_ALIASING);
    STATUS(losskit_multilabel_bce_with_logits_grad_f64(x, R, C, t, pw, w, MEAN, 0.0, WRITE, w),
           LOSSKIT_STATUS_ALIASING);
    STATUS(losskit_multilabel_bce_with_logits_value_and_grad_f64(x, R, C, t, pw, w, MEAN, 0.0,
                                                                 WRITE, g, g + 3),
           LOSSKIT_STATUS_ALIASING);
    STATUS(losskit_multilabel_soft_margin_value_elementwise_f64(x, R, C, t, pw, w, t + 1),
           LOSSKIT_STATUS_ALIASING);

    /* INVALID_PARAMETER (options), also before EMPTY; EMPTY for no rows or no classes */
    STATUS(losskit_multilabel_bce_with_logits_value_f64(x, R, C, t, pw, w, 3, 0.0, &v),
           LOSSKIT_STATUS_INVALID_PARAMETER);
    STATUS(losskit_multilabel_bce_with_logits_value_f64(x, R, C, t, pw, w, DIVISOR, -1.0, &v),
           LOSSKIT_STATUS_INVALID_PARAMETER);
    STATUS(losskit_multilabel_soft_margin_grad_f64(x, R, C, t, pw, w, MEAN, 0.0, 2, g),
           LOSSKIT_STATUS_INVALID_PARAMETER);
    STATUS(losskit_multilabel_soft_margin_hessian_diag_f64(NULL, 0, C, NULL, pw, w, DIVISOR, 0.0,
                                                           WRITE, NULL),
           LOSSKIT_STATUS_INVALID_PARAMETER);
    STATUS(losskit_multilabel_bce_with_logits_value_f64(NULL, 0, C, NULL, NULL, NULL, MEAN, 0.0,
                                                        &v),
           LOSSKIT_STATUS_EMPTY);
    STATUS(losskit_multilabel_soft_margin_value_elementwise_f64(NULL, R, 0, NULL, NULL, NULL, out),
           LOSSKIT_STATUS_EMPTY);
    CHECK(all_equal(g, N, SENTINEL) && all_equal(out, N, SENTINEL) && v == SENTINEL,
          "multi-label: written on a pointer or parameter error");

    /* INVALID_INPUT: a negative pos_weight or class weight (found before the pass: nothing
     * written), a target outside [0, 1] (found in the pass: add mode untouched, write mode
     * reset to zeros) */
    pw[2] = -0.5;
    STATUS(losskit_multilabel_bce_with_logits_value_and_grad_f64(x, R, C, t, pw, w, MEAN, 0.0,
                                                                 WRITE, g, &v),
           LOSSKIT_STATUS_INVALID_INPUT);
    STATUS(losskit_multilabel_soft_margin_value_elementwise_f64(x, R, C, t, pw, NULL, out),
           LOSSKIT_STATUS_INVALID_INPUT);
    CHECK(all_equal(g, N, SENTINEL) && all_equal(out, N, SENTINEL) && v == SENTINEL,
          "negative pos_weight: nothing written");
    pw[2] = (double)NAN;
    STATUS(losskit_multilabel_bce_with_logits_value_f64(x, R, C, t, pw, w, MEAN, 0.0, &v),
           LOSSKIT_STATUS_NON_FINITE);
    pw[2] = ml_pos_weight[2];
    w[4] = -1.0;
    STATUS(losskit_multilabel_soft_margin_value_and_grad_f64(x, R, C, t, pw, w, MEAN, 0.0, WRITE,
                                                             g, &v),
           LOSSKIT_STATUS_INVALID_INPUT);
    CHECK(all_equal(g, N, SENTINEL) && v == SENTINEL, "negative class weight: nothing written");
    w[4] = ml_class_weights[4];
    t[7] = 1.5;
    STATUS(losskit_multilabel_bce_with_logits_grad_f64(x, R, C, t, pw, w, MEAN, 0.0, ADD, g),
           LOSSKIT_STATUS_INVALID_INPUT);
    CHECK(all_equal(g, N, SENTINEL), "target 1.5: add mode untouched");
    STATUS(losskit_multilabel_bce_with_logits_value_and_grad_f64(x, R, C, t, pw, w, MEAN, 0.0,
                                                                 WRITE, g, &v),
           LOSSKIT_STATUS_INVALID_INPUT);
    CHECK(all_equal(g, N, 0.0) && v == SENTINEL, "target 1.5: write mode zeros, value untouched");
    t[7] = -0.25;
    STATUS(losskit_multilabel_soft_margin_value_elementwise_f64(x, R, C, t, pw, w, out),
           LOSSKIT_STATUS_INVALID_INPUT);
    CHECK(all_equal(out, R, 0.0), "target -0.25: per-row output zeros");
    t[7] = ml_targets[7];

    /* NON_FINITE: a NaN logit, an infinite target (f32) */
    x[12] = (double)NAN;
    fill(g, N, SENTINEL);
    STATUS(losskit_multilabel_soft_margin_grad_f64(x, R, C, t, pw, w, MEAN, 0.0, ADD, g),
           LOSSKIT_STATUS_NON_FINITE);
    CHECK(all_equal(g, N, SENTINEL), "NaN logit: add mode untouched");
    to_f32(x32, ml_logits, N);
    to_f32(t32, ml_targets, N);
    t32[0] = (float)INFINITY;
    STATUS(losskit_multilabel_bce_with_logits_value_and_grad_f32(x32, R, C, t32, NULL, NULL, MEAN,
                                                                 0.0, WRITE, g32, &v32),
           LOSSKIT_STATUS_NON_FINITE);
    CHECK(v32 == (float)SENTINEL, "f32: value untouched");
}

int main(void) {
    LOSSKIT_ROW_CASES(CHECK_ROW_CASE);
    LOSSKIT_ROW_ELEMENTWISE_CASES(CHECK_ROW_ELEMENTWISE_CASE);
    cross_entropy_values();
    soft_cross_entropy_values();
    other_values();
    poly1_values();
    multilabel_values();
    utility_values();
    cross_entropy_statuses();
    other_statuses();
    multilabel_statuses();
    return finish("rows");
}
