/* err.h - the project's one error enum: 0 is success, every failure is negative.
 * The table below generates the enum, its names and its messages. */
#ifndef ODSCAN_ERR_H
#define ODSCAN_ERR_H

#define ODS_ERR_TABLE(XX)                                                     \
    XX(OK,          0,  "success")                                            \
    XX(NOMEM,      -1,  "out of memory")                                      \
    XX(INVAL,      -2,  "invalid argument")                                   \
    XX(TOOBIG,     -3,  "input exceeds its size limit")                       \
    XX(PARSE,      -4,  "malformed input")                                    \
    XX(NOTFOUND,   -5,  "not found")                                          \
    XX(EXISTS,     -6,  "already exists")                                     \
    XX(IO,         -7,  "input/output error")                                 \
    XX(STORE,      -8,  "storage error")                                      \
    XX(AUTH,       -9,  "authentication failed")                              \
    XX(LOCKED,     -10, "account temporarily locked")                         \
    XX(PERM,       -11, "operation not permitted")                            \
    XX(BUSY,       -12, "resource busy")                                      \
    XX(TLS,        -13, "TLS error")                                          \
    XX(UNSUPPORTED, -14, "not supported")                                     \
    XX(SHUTDOWN,   -15, "shutting down")                                     \
    XX(UNAVAILABLE, -16, "database unavailable")                              \
    XX(CONFLICT,   -17, "refers to state the server does not hold")

enum ods_err {
#define XX(name, code, msg) ODS_E_##name = (code),
    ODS_ERR_TABLE(XX)
#undef XX
};

/* err_name returns the symbolic name ("NOTFOUND") of a code; never NULL. */
const char *err_name(int code);
/* err_msg returns the human message of a code; never NULL. */
const char *err_msg(int code);

#endif
