/* Robust linear regression from C with losskit: fits the diabetes data (442 patients, 10
 * standardised features) by full-batch gradient descent, once under MSE and once under the
 * Huber loss, after corrupting 5% of the targets with large outliers, and prints how far
 * each fit is from the clean data.
 *
 * Build and run from the repository root (see README.md, "C and C++"):
 *   cargo build --release -p losskit-capi
 *   cc -std=c99 -O2 -Icapi/include examples/c/huber_regression.c \
 *      target/release/liblosskit_capi.a -lm -lpthread -ldl -o target/huber_regression
 *   ./target/huber_regression examples/data
 */
#include "losskit.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROWS 442
#define COLS 10

static double x[ROWS][COLS];
static double y_clean[ROWS];
static double y[ROWS];

static int load(const char *dir) {
    char path[1024];
    FILE *f;
    int i, j;
    snprintf(path, sizeof path, "%s/diabetes_data.csv", dir);
    if (!(f = fopen(path, "r"))) return 0;
    for (i = 0; i < ROWS; i++) {
        for (j = 0; j < COLS; j++) {
            if (fscanf(f, "%lf", &x[i][j]) != 1) { fclose(f); return 0; }
        }
    }
    fclose(f);
    snprintf(path, sizeof path, "%s/diabetes_target.csv", dir);
    if (!(f = fopen(path, "r"))) return 0;
    for (i = 0; i < ROWS; i++) {
        if (fscanf(f, "%lf", &y_clean[i]) != 1) { fclose(f); return 0; }
    }
    fclose(f);
    return 1;
}

/* Standardises every feature column to mean 0, variance 1. */
static void standardise(void) {
    int i, j;
    for (j = 0; j < COLS; j++) {
        double m = 0.0, v = 0.0;
        for (i = 0; i < ROWS; i++) m += x[i][j];
        m /= ROWS;
        for (i = 0; i < ROWS; i++) v += (x[i][j] - m) * (x[i][j] - m);
        v = sqrt(v / ROWS);
        for (i = 0; i < ROWS; i++) x[i][j] = (x[i][j] - m) / v;
    }
}

static void predict(const double *w, double b, double *pred) {
    int i, j;
    for (i = 0; i < ROWS; i++) {
        double s = b;
        for (j = 0; j < COLS; j++) s += w[j] * x[i][j];
        pred[i] = s;
    }
}

/* Gradient descent on the mean loss; `huber` selects the loss. Returns the status. */
static int32_t fit(int huber, double *w, double *b) {
    static double pred[ROWS], grad[ROWS];
    int epoch, i, j;
    double loss = 0.0;
    memset(w, 0, COLS * sizeof *w);
    *b = 0.0;
    for (epoch = 0; epoch < 3000; epoch++) {
        double gb = 0.0, gw[COLS] = {0};
        int32_t s;
        predict(w, *b, pred);
        /* dL/dpred for L = mean loss; delta = 20 (in target units, about 1/4 of a std). */
        s = huber ? losskit_huber_value_and_grad_f64(pred, y, NULL, ROWS, 20.0,
                                                     LOSSKIT_REDUCTION_MEAN, 0.0,
                                                     LOSSKIT_GRAD_MODE_WRITE, grad, &loss)
                  : losskit_mse_value_and_grad_f64(pred, y, NULL, ROWS, LOSSKIT_REDUCTION_MEAN,
                                                   0.0, LOSSKIT_GRAD_MODE_WRITE, grad, &loss);
        if (s != LOSSKIT_STATUS_OK) return s;
        /* Chain rule through pred = X w + b. */
        for (i = 0; i < ROWS; i++) {
            gb += grad[i];
            for (j = 0; j < COLS; j++) gw[j] += grad[i] * x[i][j];
        }
        /* MSE's gradient is 2r, Huber's at most delta: scale the steps accordingly. */
        {
            double lr = huber ? 0.4 : 0.1;
            *b -= lr * gb;
            for (j = 0; j < COLS; j++) w[j] -= lr * gw[j];
        }
    }
    printf("  final training loss %.3f\n", loss);
    return LOSSKIT_STATUS_OK;
}

/* Mean absolute error against the clean targets. */
static double clean_mae(const double *w, double b) {
    static double pred[ROWS];
    double v = 0.0;
    int32_t s;
    predict(w, b, pred);
    s = losskit_mae_value_f64(pred, y_clean, NULL, ROWS, LOSSKIT_REDUCTION_MEAN, 0.0, &v);
    return s == LOSSKIT_STATUS_OK ? v : -1.0;
}

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : "examples/data";
    double w[COLS], b, mae_mse, mae_huber;
    int i;
    int32_t s;
    if (!load(dir)) {
        fprintf(stderr, "cannot read %s/diabetes_{data,target}.csv\n", dir);
        return 2;
    }
    standardise();
    /* Every 20th target becomes a gross outlier (+1000). */
    for (i = 0; i < ROWS; i++) y[i] = y_clean[i] + (i % 20 == 0 ? 1000.0 : 0.0);
    printf("losskit %s (backend %s): linear regression, %d rows, 5%% outliers\n",
           losskit_version(), losskit_backend_name(), ROWS);

    printf("MSE fit:\n");
    if ((s = fit(0, w, &b)) != LOSSKIT_STATUS_OK) goto fail;
    mae_mse = clean_mae(w, b);
    printf("Huber fit:\n");
    if ((s = fit(1, w, &b)) != LOSSKIT_STATUS_OK) goto fail;
    mae_huber = clean_mae(w, b);

    printf("mean absolute error on the clean targets: MSE %.2f, Huber %.2f\n", mae_mse, mae_huber);
    return mae_huber < mae_mse ? 0 : 1;
fail:
    fprintf(stderr, "losskit error %d: %s\n", (int)s, losskit_status_str(s));
    return 1;
}
