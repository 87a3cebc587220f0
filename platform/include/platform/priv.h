/*
 * priv.h - running with the least privilege.
 *
 * A daemon started as root (to bind port 80) binds first, then becomes an
 * unprivileged user before it touches any outside input; commands run by
 * root on a data directory that belongs to another user become that user,
 * so every file in it keeps one owner.
 */
#ifndef PLATFORM_PRIV_H
#define PLATFORM_PRIV_H

#include <sys/types.h>

#include "platform/error.h"

/* 1 when the process runs as root. */
int cs_priv_is_root(void);

/* Look up user; CS_ENOENT when there is none. */
int cs_priv_lookup(const char *user, uid_t *uid, gid_t *gid, cs_err *err);

/* As root: make everything under path owned by user (what is already is
 * left alone; symbolic links are not followed), then drop to user: its
 * groups, gid and uid, checked to be irrevocable.  Not root: nothing. */
int cs_priv_drop(const char *user, const char *path, cs_err *err);

/* As root, when path belongs to another user: become that user (as
 * cs_priv_drop, without changing ownership).  Otherwise nothing. */
int cs_priv_become_owner(const char *path, cs_err *err);

#endif
