/*
 * faultproxy.c - cistern-faultproxy, a loopback TCP proxy that makes a link
 * bad on purpose, so that network tests can play a rural school's uplink:
 * slow, high-latency, cut regularly, truncating, stalling, corrupting.
 *
 *   cistern-faultproxy --listen 127.0.0.1:PORT --target 127.0.0.1:PORT
 *       [--rate RATE] [--delay MS] [--cut-every SECONDS]
 *       [--cut-after-bytes N] [--stall-after-bytes N] [--garbage-after-bytes N]
 *       [--drop-percent P] [--seed S] [--stats FILE]
 *
 * Both addresses must be loopback (127.0.0.0/8, [::1] or "localhost"); the
 * proxy refuses anything else, so a test can never point it at a real host.
 * Options also take the form --name=value.  Port 0 in --listen picks a free
 * port.  Once the socket listens the proxy prints "listening on ADDR:PORT"
 * (the real port) on stdout and flushes, then runs until SIGTERM or SIGINT
 * and exits 0.  Usage errors exit 2, others 1.
 *
 * The link model.  Each accepted connection gets its own connection to the
 * target; bytes flow in two directions, "up" (client to target) and "down"
 * (target to client).  Each direction of each connection queues what it read
 * (at most FP_BUF_CAP bytes; when full the proxy stops reading that side, so
 * the sender sees TCP backpressure) and stamps every read with a release
 * time, now + --delay.  Bytes are written out in order once released, no
 * faster than --rate allows:
 *
 *   --rate RATE   one token bucket per direction shared by all connections
 *                 (the school has one link).  RATE is bytes per second as a
 *                 plain number ("32000"), or bits per second with a suffix
 *                 "kbit" or "mbit" ("256kbit" = 32000 bytes/s, "2mbit" =
 *                 250000 bytes/s); decimals are fine ("1.5mbit").  The
 *                 bucket holds 50 ms worth of tokens (at least 1500 bytes,
 *                 at most one second's worth), so short bursts pass at once;
 *                 writes go out in pieces of about 10 ms worth.  A queue
 *                 filled faster than RATE adds queueing delay, as on a real
 *                 congested link.
 *   --delay MS    one-way latency added to each direction, 0-600000; an RTT
 *                 of 600 ms is --delay 300.  A close travels with the same
 *                 delay as the bytes before it.
 *
 * Faults:
 *
 *   --cut-every S         every S seconds from the start (decimals allowed),
 *                         reset every open connection, both sides, with RST
 *                         (SO_LINGER 0).  New connections are accepted as
 *                         before.
 *   --cut-after-bytes N   once N bytes have come down from the target on a
 *                         connection, reset the target side; the client gets
 *                         exactly those N bytes and then a close (FIN), so
 *                         the truncation point is deterministic.  What the
 *                         client sends afterwards is dropped; the client
 *                         side is closed FP_DRAIN_MS after the FIN at the
 *                         latest.
 *   --stall-after-bytes N after N bytes down, stop: nothing more goes to the
 *                         client, the connection stays open, the target is
 *                         no longer read and what the client sends is
 *                         dropped.  Ends when the client closes.
 *   --garbage-after-bytes N  every byte down past the first N is replaced by
 *                         a random byte that differs from the original.
 *   --drop-percent P      refuse P% (0-100) of new connections: reset them
 *                         right after accept.
 *   --seed S              seed of the random numbers (drops and garbage);
 *                         default 1, so runs repeat.
 *
 * A socket error on one side resets the other side: a read error is passed on
 * (as RST) after the bytes queued before it, a write error at once.  Normal
 * closes are passed on as half-closes (shutdown SHUT_WR), so HTTP/1.0-style
 * "request, FIN, response, FIN" exchanges work.
 *
 * --capture-up FILE: every byte a client sends (the "up" direction, before
 * any fault) is appended to FILE, so a test can check what left the client.
 *
 * --stats FILE: every second and at exit the proxy replaces FILE (write to
 * FILE.tmp, rename) with one JSON line of counters:
 *
 *   accepted   connections accepted (including dropped and rejected)
 *   dropped    refused by --drop-percent
 *   rejected   refused because FP_MAX_CONNS were open
 *   failed     the target could not be reached (client reset)
 *   active     open now
 *   cut        connections reset by --cut-every
 *   truncated  connections closed by --cut-after-bytes
 *   stalled    connections stalled by --stall-after-bytes
 *   garbled    connections whose bytes --garbage-after-bytes replaced
 *   bytes_up   bytes written to the target
 *   bytes_down bytes written to clients
 *   uptime_ms  milliseconds since the start
 *
 * Limits: FP_MAX_CONNS (256) connections, more are reset on accept;
 * FP_BUF_CAP (1 MiB) queued per direction per connection.  Single-threaded,
 * poll(); the only global is the signal flag; poll() never sleeps longer than
 * FP_TICK_MS, which bounds how late a signal that lands just before poll()
 * is noticed.
 */
#if !defined(_POSIX_C_SOURCE) && !defined(_GNU_SOURCE)
#define _POSIX_C_SOURCE 200809L /* clock_gettime, MSG_NOSIGNAL, PATH_MAX */
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define FP_MAX_CONNS 256
#define FP_BUF_CAP (1u << 20)   /* bytes queued per direction per connection */
#define FP_READ_MAX (64u << 10) /* bytes per read */
#define FP_TICK_MS 250          /* longest sleep in poll() */
#define FP_DRAIN_MS 2000        /* a truncated client may linger this long */
#define FP_MAX_DELAY_MS 600000
#define FP_MAX_RATE 1e12      /* bytes per second */
#define FP_MAX_PERIOD 86400.0 /* seconds, for --cut-every */
#define FP_NS_PER_MS INT64_C(1000000)
#define FP_NS_PER_S INT64_C(1000000000)
#define FP_NO_LIMIT UINT64_MAX /* a byte threshold that is not set */

enum { FP_UP = 0, FP_DOWN = 1 };

static volatile sig_atomic_t fp_stop;

/* Bytes read at one time, waiting for their release time. */
struct fp_chunk {
    struct fp_chunk *next;
    int64_t release_ns; /* not written before this time (read time + delay) */
    size_t len, off;    /* off: bytes already written */
    unsigned char data[];
};

/* One direction of a connection: bytes read from its source, queued for its
 * destination.  Owns its chunks. */
struct fp_pipe {
    struct fp_chunk *head, *tail;
    size_t queued;  /* bytes in the chunks, at most FP_BUF_CAP */
    bool eof_in;    /* the source closed ... */
    bool reset;     /* ... with an error: reset the connection once delivered */
    int64_t eof_ns; /* when the close may be passed on */
    bool eof_out;   /* passed on (or nothing left to pass on) */
    bool want_out;  /* the last write would have blocked: wait for POLLOUT */
    uint64_t in;    /* bytes read from the source */
};

enum fp_state { FP_FREE = 0, FP_CONNECTING, FP_OPEN };

struct fp_conn {
    enum fp_state state;
    int cfd, tfd;           /* client and target sockets; -1 once closed */
    struct fp_pipe pipe[2]; /* FP_UP: client to target; FP_DOWN: target to client */
    bool truncated;         /* --cut-after-bytes reached: the target is gone */
    bool stalled;           /* --stall-after-bytes reached: the target is ignored */
    bool garbled;           /* counted in the garbled statistic */
    int64_t drain_ns;       /* truncated and closed towards the client: close by then */
};

/* A token bucket; rate 0 means unlimited. */
struct fp_bucket {
    double rate, burst, quantum; /* bytes/s; most tokens held; least worth waking for */
    double tokens;
    int64_t last_ns;
};

struct fp_opts {
    struct sockaddr_storage listen, target;
    socklen_t listen_len, target_len;
    double rate; /* bytes per second, 0 = unlimited */
    int64_t delay_ns;
    int64_t cut_every_ns;                           /* 0 = never */
    uint64_t cut_after, stall_after, garbage_after; /* FP_NO_LIMIT = not set */
    unsigned drop_percent;
    uint64_t seed;
    const char *stats_path; /* NULL = no statistics */
    const char *capture_path; /* NULL = no capture */
};

struct fp_stats {
    uint64_t accepted, dropped, rejected, failed, active;
    uint64_t cut, truncated, stalled, garbled;
    uint64_t bytes_up, bytes_down;
};

/* Everything the proxy knows; one per process, on the heap. */
struct fp_proxy {
    struct fp_opts opt;
    int lfd;
    struct fp_bucket bucket[2];
    struct fp_conn conn[FP_MAX_CONNS];
    struct fp_stats st;
    uint64_t rng;
    int64_t start_ns, next_cut_ns, next_stats_ns, wake_ns;
    unsigned rr;             /* connection the next flush starts with (fairness) */
    bool stats_warned;       /* a failure to write the stats file was reported */
    int capture_fd;          /* --capture-up, or -1 */
    bool accept_warned;      /* a failure to accept was reported */
    int64_t accept_pause_ns; /* do not accept before this time */
    unsigned char buf[FP_READ_MAX];
};

/* ---- small helpers --------------------------------------------------------- */

static int64_t fp_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * FP_NS_PER_S + ts.tv_nsec;
}

static void fp_wake(int64_t *wake, int64_t at)
{
    if (at < *wake)
        *wake = at;
}

/* splitmix64. */
static uint64_t fp_rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static void fp_on_signal(int sig)
{
    (void)sig;
    fp_stop = 1;
}

static int fp_set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        return -1;
    return 0;
}

static void fp_set_nodelay(int fd)
{
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/* Closes fd abruptly: the peer gets RST and unsent bytes are discarded. */
static void fp_close_rst(int fd)
{
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    if (fd < 0)
        return;
    (void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(fd);
}

static void fp_close(int fd)
{
    if (fd >= 0)
        close(fd);
}

/* ---- argument parsing ------------------------------------------------------ */

static void fp_usage(FILE *f)
{
    fputs("usage: cistern-faultproxy --listen 127.0.0.1:PORT --target 127.0.0.1:PORT\n"
          "         [--rate BYTES_PER_SEC|Nkbit|Nmbit] [--delay MS] [--cut-every SECONDS]\n"
          "         [--cut-after-bytes N] [--stall-after-bytes N] [--garbage-after-bytes N]\n"
          "         [--drop-percent P] [--seed S] [--stats FILE] [--capture-up FILE]\n"
          "A loopback TCP proxy that simulates a bad link; see the top of faultproxy.c.\n",
          f);
}

/* Decimal digits only, at most max. */
static int fp_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    if (*s == '\0')
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        unsigned d = (unsigned)(*s - '0');
        if (v > (max - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

/* A positive decimal number ("2", "0.5") followed by *end; in (0, max]. */
static int fp_parse_positive(const char *s, double max, double *out, const char **end)
{
    char *e;
    if (*s < '0' || *s > '9')
        return -1; /* no sign, no "inf", no "nan", no leading blank */
    errno = 0;
    double v = strtod(s, &e);
    if (errno != 0 || !(v > 0) || v > max)
        return -1;
    *out = v;
    *end = e;
    return 0;
}

/* RATE: bytes/s as a plain number, or bits/s with "kbit" or "mbit". */
static int fp_parse_rate(const char *s, double *out)
{
    const char *e;
    double v;
    if (fp_parse_positive(s, FP_MAX_RATE, &v, &e) < 0)
        return -1;
    if (strcmp(e, "kbit") == 0)
        v = v * 1000 / 8;
    else if (strcmp(e, "mbit") == 0)
        v = v * 1000000 / 8;
    else if (*e != '\0')
        return -1;
    if (v < 1 || v > FP_MAX_RATE)
        return -1;
    *out = v;
    return 0;
}

static bool fp_is_loopback(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
        return (ntohl(a->sin_addr.s_addr) >> 24) == 127;
    }
    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
        return IN6_IS_ADDR_LOOPBACK(&a->sin6_addr);
    }
    return false;
}

/*
 * HOST:PORT with HOST a numeric IPv4 address, [IPv6] or "localhost"
 * (127.0.0.1).  Writes a message to err and returns -1 when the text is
 * malformed or the address is not loopback.
 */
static int fp_parse_addr(const char *opt, const char *s, bool port0_ok, struct sockaddr_storage *ss,
                         socklen_t *len, char *err, size_t errlen)
{
    char host[64];
    const char *colon, *h = s;
    size_t hlen;
    uint64_t port;

    memset(ss, 0, sizeof *ss);
    if (*s == '[') {
        const char *close = strchr(s, ']');
        if (!close || close[1] != ':')
            goto malformed;
        h = s + 1;
        hlen = (size_t)(close - h);
        colon = close + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon)
            goto malformed;
        hlen = (size_t)(colon - s);
    }
    if (hlen == 0 || hlen >= sizeof host)
        goto malformed;
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    if (fp_parse_u64(colon + 1, 65535, &port) < 0 || (port == 0 && !port0_ok))
        goto malformed;

    struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
    if (strcmp(host, "localhost") == 0)
        snprintf(host, sizeof host, "127.0.0.1");
    if (*s != '[' && inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)port);
        *len = sizeof *a4;
    } else if (*s == '[' && inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        *len = sizeof *a6;
    } else {
        snprintf(err, errlen, "%s %s: not a numeric address (use 127.0.0.1:PORT or [::1]:PORT)",
                 opt, s);
        return -1;
    }
    if (!fp_is_loopback(ss)) {
        snprintf(err, errlen,
                 "%s %s: not a loopback address; this proxy only touches 127.0.0.0/8 and [::1]",
                 opt, s);
        return -1;
    }
    return 0;

malformed:
    snprintf(err, errlen, "%s %s: expected HOST:PORT such as 127.0.0.1:%s", opt, s,
             port0_ok ? "0" : "8080");
    return -1;
}

static bool fp_known_option(const char *name)
{
    static const char *const names[] = {
        "--listen",
        "--target",
        "--rate",
        "--delay",
        "--cut-every",
        "--cut-after-bytes",
        "--stall-after-bytes",
        "--garbage-after-bytes",
        "--drop-percent",
        "--seed",
        "--stats",
        "--capture-up",
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(name, names[i]) == 0)
            return true;
    return false;
}

/* Fills o from argv; returns 0, or -1 after writing a message to err. */
static int fp_parse_args(int argc, char **argv, struct fp_opts *o, char *err, size_t errlen)
{
    bool have_listen = false, have_target = false;
    uint64_t v;
    double d;
    const char *end;

    memset(o, 0, sizeof *o);
    o->cut_after = o->stall_after = o->garbage_after = FP_NO_LIMIT;
    o->seed = 1;
    for (int i = 1; i < argc; i++) {
        const char *name = argv[i], *val;
        char namebuf[32];
        const char *eq = strchr(name, '=');
        if (strncmp(name, "--", 2) != 0) {
            snprintf(err, errlen, "unexpected argument \"%s\"", name);
            return -1;
        }
        if (eq) { /* --name=value */
            size_t n = (size_t)(eq - name);
            if (n >= sizeof namebuf) {
                snprintf(err, errlen, "unknown option %s", name);
                return -1;
            }
            memcpy(namebuf, name, n);
            namebuf[n] = '\0';
            name = namebuf;
            val = eq + 1;
        } else {
            if (!fp_known_option(name)) {
                snprintf(err, errlen, "unknown option %s", name);
                return -1;
            }
            if (i + 1 >= argc) {
                snprintf(err, errlen, "%s needs a value", name);
                return -1;
            }
            val = argv[++i];
        }

        if (strcmp(name, "--listen") == 0) {
            if (fp_parse_addr(name, val, true, &o->listen, &o->listen_len, err, errlen) < 0)
                return -1;
            have_listen = true;
        } else if (strcmp(name, "--target") == 0) {
            if (fp_parse_addr(name, val, false, &o->target, &o->target_len, err, errlen) < 0)
                return -1;
            have_target = true;
        } else if (strcmp(name, "--rate") == 0) {
            if (fp_parse_rate(val, &o->rate) < 0)
                goto bad;
        } else if (strcmp(name, "--delay") == 0) {
            if (fp_parse_u64(val, FP_MAX_DELAY_MS, &v) < 0)
                goto bad;
            o->delay_ns = (int64_t)v * FP_NS_PER_MS;
        } else if (strcmp(name, "--cut-every") == 0) {
            if (fp_parse_positive(val, FP_MAX_PERIOD, &d, &end) < 0 || *end != '\0' || d < 0.001)
                goto bad;
            o->cut_every_ns = (int64_t)(d * FP_NS_PER_S);
        } else if (strcmp(name, "--cut-after-bytes") == 0) {
            if (fp_parse_u64(val, FP_NO_LIMIT - 1, &o->cut_after) < 0)
                goto bad;
        } else if (strcmp(name, "--stall-after-bytes") == 0) {
            if (fp_parse_u64(val, FP_NO_LIMIT - 1, &o->stall_after) < 0)
                goto bad;
        } else if (strcmp(name, "--garbage-after-bytes") == 0) {
            if (fp_parse_u64(val, FP_NO_LIMIT - 1, &o->garbage_after) < 0)
                goto bad;
        } else if (strcmp(name, "--drop-percent") == 0) {
            if (fp_parse_u64(val, 100, &v) < 0)
                goto bad;
            o->drop_percent = (unsigned)v;
        } else if (strcmp(name, "--seed") == 0) {
            if (fp_parse_u64(val, UINT64_MAX, &o->seed) < 0)
                goto bad;
        } else if (strcmp(name, "--stats") == 0) {
            if (*val == '\0' || strlen(val) > PATH_MAX - 8)
                goto bad;
            o->stats_path = val;
        } else if (strcmp(name, "--capture-up") == 0) {
            if (*val == '\0' || strlen(val) > PATH_MAX - 8)
                goto bad;
            o->capture_path = val;
        } else {
            snprintf(err, errlen, "unknown option %s", name);
            return -1;
        }
        continue;
    bad:
        if (strcmp(name, "--rate") == 0)
            snprintf(err, errlen,
                     "--rate %s: expected bytes per second (\"32000\") or bits per second "
                     "with kbit/mbit (\"256kbit\", \"2mbit\")",
                     val);
        else
            snprintf(err, errlen, "%s %s: invalid value", name, val);
        return -1;
    }
    if (!have_listen || !have_target) {
        snprintf(err, errlen, "--listen and --target are required");
        return -1;
    }
    return 0;
}

/* ---- queues and the token bucket ----------------------------------------- */

static int fp_pipe_push(struct fp_pipe *p, const unsigned char *data, size_t len, int64_t release)
{
    struct fp_chunk *c = malloc(sizeof *c + len);
    if (!c)
        return -1;
    c->next = NULL;
    c->release_ns = release;
    c->len = len;
    c->off = 0;
    memcpy(c->data, data, len);
    if (p->tail)
        p->tail->next = c;
    else
        p->head = c;
    p->tail = c;
    p->queued += len;
    return 0;
}

/* Drops whatever is queued. */
static void fp_pipe_clear(struct fp_pipe *p)
{
    struct fp_chunk *c = p->head;
    while (c) {
        struct fp_chunk *next = c->next;
        free(c);
        c = next;
    }
    p->head = p->tail = NULL;
    p->queued = 0;
    p->want_out = false;
}

static void fp_bucket_init(struct fp_bucket *b, double rate, int64_t now)
{
    b->rate = rate;
    if (rate <= 0)
        return;
    b->burst = rate / 20; /* 50 ms */
    if (b->burst < 1500)
        b->burst = rate < 1500 ? rate : 1500;
    b->quantum = rate / 100; /* wake at most every 10 ms */
    if (b->quantum < 1)
        b->quantum = 1;
    if (b->quantum > b->burst)
        b->quantum = b->burst;
    b->tokens = b->burst;
    b->last_ns = now;
}

static void fp_bucket_refill(struct fp_bucket *b, int64_t now)
{
    if (b->rate <= 0 || now <= b->last_ns)
        return;
    b->tokens += (double)(now - b->last_ns) * b->rate / FP_NS_PER_S;
    if (b->tokens > b->burst)
        b->tokens = b->burst;
    b->last_ns = now;
}

/* When the bucket will hold want tokens (want <= burst). */
static int64_t fp_bucket_ready_ns(const struct fp_bucket *b, double want, int64_t now)
{
    double need = want - b->tokens;
    if (need <= 0)
        return now;
    return now + (int64_t)(need * FP_NS_PER_S / b->rate) + 1;
}

/*
 * Writes what the delay and the rate allow from p to dst and passes on a
 * close that is due.  Returns -1 when the connection must be reset (dst
 * failed, or the source's close was an error); lowers *wake to the next time
 * there is something to do that poll() will not report.
 */
static int fp_pipe_flush(struct fp_pipe *p, int dst, struct fp_bucket *b, uint64_t *counter,
                         int64_t now, int64_t *wake)
{
    while (p->head && !p->want_out) {
        struct fp_chunk *c = p->head;
        size_t n = c->len - c->off;
        if (c->release_ns > now) {
            fp_wake(wake, c->release_ns);
            return 0;
        }
        if (b->rate > 0) {
            /* Wait for a quantum (or the whole chunk, if smaller): sending
             * every few tokens as they trickle in makes tiny segments. */
            double need = (double)n < b->quantum ? (double)n : b->quantum;
            if (b->tokens < need) {
                fp_wake(wake, fp_bucket_ready_ns(b, need, now));
                return 0;
            }
            if ((double)n > b->tokens)
                n = (size_t)b->tokens;
        }
        ssize_t w = send(dst, c->data + c->off, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                p->want_out = true;
                return 0;
            }
            return -1;
        }
        if (b->rate > 0)
            b->tokens -= (double)w;
        c->off += (size_t)w;
        p->queued -= (size_t)w;
        *counter += (uint64_t)w;
        if (c->off == c->len) {
            p->head = c->next;
            if (!p->head)
                p->tail = NULL;
            free(c);
        }
    }
    if (!p->head && p->eof_in && !p->eof_out) {
        if (now < p->eof_ns) {
            fp_wake(wake, p->eof_ns);
            return 0;
        }
        if (p->reset)
            return -1;
        (void)shutdown(dst, SHUT_WR);
        p->eof_out = true;
    }
    return 0;
}

/* ---- connections ------------------------------------------------------------ */

/* Frees the slot; rst: reset both sides instead of closing them. */
static void fp_conn_end(struct fp_proxy *px, struct fp_conn *c, bool rst)
{
    if (rst) {
        fp_close_rst(c->cfd);
        fp_close_rst(c->tfd);
    } else {
        fp_close(c->cfd);
        fp_close(c->tfd);
    }
    fp_pipe_clear(&c->pipe[FP_UP]);
    fp_pipe_clear(&c->pipe[FP_DOWN]);
    memset(c, 0, sizeof *c);
    c->state = FP_FREE;
    c->cfd = c->tfd = -1;
    px->st.active--;
}

/* Applies --cut-after-bytes and --stall-after-bytes once their count is
 * reached by the bytes read from the target. */
static void fp_conn_check_down(struct fp_proxy *px, struct fp_conn *c, int64_t now)
{
    struct fp_pipe *down = &c->pipe[FP_DOWN], *up = &c->pipe[FP_UP];
    if (c->truncated || c->stalled)
        return;
    if (down->in >= px->opt.cut_after) {
        c->truncated = true;
        px->st.truncated++;
        fp_close_rst(c->tfd);
        c->tfd = -1;
        if (!down->eof_in) {
            down->eof_in = true;
            down->eof_ns = now + px->opt.delay_ns;
        }
    } else if (down->in >= px->opt.stall_after) {
        c->stalled = true;
        px->st.stalled++;
    } else {
        return;
    }
    /* The target is gone or ignored: what the client sends goes nowhere. */
    fp_pipe_clear(up);
    up->eof_out = up->eof_in;
}

/* The connection to the target is up (or failed). */
static void fp_conn_connected(struct fp_proxy *px, struct fp_conn *c, int64_t now)
{
    int e = 0;
    socklen_t elen = sizeof e;
    if (getsockopt(c->tfd, SOL_SOCKET, SO_ERROR, &e, &elen) < 0)
        e = errno;
    if (e != 0) {
        px->st.failed++;
        fp_conn_end(px, c, true);
        return;
    }
    c->state = FP_OPEN;
    fp_conn_check_down(px, c, now);
}

static void fp_accept(struct fp_proxy *px, int64_t now)
{
    for (;;) {
        int cfd = accept(px->lfd, NULL, NULL);
        if (cfd < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ECONNABORTED)
                return;
            /* Out of descriptors or memory: the pending connection stays in
             * the backlog and would wake poll() at once; pause accepting. */
            if (!px->accept_warned)
                fprintf(stderr, "cistern-faultproxy: accept: %s (pausing)\n", strerror(errno));
            px->accept_warned = true;
            px->accept_pause_ns = now + FP_TICK_MS * FP_NS_PER_MS;
            return;
        }
        px->st.accepted++;
        if (px->opt.drop_percent > 0 && fp_rng_next(&px->rng) % 100 < px->opt.drop_percent) {
            px->st.dropped++;
            fp_close_rst(cfd);
            continue;
        }
        struct fp_conn *c = NULL;
        for (int i = 0; i < FP_MAX_CONNS && !c; i++)
            if (px->conn[i].state == FP_FREE)
                c = &px->conn[i];
        if (!c) {
            px->st.rejected++;
            fp_close_rst(cfd);
            continue;
        }
        int tfd = socket(px->opt.target.ss_family, SOCK_STREAM, 0);
        if (tfd < 0 || fp_set_nonblock(cfd) < 0 || fp_set_nonblock(tfd) < 0) {
            px->st.failed++;
            fp_close_rst(cfd);
            fp_close(tfd);
            continue;
        }
        fp_set_nodelay(cfd);
        fp_set_nodelay(tfd);
        memset(c, 0, sizeof *c);
        c->cfd = cfd;
        c->tfd = tfd;
        c->state = FP_CONNECTING;
        px->st.active++;
        int r;
        do
            r = connect(tfd, (const struct sockaddr *)&px->opt.target, px->opt.target_len);
        while (r < 0 && errno == EINTR);
        if (r == 0)
            fp_conn_connected(px, c, now);
        else if (errno != EINPROGRESS) {
            px->st.failed++;
            fp_conn_end(px, c, true);
        }
    }
}

/* Reads once from one side of c into the pipe of that direction. */
static void fp_conn_read(struct fp_proxy *px, struct fp_conn *c, int dir, int64_t now)
{
    struct fp_pipe *p = &c->pipe[dir];
    int fd = dir == FP_UP ? c->cfd : c->tfd;
    bool discard = dir == FP_UP && (c->truncated || c->stalled);
    size_t room = discard ? sizeof px->buf : FP_BUF_CAP - p->queued;

    if (room > sizeof px->buf)
        room = sizeof px->buf;
    if (dir == FP_DOWN) { /* stop exactly at a cut or stall threshold */
        uint64_t limit =
            px->opt.cut_after < px->opt.stall_after ? px->opt.cut_after : px->opt.stall_after;
        if (limit != FP_NO_LIMIT && limit - p->in < room)
            room = (size_t)(limit - p->in);
    }
    if (room == 0)
        return;
    ssize_t n = recv(fd, px->buf, room, 0);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            return;
        if (discard) {
            fp_conn_end(px, c, true);
            return;
        }
        p->reset = true; /* pass the error on after what came before it */
    }
    if (n <= 0) {
        p->eof_in = true;
        p->eof_ns = now + px->opt.delay_ns;
        if (discard)
            p->eof_out = true;
        return;
    }
    if (discard)
        return;
    if (dir == FP_UP && px->capture_fd >= 0 && write(px->capture_fd, px->buf, (size_t)n) != n)
        fprintf(stderr, "cistern-faultproxy: capture write failed\n");
    if (dir == FP_DOWN && p->in + (uint64_t)n > px->opt.garbage_after) {
        size_t from = p->in >= px->opt.garbage_after ? 0 : (size_t)(px->opt.garbage_after - p->in);
        for (size_t i = from; i < (size_t)n; i++)
            px->buf[i] ^= (unsigned char)(1 + fp_rng_next(&px->rng) % 255);
        if (!c->garbled) {
            c->garbled = true;
            px->st.garbled++;
        }
    }
    if (fp_pipe_push(p, px->buf, (size_t)n, now + px->opt.delay_ns) < 0) {
        fprintf(stderr, "cistern-faultproxy: out of memory; connection reset\n");
        fp_conn_end(px, c, true);
        return;
    }
    p->in += (uint64_t)n;
    if (dir == FP_DOWN)
        fp_conn_check_down(px, c, now);
}

/* Flushes both directions of c and ends it when it is done. */
static void fp_conn_flush(struct fp_proxy *px, struct fp_conn *c, int64_t now, int64_t *wake)
{
    struct fp_pipe *up = &c->pipe[FP_UP], *down = &c->pipe[FP_DOWN];
    if (c->state == FP_OPEN && c->tfd >= 0 && !c->stalled &&
        fp_pipe_flush(up, c->tfd, &px->bucket[FP_UP], &px->st.bytes_up, now, wake) < 0) {
        fp_conn_end(px, c, true);
        return;
    }
    if (fp_pipe_flush(down, c->cfd, &px->bucket[FP_DOWN], &px->st.bytes_down, now, wake) < 0) {
        fp_conn_end(px, c, true);
        return;
    }
    if (up->eof_out && (down->eof_out || c->stalled)) {
        fp_conn_end(px, c, false);
        return;
    }
    if (c->truncated && down->eof_out) { /* the client has had its N bytes and a FIN */
        if (c->drain_ns == 0)
            c->drain_ns = now + FP_DRAIN_MS * FP_NS_PER_MS;
        if (now >= c->drain_ns) {
            fp_conn_end(px, c, false);
            return;
        }
        fp_wake(wake, c->drain_ns);
    }
}

/* ---- statistics ----------------------------------------------------------- */

static void fp_stats_write(struct fp_proxy *px, int64_t now)
{
    const struct fp_stats *s = &px->st;
    char tmp[PATH_MAX];
    FILE *f;

    if (!px->opt.stats_path)
        return;
    snprintf(tmp, sizeof tmp, "%s.tmp", px->opt.stats_path);
    f = fopen(tmp, "w");
    if (f) {
        fprintf(f,
                "{\"accepted\":%" PRIu64 ",\"dropped\":%" PRIu64 ",\"rejected\":%" PRIu64
                ",\"failed\":%" PRIu64 ",\"active\":%" PRIu64 ",\"cut\":%" PRIu64
                ",\"truncated\":%" PRIu64 ",\"stalled\":%" PRIu64 ",\"garbled\":%" PRIu64
                ",\"bytes_up\":%" PRIu64 ",\"bytes_down\":%" PRIu64 ",\"uptime_ms\":%" PRId64 "}\n",
                s->accepted, s->dropped, s->rejected, s->failed, s->active, s->cut, s->truncated,
                s->stalled, s->garbled, s->bytes_up, s->bytes_down,
                (now - px->start_ns) / FP_NS_PER_MS);
        if (fclose(f) == 0 && rename(tmp, px->opt.stats_path) == 0)
            return;
    }
    if (!px->stats_warned) {
        fprintf(stderr, "cistern-faultproxy: cannot write %s: %s\n", px->opt.stats_path,
                strerror(errno));
        px->stats_warned = true;
    }
}

/* ---- the loop ---------------------------------------------------------------- */

/* Timers, rate, flushing; sets px->wake_ns. */
static void fp_tick(struct fp_proxy *px, int64_t now)
{
    int64_t wake = now + FP_TICK_MS * FP_NS_PER_MS;

    if (px->opt.cut_every_ns > 0) {
        if (now >= px->next_cut_ns) {
            for (int i = 0; i < FP_MAX_CONNS; i++) {
                if (px->conn[i].state != FP_FREE) {
                    px->st.cut++;
                    fp_conn_end(px, &px->conn[i], true);
                }
            }
            while (px->next_cut_ns <= now)
                px->next_cut_ns += px->opt.cut_every_ns;
        }
        fp_wake(&wake, px->next_cut_ns);
    }
    fp_bucket_refill(&px->bucket[FP_UP], now);
    fp_bucket_refill(&px->bucket[FP_DOWN], now);
    for (unsigned k = 0; k < FP_MAX_CONNS; k++) {
        struct fp_conn *c = &px->conn[(px->rr + k) % FP_MAX_CONNS];
        if (c->state != FP_FREE)
            fp_conn_flush(px, c, now, &wake);
    }
    px->rr = (px->rr + 1) % FP_MAX_CONNS;
    if (px->opt.stats_path) {
        if (now >= px->next_stats_ns) {
            fp_stats_write(px, now);
            px->next_stats_ns = now + FP_NS_PER_S;
        }
        fp_wake(&wake, px->next_stats_ns);
    }
    px->wake_ns = wake;
}

/* The poll events wanted for c's client (side FP_UP) or target (FP_DOWN) socket. */
static short fp_conn_events(const struct fp_conn *c, int side)
{
    const struct fp_pipe *up = &c->pipe[FP_UP], *down = &c->pipe[FP_DOWN];
    short ev = 0;
    if (side == FP_UP) {
        if (!up->eof_in && (c->truncated || c->stalled || up->queued < FP_BUF_CAP))
            ev |= POLLIN;
        if (down->want_out)
            ev |= POLLOUT;
    } else if (c->state == FP_CONNECTING) {
        ev |= POLLOUT;
    } else if (c->tfd >= 0 && !c->stalled) {
        if (!down->eof_in && down->queued < FP_BUF_CAP)
            ev |= POLLIN;
        if (up->want_out)
            ev |= POLLOUT;
    }
    return ev;
}

static int fp_run(struct fp_proxy *px)
{
    static const short gone = POLLERR | POLLHUP | POLLNVAL;
    struct pollfd pfd[1 + 2 * FP_MAX_CONNS];
    short ev[FP_MAX_CONNS][2], rev[FP_MAX_CONNS][2];
    int slot[FP_MAX_CONNS * 2]; /* pfd[k + 1] belongs to conn slot[k] / 2, side slot[k] % 2 */

    for (;;) {
        int64_t now = fp_now_ns();
        fp_tick(px, now);
        if (fp_stop)
            return 0;

        /* Only sockets that want something go in: one with nothing wanted
         * would wake us over and over with POLLHUP, and poll() refuses more
         * entries than the descriptor limit. */
        nfds_t n = 1;
        pfd[0].fd = now < px->accept_pause_ns ? -1 : px->lfd;
        pfd[0].events = POLLIN;
        pfd[0].revents = 0;
        for (int i = 0; i < FP_MAX_CONNS; i++) {
            const struct fp_conn *c = &px->conn[i];
            for (int side = 0; side < 2; side++) {
                ev[i][side] = c->state == FP_FREE ? 0 : fp_conn_events(c, side);
                rev[i][side] = 0;
                if (!ev[i][side])
                    continue;
                pfd[n].fd = side == FP_UP ? c->cfd : c->tfd;
                pfd[n].events = ev[i][side];
                pfd[n].revents = 0;
                slot[n - 1] = 2 * i + side;
                n++;
            }
        }
        int64_t wait_ns = px->wake_ns - now;
        int timeout = wait_ns <= 0 ? 0 : (int)((wait_ns + FP_NS_PER_MS - 1) / FP_NS_PER_MS);
        if (poll(pfd, n, timeout) < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, "cistern-faultproxy: poll: %s\n", strerror(errno));
            return -1;
        }
        for (nfds_t k = 1; k < n; k++)
            rev[slot[k - 1] / 2][slot[k - 1] % 2] = pfd[k].revents;

        now = fp_now_ns();
        for (int i = 0; i < FP_MAX_CONNS; i++) {
            struct fp_conn *c = &px->conn[i];
            const short *e = ev[i], *r = rev[i];
            if (c->state == FP_CONNECTING && r[FP_DOWN]) {
                fp_conn_connected(px, c, now);
                continue;
            }
            if ((e[FP_UP] & POLLOUT) && (r[FP_UP] & (POLLOUT | gone)))
                c->pipe[FP_DOWN].want_out = false;
            if ((e[FP_DOWN] & POLLOUT) && (r[FP_DOWN] & (POLLOUT | gone)))
                c->pipe[FP_UP].want_out = false;
            if ((e[FP_UP] & POLLIN) && (r[FP_UP] & (POLLIN | gone)))
                fp_conn_read(px, c, FP_UP, now);
            if (c->state == FP_OPEN && (e[FP_DOWN] & POLLIN) && (r[FP_DOWN] & (POLLIN | gone)))
                fp_conn_read(px, c, FP_DOWN, now);
        }
        if (pfd[0].revents & POLLIN)
            fp_accept(px, now);
    }
}

static int fp_listen(struct fp_proxy *px)
{
    const struct fp_opts *o = &px->opt;
    struct sockaddr_storage bound;
    socklen_t blen = sizeof bound;
    char host[INET6_ADDRSTRLEN];
    int one = 1, port;

    px->capture_fd = -1;
    if (o->capture_path && (px->capture_fd = open(o->capture_path, O_WRONLY | O_CREAT | O_APPEND, 0600)) < 0)
        goto fail;
    px->lfd = socket(o->listen.ss_family, SOCK_STREAM, 0);
    if (px->lfd < 0)
        goto fail;
    (void)setsockopt(px->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(px->lfd, (const struct sockaddr *)&o->listen, o->listen_len) < 0 ||
        listen(px->lfd, 128) < 0 || fp_set_nonblock(px->lfd) < 0 ||
        getsockname(px->lfd, (struct sockaddr *)&bound, &blen) < 0)
        goto fail;
    if (bound.ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&bound;
        inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
        port = ntohs(a->sin6_port);
        printf("listening on [%s]:%d\n", host, port);
    } else {
        const struct sockaddr_in *a = (const struct sockaddr_in *)&bound;
        inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
        port = ntohs(a->sin_port);
        printf("listening on %s:%d\n", host, port);
    }
    fflush(stdout);
    return 0;
fail:
    fprintf(stderr, "cistern-faultproxy: cannot listen: %s\n", strerror(errno));
    return -1;
}

int main(int argc, char **argv)
{
    struct fp_proxy *px;
    struct sigaction sa;
    char err[512];
    int rc = 1;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fp_usage(stdout);
            return 0;
        }
    }
    px = calloc(1, sizeof *px);
    if (!px) {
        fprintf(stderr, "cistern-faultproxy: out of memory\n");
        return 1;
    }
    if (fp_parse_args(argc, argv, &px->opt, err, sizeof err) < 0) {
        fprintf(stderr, "cistern-faultproxy: %s (see --help)\n", err);
        free(px);
        return 2;
    }

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = fp_on_signal; /* no SA_RESTART: poll() returns EINTR */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    /* Two descriptors a connection; if the limit is lower, accept() pauses
     * on EMFILE until connections end. */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 2 * FP_MAX_CONNS + 16) {
        rl.rlim_cur = rl.rlim_max < 2 * FP_MAX_CONNS + 16 ? rl.rlim_max : 2 * FP_MAX_CONNS + 16;
        (void)setrlimit(RLIMIT_NOFILE, &rl);
    }
    for (int i = 0; i < FP_MAX_CONNS; i++)
        px->conn[i].cfd = px->conn[i].tfd = -1;
    px->rng = px->opt.seed;
    px->start_ns = fp_now_ns();
    px->next_cut_ns = px->start_ns + px->opt.cut_every_ns;
    px->next_stats_ns = px->start_ns;
    fp_bucket_init(&px->bucket[FP_UP], px->opt.rate, px->start_ns);
    fp_bucket_init(&px->bucket[FP_DOWN], px->opt.rate, px->start_ns);

    if (fp_listen(px) == 0 && fp_run(px) == 0)
        rc = 0;

    int64_t now = fp_now_ns();
    for (int i = 0; i < FP_MAX_CONNS; i++)
        if (px->conn[i].state != FP_FREE)
            fp_conn_end(px, &px->conn[i], false);
    fp_stats_write(px, now);
    fp_close(px->lfd);
    free(px);
    return rc;
}
