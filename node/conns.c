/*
 * conns.c - open connections and the request-header deadline (conns.h).
 */
#include "conns.h"

#include <stdlib.h>
#include <sys/socket.h>

#include "platform/time.h"

void cs_conns_init(cs_conns *cs)
{
    pthread_mutex_init(&cs->lock, NULL);
    cs->head = NULL;
    atomic_init(&cs->active, 0);
    atomic_init(&cs->timeouts, 0);
}

void cs_conns_destroy(cs_conns *cs)
{
    pthread_mutex_destroy(&cs->lock);
}

void cs_conns_notify(cs_conns *cs, struct MHD_Connection *c, void **socket_context,
                     enum MHD_ConnectionNotificationCode toe)
{
    cs_conn *sc = *socket_context;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        atomic_fetch_add(&cs->active, 1);
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        sc = ci ? calloc(1, sizeof *sc)
                : NULL; /* without one, only MHD's inactivity timeout guards it */
        if (!sc)
            return;
        sc->fd = ci->connect_fd;
        atomic_init(&sc->waiting_ms, cs_time_mono_ms());
        pthread_mutex_lock(&cs->lock);
        sc->next = cs->head;
        if (cs->head)
            cs->head->prev = sc;
        cs->head = sc;
        pthread_mutex_unlock(&cs->lock);
        *socket_context = sc;
        return;
    }
    atomic_fetch_sub(&cs->active, 1);
    if (!sc)
        return;
    pthread_mutex_lock(&cs->lock);
    if (sc->prev)
        sc->prev->next = sc->next;
    else
        cs->head = sc->next;
    if (sc->next)
        sc->next->prev = sc->prev;
    pthread_mutex_unlock(&cs->lock);
    free(sc);
    *socket_context = NULL;
}

cs_conn *cs_conns_begin(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    cs_conn *conn = ci ? ci->socket_context : NULL;
    if (conn)
        atomic_store_explicit(&conn->waiting_ms, 0, memory_order_relaxed);
    return conn;
}

void cs_conns_end(cs_conn *conn)
{
    if (conn)
        atomic_store_explicit(&conn->waiting_ms, cs_time_mono_ms(), memory_order_relaxed);
}

uint64_t cs_conns_sweep(cs_conns *cs, unsigned limit_s)
{
    int64_t now = cs_time_mono_ms(), limit = (int64_t)limit_s * 1000;
    uint64_t cut = 0;
    pthread_mutex_lock(&cs->lock);
    for (cs_conn *sc = cs->head; sc; sc = sc->next) {
        int64_t w = atomic_load_explicit(&sc->waiting_ms, memory_order_relaxed);
        if (w && now - w > limit) {
            shutdown(sc->fd, SHUT_RDWR);
            atomic_store_explicit(&sc->waiting_ms, 0, memory_order_relaxed);
            cut++;
        }
    }
    pthread_mutex_unlock(&cs->lock);
    if (cut)
        atomic_fetch_add(&cs->timeouts, cut);
    return cut;
}
