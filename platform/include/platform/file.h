/*
 * file.h - files that survive power cuts.
 *
 * cs_file_write_atomic: write to DIR/.NAME.tmp.XXXXXX, fsync it, rename over
 * NAME, fsync the directory.  Readers see the old bytes or the new, never a
 * mix.  A failure-injection hook (tests only) makes writes fail with ENOSPC
 * after a byte budget, so full-disk paths can be exercised without a small
 * filesystem.
 */
#ifndef PLATFORM_FILE_H
#define PLATFORM_FILE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "platform/error.h"

int cs_file_write_atomic(const char *path, const void *buf, size_t len, int mode, cs_err *err);

/* Read a whole file, refusing files larger than max.  *out is malloc'd and
 * NUL-terminated (not counted in *out_len); caller frees. */
int cs_file_read_all(const char *path, size_t max, char **out, size_t *out_len, cs_err *err);

/* Full-length pread/pwrite/write that retry on EINTR and short counts.
 * Return 0 or a CS_E code with detail (CS_EFORMAT on unexpected EOF). */
int cs_pread_full(int fd, void *buf, size_t len, uint64_t off, cs_err *err);
int cs_pwrite_full(int fd, const void *buf, size_t len, uint64_t off, cs_err *err);
int cs_write_full(int fd, const void *buf, size_t len, cs_err *err);

/* fsync a file and (for cs_fsync_dir) a directory by path. */
int cs_fsync(int fd, cs_err *err);
int cs_fsync_dir(const char *dir, cs_err *err);
/* fsync the directory that holds path. */
int cs_fsync_parent(const char *path, cs_err *err);

/* mkdir -p with the given mode; existing directories are fine. */
int cs_mkdirs(const char *path, int mode, cs_err *err);

/* Does path exist (any type)? */
int cs_path_exists(const char *path);

/* Join into buf; returns CS_ETOOBIG if it does not fit. */
int cs_path_join(char *buf, size_t cap, const char *a, const char *b);

/* Test hook: after `budget` more bytes written through cs_*write* functions,
 * every write fails with ENOSPC.  budget < 0 disables (the default).  Also set
 * from the environment variable CISTERN_FAIL_WRITES_AFTER at first use.
 * This is process-wide test instrumentation, not configuration. */
void cs_file_fail_after(int64_t budget);
/* Returns 0, or -1 with errno=ENOSPC if the injected budget is exhausted.
 * Modules that write with their own syscalls call this first. */
int cs_file_write_check(size_t len);

#endif
