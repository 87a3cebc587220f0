/*
 * priv.c - privilege drop (see priv.h).
 */
#include "platform/priv.h"

#include <errno.h>
#include <ftw.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int cs_priv_is_root(void)
{
    return geteuid() == 0;
}

int cs_priv_lookup(const char *user, uid_t *uid, gid_t *gid, cs_err *err)
{
    struct passwd pw, *res = NULL;
    char buf[4096];
    if (!user || !*user || getpwnam_r(user, &pw, buf, sizeof buf, &res) != 0 || !res)
        return cs_err_set(err, CS_ENOENT, "no user \"%s\" on this system", user ? user : "");
    *uid = res->pw_uid;
    *gid = res->pw_gid;
    return 0;
}

static uid_t chown_uid;
static gid_t chown_gid;

static int chown_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)flag;
    (void)ftw;
    if ((st->st_uid != chown_uid || st->st_gid != chown_gid) && lchown(p, chown_uid, chown_gid) != 0)
        return errno ? errno : EIO;
    return 0;
}

static int become(uid_t uid, gid_t gid, const char *name, cs_err *err)
{
    if (setgroups(1, &gid) != 0 || setgid(gid) != 0 || setuid(uid) != 0)
        return cs_err_errno(err, "dropping privileges");
    /* Irrevocable: root must be out of reach now. */
    if (uid != 0 && (setuid(0) == 0 || seteuid(0) == 0))
        return cs_err_set(err, CS_EPERM, "dropping privileges: root could be regained");
    (void)name;
    return 0;
}

int cs_priv_drop(const char *user, const char *path, cs_err *err)
{
    uid_t uid;
    gid_t gid;
    int rc;
    if (!cs_priv_is_root())
        return 0;
    if ((rc = cs_priv_lookup(user, &uid, &gid, err)) != 0)
        return rc;
    if (uid == 0)
        return 0; /* asked to stay root */
    if (path) {
        chown_uid = uid;
        chown_gid = gid;
        int e = nftw(path, chown_one, 16, FTW_PHYS);
        if (e != 0) {
            errno = e > 0 ? e : errno;
            return cs_err_errno(err, path);
        }
    }
    return become(uid, gid, user, err);
}

int cs_priv_become_owner(const char *path, cs_err *err)
{
    struct stat st;
    if (!cs_priv_is_root() || stat(path, &st) != 0 || st.st_uid == 0)
        return 0;
    struct passwd pw, *res = NULL;
    char buf[4096];
    gid_t gid = st.st_gid;
    if (getpwuid_r(st.st_uid, &pw, buf, sizeof buf, &res) == 0 && res)
        gid = res->pw_gid;
    return become(st.st_uid, gid, res ? res->pw_name : "?", err);
}
