/*
 * hub_manifest.c - a resource folder's file list, when its files cannot be
 * laid out on disk under their own names (`cistern hub add-zim`).
 *
 * SOURCE_DIR/<id>/resource.files, UTF-8 text (docs/repository.md):
 *
 *   line 1   "cistern-files 1"                          magic and version
 *   then     PATH '\t' MIME '\t' DISK '\n'              one per file
 *
 * PATH is the file's path in the resource (content_path_valid), MIME its
 * type (1..255 printable ASCII bytes), DISK the file holding its bytes,
 * relative to the resource folder (content_path_valid, a regular file; many
 * PATHs may share one DISK).  With a manifest, only the files it lists are
 * published, so a ZIM archive's "Foo" and "Foo/Bar", a name the file system
 * refuses, or a MIME type no extension tells, are all possible.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "content/resource.h"
#include "hub_int.h"

#define MANIFEST_MAGIC "cistern-files 1"
#define MANIFEST_LINE_MAX (2 * CONTENT_PATH_MAX + 300)

void hub_manifest_free(hub_mfile *f, size_t n)
{
    for (size_t i = 0; f && i < n; i++) {
        free(f[i].path);
        free(f[i].mime);
        free(f[i].disk);
    }
    free(f);
}

static int cmp_mfile(const void *a, const void *b)
{
    return strcmp(((const hub_mfile *)a)->path, ((const hub_mfile *)b)->path);
}

static int mime_ok(const char *m)
{
    size_t n = strlen(m);
    if (n == 0 || n > 255)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (m[i] < 0x20 || m[i] > 0x7e)
            return 0;
    return 1;
}

int hub_manifest_read(const char *dir, hub_mfile **out, size_t *nout, cs_err *err)
{
    char mpath[PATH_MAX];
    hub_mfile *v = NULL;
    size_t n = 0, cap = 0, lineno = 0;
    char *line = NULL;
    size_t lcap = 0;
    ssize_t len;
    int rc = 0;

    if (snprintf(mpath, sizeof mpath, "%s/%s", dir, HUB_MANIFEST) >= (int)sizeof mpath)
        return cs_err_set(err, CS_ETOOBIG, "%s: path too long", dir);
    FILE *f = fopen(mpath, "re");
    if (!f)
        return errno == ENOENT ? CS_ENOENT : cs_err_errno(err, mpath);
    while ((len = getline(&line, &lcap, f)) >= 0) {
        lineno++;
        if (len > MANIFEST_LINE_MAX) {
            rc = cs_err_set(err, CS_ETOOBIG, "%s: line %zu is longer than %d bytes", mpath, lineno,
                            MANIFEST_LINE_MAX);
            break;
        }
        if (len > 0 && line[len - 1] == '\n')
            line[--len] = '\0';
        if ((size_t)len != strlen(line)) {
            rc = cs_err_set(err, CS_EFORMAT, "%s: line %zu holds a NUL byte", mpath, lineno);
            break;
        }
        if (lineno == 1) {
            if (strcmp(line, MANIFEST_MAGIC) != 0) {
                rc = cs_err_set(err, CS_EFORMAT, "%s: the first line must be \"%s\"", mpath,
                                MANIFEST_MAGIC);
                break;
            }
            continue;
        }
        if (len == 0)
            continue;
        char *t1 = strchr(line, '\t'), *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
        if (!t1 || !t2 || strchr(t2 + 1, '\t')) {
            rc = cs_err_set(err, CS_EFORMAT,
                            "%s: line %zu: expected PATH, MIME and DISK separated by tabs", mpath,
                            lineno);
            break;
        }
        *t1 = *t2 = '\0';
        const char *path = line, *mime = t1 + 1, *disk = t2 + 1;
        if (!content_path_valid(path)) {
            rc = cs_err_set(err, CS_EINVAL, "%s: line %zu: \"%s\" is not an allowed file path",
                            mpath, lineno, path);
            break;
        }
        if (!mime_ok(mime)) {
            rc = cs_err_set(err, CS_EINVAL, "%s: line %zu: bad MIME type", mpath, lineno);
            break;
        }
        if (!content_path_valid(disk) || strcmp(disk, "resource.json") == 0 ||
            strcmp(disk, HUB_MANIFEST) == 0) {
            rc = cs_err_set(err, CS_EINVAL, "%s: line %zu: \"%s\" is not an allowed disk file",
                            mpath, lineno, disk);
            break;
        }
        char full[PATH_MAX];
        struct stat st;
        if (snprintf(full, sizeof full, "%s/%s", dir, disk) >= (int)sizeof full) {
            rc = cs_err_set(err, CS_ETOOBIG, "%s: line %zu: path too long", mpath, lineno);
            break;
        }
        if (lstat(full, &st) != 0) {
            rc = cs_err_errno(err, full);
            break;
        }
        if (!S_ISREG(st.st_mode)) {
            rc =
                cs_err_set(err, CS_EINVAL,
                           "%s: not a regular file (symbolic links and devices are refused)", full);
            break;
        }
        if (n >= CONTENT_RESOURCE_MAX_FILES) {
            rc = cs_err_set(err, CS_ETOOBIG, "%s: more than %d files", mpath,
                            CONTENT_RESOURCE_MAX_FILES);
            break;
        }
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 64;
            hub_mfile *nv = realloc(v, nc * sizeof *nv);
            if (!nv) {
                rc = cs_err_set(err, CS_ENOMEM, "out of memory");
                break;
            }
            v = nv;
            cap = nc;
        }
        v[n].path = strdup(path);
        v[n].mime = strdup(mime);
        content_mime_lower(v[n].mime); /* "Text/HTML" is text/html: the server compares as stored */
        v[n].disk = strdup(disk);
        v[n].size = (uint64_t)st.st_size;
        n++;
        if (!v[n - 1].path || !v[n - 1].mime || !v[n - 1].disk) {
            rc = cs_err_set(err, CS_ENOMEM, "out of memory");
            break;
        }
    }
    if (rc == 0 && ferror(f))
        rc = cs_err_errno(err, mpath);
    if (rc == 0 && lineno == 0)
        rc = cs_err_set(err, CS_EFORMAT, "%s: empty (the first line must be \"%s\")", mpath,
                        MANIFEST_MAGIC);
    fclose(f);
    free(line);
    if (rc == 0 && n > 1) {
        qsort(v, n, sizeof *v, cmp_mfile);
        for (size_t i = 1; i < n; i++)
            if (strcmp(v[i - 1].path, v[i].path) == 0) {
                rc = cs_err_set(err, CS_EINVAL, "%s: \"%s\" is listed twice", mpath, v[i].path);
                break;
            }
    }
    if (rc) {
        hub_manifest_free(v, n);
        return rc;
    }
    *out = v;
    *nout = n;
    return 0;
}
