/*
 * zeroconf.h - announce the node on the school LAN through Avahi (mDNS /
 * DNS-SD): service type _http._tcp, name "Cistern – <school>", TXT path=/,
 * so tablets and neighbouring nodes find it without typing an address.
 */
#ifndef NODE_ZEROCONF_H
#define NODE_ZEROCONF_H

#include <stdint.h>

#include "platform/log.h"

typedef struct node_zeroconf node_zeroconf;

/* Start announcing; *out NULL (and a line in the log, no error) when Avahi
 * is not built in or its daemon is not running: the node serves anyway. */
void node_zeroconf_start(node_zeroconf **out, const char *school, uint16_t port, cs_logger *log);
void node_zeroconf_stop(node_zeroconf *z); /* NULL ok */

#endif
