/*
 * zim.cpp - the C interface to libzim (content/include/content/zim.h).
 *
 * The only C++ in the project.  Every entry point catches every exception
 * and turns it into a CS_E* code with a one-line message: nothing thrown by
 * libzim ever unwinds into C frames.  libzim reports some problems on
 * std::cerr (integrity checks) or as multi-line assertion texts with a
 * backtrace; both are captured and reduced to their first line.
 */
#include <zim/archive.h>
#include <zim/entry.h>
#include <zim/error.h>
#include <zim/item.h>

#include <sys/stat.h>

#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>

extern "C" {
#include "content/zim.h"
}

struct content_zim {
    std::unique_ptr<zim::Archive> archive;
    content_zim_limits limits;
};

namespace
{

/* The first non-empty line of a message, without "Assertion failed at"
 * source locations' backtraces. */
std::string first_line(const std::string &s)
{
    std::istringstream in(s);
    std::string line;
    while (std::getline(in, line)) {
        size_t a = line.find_first_not_of(" \t\r");
        if (a == std::string::npos)
            continue;
        line = line.substr(a);
        while (!line.empty() && (line.back() == '\r' || line.back() == ' '))
            line.pop_back();
        /* libzim's assertions: "Assertion failed at FILE:LINE" then the condition. */
        std::string cond;
        if (line.rfind("Assertion failed", 0) == 0 && std::getline(in, cond)) {
            size_t b = cond.find_first_not_of(" \t\r");
            if (b != std::string::npos)
                line = "internal check failed (" + cond.substr(b) + ")";
        }
        return line;
    }
    return "unknown error";
}

/* Send std::cerr to a string for the lifetime of the object. */
class CerrCapture
{
  public:
    CerrCapture() : old_(std::cerr.rdbuf(buf_.rdbuf()))
    {
    }
    ~CerrCapture()
    {
        std::cerr.rdbuf(old_);
    }
    std::string text() const
    {
        return buf_.str();
    }

  private:
    std::ostringstream buf_;
    std::streambuf *old_;
};

int fail(cs_err *err, int code, const char *what, const std::string &detail)
{
    return cs_err_set(err, code, "%s: %s", what, first_line(detail).c_str());
}

/* Old archives hold metadata (M/) and search indexes (X/) among entries. */
bool skipped_path(const zim::Archive &a, const std::string &path)
{
    if (a.hasNewNamespaceScheme())
        return false;
    return path.size() >= 2 && path[1] == '/' && (path[0] == 'M' || path[0] == 'X');
}

char *dup_string(const std::string &s)
{
    char *p = static_cast<char *>(std::malloc(s.size() + 1));
    if (p) {
        std::memcpy(p, s.data(), s.size());
        p[s.size()] = '\0';
    }
    return p;
}

struct EntryImpl {
    zim::Item item;
};

const struct {
    zim::IntegrityCheck check;
    const char *name;
} checks[] = {
    {zim::IntegrityCheck::CHECKSUM, "checksum"},
    {zim::IntegrityCheck::DIRENT_PTRS, "entry pointers"},
    {zim::IntegrityCheck::DIRENT_ORDER, "entry order"},
    /* Not TITLE_INDEX: the legacy v0 title listing, which nothing here reads;
     * libzim 8 fails archives that lack it (openZIM's noTitleListingV0 test
     * archive, which kiwix-serve serves). */
    {zim::IntegrityCheck::CLUSTER_PTRS, "cluster pointers"},
    {zim::IntegrityCheck::DIRENT_MIMETYPES, "MIME types of entries"},
};

} // namespace

extern "C" void content_zim_limits_default(content_zim_limits *l)
{
    l->max_entries = CONTENT_RESOURCE_MAX_FILES - 2; /* room for the titles file and the illustration */
    l->max_entry_size = 4ULL << 30;
}

extern "C" int content_zim_open(content_zim **out, const char *path,
                                const content_zim_limits *limits, cs_err *err)
{
    if (!out || !path)
        return cs_err_set(err, CS_EINVAL, "zim: no path");
    content_zim *z = nullptr;
    try {
        z = new content_zim();
        if (limits)
            z->limits = *limits;
        else
            content_zim_limits_default(&z->limits);
        struct stat sb;
        if (stat(path, &sb) != 0) {
            delete z;
            return cs_err_errno(err, path);
        }
        if (!S_ISREG(sb.st_mode)) {
            delete z;
            return cs_err_set(err, CS_EINVAL, "%s: not a regular file", path);
        }
        CerrCapture cap;
        try {
            z->archive.reset(new zim::Archive(path));
        } catch (const std::exception &e) {
            std::string what = e.what();
            delete z;
            return fail(err, CS_EFORMAT, (std::string(path) + ": not a valid ZIM archive").c_str(),
                        what);
        }
        for (const auto &c : checks) {
            bool ok = false;
            std::string detail;
            try {
                ok = z->archive->checkIntegrity(c.check);
            } catch (const std::exception &e) {
                detail = e.what();
            }
            if (!ok) {
                if (detail.empty())
                    detail = cap.text();
                std::string msg =
                    std::string(path) + ": not a valid ZIM archive (" + c.name + " check failed)";
                delete z;
                if (detail.empty())
                    return cs_err_set(err, CS_EFORMAT, "%s", msg.c_str());
                return fail(err, CS_EFORMAT, msg.c_str(), detail);
            }
        }
        *out = z;
        return 0;
    } catch (const std::bad_alloc &) {
        delete z;
        return cs_err_set(err, CS_ENOMEM, "zim: out of memory");
    } catch (const std::exception &e) {
        delete z;
        return fail(err, CS_EFORMAT, path, e.what());
    } catch (...) {
        delete z;
        return cs_err_set(err, CS_EFORMAT, "%s: unknown error from libzim", path);
    }
}

extern "C" void content_zim_free(content_zim *z)
{
    delete z;
}

extern "C" int content_zim_new_namespaces(const content_zim *z)
{
    try {
        return z && z->archive->hasNewNamespaceScheme() ? 1 : 0;
    } catch (...) {
        return 0;
    }
}

extern "C" int content_zim_metadata(content_zim *z, const char *name, char **out, cs_err *err)
{
    try {
        zim::Item item = z->archive->getMetadataItem(name);
        if (item.getSize() > CONTENT_ZIM_META_MAX)
            return cs_err_set(err, CS_ETOOBIG, "zim: metadata \"%s\" is larger than %d bytes", name,
                              CONTENT_ZIM_META_MAX);
        std::string v = item.getData();
        char *p = dup_string(v);
        if (!p)
            return cs_err_set(err, CS_ENOMEM, "zim: out of memory");
        *out = p;
        return 0;
    } catch (const zim::EntryNotFound &) {
        return cs_err_set(err, CS_ENOENT, "zim: no metadata \"%s\"", name);
    } catch (const std::bad_alloc &) {
        return cs_err_set(err, CS_ENOMEM, "zim: out of memory");
    } catch (const std::exception &e) {
        return fail(err, CS_EFORMAT, "zim: metadata", e.what());
    } catch (...) {
        return cs_err_set(err, CS_EFORMAT, "zim: unknown error reading metadata");
    }
}

extern "C" int content_zim_illustration(content_zim *z, uint8_t **out, size_t *len, cs_err *err)
{
    try {
        if (!z->archive->hasIllustration(48))
            return cs_err_set(err, CS_ENOENT, "zim: no illustration");
        zim::Item item = z->archive->getIllustrationItem(48);
        if (item.getSize() > CONTENT_ZIM_ILLUSTRATION_MAX)
            return cs_err_set(err, CS_ETOOBIG, "zim: illustration larger than %u bytes",
                              CONTENT_ZIM_ILLUSTRATION_MAX);
        zim::Blob b = item.getData();
        uint8_t *p = static_cast<uint8_t *>(std::malloc(b.size() ? b.size() : 1));
        if (!p)
            return cs_err_set(err, CS_ENOMEM, "zim: out of memory");
        std::memcpy(p, b.data(), b.size());
        *out = p;
        *len = b.size();
        return 0;
    } catch (const zim::EntryNotFound &) {
        return cs_err_set(err, CS_ENOENT, "zim: no illustration");
    } catch (const std::bad_alloc &) {
        return cs_err_set(err, CS_ENOMEM, "zim: out of memory");
    } catch (const std::exception &e) {
        return fail(err, CS_EFORMAT, "zim: illustration", e.what());
    } catch (...) {
        return cs_err_set(err, CS_EFORMAT, "zim: unknown error reading the illustration");
    }
}

extern "C" int content_zim_main_path(content_zim *z, char **out, cs_err *err)
{
    try {
        if (!z->archive->hasMainEntry())
            return cs_err_set(err, CS_ENOENT, "zim: no main page");
        zim::Item item = z->archive->getMainEntry().getItem(true);
        char *p = dup_string(item.getPath());
        if (!p)
            return cs_err_set(err, CS_ENOMEM, "zim: out of memory");
        *out = p;
        return 0;
    } catch (const zim::EntryNotFound &) {
        return cs_err_set(err, CS_ENOENT, "zim: no main page");
    } catch (const std::bad_alloc &) {
        return cs_err_set(err, CS_ENOMEM, "zim: out of memory");
    } catch (const std::exception &e) {
        return fail(err, CS_EFORMAT, "zim: main page", e.what());
    } catch (...) {
        return cs_err_set(err, CS_EFORMAT, "zim: unknown error reading the main page");
    }
}

extern "C" int content_zim_count(content_zim *z, uint64_t *out, cs_err *err)
{
    try {
        uint64_t n = 0;
        for (const zim::Entry &e : z->archive->iterByPath()) {
            if (skipped_path(*z->archive, e.getPath()))
                continue;
            if (++n > z->limits.max_entries)
                return cs_err_set(err, CS_ETOOBIG, "zim: more than %llu entries",
                                  (unsigned long long)z->limits.max_entries);
        }
        *out = n;
        return 0;
    } catch (const std::bad_alloc &) {
        return cs_err_set(err, CS_ENOMEM, "zim: out of memory");
    } catch (const std::exception &e) {
        return fail(err, CS_EFORMAT, "zim: listing entries", e.what());
    } catch (...) {
        return cs_err_set(err, CS_EFORMAT, "zim: unknown error listing entries");
    }
}

extern "C" int content_zim_foreach(content_zim *z, content_zim_entry_cb cb, void *ctx, cs_err *err)
{
    std::string where;
    try {
        uint64_t n = 0;
        for (const zim::Entry &e : z->archive->iterByPath()) {
            std::string path = e.getPath();
            if (skipped_path(*z->archive, path))
                continue;
            where = path;
            if (++n > z->limits.max_entries)
                return cs_err_set(err, CS_ETOOBIG, "zim: more than %llu entries",
                                  (unsigned long long)z->limits.max_entries);
            std::string title = e.getTitle(), target;
            EntryImpl impl{e.getItem(true)};
            if (e.isRedirect())
                target = impl.item.getPath();
            std::string mime = impl.item.getMimetype();
            uint64_t size = impl.item.getSize();
            if (size > z->limits.max_entry_size)
                return cs_err_set(err, CS_ETOOBIG,
                                  "zim: entry \"%s\" is %llu bytes, more than %llu", path.c_str(),
                                  (unsigned long long)size,
                                  (unsigned long long)z->limits.max_entry_size);
            content_zim_entry ce;
            ce.path = path.c_str();
            ce.title = title.c_str();
            ce.mime = mime.c_str();
            ce.size = size;
            ce.redirect = e.isRedirect() ? 1 : 0;
            ce.target = e.isRedirect() ? target.c_str() : nullptr;
            ce.impl = &impl;
            int rc = cb(ctx, &ce);
            if (rc != 0)
                return rc;
        }
        return 0;
    } catch (const std::bad_alloc &) {
        return cs_err_set(err, CS_ENOMEM, "zim: out of memory");
    } catch (const std::exception &e) {
        return fail(err, CS_EFORMAT, ("zim: entry \"" + where + "\"").c_str(), e.what());
    } catch (...) {
        return cs_err_set(err, CS_EFORMAT, "zim: unknown error at entry \"%s\"", where.c_str());
    }
}

extern "C" int content_zim_entry_read(const content_zim_entry *e, uint64_t off, void *dst,
                                      size_t len, size_t *got, cs_err *err)
{
    try {
        const EntryImpl *impl = static_cast<const EntryImpl *>(e->impl);
        uint64_t size = impl->item.getSize();
        *got = 0;
        if (off >= size || len == 0)
            return 0;
        uint64_t n = size - off < len ? size - off : len;
        zim::Blob b = impl->item.getData(zim::offset_type(off), zim::size_type(n));
        if (b.size() != n)
            return cs_err_set(err, CS_EFORMAT, "zim: entry \"%s\": short read", e->path);
        std::memcpy(dst, b.data(), n);
        *got = size_t(n);
        return 0;
    } catch (const std::bad_alloc &) {
        return cs_err_set(err, CS_ENOMEM, "zim: out of memory");
    } catch (const std::exception &ex) {
        return fail(err, CS_EFORMAT, (std::string("zim: entry \"") + e->path + "\"").c_str(),
                    ex.what());
    } catch (...) {
        return cs_err_set(err, CS_EFORMAT, "zim: unknown error reading \"%s\"", e->path);
    }
}
