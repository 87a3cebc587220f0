/*
 * zeroconf.c - the node's DNS-SD announcement through avahi-client (see
 * zeroconf.h).  Avahi's callbacks run on its own poll thread.
 */
#include "node/zeroconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef CISTERN_HAVE_AVAHI
#include <avahi-client/client.h>
#include <avahi-client/publish.h>
#include <avahi-common/alternative.h>
#include <avahi-common/error.h>
#include <avahi-common/malloc.h>
#include <avahi-common/thread-watch.h>

struct node_zeroconf {
    AvahiThreadedPoll *poll;
    AvahiClient *client;
    AvahiEntryGroup *group;
    char *name;
    uint16_t port;
    cs_logger *log;
};

static void publish(node_zeroconf *z, AvahiClient *c);

static void group_cb(AvahiEntryGroup *g, AvahiEntryGroupState state, void *ud)
{
    node_zeroconf *z = ud;
    if (state == AVAHI_ENTRY_GROUP_ESTABLISHED) {
        cs_log_info(z->log, "zeroconf: announced as \"%s\" (_http._tcp, port %u)", z->name, z->port);
    } else if (state == AVAHI_ENTRY_GROUP_COLLISION) {
        /* Another box has the name: "Cistern – School #2". */
        char *n = avahi_alternative_service_name(z->name);
        avahi_free(z->name);
        z->name = n;
        publish(z, avahi_entry_group_get_client(g));
    } else if (state == AVAHI_ENTRY_GROUP_FAILURE) {
        cs_log_warn(z->log, "zeroconf: %s", avahi_strerror(avahi_client_errno(avahi_entry_group_get_client(g))));
    }
}

static void publish(node_zeroconf *z, AvahiClient *c)
{
    int e;
    if (!z->group && !(z->group = avahi_entry_group_new(c, group_cb, z))) {
        cs_log_warn(z->log, "zeroconf: %s", avahi_strerror(avahi_client_errno(c)));
        return;
    }
    avahi_entry_group_reset(z->group);
    e = avahi_entry_group_add_service(z->group, AVAHI_IF_UNSPEC, AVAHI_PROTO_UNSPEC, 0, z->name, "_http._tcp", NULL,
                                      NULL, z->port, "path=/", "product=cistern", NULL);
    if (e == AVAHI_ERR_COLLISION) {
        char *n = avahi_alternative_service_name(z->name);
        avahi_free(z->name);
        z->name = n;
        publish(z, c);
        return;
    }
    if (e < 0 || (e = avahi_entry_group_commit(z->group)) < 0)
        cs_log_warn(z->log, "zeroconf: %s", avahi_strerror(e));
}

static void client_cb(AvahiClient *c, AvahiClientState state, void *ud)
{
    node_zeroconf *z = ud;
    if (state == AVAHI_CLIENT_S_RUNNING)
        publish(z, c);
    else if (state == AVAHI_CLIENT_S_COLLISION || state == AVAHI_CLIENT_S_REGISTERING) {
        if (z->group)
            avahi_entry_group_reset(z->group);
    } else if (state == AVAHI_CLIENT_FAILURE) {
        cs_log_warn(z->log, "zeroconf: %s", avahi_strerror(avahi_client_errno(c)));
    }
}

void node_zeroconf_start(node_zeroconf **out, const char *school, uint16_t port, cs_logger *log)
{
    int e = 0;
    char name[256];
    *out = NULL;
    node_zeroconf *z = calloc(1, sizeof *z);
    if (!z)
        return;
    snprintf(name, sizeof name, "Cistern \xE2\x80\x93 %s", school); /* an en dash */
    z->name = avahi_strdup(name);
    z->port = port;
    z->log = log;
    if (!(z->poll = avahi_threaded_poll_new()) ||
        !(z->client = avahi_client_new(avahi_threaded_poll_get(z->poll), 0, client_cb, z, &e)) ||
        avahi_threaded_poll_start(z->poll) < 0) {
        cs_log_info(log, "zeroconf: not announced (%s)", e ? avahi_strerror(e) : "avahi unavailable");
        node_zeroconf_stop(z);
        return;
    }
    *out = z;
}

void node_zeroconf_stop(node_zeroconf *z)
{
    if (!z)
        return;
    if (z->poll)
        avahi_threaded_poll_stop(z->poll);
    if (z->client)
        avahi_client_free(z->client); /* frees the entry group too */
    if (z->poll)
        avahi_threaded_poll_free(z->poll);
    avahi_free(z->name);
    free(z);
}

#else /* built without avahi-client */

void node_zeroconf_start(node_zeroconf **out, const char *school, uint16_t port, cs_logger *log)
{
    (void)school;
    (void)port;
    *out = NULL;
    cs_log_info(log, "zeroconf: not announced (built without avahi-client)");
}

void node_zeroconf_stop(node_zeroconf *z)
{
    (void)z;
}

#endif
