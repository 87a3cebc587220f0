/*
 * error.h - the project's one error enum and the detail that travels with it.
 *
 * Functions return 0 on success or a negative CS_E* code, and fill a
 * caller-provided cs_err with a one-line human message.  Codes are only ever
 * added, never renumbered: the table below is the single source of names,
 * numbers and default texts.
 */
#ifndef PLATFORM_ERROR_H
#define PLATFORM_ERROR_H

#include <stddef.h>

#define CS_ERROR_LIST(X)                                                                           \
    X(CS_OK, 0, "ok")                                                                              \
    X(CS_ENOMEM, -1, "out of memory")                                                              \
    X(CS_EIO, -2, "input/output error")                                                            \
    X(CS_ENOENT, -3, "not found")                                                                  \
    X(CS_EINVAL, -4, "invalid argument")                                                           \
    X(CS_EFORMAT, -5, "malformed data")                                                            \
    X(CS_ETOOBIG, -6, "size limit exceeded")                                                       \
    X(CS_EHASH, -7, "hash mismatch")                                                               \
    X(CS_ESIG, -8, "signature check failed")                                                       \
    X(CS_EEXPIRED, -9, "metadata expired")                                                         \
    X(CS_EROLLBACK, -10, "version rollback refused")                                               \
    X(CS_ENOSPC, -11, "no space left on device")                                                   \
    X(CS_EDB, -12, "database error")                                                               \
    X(CS_ECRYPTO, -13, "cryptography error")                                                       \
    X(CS_EEXIST, -14, "already exists")                                                            \
    X(CS_ECORRUPT, -15, "stored data damaged")                                                     \
    X(CS_ENET, -16, "network error")                                                               \
    X(CS_EBUSY, -17, "busy or locked")                                                             \
    X(CS_EUNSUPPORTED, -18, "unsupported format version")                                          \
    X(CS_EINTERRUPTED, -19, "interrupted")                                                         \
    X(CS_ECONFIG, -20, "configuration error")                                                      \
    X(CS_ENOTREADY, -21, "not initialised")                                                        \
    X(CS_EAUTH, -22, "authentication failed")                                                      \
    X(CS_EPERM, -23, "not permitted")

enum {
#define CS_X_ENUM(name, value, text) name = value,
    CS_ERROR_LIST(CS_X_ENUM)
#undef CS_X_ENUM
};

#define CS_ERR_MSG_MAX 512

/* Error detail.  Filled by the function that failed; the caller that decides
 * what to do logs or prints it, once. */
typedef struct cs_err {
    int code;
    char msg[CS_ERR_MSG_MAX];
} cs_err;

/* Name ("CS_EHASH") and default text of a code; never NULL. */
const char *cs_err_name(int code);
const char *cs_err_text(int code);

/* Record code and a printf-style message in err (err may be NULL); returns
 * code, so callers can write `return cs_err_set(err, CS_EINVAL, "...")`. */
int cs_err_set(cs_err *err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Prefix the existing message with more context: "X: <old message>".  Returns
 * err->code, or CS_EINVAL when err is NULL: keep the code in a variable and
 * return that, never `return cs_err_wrap(...)`. */
int cs_err_wrap(cs_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Map an errno value to a code (ENOSPC -> CS_ENOSPC, ENOENT -> CS_ENOENT...). */
int cs_err_from_errno(int e);

/* Set err from errno with "what: strerror" detail; returns the code. */
int cs_err_errno(cs_err *err, const char *what);

void cs_err_clear(cs_err *err);

#endif
