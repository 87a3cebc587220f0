#!/usr/bin/env python3
"""check.py - sanity-check the Cistern sample source trees (stdlib only).

    python3 samples/check.py            # checks v1, v2 and bad/, prints a table

Checks every resource of v1/ and v2/ (resource.json fields and types, id equals
its folder and uses [a-z0-9-], entry exists, prerequisites exist in the same
tree, zh+en titles, no external URLs in HTML/CSS, relative links resolve inside
the package, media signatures, MP4 "faststart"), the v1 -> v2 changes, the
size limit, and that each tree under bad/ has exactly the one defect it claims.
Exits non-zero on the first class of failure, with the reasons printed.
"""
import json
import os
import re
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TYPES = {"video", "audio", "document", "html", "exercise", "image"}
ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
REQUIRED = ["id", "title", "description", "language", "subject", "grades", "edition",
            "volume", "unit", "type", "entry", "license", "publisher", "keywords",
            "prerequisites"]
problems = []


def fail(msg):
    problems.append(msg)


def validate(folder, name):
    """Return a list of problems for one resource folder (used for good and bad trees)."""
    out = []
    path = os.path.join(folder, "resource.json")
    if not os.path.isfile(path):
        return ["missing resource.json"]
    raw = open(path, "rb").read()
    try:
        meta = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        return ["invalid JSON: %s" % e]
    if not isinstance(meta, dict):
        return ["resource.json is not an object"]
    for k in REQUIRED:
        if k not in meta:
            out.append("missing field %s" % k)
    rid = meta.get("id")
    if not isinstance(rid, str) or not ID_RE.match(rid) or ".." in rid or "/" in rid:
        out.append("bad id %r" % (rid,))
    if rid != name:
        out.append("id %r != folder %r" % (rid, name))
    for k in ("title", "description"):
        v = meta.get(k)
        if not isinstance(v, dict) or not v or not all(isinstance(x, str) and x for x in v.values()):
            out.append("%s must be an object of non-empty strings" % k)
    g = meta.get("grades")
    if not isinstance(g, list) or not all(isinstance(x, int) and not isinstance(x, bool) and 0 <= x <= 13 for x in g):
        out.append("grades must be an array of integers, got %r" % (g,))
    for k in ("edition", "volume", "unit"):
        if k in meta and not isinstance(meta[k], (str, int)):
            out.append("%s must be string or integer" % k)
    if meta.get("type") not in TYPES:
        out.append("bad type %r" % (meta.get("type"),))
    for k in ("keywords", "prerequisites"):
        if not isinstance(meta.get(k), list) or not all(isinstance(x, str) for x in meta.get(k, [])):
            out.append("%s must be an array of strings" % k)
    entry = meta.get("entry")
    if not isinstance(entry, str) or entry.startswith("/") or ".." in entry.split("/") \
            or not os.path.isfile(os.path.join(folder, entry)):
        out.append("entry %r is not a file in the folder" % (entry,))
    return out


def html_checks(folder, rid):
    for dp, _, fs in os.walk(folder):
        for f in fs:
            p = os.path.join(dp, f)
            if not f.endswith((".html", ".css")):
                continue
            text = open(p, encoding="utf-8").read()
            if re.search(r"""(src|href|url|@import)\s*[=(]?\s*["']?\s*(https?:|ftp:)?//""", text, re.I):
                fail("%s/%s loads an external URL" % (rid, f))
            if re.search(r"https?://", text):
                fail("%s/%s mentions an http(s) URL" % (rid, f))
            for ref in re.findall(r"""(?:src|href)\s*=\s*["']([^"'#]+)["']""", text):
                if ref.startswith(("data:", "mailto:")):
                    continue
                target = os.path.normpath(os.path.join(dp, ref))
                if not target.startswith(folder + os.sep) or not os.path.isfile(target):
                    fail("%s/%s links to missing or outside file %r" % (rid, f, ref))


def media_checks(p, rid):
    data = open(p, "rb").read()
    ext = p.rsplit(".", 1)[-1].lower()
    if ext == "png" and not data.startswith(b"\x89PNG\r\n\x1a\n"):
        fail("%s: %s is not a PNG" % (rid, p))
    if ext == "pdf":
        if not data.startswith(b"%PDF-1.") or b"startxref" not in data[-64:] or not data.rstrip().endswith(b"%%EOF"):
            fail("%s: %s is not a well-formed PDF" % (rid, p))
        off = int(data[data.rindex(b"startxref") + 9:].split()[0])
        if not data[off:].startswith(b"xref"):
            fail("%s: %s startxref does not point at xref" % (rid, p))
    if ext == "ogg" and not data.startswith(b"OggS"):
        fail("%s: %s is not Ogg" % (rid, p))
    if ext == "mp3" and not (data.startswith(b"ID3") or data[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2")):
        fail("%s: %s is not MP3" % (rid, p))
    if ext == "mp4":
        i, boxes = 0, []
        while i + 8 <= len(data):
            size, kind = struct.unpack(">I4s", data[i:i + 8])
            boxes.append(kind.decode("latin-1"))
            if size == 1:
                size = struct.unpack(">Q", data[i + 8:i + 16])[0]
            if size < 8:
                break
            i += size
        if "moov" not in boxes or "mdat" not in boxes or boxes.index("moov") > boxes.index("mdat"):
            fail("%s: %s is not faststart (boxes %s)" % (rid, p, boxes))


def tree_size(root):
    return sum(os.path.getsize(os.path.join(dp, f)) for dp, _, fs in os.walk(root) for f in fs)


def check_tree(name):
    root = os.path.join(HERE, name)
    rows, ids, metas = [], set(), {}
    for rid in sorted(os.listdir(root)):
        folder = os.path.join(root, rid)
        if not os.path.isdir(folder):
            fail("%s: stray top-level file %s" % (name, rid))
            continue
        errs = validate(folder, rid)
        for e in errs:
            fail("%s/%s: %s" % (name, rid, e))
        if errs:
            continue
        meta = json.load(open(os.path.join(folder, "resource.json"), encoding="utf-8"))
        ids.add(rid)
        metas[rid] = meta
        if set(meta["title"]) != {"zh", "en"} or set(meta["description"]) != {"zh", "en"}:
            fail("%s/%s: title/description must have zh and en" % (name, rid))
        if meta["license"] != "CC0-1.0" or meta["publisher"] != "Cistern sample content":
            fail("%s/%s: license/publisher" % (name, rid))
        html_checks(folder, rid)
        for dp, _, fs in os.walk(folder):
            for f in fs:
                media_checks(os.path.join(dp, f), rid)
        rows.append((rid, meta["type"], meta["title"]["zh"], meta["title"]["en"], tree_size(folder)))
    for rid, meta in metas.items():
        for pre in meta["prerequisites"]:
            if pre not in ids:
                fail("%s/%s: prerequisite %s not in tree" % (name, rid, pre))
    size = tree_size(root)
    if size >= 1024 * 1024:
        fail("%s is %d bytes (limit 1 MB)" % (name, size))
    return rows, metas, size


def main():
    out = {}
    for name in ("v1", "v2"):
        rows, metas, size = check_tree(name)
        out[name] = metas
        print("== %s: %d resources, %d bytes" % (name, len(rows), size))
        for rid, typ, zh, en, sz in rows:
            print("  %-36s %-9s %7d  %s | %s" % (rid, typ, sz, zh, en))
    v1, v2 = out["v1"], out["v2"]
    if len(v1) != 12:
        fail("v1 should have 12 resources, has %d" % len(v1))
    types = {m["type"] for m in v1.values()}
    if types != TYPES:
        fail("v1 types %s != %s" % (sorted(types), sorted(TYPES)))
    if not any(k.startswith("x-") for m in v1.values() for k in m):
        fail("no resource carries an unknown x- field")
    # v1 -> v2 differences
    added, removed = sorted(set(v2) - set(v1)), sorted(set(v1) - set(v2))
    changed = []
    for rid in sorted(set(v1) & set(v2)):
        a, b = os.path.join(HERE, "v1", rid), os.path.join(HERE, "v2", rid)
        fa = {os.path.relpath(os.path.join(dp, f), a) for dp, _, fs in os.walk(a) for f in fs}
        fb = {os.path.relpath(os.path.join(dp, f), b) for dp, _, fs in os.walk(b) for f in fs}
        for f in sorted(fa | fb):
            pa, pb = os.path.join(a, f), os.path.join(b, f)
            if not (os.path.isfile(pa) and os.path.isfile(pb)) or open(pa, "rb").read() != open(pb, "rb").read():
                changed.append("%s/%s" % (rid, f))
    print("== v1 -> v2: added %s, removed %s, changed %s" % (added, removed, changed))
    if added != ["math-g8-pythagorean-quiz"] or removed != ["music-g2-do-re-mi"] or changed != [
            "geography-g8-great-wall-map/great-wall.png", "science-g5-water-cycle/index.html"]:
        fail("unexpected v1 -> v2 changes")
    # bad trees: exactly one failing resource each, with the expected kind of problem
    expect = {"missing-json": "missing resource.json", "bad-json": "invalid JSON",
              "bad-field": "grades must be", "bad-entry": "entry", "bad-id": "!= folder",
              "bad-id-traversal": "bad id"}
    bad = os.path.join(HERE, "bad")
    for tree in sorted(os.listdir(bad)):
        root = os.path.join(bad, tree)
        if not os.path.isfile(os.path.join(root, "README.txt")):
            fail("bad/%s has no README.txt" % tree)
        failing = {}
        for rid in sorted(os.listdir(root)):
            if os.path.isdir(os.path.join(root, rid)):
                errs = validate(os.path.join(root, rid), rid)
                if errs:
                    failing[rid] = errs
        ok = len(failing) == 1 and any(expect.get(tree, "?") in e for e in list(failing.values())[0])
        print("== bad/%-17s %s %s" % (tree, "ok  " if ok else "FAIL", failing))
        if not ok:
            fail("bad/%s does not fail as expected" % tree)
    if problems:
        print("\nPROBLEMS:\n  " + "\n  ".join(problems))
        return 1
    print("\nall checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
