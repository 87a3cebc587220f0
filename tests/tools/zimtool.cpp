/*
 * zimtool.cpp - libzim's own reading and writing, for the ZIM tests
 * (independent of content/zim.cpp: the tests compare cistern against it).
 *
 *   cistern-zimtool info FILE          entries, redirects, html, main, meta KEY VALUE
 *   cistern-zimtool list FILE          PATH TAB item|redirect TAB MIME TAB TITLE
 *   cistern-zimtool cat FILE PATH      an entry's bytes (redirects followed)
 *   cistern-zimtool make OUT EDITION   a small test archive (edition 1, 2, ...)
 *
 * "entries" counts what `hub add-zim` imports: every entry libzim lists by
 * path, less the metadata (M/) and search index (X/) namespaces of old
 * archives.
 */
#include <zim/archive.h>
#include <zim/entry.h>
#include <zim/item.h>
#include <zim/writer/creator.h>
#include <zim/writer/item.h>

#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>

namespace
{

bool skipped(const zim::Archive &a, const std::string &p)
{
    return !a.hasNewNamespaceScheme() && p.size() >= 2 && p[1] == '/' &&
           (p[0] == 'M' || p[0] == 'X');
}

int info(const char *file)
{
    zim::Archive a(file);
    unsigned long n = 0, redirects = 0, html = 0;
    for (const zim::Entry &e : a.iterByPath()) {
        if (skipped(a, e.getPath()))
            continue;
        n++;
        if (e.isRedirect())
            redirects++;
        else if (e.getItem().getMimetype().rfind("text/html", 0) == 0)
            html++;
    }
    std::cout << "entries\t" << n << "\nredirects\t" << redirects << "\nhtml\t" << html << "\n";
    if (a.hasMainEntry())
        std::cout << "main\t" << a.getMainEntry().getItem(true).getPath() << "\n";
    for (const char *k :
         {"Title", "Description", "Language", "Creator", "Publisher", "Date", "Tags", "Name"}) {
        try {
            std::cout << "meta\t" << k << "\t" << a.getMetadata(k) << "\n";
        } catch (const std::exception &) {
        }
    }
    std::cout << "illustration\t" << (a.hasIllustration(48) ? 1 : 0) << "\n";
    return 0;
}

int list(const char *file)
{
    zim::Archive a(file);
    for (const zim::Entry &e : a.iterByPath()) {
        if (skipped(a, e.getPath()))
            continue;
        std::cout << e.getPath() << "\t" << (e.isRedirect() ? "redirect" : "item") << "\t"
                  << e.getItem(true).getMimetype() << "\t" << e.getTitle();
        if (e.isRedirect())
            std::cout << "\t" << e.getItem(true).getPath();
        std::cout << "\n";
    }
    return 0;
}

int cat(const char *file, const char *path)
{
    zim::Archive a(file);
    zim::Blob b = a.getEntryByPath(path).getItem(true).getData();
    std::fwrite(b.data(), 1, b.size(), stdout);
    return 0;
}

std::string page(const std::string &title, const std::string &body)
{
    return "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" + title +
           "</title><link rel=\"stylesheet\" href=\"style.css\"></head><body><h1>" + title +
           "</h1>" + body + "</body></html>\n";
}

/* Deterministic bytes (an "image" that does not compress). */
std::string noise(size_t n, unsigned seed)
{
    std::string s(n, '\0');
    unsigned x = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        s[i] = char(x & 0xff);
    }
    return s;
}

int make(const char *out, int edition)
{
    using zim::writer::StringItem;
    zim::writer::Hints front{{zim::writer::FRONT_ARTICLE, 1}};
    zim::writer::Creator c;
    c.configVerbose(false).configIndexing(false, "eng").configClusterSize(64 * 1024);
    c.startZimCreation(out);
    auto add = [&](const std::string &path, const std::string &mime, const std::string &title,
                   const std::string &content, bool article) {
        c.addItem(
            StringItem::create(path, mime, title, article ? front : zim::writer::Hints(), content));
    };
    add("index.html", "text/html", "Science for schools",
        page("Science for schools",
             "<ul><li><a href=\"Photosynthesis.html\">Photosynthesis</a></li>"
             "<li><a href=\"Water_cycle.html\">Water cycle</a></li>"
             "<li><a href=\"Topic/Sub\">Sub topic</a></li></ul><img src=\"img/leaf.png\">"),
        true);
    add("Photosynthesis.html", "text/html", "Photosynthesis",
        page("Photosynthesis", "<p>Plants turn light, water and carbon dioxide into sugar.</p>"
                               "<img src=\"img/leaf.png\">"),
        true);
    /* A long page that does not compress much, one sentence of which
     * changes between editions: the update must travel as a small delta. */
    std::string cycle;
    for (int i = 0; i < 3000; i++) {
        std::string tag;
        for (unsigned char ch : noise(12, unsigned(i) + 100))
            tag += "0123456789abcdef"[ch & 15];
        cycle += "<p>Paragraph " + std::to_string(i) + " [" + tag +
                 "]: water evaporates and falls as rain" +
                 (i == 1500 ? " (edition " + std::to_string(edition) + ")" : "") + ".</p>\n";
    }
    add("Water_cycle.html", "text/html", "Water cycle", page("Water cycle", cycle), true);
    add("光合作用.html", "text/html", "光合作用",
        page("光合作用", "<p>植物利用光能把水和二氧化碳变成糖。</p>"), true);
    add("Topic", "text/html", "Topic overview",
        page("Topic overview", "<a href=\"Topic/Sub\">sub</a>"), true);
    add("Topic/Sub", "text/html", "Topic sub page",
        page("Topic sub page", "<a href=\"../Topic\">up</a>"), true);
    add("img/leaf.png", "image/png", "leaf.png", noise(20000, 7), false);
    add("style.css", "text/css", "style.css", "body { font-family: sans-serif; }\n", false);
    if (edition >= 2)
        add("Rain.html", "text/html", "Rain",
            page("Rain", "<p>Rain is water falling from clouds.</p>"), true);
    c.addRedirection("Light_reaction.html", "Light reaction", "Photosynthesis.html", front);
    c.addRedirection("wiki/Sugar_factory.html", "Sugar factory", "Photosynthesis.html", front);
    c.addMetadata("Title", "Cistern test archive");
    c.addMetadata("Description", "A tiny archive for tests");
    c.addMetadata("Language", "eng");
    c.addMetadata("Creator", "Cistern");
    c.addMetadata("Publisher", "Cistern Developers");
    c.addMetadata("Date", "2024-0" + std::to_string(edition) + "-01");
    c.addMetadata("Name", "cistern_test_archive");
    c.addMetadata("Tags", "test;science;_ftindex:no");
    c.addIllustration(48, noise(300, 3));
    c.setMainPath("index.html");
    c.finishZimCreation();
    return 0;
}

} // namespace

int main(int argc, char **argv)
{
    try {
        if (argc == 3 && std::strcmp(argv[1], "info") == 0)
            return info(argv[2]);
        if (argc == 3 && std::strcmp(argv[1], "list") == 0)
            return list(argv[2]);
        if (argc == 4 && std::strcmp(argv[1], "cat") == 0)
            return cat(argv[2], argv[3]);
        if (argc == 4 && std::strcmp(argv[1], "make") == 0)
            return make(argv[2], std::atoi(argv[3]));
    } catch (const std::exception &e) {
        std::cerr << "cistern-zimtool: " << e.what() << "\n";
        return 1;
    }
    std::cerr << "usage: cistern-zimtool info|list FILE | cat FILE PATH | make OUT EDITION\n";
    return 2;
}
