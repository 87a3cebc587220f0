/*
 * cmd_node_user.c - `cistern node user add|list|passwd|remove DATA ...`
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli.h"
#include "node/people.h"
#include "platform/crypto.h"
#include "platform/file.h"
#include "platform/time.h"

/* The password: first line of --password-file, else asked on the terminal
 * (not echoed), else the first line of standard input. */
static int read_password(const char *file, char *buf, size_t cap)
{
    FILE *f = stdin;
    struct termios old, quiet;
    int tty = !file && isatty(0);
    if (file && !(f = fopen(file, "r")))
        return cli_failf("%s: cannot open", file);
    if (tty) {
        fprintf(stderr, "password: ");
        tcgetattr(0, &old);
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(0, TCSANOW, &quiet);
    }
    char *got = fgets(buf, (int)cap, f);
    if (tty) {
        tcsetattr(0, TCSANOW, &old);
        fprintf(stderr, "\n");
    }
    if (file)
        fclose(f);
    if (!got)
        return cli_failf("no password given");
    buf[strcspn(buf, "\r\n")] = 0;
    return 0;
}

static int staff_find(node_people *p, const char *name, node_user *u)
{
    cs_err err = {0};
    if (node_people_user_find(p, name, 0, u, &err) != 0)
        return cli_failf("no staff user named \"%s\"", name);
    return 0;
}

int cmd_node_user(int argc, char **argv);
int cmd_node_user(int argc, char **argv)
{
    const cli_command *me = cli_cmd("node", "user");
    const char *role = "teacher", *pwfile = NULL, *pos[3] = {0};
    int npos = 0, json = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--role") == 0 && i + 1 < argc)
            role = argv[++i];
        else if (strcmp(argv[i], "--password-file") == 0 && i + 1 < argc)
            pwfile = argv[++i];
        else if (strcmp(argv[i], "--json") == 0)
            json = 1;
        else if (argv[i][0] == '-' || npos == 3)
            return cli_usage(me, "unexpected argument");
        else
            pos[npos++] = argv[i];
    }
    if (npos < 2)
        return cli_usage(me, "expected add, list, passwd or remove, then DATA");
    const char *verb = pos[0], *data = pos[1], *name = pos[2];
    int is_list = strcmp(verb, "list") == 0;
    if (!is_list && strcmp(verb, "add") && strcmp(verb, "passwd") && strcmp(verb, "remove"))
        return cli_usage(me, "expected add, list, passwd or remove");
    if (!is_list && !name)
        return cli_usage(me, "expected a NAME");
    char dbp[4200];
    snprintf(dbp, sizeof dbp, "%s/catalog.db", data);
    if (!cs_path_exists(dbp))
        return cli_failf("%s is not a node data directory", data);
    node_people *p = NULL;
    cs_err err = {0};
    node_user u;
    char pw[NODE_SECRET_MAX + 2];
    int rc = 0;
    if (node_people_open(&p, data, &err) != 0)
        return cli_fail(&err);
    if (is_list) {
        json_t *o = NULL;
        if (node_people_user_list(p, -1, -1, &o, &err) != 0 ||
            node_people_audit(p, "cli", "read names", "users", cs_time_now(), &err) != 0) {
            rc = cli_fail(&err);
        } else if (json) {
            char *s = json_dumps(o, JSON_COMPACT);
            printf("%s\n", s);
            free(s);
        } else {
            size_t i;
            json_t *v;
            json_array_foreach(json_object_get(o, "users"), i, v)
            {
                json_t *cl = json_object_get(v, "class");
                printf("%-6lld %-8s %s%s%s\n", (long long)json_integer_value(json_object_get(v, "id")),
                       json_string_value(json_object_get(v, "role")), json_string_value(json_object_get(v, "name")),
                       json_is_integer(cl) ? "  (class " : "", json_is_integer(cl) ? "…)" : "");
            }
        }
        json_decref(o);
    } else if (strcmp(verb, "add") == 0) {
        int r = node_role_parse(role);
        int64_t id = 0;
        if (r != NODE_TEACHER && r != NODE_ADMIN)
            rc = cli_failf("--role is teacher or admin (students join their class from the web UI)");
        else if ((rc = read_password(pwfile, pw, sizeof pw)) == 0) {
            if (node_people_user_add(p, r, name, pw, 0, &id, &err) != 0)
                rc = cli_fail(&err);
            else
                printf("%s \"%s\" added (id %lld)\n", role, name, (long long)id);
        }
    } else if (strcmp(verb, "passwd") == 0) {
        if ((rc = staff_find(p, name, &u)) == 0 && (rc = read_password(pwfile, pw, sizeof pw)) == 0) {
            if (node_people_user_passwd(p, u.id, pw, &err) != 0)
                rc = cli_fail(&err);
            else
                printf("password of \"%s\" changed; their sessions are ended\n", name);
        }
    } else {
        if ((rc = staff_find(p, name, &u)) == 0) {
            if (node_people_user_remove(p, u.id, &err) != 0)
                rc = cli_fail(&err);
            else
                printf("\"%s\" removed\n", name);
        }
    }
    cs_wipe(pw, sizeof pw);
    node_people_close(p);
    return rc;
}
