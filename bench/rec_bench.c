/*
 * rec_bench.c - `cistern-rec-bench`: the recommender at school-node scale
 * (bench/recommend.sh drives it; not part of the tests).
 *
 *   cistern-rec-bench [-i ITEMS] [-e EVENTS] [-l LEARNERS] [-r REQUESTS] [-s SEED]
 *
 * Generates, deterministically (xorshift, fixed seed), a K-12 catalogue of
 * ITEMS items (default 130,000: 13 subjects x grades 1-12 x 2 editions x 2
 * volumes, units of ~10 items, each item needing one item of the unit
 * before, zh/en/bo) and EVENTS events (default 1,000,000) from LEARNERS
 * learners (default 20,000): each mostly walks its grade's sequences in
 * order, sometimes opens a popular item of its bucket (Zipf), sometimes
 * anything of its grade.  Then:
 *   ingest   node_rec_model_event_add for every event
 *   snapshot node_rec_model_snapshot (what the daemon does under its lock)
 *   rebuild  node_rec_snapshot_build (kNN neighbours, lists)
 *   requests REQUESTS recommendations of 10 (default 10,000): a random
 *            learner's kept history, half with a grade+subject filter,
 *            each timed on its own with CLOCK_MONOTONIC
 * Output (parsed by bench/recommend.sh):
 *   items=130000 events=1000000 learners=20000 active_items=... ease=0
 *   ingest_s=0.81 snapshot_s=0.05 rebuild_s=3.2 model_mb=... index_mb=...
 *   latency n=10000 p50_us=80.1 p99_us=400.2 max_us=900.3 mean_us=95.0
 *   peak_rss_mb=180.2
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "node/recommend.h"

static uint64_t rng_next(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1DULL;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static const char *SUBJECTS[13] = {"math",    "chinese", "english",   "physics",  "chemistry",
                                   "biology", "history", "geography", "politics", "music",
                                   "art",     "pe",      "it"};
#define NSEQ (13 * 12 * 2 * 2)

typedef struct bench_item {
    int seq, unit, grade, subject;
} bench_item;

int main(int argc, char **argv)
{
    unsigned long nitems = 130000, nevents = 1000000, nlearners = 20000, nreq = 10000;
    uint64_t seed = 42;
    int c;
    while ((c = getopt(argc, argv, "i:e:l:r:s:h")) != -1) {
        switch (c) {
        case 'i':
            nitems = strtoul(optarg, NULL, 10);
            break;
        case 'e':
            nevents = strtoul(optarg, NULL, 10);
            break;
        case 'l':
            nlearners = strtoul(optarg, NULL, 10);
            break;
        case 'r':
            nreq = strtoul(optarg, NULL, 10);
            break;
        case 's':
            seed = strtoull(optarg, NULL, 10) | 1;
            break;
        default:
            fprintf(stderr, "usage: cistern-rec-bench [-i ITEMS] [-e EVENTS] [-l LEARNERS] [-r "
                            "REQUESTS] [-s SEED]\n");
            return 1;
        }
    }
    if (nitems < NSEQ || nlearners == 0 || nevents == 0 || nitems > 4000000) {
        fprintf(stderr, "cistern-rec-bench: need at least %d items and one learner and event\n",
                NSEQ);
        return 1;
    }
    cs_err err = {0};
    node_rec_limits lim;
    node_rec_limits_default(&lim);
    lim.max_items = (uint32_t)nitems;
    if (lim.max_learners < nlearners)
        lim.max_learners = (uint32_t)nlearners;
    node_rec_model *m = NULL;
    node_rec_snapshot *cl = NULL;
    node_rec_index *ix = NULL;
    bench_item *bi = calloc(nitems, sizeof *bi);
    unsigned long *seq_first = calloc(NSEQ + 1, sizeof *seq_first);
    if (!bi || !seq_first || node_rec_model_new(&m, &lim, &err) != 0) {
        fprintf(stderr, "cistern-rec-bench: %s\n", err.msg[0] ? err.msg : "out of memory");
        return 2;
    }
    /* Catalogue: items spread evenly over the sequences, 10 per unit. */
    char id[64], pre[64], ed[32], vol[8];
    const char *langs[3] = {"zh", "en", "bo"};
    unsigned long per = nitems / NSEQ, extra = nitems % NSEQ, k = 0;
    for (int s = 0; s < NSEQ; s++) {
        seq_first[s] = k;
        unsigned long n = per + ((unsigned long)s < extra ? 1 : 0);
        int subject = s % 13, grade = 1 + (s / 13) % 12, edition = (s / 156) % 2,
            volume = (s / 312) % 2;
        snprintf(ed, sizeof ed, "%s-g%d-ed%d", SUBJECTS[subject], grade, edition);
        snprintf(vol, sizeof vol, "%d", volume + 1);
        for (unsigned long j = 0; j < n; j++, k++) {
            int unit = (int)(j / 10) + 1;
            snprintf(id, sizeof id, "%s-g%02d-e%d-v%d-u%02d-%02lu", SUBJECTS[subject], grade,
                     edition, volume + 1, unit, j % 10);
            const char *pp[1] = {pre};
            node_rec_item it;
            memset(&it, 0, sizeof it);
            it.id = id;
            it.subject = SUBJECTS[subject];
            it.language = langs[edition == 0 ? 0 : (s % 7 == 0 ? 2 : 1)];
            it.grades = 1u << grade;
            it.edition = ed;
            it.volume = vol;
            it.unit = unit;
            if (unit > 1) {
                snprintf(pre, sizeof pre, "%s-g%02d-e%d-v%d-u%02d-%02lu", SUBJECTS[subject], grade,
                         edition, volume + 1, unit - 1, j % 10);
                it.prereqs = pp;
                it.nprereqs = 1;
            }
            if (node_rec_model_item_add(m, &it, &err) != 0) {
                fprintf(stderr, "cistern-rec-bench: %s\n", err.msg);
                return 2;
            }
            bi[k] = (bench_item){s, unit, grade, subject};
        }
    }
    seq_first[NSEQ] = k;
    /* Events: learners interleaved, as a school day would have them. */
    uint64_t rs = seed;
    int *lgrade = malloc(nlearners * sizeof *lgrade);
    unsigned long *lpos = malloc(nlearners * 3 * sizeof *lpos); /* position in 3 sequences */
    int *lseq = malloc(nlearners * 3 * sizeof *lseq);
    char(*names)[24] = malloc(nlearners * sizeof *names);
    if (!lgrade || !lpos || !lseq || !names)
        return 2;
    for (unsigned long l = 0; l < nlearners; l++) {
        lgrade[l] = 1 + (int)(rng_next(&rs) % 12);
        for (int j = 0; j < 3; j++) {
            int subject = (int)(rng_next(&rs) % 13), edv = (int)(rng_next(&rs) % 4);
            lseq[l * 3 + j] = subject + 13 * (lgrade[l] - 1) + 156 * (edv % 2) + 312 * (edv / 2);
            unsigned long len = seq_first[lseq[l * 3 + j] + 1] - seq_first[lseq[l * 3 + j]];
            lpos[l * 3 + j] = rng_next(&rs) % (len / 2 + 1);
        }
        snprintf(names[l], sizeof names[l], "learner-%06lu", l);
    }
    double t0 = now_s();
    for (unsigned long e = 0; e < nevents; e++) {
        unsigned long l = rng_next(&rs) % nlearners;
        int j = (int)(rng_next(&rs) % 3), sq = lseq[l * 3 + j];
        unsigned long len = seq_first[sq + 1] - seq_first[sq], item;
        uint64_t r = rng_next(&rs) % 100;
        if (r < 70) { /* next in the sequence */
            item = seq_first[sq] + lpos[l * 3 + j] % len;
            lpos[l * 3 + j]++;
        } else if (r < 90) { /* a popular one of the sequence (Zipf-ish) */
            uint64_t z = rng_next(&rs) % 1000 + 1;
            item = seq_first[sq] + (len * z * z / 1000000) % len;
        } else { /* anything of the grade */
            int s2 =
                (int)(rng_next(&rs) % 13) + 13 * (lgrade[l] - 1) + 156 * (int)(rng_next(&rs) % 2);
            unsigned long len2 = seq_first[s2 + 1] - seq_first[s2];
            item = seq_first[s2] + rng_next(&rs) % len2;
        }
        snprintf(id, sizeof id, "%s-g%02d-e%d-v%d-u%02d-%02lu", SUBJECTS[bi[item].subject],
                 bi[item].grade, (bi[item].seq / 156) % 2, (bi[item].seq / 312) % 2 + 1,
                 bi[item].unit, (item - seq_first[bi[item].seq]) % 10);
        int kind = (int)(rng_next(&rs) % 3);
        node_rec_event ev = {names[l], id, 1700000000 + (int64_t)e * 2, kind,
                             kind == NODE_REC_SCORE ? (double)(rng_next(&rs) % 101) / 100.0 : -1.0};
        if (node_rec_model_event_add(m, &ev, &err) != 0) {
            fprintf(stderr, "cistern-rec-bench: event %lu: %s\n", e, err.msg);
            return 2;
        }
    }
    double t1 = now_s();
    if (node_rec_model_snapshot(m, &cl, &err) != 0) {
        fprintf(stderr, "cistern-rec-bench: %s\n", err.msg);
        return 2;
    }
    double t2 = now_s();
    if (node_rec_snapshot_build(cl, &ix, &err) != 0) {
        fprintf(stderr, "cistern-rec-bench: %s\n", err.msg);
        return 2;
    }
    double t3 = now_s();
    node_rec_stats st;
    node_rec_model_stats(m, &st);
    node_rec_snapshot_free(cl);
    printf("items=%lu events=%lu learners=%u active_items=%u ease=%d\n", nitems, nevents,
           st.learners, st.active_items, node_rec_index_has_ease(ix));
    printf("ingest_s=%.3f snapshot_s=%.3f rebuild_s=%.3f model_mb=%.1f index_mb=%.1f\n", t1 - t0,
           t2 - t1, t3 - t2, st.bytes / 1e6, node_rec_index_bytes(ix) / 1e6);
    fflush(stdout);

    double *lat = malloc((nreq ? nreq : 1) * sizeof *lat);
    node_rec_hist *h = malloc(NODE_REC_HISTORY_MAX * sizeof *h);
    node_rec_result res[10];
    unsigned long empty = 0, withreason = 0;
    if (!lat || !h)
        return 2;
    for (unsigned long q = 0; q < nreq; q++) {
        unsigned long l = rng_next(&rs) % nlearners;
        size_t nh = 0;
        node_rec_model_history(m, names[l], h, NODE_REC_HISTORY_MAX, &nh);
        node_rec_request req;
        node_rec_request_init(&req);
        if (q % 2) {
            req.grade = lgrade[l];
            req.subject = SUBJECTS[lseq[l * 3 + q % 3] % 13];
        }
        size_t n = 0;
        double a = now_s();
        int rc = node_rec_index_recommend(ix, h, nh, &req, res, 10, &n, &err);
        lat[q] = (now_s() - a) * 1e6;
        if (rc) {
            fprintf(stderr, "cistern-rec-bench: request %lu: %s\n", q, err.msg);
            return 2;
        }
        empty += n == 0;
        withreason += n > 0 && res[0].reason[0];
    }
    double sum = 0;
    for (unsigned long q = 0; q < nreq; q++)
        sum += lat[q];
    qsort(lat, nreq, sizeof *lat, cmp_double);
    if (nreq)
        printf("latency n=%lu p50_us=%.1f p99_us=%.1f max_us=%.1f mean_us=%.1f empty=%lu\n", nreq,
               lat[nreq / 2], lat[(size_t)(nreq * 0.99)], lat[nreq - 1], sum / (double)nreq, empty);
    /* One example list, so a reader sees the reasons. */
    size_t nh = 0, n = 0;
    node_rec_model_history(m, names[0], h, NODE_REC_HISTORY_MAX, &nh);
    if (nh && node_rec_index_recommend(ix, h, nh, NULL, res, 5, &n, &err) == 0)
        for (size_t i = 0; i < n; i++)
            printf("example %zu %s \"%s\"\n", i + 1, res[i].id, res[i].reason);
    /* REC_BENCH_DIGEST=N: a hash of every result (id, score, reason) of N
     * learners' lists by each method, with and without a filter, and of a
     * new learner's: two builds that rank alike print the same digest. */
    const char *dg = getenv("REC_BENCH_DIGEST");
    if (dg) {
        unsigned long nd = strtoul(dg, NULL, 10);
        uint64_t hash = 1469598103934665603ULL;
        node_rec_result dres[20];
        for (unsigned long q = 0; q <= nd && q <= nlearners; q++) {
            nh = 0;
            if (q < nd)
                node_rec_model_history(m, names[q], h, NODE_REC_HISTORY_MAX, &nh);
            for (int meth = 0; meth < NODE_REC_NMETHODS; meth++) {
                for (int filt = 0; filt < 3; filt++) {
                    node_rec_request req;
                    node_rec_request_init(&req);
                    req.method = meth;
                    req.include_seen = filt == 2;
                    if (filt == 1 && q < nlearners) {
                        req.grade = lgrade[q];
                        req.subject = SUBJECTS[lseq[q * 3] % 13];
                        req.language = "zh";
                    }
                    char line[512];
                    if (node_rec_index_recommend(ix, h, nh, &req, dres, 20, &n, &err) != 0)
                        return 2;
                    for (size_t i = 0; i < n; i++) {
                        snprintf(line, sizeof line, "%s|%.9g|%d|%s\n", dres[i].id, dres[i].score,
                                 dres[i].source, dres[i].reason);
                        for (const char *p = line; *p; p++)
                            hash = (hash ^ (uint8_t)*p) * 1099511628211ULL;
                    }
                }
            }
        }
        printf("digest=%016llx\n", (unsigned long long)hash);
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("peak_rss_mb=%.1f\n", ru.ru_maxrss / 1024.0);
    (void)withreason;
    free(lat);
    free(h);
    free(bi);
    free(seq_first);
    free(lgrade);
    free(lpos);
    free(lseq);
    free(names);
    node_rec_index_free(ix);
    node_rec_model_free(m);
    return 0;
}
