/*
 * conns.h - open connections of an MHD daemon and the request-header
 * deadline (private to node/: the LAN server and the hub server).
 *
 * MHD's own timeout only measures inactivity, so a client dripping one
 * header byte a second holds a connection forever.  Here a request's
 * headers must arrive within a deadline counted from the connection opening
 * or from the previous response ending; the daemon's main loop sweeps the
 * list and shutdown()s connections that are overdue (MHD's next read then
 * sees the end and closes them as usual).
 */
#ifndef NODE_CONNS_H
#define NODE_CONNS_H

#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

/* One open connection (MHD's socket_context). */
typedef struct cs_conn {
    struct cs_conn *prev, *next; /* cs_conns.head, under cs_conns.lock */
    int fd;
    /* Monotonic ms since when headers are due; 0 while a request is in hand. */
    _Atomic int64_t waiting_ms;
} cs_conn;

typedef struct cs_conns {
    pthread_mutex_t lock; /* taken per connection, never per request */
    cs_conn *head;
    _Atomic uint64_t active;   /* open connections */
    _Atomic uint64_t timeouts; /* connections cut by the deadline */
} cs_conns;

void cs_conns_init(cs_conns *cs);
void cs_conns_destroy(cs_conns *cs);
/* The body of an MHD_OPTION_NOTIFY_CONNECTION callback.  MHD sends CLOSED
 * before it closes the socket, so a record in the list names a live fd. */
void cs_conns_notify(cs_conns *cs, struct MHD_Connection *c, void **socket_context,
                     enum MHD_ConnectionNotificationCode toe);
/* A request's headers are in (the access handler's first call): its
 * connection's clock stops.  Returns the record, or NULL. */
cs_conn *cs_conns_begin(struct MHD_Connection *c);
/* The response to the request on conn has ended (request-completed
 * callback): the next request's headers are due from now. */
void cs_conns_end(cs_conn *conn);
/* Cut connections whose headers are over limit_s overdue; returns how many. */
uint64_t cs_conns_sweep(cs_conns *cs, unsigned limit_s);

#endif
