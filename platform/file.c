/*
 * file.c - atomic replacement, full reads and writes, fsync helpers, and the
 * write-failure hook used by full-disk tests.
 */
#include "platform/file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Test instrumentation only: bytes that may still be written before writes
 * fail with ENOSPC; -1 = unlimited; -2 = not yet read from the environment. */
static _Atomic int64_t fail_budget = -2;

void cs_file_fail_after(int64_t budget)
{
    atomic_store(&fail_budget, budget < 0 ? -1 : budget);
}

int cs_file_write_check(size_t len)
{
    int64_t b = atomic_load(&fail_budget);
    if (b == -2) {
        const char *env = getenv("CISTERN_FAIL_WRITES_AFTER");
        int64_t v = env && *env ? strtoll(env, NULL, 10) : -1;
        int64_t expect = -2;
        atomic_compare_exchange_strong(&fail_budget, &expect, v < 0 ? -1 : v);
        b = atomic_load(&fail_budget);
    }
    if (b < 0)
        return 0;
    for (;;) {
        if ((uint64_t)b < len) {
            atomic_store(&fail_budget, 0);
            errno = ENOSPC;
            return -1;
        }
        if (atomic_compare_exchange_weak(&fail_budget, &b, b - (int64_t)len))
            return 0;
        if (b < 0)
            return 0;
    }
}

int cs_write_full(int fd, const void *buf, size_t len, cs_err *err)
{
    const uint8_t *p = buf;
    if (cs_file_write_check(len) != 0)
        return cs_err_errno(err, "write");
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return cs_err_errno(err, "write");
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int cs_pwrite_full(int fd, const void *buf, size_t len, uint64_t off, cs_err *err)
{
    const uint8_t *p = buf;
    if (cs_file_write_check(len) != 0)
        return cs_err_errno(err, "write");
    while (len > 0) {
        ssize_t n = pwrite(fd, p, len, (off_t)off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return cs_err_errno(err, "write");
        }
        p += n;
        len -= (size_t)n;
        off += (uint64_t)n;
    }
    return 0;
}

int cs_pread_full(int fd, void *buf, size_t len, uint64_t off, cs_err *err)
{
    uint8_t *p = buf;
    while (len > 0) {
        ssize_t n = pread(fd, p, len, (off_t)off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return cs_err_errno(err, "read");
        }
        if (n == 0)
            return cs_err_set(err, CS_EFORMAT, "unexpected end of file at offset %llu",
                              (unsigned long long)off);
        p += n;
        len -= (size_t)n;
        off += (uint64_t)n;
    }
    return 0;
}

int cs_fsync(int fd, cs_err *err)
{
    if (fsync(fd) != 0)
        return cs_err_errno(err, "fsync");
    return 0;
}

int cs_fsync_dir(const char *dir, cs_err *err)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return cs_err_errno(err, dir);
    int rc = 0;
    if (fsync(fd) != 0)
        rc = cs_err_errno(err, dir);
    close(fd);
    return rc;
}

int cs_fsync_parent(const char *path, cs_err *err)
{
    char dir[PATH_MAX];
    size_t n = strlen(path);
    if (n >= sizeof dir)
        return cs_err_set(err, CS_ETOOBIG, "path too long");
    memcpy(dir, path, n + 1);
    char *slash = strrchr(dir, '/');
    if (!slash)
        return cs_fsync_dir(".", err);
    if (slash == dir)
        slash[1] = '\0';
    else
        *slash = '\0';
    return cs_fsync_dir(dir, err);
}

int cs_file_write_atomic(const char *path, const void *buf, size_t len, int mode, cs_err *err)
{
    char tmp[PATH_MAX];
    const char *slash = strrchr(path, '/');
    int n;
    if (slash)
        n = snprintf(tmp, sizeof tmp, "%.*s/.%s.tmp.XXXXXX", (int)(slash - path), path, slash + 1);
    else
        n = snprintf(tmp, sizeof tmp, ".%s.tmp.XXXXXX", path);
    if (n < 0 || (size_t)n >= sizeof tmp)
        return cs_err_set(err, CS_ETOOBIG, "path too long: %s", path);
    int fd = mkstemp(tmp);
    if (fd < 0)
        return cs_err_errno(err, path);
    int rc = 0;
    if (fchmod(fd, (mode_t)mode) != 0) {
        rc = cs_err_errno(err, tmp);
        goto fail;
    }
    if ((rc = cs_write_full(fd, buf, len, err)) != 0) {
        cs_err_wrap(err, "%s", path);
        goto fail;
    }
    if ((rc = cs_fsync(fd, err)) != 0)
        goto fail;
    if (close(fd) != 0) {
        fd = -1;
        rc = cs_err_errno(err, tmp);
        goto fail;
    }
    fd = -1;
    if (rename(tmp, path) != 0) {
        rc = cs_err_errno(err, path);
        goto fail;
    }
    return cs_fsync_parent(path, err);
fail:
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    return rc;
}

int cs_file_read_all(const char *path, size_t max, char **out, size_t *out_len, cs_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return cs_err_errno(err, path);
    struct stat st;
    int rc = 0;
    char *buf = NULL;
    if (fstat(fd, &st) != 0) {
        rc = cs_err_errno(err, path);
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = cs_err_set(err, CS_EINVAL, "%s: not a regular file", path);
        goto out;
    }
    if ((uint64_t)st.st_size > max) {
        rc = cs_err_set(err, CS_ETOOBIG, "%s: %lld bytes, over the limit of %zu", path,
                        (long long)st.st_size, max);
        goto out;
    }
    size_t len = (size_t)st.st_size;
    buf = malloc(len + 1);
    if (!buf) {
        rc = cs_err_set(err, CS_ENOMEM, "out of memory reading %s", path);
        goto out;
    }
    if (len && (rc = cs_pread_full(fd, buf, len, 0, err)) != 0) {
        cs_err_wrap(err, "%s", path);
        goto out;
    }
    buf[len] = '\0';
    *out = buf;
    buf = NULL;
    if (out_len)
        *out_len = len;
out:
    free(buf);
    close(fd);
    return rc;
}

int cs_mkdirs(const char *path, int mode, cs_err *err)
{
    char p[PATH_MAX];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof p)
        return cs_err_set(err, CS_EINVAL, "bad directory path");
    memcpy(p, path, n + 1);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, (mode_t)mode) != 0 && errno != EEXIST)
            return cs_err_errno(err, p);
        *s = '/';
    }
    if (mkdir(p, (mode_t)mode) != 0 && errno != EEXIST)
        return cs_err_errno(err, p);
    return 0;
}

int cs_path_exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

int cs_path_join(char *buf, size_t cap, const char *a, const char *b)
{
    int n = snprintf(buf, cap, "%s/%s", a, b);
    if (n < 0 || (size_t)n >= cap)
        return CS_ETOOBIG;
    return 0;
}
