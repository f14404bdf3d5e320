/* Tiny test helpers shared by the C tests (C99 and C++). */
#ifndef LOSSKIT_TEST_CHECK_H
#define LOSSKIT_TEST_CHECK_H

#include <math.h>
#include <stdio.h>

static int checks_run = 0;
static int checks_failed = 0;

#define CHECK(cond, ...)                                          \
    do {                                                          \
        checks_run++;                                             \
        if (!(cond)) {                                            \
            checks_failed++;                                      \
            printf("FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
            printf(__VA_ARGS__);                                  \
            printf("\n");                                         \
        }                                                         \
    } while (0)

/* |a - b| <= tol * max(|b|, scale): relative, but never tighter than tol * scale. */
static inline int close_to(double a, double b, double tol, double scale) {
    double m = fabs(b) > scale ? fabs(b) : scale;
    return fabs(a - b) <= tol * m;
}

/* Largest |x[i]|, the scale of a gradient for scale-aware comparisons. */
static inline double max_abs(const double *x, size_t n) {
    double m = 0.0;
    size_t i;
    for (i = 0; i < n; i++) {
        if (fabs(x[i]) > m) m = fabs(x[i]);
    }
    return m;
}

/* Prints the closing line and returns the process status. */
static inline int finish(const char *name) {
    printf("%s: %d passed, %d failed\n", name, checks_run - checks_failed, checks_failed);
    return checks_failed == 0 ? 0 : 1;
}

#endif
