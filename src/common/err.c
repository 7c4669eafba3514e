/* err.c - names and messages of the project's error codes. */
#include "err.h"

const char *
err_name(int code)
{
    switch (code) {
#define XX(name, c, msg) case c: return #name;
    ODS_ERR_TABLE(XX)
#undef XX
    }
    return "UNKNOWN";
}

const char *
err_msg(int code)
{
    switch (code) {
#define XX(name, c, msg) case c: return msg;
    ODS_ERR_TABLE(XX)
#undef XX
    }
    return "unknown error";
}
