/*
 * cmd_node_learner.c - `cistern node learner export|delete|audit|purge DATA [LEARNER]`
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "node/node.h"
#include "node/people.h"
#include "platform/time.h"

static void print_json(json_t *o)
{
    char *s = json_dumps(o, JSON_INDENT(2));
    if (s)
        printf("%s\n", s);
    free(s);
}

int cmd_node_learner(int argc, char **argv);
int cmd_node_learner(int argc, char **argv)
{
    const cli_command *me = cli_cmd("node", "learner");
    if (argc < 3 || argv[1][0] == '-')
        return cli_usage(me, "expected export, delete, audit or purge, then DATA");
    const char *verb = argv[1], *data = argv[2], *learner = argc > 3 ? argv[3] : NULL;
    int needs = strcmp(verb, "export") == 0 || strcmp(verb, "delete") == 0;
    if (!needs && strcmp(verb, "audit") && strcmp(verb, "purge"))
        return cli_usage(me, "expected export, delete, audit or purge");
    if (needs != (learner != NULL) || argc > 4)
        return cli_usage(me, needs ? "expected DATA and LEARNER (the 32-digit learner id)" : "expected only DATA");
    node_data *n = NULL;
    node_people *p = NULL;
    cs_err err = {0};
    json_t *o = NULL;
    int rc = 0;
    if (node_open(&n, data, 0, &err) != 0 || node_people_of(n, &p, &err) != 0) {
        node_close(n);
        return cli_fail(&err);
    }
    if (strcmp(verb, "export") == 0) {
        if (node_people_learner_export(p, learner, "cli", cs_time_now(), &o, &err) != 0)
            rc = cli_fail(&err);
        else
            print_json(o);
    } else if (strcmp(verb, "delete") == 0) {
        if (node_people_learner_delete(p, learner, "cli", cs_time_now(), &err) != 0)
            rc = cli_fail(&err);
        else
            printf("learner %s and everything recorded about them deleted\n", learner);
    } else if (strcmp(verb, "audit") == 0) {
        if (node_people_audit_list(p, &o, &err) != 0)
            rc = cli_fail(&err);
        else
            print_json(o);
    } else {
        int64_t days = 365, removed = 0;
        if (cs_conf_get_int(n->conf, "privacy.retention_days", 365, &days, &err) != 0 ||
            node_people_purge(p, cs_time_now(), days, &removed, &err) != 0)
            rc = cli_fail(&err);
        else
            printf("%lld learner events older than %lld days removed\n", (long long)removed, (long long)days);
    }
    json_decref(o);
    node_close(n);
    return rc;
}
