/* cvss.c - CVSS v3.x base scores from vector strings, with the equations and the
 * Roundup function of the CVSS v3.1 specification (FIRST, "CVSS v3.1: Specification
 * Document", section 7.1 and Appendix A). v3.0 vectors use the same weights; the v3.1
 * Roundup only removes floating-point artefacts. */
#include "vuln.h"
#include "err.h"

#include <math.h>
#include <string.h>

#define CVSS_VECTOR_MAX 512

enum metric { M_AV, M_AC, M_PR, M_UI, M_S, M_C, M_I, M_A, M_BASE_COUNT };

/* The base metrics: name, allowed values, and each value's weight. PR's weights
 * depend on Scope and are taken from pr_changed when S:C. */
static const struct metric_row {
    const char *name;
    const char *values;          /* one letter per value */
    double      weight[4];
} metrics[M_BASE_COUNT] = {
    [M_AV] = { "AV", "NALP", { 0.85, 0.62, 0.55, 0.2 } },
    [M_AC] = { "AC", "LH",   { 0.77, 0.44 } },
    [M_PR] = { "PR", "NLH",  { 0.85, 0.62, 0.27 } },
    [M_UI] = { "UI", "NR",   { 0.85, 0.62 } },
    [M_S]  = { "S",  "UC",   { 0, 0 } },
    [M_C]  = { "C",  "HLN",  { 0.56, 0.22, 0 } },
    [M_I]  = { "I",  "HLN",  { 0.56, 0.22, 0 } },
    [M_A]  = { "A",  "HLN",  { 0.56, 0.22, 0 } },
};
static const double pr_changed[3] = { 0.85, 0.68, 0.5 };

/* Temporal and environmental metrics: valid in a vector, not part of the base score. */
static const char *const other_metrics[] = {
    "E", "RL", "RC", "CR", "IR", "AR", "MAV", "MAC", "MPR", "MUI", "MS", "MC", "MI", "MA",
};

/* Roundup from Appendix A: the smallest number, to one decimal, >= input; computed on
 * integers. Returns tenths. */
static int
roundup10(double input)
{
    long long i = llround(input * 100000.0);

    if (i % 10000 == 0)
        return (int)(i / 10000);
    return (int)(i / 10000 + 1);
}

int
cvss_v3_score(const char *vector, int *score10)
{
    char buf[CVSS_VECTOR_MAX], *save = NULL, *tok;
    int idx[M_BASE_COUNT];
    double iss, impact, exploit, pr;
    bool changed;
    size_t len;

    if (vector == NULL)
        return ODS_E_PARSE;
    len = strlen(vector);
    if (len >= sizeof(buf) ||
        (strncmp(vector, "CVSS:3.0/", 9) != 0 && strncmp(vector, "CVSS:3.1/", 9) != 0))
        return ODS_E_PARSE;
    memcpy(buf, vector + 9, len - 9 + 1);
    for (int m = 0; m < M_BASE_COUNT; m++)
        idx[m] = -1;

    for (tok = strtok_r(buf, "/", &save); tok != NULL; tok = strtok_r(NULL, "/", &save)) {
        char *colon = strchr(tok, ':');
        bool known = false;

        if (colon == NULL || colon[1] == '\0')
            return ODS_E_PARSE;
        *colon = '\0';
        for (int m = 0; m < M_BASE_COUNT; m++) {
            const char *v;

            if (strcmp(tok, metrics[m].name) != 0)
                continue;
            v = strchr(metrics[m].values, colon[1]);
            if (idx[m] != -1 || colon[2] != '\0' || v == NULL)
                return ODS_E_PARSE;     /* repeated metric or unknown value */
            idx[m] = (int)(v - metrics[m].values);
            known = true;
        }
        for (size_t k = 0; !known && k < sizeof(other_metrics) / sizeof(other_metrics[0]); k++)
            known = strcmp(tok, other_metrics[k]) == 0;
        if (!known)
            return ODS_E_PARSE;
    }
    for (int m = 0; m < M_BASE_COUNT; m++)
        if (idx[m] == -1)
            return ODS_E_PARSE;

    changed = idx[M_S] == 1;
    iss = 1.0 - (1.0 - metrics[M_C].weight[idx[M_C]]) * (1.0 - metrics[M_I].weight[idx[M_I]]) *
                (1.0 - metrics[M_A].weight[idx[M_A]]);
    if (changed)
        impact = 7.52 * (iss - 0.029) - 3.25 * pow(iss - 0.02, 15);
    else
        impact = 6.42 * iss;
    pr = changed ? pr_changed[idx[M_PR]] : metrics[M_PR].weight[idx[M_PR]];
    exploit = 8.22 * metrics[M_AV].weight[idx[M_AV]] * metrics[M_AC].weight[idx[M_AC]] * pr *
              metrics[M_UI].weight[idx[M_UI]];
    if (impact <= 0) {
        *score10 = 0;
        return ODS_E_OK;
    }
    if (changed)
        *score10 = roundup10(fmin(1.08 * (impact + exploit), 10.0));
    else
        *score10 = roundup10(fmin(impact + exploit, 10.0));
    return ODS_E_OK;
}
