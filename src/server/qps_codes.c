/* qps_codes.c - names and HTTP statuses of QPS response codes. */
#include "qps.h"

const char *
qps_code_name(enum qps_code code)
{
    switch (code) {
#define XX(name, status) case QPS_##name: return #name;
    QPS_CODE_TABLE(XX)
#undef XX
    }
    return "INTERNAL_ERROR";
}

int
qps_code_status(enum qps_code code)
{
    switch (code) {
#define XX(name, status) case QPS_##name: return status;
    QPS_CODE_TABLE(XX)
#undef XX
    }
    return 500;
}
