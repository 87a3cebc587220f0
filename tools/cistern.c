/*
 * cistern.c - the `cistern` command: dispatch to one command per file.
 */
#include <stdio.h>
#include <string.h>

#include <sys/stat.h>

#include "cli.h"
#include "platform/priv.h"

#define CMD(g, n) int cmd_##g##_##n(int argc, char **argv);
CMD(hub, init)
CMD(hub, publish)
CMD(hub, add_zim)
CMD(hub, bundle)
CMD(hub, serve)
CMD(hub, rotate_key)
CMD(hub, import_outbox)
CMD(hub, reports)
CMD(hub, export_lrmi)
CMD(node, init)
CMD(node, import)
CMD(node, sync)
CMD(node, request)
CMD(node, status)
CMD(node, cat)
CMD(node, verify)
CMD(node, gc)
CMD(node, search)
CMD(node, serve)
CMD(node, user)
CMD(node, learner)
CMD(node, export_outbox)
CMD(recommend, eval)
CMD(recommend, audit)
CMD(recommend, convert_assist)
#undef CMD

const cli_command cli_commands[] = {
    {"hub", "init", "REPO",
     "Create a new repository in REPO: signing keys for the root, targets, snapshot and\n"
     "timestamp roles in REPO/keys/ (keep root.key offline), and REPO/root.json, the\n"
     "trust root that nodes pin with `cistern node init --trust`.",
     cmd_hub_init},
    {"hub", "publish", "REPO SOURCE_DIR [--delta-depth K]",
     "Publish the next signed version from SOURCE_DIR: one folder per resource,\n"
     "SOURCE_DIR/<id>/resource.json plus its files.  Every resource.json is checked\n"
     "first; if any is invalid nothing is published.  A folder that disappeared since\n"
     "the last publish is a deletion.  If nothing changed, no version is made.  Changed\n"
     "files and the catalogue get deltas from each of the last K versions (default 4,\n"
     "0-64).",
     cmd_hub_publish},
    {"hub", "add-zim", "REPO FILE.zim --source SOURCE_DIR [--id ID] [--subject S] [--grades 3,4] [--language L] [--no-publish]",
     "Add a Kiwix ZIM archive as an HTML resource, then publish SOURCE_DIR.  The archive is\n"
     "verified first (libzim's checksum and integrity checks); a damaged one is refused and\n"
     "nothing changes.  It becomes the folder SOURCE_DIR/<id>/: resource.json from the\n"
     "archive's metadata (Title, Description, Language, Creator, Publisher, Date, Tags,\n"
     "Illustration; entry = its main page), every entry as a file of the resource with its\n"
     "ZIM path and MIME type (listed in resource.files; bytes in blobs/), and the article\n"
     "titles in .cistern/titles.tsv, which nodes index so a search finds pages inside.\n"
     "Redirects keep their path: they serve the target's bytes, or, for an HTML page in\n"
     "another folder, a small page forwarding to it.  The id is the archive's Name (stable\n"
     "across editions) unless --id is given, so adding a newer edition replaces the folder\n"
     "and publishes a new version whose changed files travel as deltas.  --no-publish only\n"
     "writes the folder.",
     cmd_hub_add_zim},
    {"hub", "bundle", "REPO --since N -o FILE",
     "Write a USB bundle for nodes at version N (0 = everything): the signed metadata,\n"
     "the catalogue changes since N and only the objects such a node lacks.",
     cmd_hub_bundle},
    {"hub", "serve", "REPO [--listen HOST:PORT] [--header-timeout S]",
     "Serve the repository to nodes over HTTP (default 0.0.0.0:8080): its public files\n"
     "with Range and keep-alive, exactly as any static web server could, plus POST /batch,\n"
     "which returns many small objects in one response (one request per object is\n"
     "unusable at 600 ms round trips).  keys/ and hub.db are never served.  A request's\n"
     "headers must arrive within --header-timeout seconds (default 10) of the connection\n"
     "opening or the previous response, however slowly they drip.",
     cmd_hub_serve},
    {"hub", "rotate-key", "REPO ROLE",
     "Replace the key of ROLE (root, targets, snapshot or timestamp) after a compromise or\n"
     "on schedule: writes root version N+1 signed by the current root key (and by the new\n"
     "one when rotating the root key itself) and re-signs the current version.  Needs\n"
     "REPO/keys/root.key.  Nodes verify the chain of root versions from the root they pinned.",
     cmd_hub_rotate_key},
    {"hub", "import-outbox", "REPO FILE",
     "Take in an outbox file a node wrote with `cistern node export-outbox` (carried on\n"
     "USB).  The batch's signature must verify under the node's own key; records seen\n"
     "before add nothing, so importing the same file twice is harmless.",
     cmd_hub_import_outbox},
    {"hub", "reports", "REPO [--json]",
     "What nodes have sent back: each node's version, last contact, disk and pending\n"
     "records; usage across schools (noisy weekly aggregates); the feedback queue; and\n"
     "resources schools put forward, written under REPO/contrib/ for review.",
     cmd_hub_reports},
    {"hub", "export-lrmi", "REPO [-o FILE] [--base URL]",
     "Write the current catalogue as schema.org LearningResource JSON-LD (LRMI) for\n"
     "exchange with other platforms: names and descriptions in every language, subject\n"
     "and grades as educationalAlignment, the edition/volume/unit as a \"teaches\"\n"
     "alignment, prerequisites as \"requires\", files as hasPart.  URLs are relative to\n"
     "a node unless --base gives one (e.g. http://school-node:8080).  Nodes serve the\n"
     "same at /api/v1/catalog.jsonld.",
     cmd_hub_export_lrmi},
    {"node", "init", "DATA --trust ROOT.json [--hub URL]",
     "Create a node data directory DATA, pinning ROOT.json (a repository's root.json)\n"
     "as the trust root: everything the node accepts must chain to it.",
     cmd_node_init},
    {"node", "import", "DATA FILE",
     "Import a USB bundle.  Signatures, versions and every object's hash are checked\n"
     "before anything becomes visible; the new version is committed in one step.  An\n"
     "interrupted import resumes where it stopped when run again.",
     cmd_node_import},
    {"node", "sync", "DATA [--hub URL] [--json]",
     "Sync now, in the foreground, with progress: fetch and verify the hub's signed\n"
     "metadata, the catalogue changes since this node's version and the objects it\n"
     "lacks, then commit the new version in one step.  Cuts and stalls are retried\n"
     "with backoff; objects verified by a finished request are never fetched again.\n"
     "--json prints the run's counters (objects, bytes, deltas) as one JSON line.  Settings in\n"
     "node.conf: hub.url, sync.max_rate (e.g. 256k bytes/s), sync.stall_timeout,\n"
     "sync.retries, trust.clock_slack_hours.",
     cmd_node_sync},
    {"node", "request", "DATA RESOURCE_ID",
     "Ask for a resource that is listed but not cached: it is kept whatever the keep.*\n"
     "filters say, and fetched first at the next sync.",
     cmd_node_request},
    {"node", "status", "DATA [--json]",
     "Show the catalogue version applied, storage use, trust root and last import.",
     cmd_node_status},
    {"node", "cat", "DATA RESOURCE_ID PATH",
     "Write a cached file's bytes to standard output.",
     cmd_node_cat},
    {"node", "verify", "DATA [--repair]",
     "Re-hash every stored object and report damage.  With --repair, damaged objects\n"
     "are dropped so the next import or sync fetches them again.",
     cmd_node_verify},
    {"node", "gc", "DATA",
     "Remove stored objects that no resource of the current version references.",
     cmd_node_gc},
    {"node", "search", "DATA [QUERY] [--subject S] [--grade G] [--language L] [--type T] [--prefix] [--limit N] [--offset N] [--lang zh|en] [--json]",
     "Search the node's catalogue (Chinese 1- and 2-character words, English words;\n"
     "--prefix treats the last word as a prefix).  Without QUERY, lists by id with\n"
     "the filters.  Results are ranked by bm25: title, then keywords, then description.",
     cmd_node_search},
    {"node", "serve", "DATA [--listen HOST:PORT] [--check]",
     "Serve the node on the school LAN: the web UI at /, resources at /r/ID/PATH,\n"
     "the JSON API under /api/v1, OPDS at /opds, metrics at /metrics.  Listens on\n"
     "serve.listen from DATA/node.conf (default 0.0.0.0:8080) unless --listen is given.\n"
     "--check validates the configuration and exits.  SIGHUP reloads node.conf;\n"
     "SIGTERM stops accepting connections, lets running requests finish, and exits.",
     cmd_node_serve},
    {"node", "user", "add|list|passwd|remove DATA [NAME] [--role teacher|admin] [--password-file FILE] [--json]",
     "Manage staff accounts (students join their class with its code in the web UI).\n"
     "The password is read from --password-file (first line), else asked on the terminal,\n"
     "else read from standard input.  It is kept only as a PBKDF2-HMAC-SHA256 hash;\n"
     "names are encrypted at rest.  passwd ends the user's sessions.",
     cmd_node_user},
    {"node", "learner", "export|delete|audit|purge DATA [LEARNER]",
     "Learner data: export prints everything held about one student (by learner id, as\n"
     "the class's student list shows it); delete removes the student and all of it;\n"
     "audit shows who read learner data and when; purge drops events older than\n"
     "privacy.retention_days (default 365; the daemon does this hourly).",
     cmd_node_learner},
    {"node", "export-outbox", "DATA -o FILE",
     "Write the records waiting for the hub (noisy usage aggregates, feedback, resources\n"
     "put forward, node health) as one signed file to carry on USB to the hub, which\n"
     "takes it with `cistern hub import-outbox`.  Records stay until the hub acknowledges\n"
     "them over the network; re-importing is harmless.",
     cmd_node_export_outbox},
    {"recommend", "eval", "--interactions CSV --protocol next-new|leave-last-out [--k K] [--json] [--train CSV] [--items CSV] [--holdout N] [--methods LIST] [--weights C,T,K,E,P[,R]] [--lambda X] [--ease-max N] [--neighbours N] [--window N] [--half-life S]",
     "Offline evaluation of the recommender on an interaction log, a CSV with the header\n"
     "learner,item,ts[,score] (score empty or 0..1).  One model is trained on every\n"
     "interaction that is not held out; each learner in --interactions is evaluated.\n"
     "  next-new        keep each learner's first interaction per item (by ts), hold out\n"
     "                  the last one, rank the items the learner has not seen.\n"
     "  leave-last-out  hold out the last interaction, rank every item (seen ones too,\n"
     "                  since reopening is real use).\n"
     "--train CSV adds learners who only train (e.g. the ASSISTments train split).\n"
     "--items CSV gives item metadata (item,subject,language,grades,edition,volume,unit,\n"
     "prerequisites,skill).  Prints HR@K, NDCG@K, Recall@K and catalogue coverage for\n"
     "the blend and each baseline: popular, transitions (first-order), itemknn, ease\n"
     "(when the active items are at most --ease-max, default 2000) and curriculum.\n"
     "--json prints one object, a key per method holding hr, ndcg, recall, coverage.\n"
     "--holdout N holds out the last N (HR: any in the list; Recall: share found).\n"
     "Progress goes to stderr.  See docs/recommend.md.",
     cmd_recommend_eval},
    {"recommend", "audit", "--interactions CSV --groups CSV [--k K] [--protocol P] [--train CSV] [--items CSV] [--json]",
     "Fairness audit of the blend, evaluated as `recommend eval` does (default next-new).\n"
     "--groups is a CSV learner,group; the labels are read only by the audit, never by\n"
     "the recommender.  Per group: learners, HR@K, NDCG@K, calibration (mean KL between\n"
     "the item-category mix of each learner's history and of their list) and the\n"
     "exposure share of each item category in the group's recommendation slots.\n"
     "Categories are item subjects when --items gives any, else popularity tiers (head =\n"
     "the 20% of items with most interactions, tail = the rest).  Without --groups there\n"
     "is nothing to audit: says so and exits 2.",
     cmd_recommend_audit},
    {"recommend", "convert-assist", "IN.csv [-o OUT.csv] [--prefix P]",
     "Convert an ASSISTments knowledge-tracing file (three lines per student: number of\n"
     "answers; comma-separated skill ids; comma-separated 0/1 correctness) into the\n"
     "interaction CSV of `recommend eval`: learner P<n> (n counts students from 1,\n"
     "default prefix \"s\"), item skill-<id>, ts = answer position, score = correctness.\n"
     "Writes to stdout without -o.  For the train/test split, convert each file with its\n"
     "own prefix and evaluate with --train:\n"
     "  cistern recommend convert-assist train.csv --prefix train- -o tr.csv\n"
     "  cistern recommend convert-assist test.csv --prefix test- -o te.csv\n"
     "  cistern recommend eval --train tr.csv --interactions te.csv --protocol next-new",
     cmd_recommend_convert_assist},
};
const unsigned cli_ncommands = sizeof cli_commands / sizeof cli_commands[0];

const cli_command *cli_cmd(const char *group, const char *name)
{
    for (unsigned i = 0; i < cli_ncommands; i++)
        if (strcmp(cli_commands[i].group, group) == 0 && strcmp(cli_commands[i].name, name) == 0)
            return &cli_commands[i];
    return &cli_commands[0];
}

static void usage(FILE *f)
{
    fprintf(f, "usage: cistern <group> <command> [options]\n\ncommands:\n");
    for (unsigned i = 0; i < cli_ncommands; i++)
        fprintf(f, "  cistern %s %s %s\n", cli_commands[i].group, cli_commands[i].name, cli_commands[i].usage);
    fprintf(f, "\n`cistern <group> <command> --help` explains each one.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_USAGE : 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("cistern %s\n", CISTERN_VERSION);
        return 0;
    }
    int group_known = 0;
    for (unsigned i = 0; i < cli_ncommands; i++) {
        if (strcmp(argv[1], cli_commands[i].group) != 0)
            continue;
        group_known = 1;
        if (argc >= 3 && strcmp(argv[2], cli_commands[i].name) == 0) {
            if (cli_want_help(&cli_commands[i], argc - 2, argv + 2))
                return 0;
            /* A node's files are private; a hub's repository is for serving. */
            umask(strcmp(argv[1], "node") == 0 ? 077 : 022);
            /* Root working on a directory that belongs to someone else (the
             * daemon's user) works as them, so its files keep one owner. */
            /* (Not `serve`: a daemon binds its port as root first, then
             * drops to serve.user itself.) */
            /* `init` makes DATA: it becomes the owner of the folder it is made in
             * (e.g. /var/lib/cistern, the package's "cistern" user). */
            if (strcmp(argv[2], "init") == 0 && argc >= 4 && argv[3][0] != '-') {
                char parent[4096];
                snprintf(parent, sizeof parent, "%s", argv[3]);
                char *slash = strrchr(parent, '/');
                if (slash && slash != parent)
                    *slash = 0;
                else
                    snprintf(parent, sizeof parent, "%s", slash ? "/" : ".");
                cs_err err = {0};
                if (cs_priv_become_owner(parent, &err) != 0)
                    return cli_fail(&err);
            }
            for (int a = 3; a < argc && strcmp(argv[2], "init") != 0 && strcmp(argv[2], "serve") != 0; a++) {
                struct stat st;
                if (argv[a][0] != '-' && stat(argv[a], &st) == 0 && S_ISDIR(st.st_mode)) {
                    cs_err err = {0};
                    if (cs_priv_become_owner(argv[a], &err) != 0)
                        return cli_fail(&err);
                    break;
                }
            }
            return cli_commands[i].run(argc - 2, argv + 2);
        }
    }
    if (group_known && argc >= 3 && strcmp(argv[2], "--help") != 0) {
        fprintf(stderr, "cistern: unknown command \"%s %s\" (see `cistern --help`)\n", argv[1], argv[2]);
    } else if (!group_known) {
        fprintf(stderr, "cistern: unknown command \"%s\" (see `cistern --help`)\n", argv[1]);
    } else {
        usage(argc >= 3 ? stdout : stderr);
        return argc >= 3 ? 0 : CLI_USAGE;
    }
    return CLI_USAGE;
}
