/*
 * error.c - names, texts and detail for the project's error codes.
 */
#include "platform/error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const struct {
    int code;
    const char *name;
    const char *text;
} err_table[] = {
#define CS_X_ROW(name, value, text) {value, #name, text},
    CS_ERROR_LIST(CS_X_ROW)
#undef CS_X_ROW
};

const char *cs_err_name(int code)
{
    for (size_t i = 0; i < sizeof err_table / sizeof err_table[0]; i++)
        if (err_table[i].code == code)
            return err_table[i].name;
    return "CS_EUNKNOWN";
}

const char *cs_err_text(int code)
{
    for (size_t i = 0; i < sizeof err_table / sizeof err_table[0]; i++)
        if (err_table[i].code == code)
            return err_table[i].text;
    return "unknown error";
}

int cs_err_set(cs_err *err, int code, const char *fmt, ...)
{
    if (!err)
        return code;
    err->code = code;
    if (!fmt) {
        snprintf(err->msg, sizeof err->msg, "%s", cs_err_text(code));
        return code;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return code;
}

int cs_err_wrap(cs_err *err, const char *fmt, ...)
{
    if (!err)
        return CS_EINVAL;
    char prefix[CS_ERR_MSG_MAX], old[CS_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    old[sizeof old - 1] = '\0';
    snprintf(err->msg, sizeof err->msg, "%s: %s", prefix, old[0] ? old : cs_err_text(err->code));
    return err->code;
}

int cs_err_from_errno(int e)
{
    switch (e) {
    case 0:
        return CS_OK;
    case ENOMEM:
        return CS_ENOMEM;
    case ENOENT:
    case ENOTDIR:
        return CS_ENOENT;
    case ENOSPC:
    case EDQUOT:
    case EFBIG:
        return CS_ENOSPC;
    case EEXIST:
        return CS_EEXIST;
    case EINVAL:
        return CS_EINVAL;
    case EBUSY:
    case EWOULDBLOCK:
        return CS_EBUSY;
    case EINTR:
        return CS_EINTERRUPTED;
    default:
        return CS_EIO;
    }
}

int cs_err_errno(cs_err *err, const char *what)
{
    int e = errno;
    int code = cs_err_from_errno(e);
    if (code == CS_ENOSPC)
        return cs_err_set(err, code, "%s: no space left on device (free some space and retry)",
                          what);
    return cs_err_set(err, code, "%s: %s", what, strerror(e));
}

void cs_err_clear(cs_err *err)
{
    if (err) {
        err->code = 0;
        err->msg[0] = '\0';
    }
}
