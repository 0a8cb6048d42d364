
/*
 * Copyright (C) wsgate authors
 *
 * The operator CLI, wsgate-token.  It mints, rotates and revokes bearer
 * tokens and opens restart windows in Redis with exactly the commands
 * that redis/README.md documents, so that a control plane written in any
 * language can do the same.  Every key comes from the data model in
 * module/ngx_http_wsgate_schema.h, as the gateway's do.  Synchronous
 * hiredis, OpenSSL RAND_bytes and the pure helpers of module/; no nginx
 * headers.
 */


#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <sys/time.h>
#include <sys/types.h>

#include <hiredis/hiredis.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "ngx_http_wsgate_schema.h"
#include "ngx_http_wsgate_slot.h"
#include "ngx_http_wsgate_token.h"
#include "ngx_http_wsgate_uuid.h"


#define WSGATE_CLI_NAME            "wsgate-token"

#define WSGATE_CLI_OK              0
#define WSGATE_CLI_FAILED          1     /* Redis unreachable or an error */
#define WSGATE_CLI_USAGE           2     /* bad usage, nothing written */
#define WSGATE_CLI_AGAIN           3     /* internal: EXEC saw a WATCH fire */

#define WSGATE_CLI_DEFAULT_URL     "redis://127.0.0.1:6379/0"
#define WSGATE_CLI_DEFAULT_PREFIX  "wsgate:"
#define WSGATE_CLI_RESTART_GRACE   120000          /* 2m, as the gateway */
#define WSGATE_CLI_TIME_MAX        315360000000LL  /* 10 years in ms */

#define WSGATE_CLI_TOKEN_BYTES     32
#define WSGATE_CLI_TOKEN_LEN       43              /* base64url, no pad */
#define WSGATE_CLI_RETRIES         10
#define WSGATE_CLI_CONNECT_MS      2000
#define WSGATE_CLI_COMMAND_MS      5000

#define WSGATE_CLI_PREFIX_MAX      128
#define WSGATE_CLI_NAME_MAX        256
#define WSGATE_CLI_KEY_MAX                                                    \
    (WSGATE_CLI_PREFIX_MAX + WSGATE_CLI_NAME_MAX + 32)
#define WSGATE_CLI_SYSTEM_MAX      16
#define WSGATE_CLI_SHOWN_MAX       1024  /* an argument as messages show it */
#define WSGATE_CLI_MESSAGE_MAX     2048

/* --cluster */
#define WSGATE_CLI_SEEDS_MAX       16
#define WSGATE_CLI_NODES_MAX       256
#define WSGATE_CLI_HOST_MAX        256
#define WSGATE_CLI_REDIRECTS       16
#define WSGATE_CLI_TX_MAX          3     /* commands in one MULTI/EXEC */
#define WSGATE_CLI_LOCK_MS         30000 /* the token set lock's lease */
#define WSGATE_CLI_LOCK_USE_MS     20000 /* no write under it after this */
#define WSGATE_CLI_LOCK_WAIT_MS    5000  /* waiting for another writer's */

#define WSGATE_CLI_UNLOCK_LUA                                                 \
    "if redis.call('get', KEYS[1]) == ARGV[1] then "                          \
    "return redis.call('del', KEYS[1]) end return 0"

/* what a command accepts */
#define WSGATE_CLI_WS              0x01   /* a workspace UUID */
#define WSGATE_CLI_SYS             0x02   /* a system caller name */
#define WSGATE_CLI_GRACE           0x04   /* --grace */
#define WSGATE_CLI_TTL             0x08   /* --ttl */


typedef struct {
    char                        *host;        /* NULL: a unix socket */
    char                        *path;
    char                        *user;
    char                        *password;
    char                         addr[300];   /* for messages, no secret */
    int                          port;
    int                          db;
} wsgate_cli_url_t;


/* a Redis Cluster node */

typedef struct {
    char                        *host;
    int                          port;
    redisContext                *ctx;         /* NULL: not connected */
    char                         addr[300];   /* for messages, no secret */
} wsgate_cli_node_t;


/* a command formatted for one node, and its name for messages */

typedef struct {
    char                        *buf;
    int                          len;
    char                         name[16];
} wsgate_cli_cmd_t;


typedef struct wsgate_cli_s  wsgate_cli_t;

typedef int (*wsgate_cli_handler_pt)(wsgate_cli_t *cli);


typedef struct {
    const char                  *name;
    wsgate_cli_handler_pt        handler;
    wsgate_cli_handler_pt        cluster_handler;
    unsigned                     accepts;
} wsgate_cli_command_t;


typedef struct {
    char                       **digest;
    size_t                      *len;
    long long                   *pttl;
    size_t                       n;
    redisReply                  *reply;       /* owns the digests */
} wsgate_cli_set_t;


struct wsgate_cli_s {
    redisContext                *ctx;
    const wsgate_cli_command_t  *command;
    const char                  *url_text;
    const char                  *cluster_text;
    wsgate_cli_node_t           *nodes;       /* the seeds first */
    size_t                       nnodes;
    size_t                       nseeds;
    int16_t                     *slots;       /* a node per slot, or -1 */
    long long                    locked_ms;   /* 0: no lock held */
    const char                  *prefix;
    size_t                       prefix_len;
    const char                  *system[WSGATE_CLI_SYSTEM_MAX];
    size_t                       nsystem;
    u_char                      *key;         /* wsgate_cli_key() */
    size_t                       key_size;
    long long                    grace_ms;    /* -1: not given */
    long long                    ttl_ms;      /* -1: not given */
    wsgate_cli_url_t             url;
    char                         id[WSGATE_CLI_NAME_MAX + 1];
    char                         set_key[WSGATE_CLI_KEY_MAX];
    size_t                       set_key_len;
    char                         lock_key[WSGATE_CLI_KEY_MAX];
    size_t                       lock_key_len;
    char                         lock_owner[33];
    unsigned                     is_system:1;
    unsigned                     quiet:1;
};


static int wsgate_cli_parse_args(wsgate_cli_t *cli, int argc, char **argv);
static int wsgate_cli_parse_id(wsgate_cli_t *cli, const char *arg);
static void wsgate_cli_set_key(wsgate_cli_t *cli, ngx_http_wsgate_key_e kind,
    size_t len);
static int wsgate_cli_parse_time(const char *s, long long *ms);
static int wsgate_cli_parse_url(const char *s, wsgate_cli_url_t *u);
static int wsgate_cli_parse_authority(char *p, wsgate_cli_url_t *u);
static int wsgate_cli_parse_int(const char *s, size_t len, long max,
    long *value);
static char *wsgate_cli_percent_decode(const char *s, size_t len);
static const char *wsgate_cli_redact(const char *s, char *buf, size_t size);
static const char *wsgate_cli_redact_arg(const char *s, char *buf,
    size_t size);
static int wsgate_cli_is_number(const char *s, const char *end, size_t max);
static char *wsgate_cli_copy(char *p, char *last, const char *s, size_t n);
static void wsgate_cli_usage(FILE *f);
static void wsgate_cli_error(const char *fmt, ...);

static int wsgate_cli_connect(wsgate_cli_t *cli);
static int wsgate_cli_io_error(wsgate_cli_t *cli, const char *what);
static int wsgate_cli_ctx_io_error(redisContext *ctx, const char *addr,
    const char *what);
static redisReply *wsgate_cli_command(wsgate_cli_t *cli, const char *fmt,
    ...);
static redisReply *wsgate_cli_vcommand(wsgate_cli_t *cli, redisContext *ctx,
    const char *addr, const char *fmt, va_list args);
static int wsgate_cli_auth_reply_unsafe(wsgate_cli_t *cli, const char *s);
static int wsgate_cli_exec(wsgate_cli_t *cli, int queued, redisReply **r);
static int wsgate_cli_set_read(wsgate_cli_t *cli, wsgate_cli_set_t *set,
    int pttl);
static int wsgate_cli_set_init(wsgate_cli_t *cli, wsgate_cli_set_t *set,
    redisReply *r);
static void wsgate_cli_set_free(wsgate_cli_set_t *set);
static int wsgate_cli_append_issue(wsgate_cli_t *cli, const char *digest,
    long long now, int *queued);
static const u_char *wsgate_cli_key(wsgate_cli_t *cli,
    ngx_http_wsgate_key_e kind, const char *id, size_t len, size_t *key_len);
static int wsgate_cli_token_new(char *token, char *digest);
static void wsgate_cli_backoff(int attempt);
static long long wsgate_cli_now_ms(void);
static long long wsgate_cli_reply_int(redisReply *r);
static int wsgate_cli_print_token(char *token);
static uint64_t wsgate_cli_reply_ms(redisReply *v);
static int wsgate_cli_parse_ll(const char *s, long long *value);
static void wsgate_cli_json_field(redisReply *hash, const char *name,
    int number);

static int wsgate_cli_issue(wsgate_cli_t *cli);
static int wsgate_cli_rotate(wsgate_cli_t *cli);
static int wsgate_cli_revoke(wsgate_cli_t *cli);
static int wsgate_cli_mark_restart(wsgate_cli_t *cli);
static int wsgate_cli_status(wsgate_cli_t *cli);
static int wsgate_cli_status_read(wsgate_cli_t *cli, redisReply **result,
    long long *live);
static int wsgate_cli_status_check(const char *addr, redisReply *r);
static void wsgate_cli_rotate_note(wsgate_cli_t *cli, long long grace,
    size_t changed, size_t sooner);

static int wsgate_cli_parse_seeds(wsgate_cli_t *cli, const char *s);
static size_t wsgate_cli_span(const char *s, size_t len, const char *reject);
static int wsgate_cli_node(wsgate_cli_t *cli, const char *host, size_t len,
    int port);
static int wsgate_cli_node_connect(wsgate_cli_t *cli,
    wsgate_cli_node_t *node);
static redisReply *wsgate_cli_node_command(wsgate_cli_t *cli,
    wsgate_cli_node_t *node, const char *fmt, ...);
static int wsgate_cli_cluster_connect(wsgate_cli_t *cli);
static int wsgate_cli_cluster_slots(wsgate_cli_t *cli, size_t seed,
    redisReply *r);
static int wsgate_cli_cmd(wsgate_cli_cmd_t *cmd, const char *fmt, ...);
static void wsgate_cli_cmd_free(wsgate_cli_cmd_t *cmd, size_t n);
static redisReply *wsgate_cli_cluster_run(wsgate_cli_t *cli, uint16_t slot,
    int tx, wsgate_cli_cmd_t *cmd, size_t n);
static const char *wsgate_cli_run_what(size_t i, int asking, int tx,
    wsgate_cli_cmd_t *cmd, size_t n);
static int wsgate_cli_redirect(wsgate_cli_t *cli, wsgate_cli_node_t *from,
    const char *err, int *asking, int *target, int attempt);
static void wsgate_cli_replies_free(redisReply **rep, size_t n);
static redisReply *wsgate_cli_cluster_command(wsgate_cli_t *cli,
    const u_char *key, size_t len, const char *fmt, ...);
static int wsgate_cli_lock(wsgate_cli_t *cli);
static int wsgate_cli_lock_held(wsgate_cli_t *cli);
static void wsgate_cli_unlock(wsgate_cli_t *cli);
static int wsgate_cli_cluster_issue(wsgate_cli_t *cli);
static int wsgate_cli_cluster_rotate(wsgate_cli_t *cli);
static int wsgate_cli_cluster_revoke(wsgate_cli_t *cli);
static int wsgate_cli_cluster_change(wsgate_cli_t *cli, int issue,
    int revoke);
static int wsgate_cli_cluster_status_read(wsgate_cli_t *cli,
    redisReply **result, long long *live);
static void wsgate_cli_cluster_free(wsgate_cli_t *cli);


static const wsgate_cli_command_t  wsgate_cli_commands[] = {

    { "issue", wsgate_cli_issue, wsgate_cli_cluster_issue,
      WSGATE_CLI_WS|WSGATE_CLI_TTL },

    { "rotate", wsgate_cli_rotate, wsgate_cli_cluster_rotate,
      WSGATE_CLI_WS|WSGATE_CLI_SYS|WSGATE_CLI_GRACE|WSGATE_CLI_TTL },

    { "revoke", wsgate_cli_revoke, wsgate_cli_cluster_revoke,
      WSGATE_CLI_WS|WSGATE_CLI_SYS },

    { "issue-system", wsgate_cli_issue, wsgate_cli_cluster_issue,
      WSGATE_CLI_SYS|WSGATE_CLI_TTL },

    { "mark-restart", wsgate_cli_mark_restart, wsgate_cli_mark_restart,
      WSGATE_CLI_WS|WSGATE_CLI_GRACE },

    { "status", wsgate_cli_status, wsgate_cli_status,
      WSGATE_CLI_WS },

    { NULL, NULL, NULL, 0 }
};


static const char  *wsgate_cli_default_system[] = {
    "system:", "webhook:", "channel:", "test:"
};


/* the Redis password once the URL is parsed: no message ever shows it */

static const char  *wsgate_cli_password;


/* while set, a message is kept in wsgate_cli_muted_msg, not printed */

static int          wsgate_cli_muted;
static char         wsgate_cli_muted_msg[WSGATE_CLI_MESSAGE_MAX];


int
main(int argc, char **argv)
{
    int            rc;
    wsgate_cli_t   cli;

    memset(&cli, 0, sizeof(wsgate_cli_t));

    cli.prefix = WSGATE_CLI_DEFAULT_PREFIX;
    cli.grace_ms = -1;
    cli.ttl_ms = -1;

    rc = wsgate_cli_parse_args(&cli, argc, argv);

    if (rc == -1) {
        rc = WSGATE_CLI_OK;

    } else if (rc == WSGATE_CLI_OK && cli.nseeds != 0) {
        rc = wsgate_cli_cluster_connect(&cli);

        if (rc == WSGATE_CLI_OK) {
            rc = cli.command->cluster_handler(&cli);
        }

    } else if (rc == WSGATE_CLI_OK) {
        rc = wsgate_cli_connect(&cli);

        if (rc == WSGATE_CLI_OK) {
            rc = cli.command->handler(&cli);
        }
    }

    if (cli.ctx != NULL) {
        redisFree(cli.ctx);
    }

    wsgate_cli_cluster_free(&cli);

    free(cli.url.host);
    free(cli.url.path);
    free(cli.url.user);
    free(cli.url.password);
    free(cli.key);

    return rc;
}


/*
 * Everything is checked here, before the first byte goes to Redis, so a
 * usage error (exit 2) never leaves anything written.  Returns -1 when
 * the help was printed.
 */

static int
wsgate_cli_parse_args(wsgate_cli_t *cli, int argc, char **argv)
{
    int                          i, grace, ttl;
    char                        *arg, *value, *eq;
    char                         shown[WSGATE_CLI_SHOWN_MAX];
    size_t                       len;
    const char                  *id, *env;
    const wsgate_cli_command_t  *cmd;

    id = NULL;
    grace = 0;
    ttl = 0;

    for (i = 1; i < argc; i++) {
        arg = argv[i];

        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            wsgate_cli_usage(stdout);
            return -1;
        }

        if (strcmp(arg, "-q") == 0 || strcmp(arg, "--quiet") == 0) {
            cli->quiet = 1;
            continue;
        }

        if (arg[0] != '-' || arg[1] == '\0') {

            if (cli->command == NULL) {

                if (strcmp(arg, "help") == 0) {
                    wsgate_cli_usage(stdout);
                    return -1;
                }

                for (cmd = wsgate_cli_commands; cmd->name != NULL; cmd++) {
                    if (strcmp(arg, cmd->name) == 0) {
                        break;
                    }
                }

                if (cmd->name == NULL) {
                    wsgate_cli_error("unknown command \"%s\" "
                                     "(see wsgate-token --help)",
                                     wsgate_cli_redact_arg(arg, shown,
                                                           sizeof(shown)));
                    return WSGATE_CLI_USAGE;
                }

                cli->command = cmd;
                continue;
            }

            if (id == NULL) {
                id = arg;
                continue;
            }

            wsgate_cli_error("unexpected argument \"%s\"",
                             wsgate_cli_redact_arg(arg, shown,
                                                   sizeof(shown)));
            return WSGATE_CLI_USAGE;
        }

        /* --name value or --name=value */

        eq = strchr(arg, '=');
        len = (eq != NULL) ? (size_t) (eq - arg) : strlen(arg);

        if (eq != NULL) {
            value = eq + 1;

        } else if (i + 1 < argc) {
            value = argv[++i];

        } else {
            value = NULL;
        }

#define wsgate_cli_is(name)                                                   \
    (len == sizeof(name) - 1 && strncmp(arg, name, len) == 0)

        if (!wsgate_cli_is("--redis") && !wsgate_cli_is("--cluster")
            && !wsgate_cli_is("--prefix")
            && !wsgate_cli_is("--system-prefix") && !wsgate_cli_is("--grace")
            && !wsgate_cli_is("--ttl"))
        {
            wsgate_cli_error("unknown option \"%.*s\" "
                             "(see wsgate-token --help)", (int) len, arg);
            return WSGATE_CLI_USAGE;
        }

        if (value == NULL) {
            wsgate_cli_error("option \"%s\" needs a value", arg);
            return WSGATE_CLI_USAGE;
        }

        if (wsgate_cli_is("--redis")) {
            cli->url_text = value;

        } else if (wsgate_cli_is("--cluster")) {
            cli->cluster_text = value;

        } else if (wsgate_cli_is("--prefix")) {

            if (strlen(value) > WSGATE_CLI_PREFIX_MAX
                || strpbrk(value, "{} \t\r\n") != NULL)
            {
                wsgate_cli_error("invalid --prefix \"%s\": at most %d "
                                 "characters, no braces, no spaces",
                                 wsgate_cli_redact_arg(value, shown,
                                                       sizeof(shown)),
                                 WSGATE_CLI_PREFIX_MAX);
                return WSGATE_CLI_USAGE;
            }

            cli->prefix = value;

        } else if (wsgate_cli_is("--system-prefix")) {

            if (value[0] == '\0' || strlen(value) > WSGATE_CLI_PREFIX_MAX) {
                wsgate_cli_error("invalid --system-prefix \"%s\"",
                                 wsgate_cli_redact_arg(value, shown,
                                                       sizeof(shown)));
                return WSGATE_CLI_USAGE;
            }

            if (cli->nsystem == WSGATE_CLI_SYSTEM_MAX) {
                wsgate_cli_error("too many --system-prefix options");
                return WSGATE_CLI_USAGE;
            }

            cli->system[cli->nsystem++] = value;

        } else if (wsgate_cli_is("--grace")) {

            if (wsgate_cli_parse_time(value, &cli->grace_ms) != 0) {
                wsgate_cli_error("invalid --grace \"%s\" (a time such as "
                                 "500ms, 30s, 2m, 1h, 1d)",
                                 wsgate_cli_redact_arg(value, shown,
                                                       sizeof(shown)));
                return WSGATE_CLI_USAGE;
            }

            grace = 1;

        } else {

            if (wsgate_cli_parse_time(value, &cli->ttl_ms) != 0
                || cli->ttl_ms == 0)
            {
                wsgate_cli_error("invalid --ttl \"%s\" (a time above zero "
                                 "such as 500ms, 30s, 2m, 1h, 1d)",
                                 wsgate_cli_redact_arg(value, shown,
                                                       sizeof(shown)));
                return WSGATE_CLI_USAGE;
            }

            ttl = 1;
        }

#undef wsgate_cli_is
    }

    cmd = cli->command;

    if (cmd == NULL) {
        wsgate_cli_error("no command given (see wsgate-token --help)");
        return WSGATE_CLI_USAGE;
    }

    if (id == NULL) {
        wsgate_cli_error("%s needs %s", cmd->name,
                         (cmd->accepts & WSGATE_CLI_WS) == 0
                         ? "a system caller name"
                         : (cmd->accepts & WSGATE_CLI_SYS)
                           ? "a workspace id or a system caller name"
                           : "a workspace id");
        return WSGATE_CLI_USAGE;
    }

    if (grace && (cmd->accepts & WSGATE_CLI_GRACE) == 0) {
        wsgate_cli_error("%s takes no --grace", cmd->name);
        return WSGATE_CLI_USAGE;
    }

    if (ttl && (cmd->accepts & WSGATE_CLI_TTL) == 0) {
        wsgate_cli_error("%s takes no --ttl", cmd->name);
        return WSGATE_CLI_USAGE;
    }

    if (cmd->handler == wsgate_cli_mark_restart) {

        if (cli->grace_ms == -1) {
            cli->grace_ms = WSGATE_CLI_RESTART_GRACE;

        } else if (cli->grace_ms == 0) {
            wsgate_cli_error("mark-restart needs a --grace above zero");
            return WSGATE_CLI_USAGE;
        }
    }

    if (cli->nsystem == 0) {
        memcpy(cli->system, wsgate_cli_default_system,
               sizeof(wsgate_cli_default_system));
        cli->nsystem = sizeof(wsgate_cli_default_system)
                       / sizeof(wsgate_cli_default_system[0]);
    }

    cli->prefix_len = strlen(cli->prefix);

    if (wsgate_cli_parse_id(cli, id) != 0) {
        return WSGATE_CLI_USAGE;
    }

    if (cli->url_text == NULL) {
        env = getenv("WSGATE_REDIS_URL");
        cli->url_text = (env != NULL && env[0] != '\0')
                        ? env : WSGATE_CLI_DEFAULT_URL;
    }

    if (wsgate_cli_parse_url(cli->url_text, &cli->url) != 0) {
        return WSGATE_CLI_USAGE;
    }

    wsgate_cli_password = cli->url.password;

    /*
     * A cluster: the seeds from --cluster or $WSGATE_REDIS_CLUSTER; the
     * URL then gives only the credentials, and a cluster has only db 0.
     */

    if (cli->cluster_text == NULL) {
        env = getenv("WSGATE_REDIS_CLUSTER");
        cli->cluster_text = (env != NULL && env[0] != '\0') ? env : NULL;
    }

    if (cli->cluster_text == NULL) {
        return WSGATE_CLI_OK;
    }

    if (cli->url.db != 0) {
        wsgate_cli_error("a Redis Cluster has only db 0; the Redis URL "
                         "names db %d", cli->url.db);
        return WSGATE_CLI_USAGE;
    }

    if (wsgate_cli_parse_seeds(cli, cli->cluster_text) != 0) {
        return WSGATE_CLI_USAGE;
    }

    return WSGATE_CLI_OK;
}


/* a workspace UUID (lowercased) or a system caller name, as cmd accepts */

static int
wsgate_cli_parse_id(wsgate_cli_t *cli, const char *arg)
{
    char                         buf[WSGATE_CLI_SHOWN_MAX];
    size_t                       i, len;
    const char                  *kind, *shown;
    const wsgate_cli_command_t  *cmd;

    cmd = cli->command;
    len = strlen(arg);
    shown = wsgate_cli_redact_arg(arg, buf, sizeof(buf));

    if ((cmd->accepts & WSGATE_CLI_WS)
        && ngx_http_wsgate_uuid_parse((const u_char *) arg, len, NULL) == 0)
    {
        for (i = 0; i < len; i++) {
            cli->id[i] = (arg[i] >= 'A' && arg[i] <= 'Z')
                         ? arg[i] - 'A' + 'a' : arg[i];
        }

        cli->id[len] = '\0';

        wsgate_cli_set_key(cli, NGX_HTTP_WSGATE_KEY_WS_TOKENS, len);

        return 0;
    }

    if ((cmd->accepts & WSGATE_CLI_SYS)
        && ngx_http_wsgate_is_system_name((const u_char *) arg, len,
                                          cli->system, cli->nsystem))
    {
        if (len > WSGATE_CLI_NAME_MAX) {
            wsgate_cli_error("system caller name is longer than %d "
                             "characters", WSGATE_CLI_NAME_MAX);
            return -1;
        }

        /* visible ASCII; braces would break the key's hash tag */

        for (i = 0; i < len; i++) {
            if (arg[i] <= 0x20 || arg[i] >= 0x7f
                || arg[i] == '{' || arg[i] == '}')
            {
                wsgate_cli_error("invalid system caller name \"%s\": "
                                 "visible ASCII only, no braces", shown);
                return -1;
            }
        }

        for (i = 0; i < cli->nsystem; i++) {
            if (strcasecmp(arg, cli->system[i]) == 0) {
                wsgate_cli_error("system caller name \"%s\" is only a "
                                 "prefix", arg);
                return -1;
            }
        }

        memcpy(cli->id, arg, len + 1);
        cli->is_system = 1;

        wsgate_cli_set_key(cli, NGX_HTTP_WSGATE_KEY_SYS_TOKENS, len);

        return 0;
    }

    if ((cmd->accepts & WSGATE_CLI_WS) == 0) {
        kind = "a system caller name (starting with";

    } else if (cmd->accepts & WSGATE_CLI_SYS) {
        kind = "a workspace UUID or a system caller name (starting with";

    } else {
        wsgate_cli_error("%s: \"%s\" is not a workspace UUID", cmd->name,
                         shown);
        return -1;
    }

    fprintf(stderr, WSGATE_CLI_NAME ": %s: \"%s\" is not %s", cmd->name,
            shown, kind);

    for (i = 0; i < cli->nsystem; i++) {
        fprintf(stderr, " %s", cli->system[i]);
    }

    fprintf(stderr, ")\n");

    return -1;
}


/* the token set of cli->id (len bytes), NUL-terminated for messages */

static void
wsgate_cli_set_key(wsgate_cli_t *cli, ngx_http_wsgate_key_e kind, size_t len)
{
    u_char  *p;

    p = ngx_http_wsgate_key((u_char *) cli->set_key, kind,
                            (const u_char *) cli->prefix, cli->prefix_len,
                            (const u_char *) cli->id, len);
    *p = '\0';

    cli->set_key_len = p - (u_char *) cli->set_key;
}


/* nginx-like times: 500ms, 30s, 2m, 1h, 1d, 1w, 1m30s; bare = seconds */

static int
wsgate_cli_parse_time(const char *s, long long *ms)
{
    long long  total, n, unit;

    if (*s == '\0') {
        return -1;
    }

    total = 0;

    while (*s != '\0') {

        if (*s < '0' || *s > '9') {
            return -1;
        }

        n = 0;

        while (*s >= '0' && *s <= '9') {
            n = n * 10 + (*s++ - '0');

            if (n > WSGATE_CLI_TIME_MAX) {
                return -1;
            }
        }

        switch (*s) {

        case '\0':
            unit = 1000;
            break;

        case 'm':
            if (s[1] == 's') {
                unit = 1;
                s += 2;

            } else {
                unit = 60000;
                s++;
            }

            break;

        case 's':
            unit = 1000;
            s++;
            break;

        case 'h':
            unit = 3600000;
            s++;
            break;

        case 'd':
            unit = 86400000;
            s++;
            break;

        case 'w':
            unit = 604800000;
            s++;
            break;

        default:
            return -1;
        }

        if (n > (WSGATE_CLI_TIME_MAX - total) / unit) {
            return -1;
        }

        total += n * unit;
    }

    *ms = total;

    return 0;
}


/*
 * redis://[user:pass@]host[:port][/db]    (host may be [IPv6])
 * unix:///path/to.sock[?db=N][&user=U][&password=P]
 * rediss://...                             (TLS: not in hiredis 0.14)
 *
 * A message shows the URL only through wsgate_cli_redact(), and names a
 * parsed one by u->addr: "***@" before it when it carries credentials.
 */

static int
wsgate_cli_parse_url(const char *s, wsgate_cli_url_t *u)
{
    int    rc;
    char  *copy, *p, *q, *amp, *eq, buf[WSGATE_CLI_SHOWN_MAX];
    long   n;

    u->port = 6379;
    u->db = 0;

    if (strncasecmp(s, "rediss://", 9) == 0) {
        wsgate_cli_error("Redis URL \"%s\": rediss:// needs a hiredis built "
                         "with TLS (1.0+); this build has none",
                         wsgate_cli_redact(s, buf, sizeof(buf)));
        return -1;
    }

    copy = strdup(s);
    if (copy == NULL) {
        wsgate_cli_error("out of memory");
        return -1;
    }

    rc = -1;

    if (strncasecmp(copy, "redis://", 8) == 0) {
        rc = wsgate_cli_parse_authority(copy + 8, u);

    } else if (strncasecmp(copy, "unix://", 7) == 0 && copy[7] == '/') {

        p = copy + 7;
        q = strchr(p, '?');

        if (q != NULL) {
            *q++ = '\0';
        }

        u->path = wsgate_cli_percent_decode(p, strlen(p));
        if (u->path == NULL || u->path[1] == '\0') {
            goto invalid;
        }

        while (q != NULL && *q != '\0') {
            amp = strchr(q, '&');
            if (amp != NULL) {
                *amp++ = '\0';
            }

            eq = strchr(q, '=');
            if (eq == NULL) {
                goto invalid;
            }

            *eq++ = '\0';

            if (strcmp(q, "db") == 0) {
                if (wsgate_cli_parse_int(eq, strlen(eq), INT_MAX, &n) != 0) {
                    goto invalid;
                }

                u->db = (int) n;

            } else if (strcmp(q, "user") == 0) {
                free(u->user);
                u->user = wsgate_cli_percent_decode(eq, strlen(eq));
                if (u->user == NULL) {
                    goto invalid;
                }

            } else if (strcmp(q, "password") == 0) {
                free(u->password);
                u->password = wsgate_cli_percent_decode(eq, strlen(eq));
                if (u->password == NULL) {
                    goto invalid;
                }

            } else {
                goto invalid;
            }

            q = amp;
        }

        snprintf(u->addr, sizeof(u->addr), "%sunix:%s",
                 (u->user != NULL || u->password != NULL) ? "***@" : "",
                 u->path);
        rc = 0;
    }

    if (rc == 0) {
        free(copy);
        return 0;
    }

invalid:

    free(copy);

    wsgate_cli_error("invalid Redis URL \"%s\" (expected "
                     "redis://[user:pass@]host[:port][/db] or "
                     "unix:///path[?db=N])",
                     wsgate_cli_redact(s, buf, sizeof(buf)));

    return -1;
}


static int
wsgate_cli_parse_authority(char *p, wsgate_cli_url_t *u)
{
    char  *at, *colon, *slash, *host, *end;
    long   n;

    slash = strchr(p, '/');

    if (slash != NULL) {
        *slash++ = '\0';

        if (*slash != '\0') {
            if (wsgate_cli_parse_int(slash, strlen(slash), INT_MAX, &n) != 0)
            {
                return -1;
            }

            u->db = (int) n;
        }

    } else if (strpbrk(p, "?#") != NULL) {
        return -1;
    }

    /* userinfo: the last '@'; "user:pass", ":pass" or "pass" */

    at = strrchr(p, '@');

    if (at != NULL) {
        *at = '\0';
        colon = strchr(p, ':');

        if (colon != NULL) {
            if (colon != p) {
                u->user = wsgate_cli_percent_decode(p, colon - p);
                if (u->user == NULL) {
                    return -1;
                }
            }

            p = colon + 1;
        }

        u->password = wsgate_cli_percent_decode(p, strlen(p));
        if (u->password == NULL) {
            return -1;
        }

        p = at + 1;
    }

    if (*p == '[') {
        host = p + 1;
        end = strchr(host, ']');

        if (end == NULL || end == host) {
            return -1;
        }

        *end++ = '\0';

        if (*end != '\0' && *end != ':') {
            return -1;
        }

        colon = (*end == ':') ? end : NULL;

    } else {
        host = p;
        colon = strchr(p, ':');
    }

    if (colon != NULL) {
        *colon = '\0';

        if (wsgate_cli_parse_int(colon + 1, strlen(colon + 1), 65535, &n)
            != 0 || n == 0)
        {
            return -1;
        }

        u->port = (int) n;
    }

    if (*host == '\0') {
        host = "127.0.0.1";
    }

    if (strpbrk(host, "/?#@[] ") != NULL) {
        return -1;
    }

    u->host = strdup(host);
    if (u->host == NULL) {
        return -1;
    }

    snprintf(u->addr, sizeof(u->addr),
             strchr(host, ':') != NULL ? "%s[%s]:%d" : "%s%s:%d",
             (u->user != NULL || u->password != NULL) ? "***@" : "",
             u->host, u->port);

    return 0;
}


static int
wsgate_cli_parse_int(const char *s, size_t len, long max, long *value)
{
    long    n;
    size_t  i;

    if (len == 0 || len > 10) {
        return -1;
    }

    n = 0;

    for (i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return -1;
        }

        n = n * 10 + (s[i] - '0');
    }

    if (n > max) {
        return -1;
    }

    *value = n;

    return 0;
}


static char *
wsgate_cli_percent_decode(const char *s, size_t len)
{
    int     hi, lo;
    char   *out, *d;
    size_t  i;

    out = malloc(len + 1);
    if (out == NULL) {
        return NULL;
    }

    d = out;

    for (i = 0; i < len; i++) {

        if (s[i] != '%') {
            *d++ = s[i];
            continue;
        }

        if (len - i < 3) {
            free(out);
            return NULL;
        }

        hi = ngx_http_wsgate_hex_value((u_char) s[i + 1]);
        lo = ngx_http_wsgate_hex_value((u_char) s[i + 2]);

        /* %00 would cut the string short */

        if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
            free(out);
            return NULL;
        }

        *d++ = (char) (hi * 16 + lo);
        i += 2;
    }

    *d = '\0';

    return out;
}


/*
 * s as a message may show it when it is, or may be, a Redis URL.  The
 * userinfo (from a "//" before the last '@', or from the start, to that
 * '@') becomes "***"; with no '@', so does a port that is not one (a
 * password whose "@host" is missing); in the query, every value but a
 * numeric db (unix:// carries user= and password= there).  A '?' before
 * the last '@' may be in the password or begin a query: then everything
 * from where the userinfo starts is "***".
 */

static const char *
wsgate_cli_redact(const char *s, char *buf, size_t size)
{
    char        *p, *last;
    const char  *start, *end, *at, *c, *q, *colon, *next, *amp, *eq;

    p = buf;
    last = buf + size - 1;
    end = s + strlen(s);
    at = strrchr(s, '@');

    start = strstr(s, "//");
    start = (start != NULL && (at == NULL || start < at)) ? start + 2 : s;

    p = wsgate_cli_copy(p, last, s, start - s);

    if (at != NULL) {
        p = wsgate_cli_copy(p, last, "***", 3);

        q = strchr(start, '?');

        if (q != NULL && q < at) {
            goto done;
        }

        s = at;

    } else {

        /* the authority: up to the first '/', '?' or '#' */

        next = start + strcspn(start, "/?#");

        if (*start == '[') {
            c = memchr(start, ']', next - start);
            colon = (c != NULL && c + 1 < next && c[1] == ':') ? c + 1 : NULL;

        } else {
            colon = memchr(start, ':', next - start);
        }

        s = start;

        if (colon != NULL && colon + 1 < next
            && !wsgate_cli_is_number(colon + 1, next, 5))
        {
            p = wsgate_cli_copy(p, last, start, colon + 1 - start);
            p = wsgate_cli_copy(p, last, "***", 3);
            s = next;
        }
    }

    q = strchr(s, '?');

    if (q == NULL) {
        p = wsgate_cli_copy(p, last, s, end - s);
        goto done;
    }

    p = wsgate_cli_copy(p, last, s, q + 1 - s);

    for (s = q + 1; s < end; s = next) {
        amp = strchr(s, '&');
        next = (amp != NULL) ? amp : end;
        eq = memchr(s, '=', next - s);

        if (eq == NULL) {
            if (next != s) {
                p = wsgate_cli_copy(p, last, "***", 3);
            }

        } else if (eq - s == 2 && strncmp(s, "db", 2) == 0
                   && wsgate_cli_is_number(eq + 1, next, 10))
        {
            p = wsgate_cli_copy(p, last, s, next - s);

        } else {
            p = wsgate_cli_copy(p, last, s, eq + 1 - s);
            p = wsgate_cli_copy(p, last, "***", 3);
        }

        if (amp != NULL) {
            p = wsgate_cli_copy(p, last, "&", 1);
            next = amp + 1;
        }
    }

done:

    *p = '\0';

    return buf;
}


/* a command line argument: redacted when it looks like a URL */

static const char *
wsgate_cli_redact_arg(const char *s, char *buf, size_t size)
{
    if (strstr(s, "//") == NULL && strchr(s, '@') == NULL) {
        return s;
    }

    return wsgate_cli_redact(s, buf, size);
}


/* 1 to max decimal digits exactly fill [s, end) */

static int
wsgate_cli_is_number(const char *s, const char *end, size_t max)
{
    const char  *c;

    if (s == end || (size_t) (end - s) > max) {
        return 0;
    }

    for (c = s; c < end; c++) {
        if (*c < '0' || *c > '9') {
            return 0;
        }
    }

    return 1;
}


/* as much of s as fits before last */

static char *
wsgate_cli_copy(char *p, char *last, const char *s, size_t n)
{
    if (n > (size_t) (last - p)) {
        n = last - p;
    }

    memcpy(p, s, n);

    return p + n;
}


static void
wsgate_cli_usage(FILE *f)
{
    fputs(
"usage: wsgate-token [options] <command> <argument> [command options]\n"
"\n"
"commands:\n"
"  issue <ws> [--ttl T]            mint a workspace token, print it once\n"
"  rotate <ws|name> [--grace T] [--ttl T]\n"
"                                  revoke every token of the workspace (or\n"
"                                  system caller) and mint a new one; with\n"
"                                  --grace the old tokens keep working for\n"
"                                  T, then stop\n"
"  revoke <ws|name>                revoke every token of a workspace or of a\n"
"                                  system caller, at once\n"
"  issue-system <name> [--ttl T]   mint a system caller token; <name> starts\n"
"                                  with a system prefix (system:scheduler)\n"
"  mark-restart <ws> [--grace T]   open the workspace's restart window for\n"
"                                  T (default 2m, as wsgate_restart_grace)\n"
"  status <ws>                     print the workspace's state as JSON\n"
"  help                            print this text\n"
"\n"
"options:\n"
"  --redis URL          redis://[user:pass@]host[:port][/db] or\n"
"                       unix:///path/to.sock[?db=N&user=U&password=P];\n"
"                       default $WSGATE_REDIS_URL, else\n"
"                       " WSGATE_CLI_DEFAULT_URL "\n"
"  --cluster H:P[,H:P...]\n"
"                       a Redis Cluster, by its seed nodes (a host may be\n"
"                       [IPv6]); default $WSGATE_REDIS_CLUSTER.  The URL\n"
"                       (--redis) then gives only the user and password,\n"
"                       and its db must be 0\n"
"  --prefix P           key prefix, as wsgate_key_prefix (default "
                        WSGATE_CLI_DEFAULT_PREFIX ")\n"
"  --system-prefix P    a system caller prefix, as wsgate_system_prefixes;\n"
"                       repeat for several (default: system: webhook:\n"
"                       channel: test:)\n"
"  --grace T            rotate: how long old tokens keep working (default\n"
"                       0: they stop at once); mark-restart: the window\n"
"  --ttl T              the new token expires after T (default never)\n"
"  -q, --quiet          no notes on stderr\n"
"  -h, --help           print this text\n"
"\n"
"T is a time as in nginx: 500ms, 30s, 2m, 1h, 1d, 1w, or combined (1m30s);\n"
"a bare number is seconds.\n"
"\n"
"A token goes to stdout alone on a line and nowhere else; Redis keeps only\n"
"its sha256.  Exit status: 0 done; 1 Redis unreachable or an error (a\n"
"change is one MULTI/EXEC: all of it or nothing was written; on a cluster\n"
"a change is several parts, and running it again completes it); 2 bad\n"
"usage or input, nothing written.  Commands: redis/README.md.\n", f);
}


/*
 * One line on stderr.  Strings from hiredis and Redis go into messages
 * as they are, so the password is cut out of every one of them here; a
 * message too long for the buffer also loses as many bytes as the
 * password has, lest its cut end begin the password.
 */

static void
wsgate_cli_error(const char *fmt, ...)
{
    int          n;
    char         msg[WSGATE_CLI_MESSAGE_MAX];
    size_t       len, pw_len;
    va_list      args;
    const char  *p, *hit, *pw;

    va_start(args, fmt);
    n = vsnprintf(msg, sizeof(msg), fmt, args);
    va_end(args);

    if (n < 0) {
        msg[0] = '\0';
    }

    if (wsgate_cli_muted) {
        memcpy(wsgate_cli_muted_msg, msg, sizeof(msg));
        return;
    }

    pw = wsgate_cli_password;
    pw_len = (pw != NULL) ? strlen(pw) : 0;

    if (n >= (int) sizeof(msg)) {
        len = strlen(msg);
        msg[len - (pw_len < len ? pw_len : len)] = '\0';
    }

    fputs(WSGATE_CLI_NAME ": ", stderr);

    p = msg;

    if (pw_len != 0) {
        while ((hit = strstr(p, pw)) != NULL) {
            fwrite(p, 1, hit - p, stderr);
            fputs("***", stderr);
            p = hit + pw_len;
        }
    }

    fputs(p, stderr);

    if (n >= (int) sizeof(msg)) {
        fputs("...", stderr);
    }

    fputc('\n', stderr);
}


static int
wsgate_cli_connect(wsgate_cli_t *cli)
{
    redisReply        *r;
    struct timeval     tv;
    wsgate_cli_url_t  *u;

    u = &cli->url;

    tv.tv_sec = WSGATE_CLI_CONNECT_MS / 1000;
    tv.tv_usec = (WSGATE_CLI_CONNECT_MS % 1000) * 1000;

    if (u->path != NULL) {
        cli->ctx = redisConnectUnixWithTimeout(u->path, tv);

    } else {
        cli->ctx = redisConnectWithTimeout(u->host, u->port, tv);
    }

    if (cli->ctx == NULL) {
        wsgate_cli_error("cannot connect to redis %s: out of memory",
                         u->addr);
        return WSGATE_CLI_FAILED;
    }

    if (cli->ctx->err) {
        wsgate_cli_error("cannot connect to redis %s: %s", u->addr,
                         cli->ctx->errstr);
        return WSGATE_CLI_FAILED;
    }

    tv.tv_sec = WSGATE_CLI_COMMAND_MS / 1000;
    tv.tv_usec = (WSGATE_CLI_COMMAND_MS % 1000) * 1000;

    if (redisSetTimeout(cli->ctx, tv) != REDIS_OK) {
        return wsgate_cli_io_error(cli, "connect");
    }

    if (u->password != NULL) {

        if (u->user != NULL) {
            r = wsgate_cli_command(cli, "AUTH %s %s", u->user, u->password);

        } else {
            r = wsgate_cli_command(cli, "AUTH %s", u->password);
        }

        if (r == NULL) {
            return WSGATE_CLI_FAILED;
        }

        freeReplyObject(r);
    }

    if (u->db != 0) {
        r = wsgate_cli_command(cli, "SELECT %d", u->db);
        if (r == NULL) {
            return WSGATE_CLI_FAILED;
        }

        freeReplyObject(r);
    }

    return WSGATE_CLI_OK;
}


static int
wsgate_cli_io_error(wsgate_cli_t *cli, const char *what)
{
    return wsgate_cli_ctx_io_error(cli->ctx, cli->url.addr, what);
}


static int
wsgate_cli_ctx_io_error(redisContext *ctx, const char *addr,
    const char *what)
{
    const char  *reason;

    reason = ctx->errstr;

    if (ctx->err == REDIS_ERR_IO
        && (errno == EAGAIN || errno == EWOULDBLOCK))
    {
        reason = "timed out";

    } else if (reason[0] == '\0') {
        reason = "connection lost";
    }

    wsgate_cli_error("redis %s: %s: %s", addr, what, reason);

    return WSGATE_CLI_FAILED;
}


/* one command; NULL (the reason printed) on an I/O error or an -ERR */

static redisReply *
wsgate_cli_command(wsgate_cli_t *cli, const char *fmt, ...)
{
    va_list      args;
    redisReply  *r;

    va_start(args, fmt);
    r = wsgate_cli_vcommand(cli, cli->ctx, cli->url.addr, fmt, args);
    va_end(args);

    return r;
}


/* the same on any connection: ctx, named addr in messages */

static redisReply *
wsgate_cli_vcommand(wsgate_cli_t *cli, redisContext *ctx, const char *addr,
    const char *fmt, va_list args)
{
    char         name[32];
    size_t       n;
    redisReply  *r;

    snprintf(name, sizeof(name), "%.*s", (int) strcspn(fmt, " "), fmt);

    r = redisvCommand(ctx, fmt, args);

    if (r == NULL) {
        (void) wsgate_cli_ctx_io_error(ctx, addr, name);
        return NULL;
    }

    if (r->type == REDIS_REPLY_ERROR) {

        if (strcmp(name, "AUTH") == 0
            && wsgate_cli_auth_reply_unsafe(cli, r->str))
        {
            n = strspn(r->str, "ABCDEFGHIJKLMNOPQRSTUVWXYZ");

            wsgate_cli_error("redis %s: AUTH: %.*s (the reply is not shown: "
                             "it may quote the password)", addr,
                             n != 0 ? (int) (n < 32 ? n : 32) : 5,
                             n != 0 ? r->str : "error");

        } else {
            wsgate_cli_error("redis %s: %s: %s", addr, name, r->str);
        }

        freeReplyObject(r);
        return NULL;
    }

    return r;
}


/*
 * An error reply to AUTH may quote AUTH's arguments: Redis does when AUTH
 * is renamed away ("unknown command 'AUTH', with args beginning with:
 * ..."), cut to 128 bytes and with CR and LF made spaces, so looking for
 * the whole password is not enough.  A reply with a quote, or with the
 * password's first 4 bytes, is shown as its error code only.
 */

static int
wsgate_cli_auth_reply_unsafe(wsgate_cli_t *cli, const char *s)
{
    size_t       n;
    const char  *pw;

    if (strpbrk(s, "'`\"") != NULL) {
        return 1;
    }

    pw = cli->url.password;
    n = strlen(pw);

    if (n > 4) {
        n = 4;
    }

    if (n == 0) {
        return 0;
    }

    for ( /* void */ ; *s != '\0'; s++) {
        if (strncmp(s, pw, n) == 0) {
            return 1;
        }
    }

    return 0;
}


/*
 * Reads the replies to MULTI, the queued commands and EXEC, all appended
 * before.  WSGATE_CLI_OK with EXEC's array in *result; WSGATE_CLI_AGAIN
 * when EXEC answered nil because a WATCHed key changed (nothing written).
 */

static int
wsgate_cli_exec(wsgate_cli_t *cli, int queued, redisReply **result)
{
    int          i, rc;
    void        *reply;
    size_t       k;
    redisReply  *r;

    rc = WSGATE_CLI_OK;

    for (i = 0; i < queued + 1; i++) {

        if (redisGetReply(cli->ctx, &reply) != REDIS_OK) {
            return wsgate_cli_io_error(cli, i == 0 ? "MULTI" : "EXEC");
        }

        r = reply;

        if (r->type == REDIS_REPLY_ERROR && rc == WSGATE_CLI_OK) {
            wsgate_cli_error("redis %s: %s: %s", cli->url.addr,
                             i == 0 ? "MULTI" : "queued command", r->str);
            rc = WSGATE_CLI_FAILED;
        }

        freeReplyObject(r);
    }

    if (redisGetReply(cli->ctx, &reply) != REDIS_OK) {
        return wsgate_cli_io_error(cli, "EXEC");
    }

    r = reply;

    if (rc != WSGATE_CLI_OK) {
        /* -EXECABORT: the transaction was discarded */
        freeReplyObject(r);
        return rc;
    }

    if (r->type == REDIS_REPLY_NIL) {
        freeReplyObject(r);
        return WSGATE_CLI_AGAIN;
    }

    if (r->type == REDIS_REPLY_ERROR) {
        wsgate_cli_error("redis %s: EXEC: %s", cli->url.addr, r->str);
        freeReplyObject(r);
        return WSGATE_CLI_FAILED;
    }

    if (r->type != REDIS_REPLY_ARRAY || r->elements != (size_t) queued) {
        wsgate_cli_error("redis %s: EXEC: unexpected reply", cli->url.addr);
        freeReplyObject(r);
        return WSGATE_CLI_FAILED;
    }

    for (k = 0; k < r->elements; k++) {
        if (r->element[k]->type == REDIS_REPLY_ERROR) {
            wsgate_cli_error("redis %s: EXEC: command %d of %d failed: %s",
                             cli->url.addr, (int) k + 1, queued,
                             r->element[k]->str);
            freeReplyObject(r);
            return WSGATE_CLI_FAILED;
        }
    }

    *result = r;

    return WSGATE_CLI_OK;
}


/*
 * WATCHes the token set and checks that it is a set (or absent), so that
 * no transaction can half-apply on a key of the wrong type.  With set !=
 * NULL also reads the members and, if pttl, each token key's PTTL.
 */

static int
wsgate_cli_set_read(wsgate_cli_t *cli, wsgate_cli_set_t *set, int pttl)
{
    int            rc;
    void          *reply;
    size_t         i, len;
    redisReply    *r, *e;
    const u_char  *key;

    r = wsgate_cli_command(cli, "WATCH %b", cli->set_key, cli->set_key_len);
    if (r == NULL) {
        return WSGATE_CLI_FAILED;
    }

    freeReplyObject(r);

    r = wsgate_cli_command(cli, "TYPE %b", cli->set_key, cli->set_key_len);
    if (r == NULL) {
        return WSGATE_CLI_FAILED;
    }

    if (r->type != REDIS_REPLY_STATUS
        || (strcmp(r->str, "set") != 0 && strcmp(r->str, "none") != 0))
    {
        wsgate_cli_error("redis %s: %s is a %s, not a set; nothing written",
                         cli->url.addr, cli->set_key,
                         r->type == REDIS_REPLY_STATUS ? r->str : "?");
        freeReplyObject(r);
        return WSGATE_CLI_FAILED;
    }

    freeReplyObject(r);

    if (set == NULL) {
        return WSGATE_CLI_OK;
    }

    r = wsgate_cli_command(cli, "SMEMBERS %b", cli->set_key,
                           cli->set_key_len);
    if (r == NULL) {
        return WSGATE_CLI_FAILED;
    }

    rc = wsgate_cli_set_init(cli, set, r);
    if (rc != WSGATE_CLI_OK || !pttl) {
        return rc;
    }

    /* pipelined: one PTTL per token key */

    for (i = 0; i < set->n; i++) {
        key = wsgate_cli_key(cli, NGX_HTTP_WSGATE_KEY_TOKEN, set->digest[i],
                             set->len[i], &len);
        if (key == NULL) {
            return WSGATE_CLI_FAILED;
        }

        redisAppendCommand(cli->ctx, "PTTL %b", key, len);
    }

    for (i = 0; i < set->n; i++) {

        if (redisGetReply(cli->ctx, &reply) != REDIS_OK) {
            return wsgate_cli_io_error(cli, "PTTL");
        }

        e = reply;

        if (e->type != REDIS_REPLY_INTEGER) {
            wsgate_cli_error("redis %s: PTTL: %s", cli->url.addr,
                             e->type == REDIS_REPLY_ERROR
                             ? e->str : "unexpected reply");
            freeReplyObject(e);
            return WSGATE_CLI_FAILED;
        }

        set->pttl[i] = e->integer;
        freeReplyObject(e);
    }

    return WSGATE_CLI_OK;
}


/* the set's members from SMEMBERS' reply r, which set then owns */

static int
wsgate_cli_set_init(wsgate_cli_t *cli, wsgate_cli_set_t *set, redisReply *r)
{
    size_t       i;
    redisReply  *e;

    if (r->type != REDIS_REPLY_ARRAY) {
        wsgate_cli_error("redis %s: SMEMBERS: unexpected reply",
                         cli->url.addr);
        freeReplyObject(r);
        return WSGATE_CLI_FAILED;
    }

    set->reply = r;
    set->n = r->elements;

    set->digest = calloc(set->n + 1, sizeof(char *));
    set->len = calloc(set->n + 1, sizeof(size_t));
    set->pttl = calloc(set->n + 1, sizeof(long long));

    if (set->digest == NULL || set->len == NULL || set->pttl == NULL) {
        wsgate_cli_error("out of memory");
        return WSGATE_CLI_FAILED;
    }

    for (i = 0; i < set->n; i++) {
        e = r->element[i];

        if (e->type != REDIS_REPLY_STRING) {
            wsgate_cli_error("redis %s: SMEMBERS: unexpected reply",
                             cli->url.addr);
            return WSGATE_CLI_FAILED;
        }

        set->digest[i] = e->str;
        set->len[i] = e->len;
    }

    return WSGATE_CLI_OK;
}


static void
wsgate_cli_set_free(wsgate_cli_set_t *set)
{
    free(set->digest);
    free(set->len);
    free(set->pttl);

    if (set->reply != NULL) {
        freeReplyObject(set->reply);
    }

    memset(set, 0, sizeof(wsgate_cli_set_t));
}


/*
 * SADD first, then HSET: the order that is also safe on a cluster.
 * WSGATE_CLI_OK, or WSGATE_CLI_FAILED with nothing appended.
 */

static int
wsgate_cli_append_issue(wsgate_cli_t *cli, const char *digest,
    long long now, int *queued)
{
    size_t         len;
    const u_char  *key;

    key = wsgate_cli_key(cli, NGX_HTTP_WSGATE_KEY_TOKEN, digest,
                         NGX_HTTP_WSGATE_DIGEST_LEN, &len);
    if (key == NULL) {
        return WSGATE_CLI_FAILED;
    }

    redisAppendCommand(cli->ctx, "SADD %b %s", cli->set_key,
                       cli->set_key_len, digest);

    if (cli->is_system) {
        redisAppendCommand(cli->ctx,
                           "HSET %b name %s kind system created_ms %lld",
                           key, len, cli->id, now);

    } else {
        redisAppendCommand(cli->ctx,
                           "HSET %b ws %s kind workspace created_ms %lld",
                           key, len, cli->id, now);
    }

    *queued += 2;

    if (cli->ttl_ms > 0) {
        redisAppendCommand(cli->ctx, "PEXPIRE %b %lld", key, len,
                           cli->ttl_ms);
        *queued += 1;
    }

    return WSGATE_CLI_OK;
}


/*
 * The key of that kind for id (len bytes), as the schema builds it, in a
 * buffer that the next call reuses: hiredis copies it into the command.
 * NULL when out of memory (the reason printed).
 */

static const u_char *
wsgate_cli_key(wsgate_cli_t *cli, ngx_http_wsgate_key_e kind, const char *id,
    size_t len, size_t *key_len)
{
    size_t   n;
    u_char  *p;

    n = ngx_http_wsgate_key_len(kind, cli->prefix_len, len);

    if (n > cli->key_size) {
        p = realloc(cli->key, n);
        if (p == NULL) {
            wsgate_cli_error("out of memory");
            return NULL;
        }

        cli->key = p;
        cli->key_size = n;
    }

    (void) ngx_http_wsgate_key(cli->key, kind, (const u_char *) cli->prefix,
                               cli->prefix_len, (const u_char *) id, len);

    *key_len = n;

    return cli->key;
}


static int
wsgate_cli_token_new(char *token, char *digest)
{
    size_t  n;
    u_char  raw[WSGATE_CLI_TOKEN_BYTES];

    if (RAND_bytes(raw, WSGATE_CLI_TOKEN_BYTES) != 1) {
        wsgate_cli_error("RAND_bytes() failed");
        return -1;
    }

    n = ngx_http_wsgate_base64url_encode(raw, WSGATE_CLI_TOKEN_BYTES,
                                         (u_char *) token);

    OPENSSL_cleanse(raw, WSGATE_CLI_TOKEN_BYTES);

    if (n != WSGATE_CLI_TOKEN_LEN) {
        wsgate_cli_error("base64url gave %d characters", (int) n);
        return -1;
    }

    token[n] = '\0';

    if (ngx_http_wsgate_sha256_hex((u_char *) token, n, (u_char *) digest)
        != 0)
    {
        wsgate_cli_error("sha256 failed");
        return -1;
    }

    digest[NGX_HTTP_WSGATE_DIGEST_LEN] = '\0';

    return 0;
}


/*
 * Before a retry: a random pause that grows with the attempt (up to about
 * 5, 10, ... 50 ms), so that writers racing on one set do not collide
 * again in lockstep.
 */

static void
wsgate_cli_backoff(int attempt)
{
    u_char           r;
    struct timespec  ts;

    if (attempt == 0) {
        return;
    }

    if (RAND_bytes(&r, 1) != 1) {
        r = 128;
    }

    ts.tv_sec = 0;
    ts.tv_nsec = (long) attempt * (1 + r % 5) * 1000000L;

    (void) nanosleep(&ts, NULL);
}


static long long
wsgate_cli_now_ms(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_REALTIME, &ts);

    return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}


static long long
wsgate_cli_reply_int(redisReply *r)
{
    return (r != NULL && r->type == REDIS_REPLY_INTEGER) ? r->integer : 0;
}


/* the only place a token goes; the buffer is wiped afterwards */

static int
wsgate_cli_print_token(char *token)
{
    int  rc;

    rc = WSGATE_CLI_OK;

    if (printf("%s\n", token) < 0 || fflush(stdout) != 0) {
        wsgate_cli_error("cannot write the token to stdout: %s",
                         strerror(errno));
        rc = WSGATE_CLI_FAILED;
    }

    OPENSSL_cleanse(token, strlen(token));

    return rc;
}


static int
wsgate_cli_issue(wsgate_cli_t *cli)
{
    int          rc, attempt, queued;
    char         token[WSGATE_CLI_TOKEN_LEN + 2];
    char         digest[NGX_HTTP_WSGATE_DIGEST_LEN + 1];
    redisReply  *r;

    if (wsgate_cli_token_new(token, digest) != 0) {
        return WSGATE_CLI_FAILED;
    }

    for (attempt = 0; attempt < WSGATE_CLI_RETRIES; attempt++) {

        wsgate_cli_backoff(attempt);

        rc = wsgate_cli_set_read(cli, NULL, 0);
        if (rc != WSGATE_CLI_OK) {
            return rc;
        }

        queued = 0;

        redisAppendCommand(cli->ctx, "MULTI");

        rc = wsgate_cli_append_issue(cli, digest, wsgate_cli_now_ms(),
                                     &queued);
        if (rc != WSGATE_CLI_OK) {
            return rc;
        }

        redisAppendCommand(cli->ctx, "EXEC");

        rc = wsgate_cli_exec(cli, queued, &r);

        if (rc == WSGATE_CLI_AGAIN) {
            continue;
        }

        if (rc != WSGATE_CLI_OK) {
            return rc;
        }

        freeReplyObject(r);

        return wsgate_cli_print_token(token);
    }

    wsgate_cli_error("%s kept changing; gave up after %d attempts, "
                     "nothing written", cli->set_key, WSGATE_CLI_RETRIES);

    return WSGATE_CLI_FAILED;
}


/*
 * Issue a new token and, in the same transaction, revoke the old ones:
 * DEL them at once, or PEXPIRE them to the grace (a token that already
 * expires sooner keeps its own expiry).  Digests whose token key is gone
 * are pruned from the set.
 */

static int
wsgate_cli_rotate(wsgate_cli_t *cli)
{
    int               rc, attempt, queued;
    char              token[WSGATE_CLI_TOKEN_LEN + 2];
    char              digest[NGX_HTTP_WSGATE_DIGEST_LEN + 1];
    size_t            i, k, len, nrevoke, changed, sooner;
    long long         grace;
    redisReply       *r;
    const u_char     *key;
    wsgate_cli_set_t  set;

    if (wsgate_cli_token_new(token, digest) != 0) {
        return WSGATE_CLI_FAILED;
    }

    grace = cli->grace_ms > 0 ? cli->grace_ms : 0;

    memset(&set, 0, sizeof(wsgate_cli_set_t));

    for (attempt = 0; attempt < WSGATE_CLI_RETRIES; attempt++) {

        wsgate_cli_backoff(attempt);
        wsgate_cli_set_free(&set);

        rc = wsgate_cli_set_read(cli, &set, grace > 0);
        if (rc != WSGATE_CLI_OK) {
            goto done;
        }

        queued = 0;

        redisAppendCommand(cli->ctx, "MULTI");

        rc = wsgate_cli_append_issue(cli, digest, wsgate_cli_now_ms(),
                                     &queued);
        if (rc != WSGATE_CLI_OK) {
            goto done;
        }

        k = queued;
        nrevoke = 0;
        sooner = 0;

        for (i = 0; i < set.n; i++) {

            key = wsgate_cli_key(cli, NGX_HTTP_WSGATE_KEY_TOKEN,
                                 set.digest[i], set.len[i], &len);
            if (key == NULL) {
                rc = WSGATE_CLI_FAILED;
                goto done;
            }

            if (grace == 0) {
                redisAppendCommand(cli->ctx, "DEL %b", key, len);
                nrevoke++;

            } else if (set.pttl[i] == -1 || set.pttl[i] > grace) {
                redisAppendCommand(cli->ctx, "PEXPIRE %b %lld", key, len,
                                   grace);
                nrevoke++;

            } else if (set.pttl[i] >= 0) {
                sooner++;
            }
        }

        queued += nrevoke;

        for (i = 0; i < set.n; i++) {
            if (grace == 0 || set.pttl[i] == -2) {
                redisAppendCommand(cli->ctx, "SREM %b %b", cli->set_key,
                                   cli->set_key_len, set.digest[i],
                                   set.len[i]);
                queued++;
            }
        }

        redisAppendCommand(cli->ctx, "EXEC");

        rc = wsgate_cli_exec(cli, queued, &r);

        if (rc == WSGATE_CLI_AGAIN) {
            continue;
        }

        if (rc != WSGATE_CLI_OK) {
            goto done;
        }

        /* DEL or PEXPIRE answer 1 for a token key that was there */

        changed = 0;

        for (i = k; i < k + nrevoke; i++) {
            changed += wsgate_cli_reply_int(r->element[i]);
        }

        freeReplyObject(r);

        rc = wsgate_cli_print_token(token);

        if (rc == WSGATE_CLI_OK) {
            wsgate_cli_rotate_note(cli, grace, changed, sooner);
        }

        goto done;
    }

    wsgate_cli_error("%s kept changing; gave up after %d attempts, "
                     "nothing written", cli->set_key, WSGATE_CLI_RETRIES);

    rc = WSGATE_CLI_FAILED;

done:

    wsgate_cli_set_free(&set);

    return rc;
}


/* on stderr, after a rotation: what became of the old tokens */

static void
wsgate_cli_rotate_note(wsgate_cli_t *cli, long long grace, size_t changed,
    size_t sooner)
{
    if (cli->quiet) {
        return;
    }

    if (grace == 0) {
        wsgate_cli_error("revoked %d old token(s) of %s", (int) changed,
                         cli->id);

    } else if (sooner == 0) {
        wsgate_cli_error("%d old token(s) of %s stop working in %lld ms",
                         (int) changed, cli->id, grace);

    } else {
        wsgate_cli_error("%d old token(s) of %s stop working in %lld ms, "
                         "%d more already expire sooner", (int) changed,
                         cli->id, grace, (int) sooner);
    }
}


static int
wsgate_cli_revoke(wsgate_cli_t *cli)
{
    int               rc, attempt, queued;
    size_t            i, len;
    long long         revoked;
    redisReply       *r;
    const u_char     *key;
    wsgate_cli_set_t  set;

    memset(&set, 0, sizeof(wsgate_cli_set_t));

    for (attempt = 0; attempt < WSGATE_CLI_RETRIES; attempt++) {

        wsgate_cli_backoff(attempt);
        wsgate_cli_set_free(&set);

        rc = wsgate_cli_set_read(cli, &set, 0);
        if (rc != WSGATE_CLI_OK) {
            goto done;
        }

        queued = 0;

        redisAppendCommand(cli->ctx, "MULTI");

        for (i = 0; i < set.n; i++) {
            key = wsgate_cli_key(cli, NGX_HTTP_WSGATE_KEY_TOKEN,
                                 set.digest[i], set.len[i], &len);
            if (key == NULL) {
                rc = WSGATE_CLI_FAILED;
                goto done;
            }

            redisAppendCommand(cli->ctx, "DEL %b", key, len);
            queued++;
        }

        for (i = 0; i < set.n; i++) {
            redisAppendCommand(cli->ctx, "SREM %b %b", cli->set_key,
                               cli->set_key_len, set.digest[i], set.len[i]);
            queued++;
        }

        redisAppendCommand(cli->ctx, "EXEC");

        rc = wsgate_cli_exec(cli, queued, &r);

        if (rc == WSGATE_CLI_AGAIN) {
            continue;
        }

        if (rc != WSGATE_CLI_OK) {
            goto done;
        }

        revoked = 0;

        for (i = 0; i < set.n; i++) {
            revoked += wsgate_cli_reply_int(r->element[i]);
        }

        freeReplyObject(r);

        printf("revoked %lld token(s) of %s\n", revoked, cli->id);

        goto done;
    }

    wsgate_cli_error("%s kept changing; gave up after %d attempts, "
                     "nothing written", cli->set_key, WSGATE_CLI_RETRIES);

    rc = WSGATE_CLI_FAILED;

done:

    wsgate_cli_set_free(&set);

    return rc;
}


static int
wsgate_cli_mark_restart(wsgate_cli_t *cli)
{
    size_t         len;
    long long      now;
    redisReply    *r;
    const u_char  *key;

    key = wsgate_cli_key(cli, NGX_HTTP_WSGATE_KEY_RESTART, cli->id,
                         strlen(cli->id), &len);
    if (key == NULL) {
        return WSGATE_CLI_FAILED;
    }

    now = wsgate_cli_now_ms();

    if (cli->nseeds != 0) {
        r = wsgate_cli_cluster_command(cli, key, len, "SET %b %lld PX %lld",
                                       key, len, now, cli->grace_ms);

    } else {
        r = wsgate_cli_command(cli, "SET %b %lld PX %lld", key, len, now,
                               cli->grace_ms);
    }

    if (r == NULL) {
        return WSGATE_CLI_FAILED;
    }

    freeReplyObject(r);

    printf("restart window of %s open for %lld ms from %lld\n",
           cli->id, cli->grace_ms, now);

    return WSGATE_CLI_OK;
}


/*
 * The state as the gateway derives it, by the schema's rule
 * (ngx_http_wsgate_state()) from the failure record and the restart
 * window that is still open.
 */

static int
wsgate_cli_status(wsgate_cli_t *cli)
{
    int          rc, state;
    size_t       i;
    long long    restart, live;
    redisReply  *r, *regfail, *rs, *at_ms;

    if (cli->nseeds != 0) {
        rc = wsgate_cli_cluster_status_read(cli, &r, &live);

    } else {
        rc = wsgate_cli_status_read(cli, &r, &live);
    }

    if (rc != WSGATE_CLI_OK) {
        return WSGATE_CLI_FAILED;
    }

    regfail = r->element[0];
    rs = r->element[1];

    /* the state */

    at_ms = NULL;

    for (i = 0; i + 1 < regfail->elements; i += 2) {
        if (strcmp(regfail->element[i]->str, "at_ms") == 0) {
            at_ms = regfail->element[i + 1];
        }
    }

    state = ngx_http_wsgate_state(regfail->elements != 0,
                                  wsgate_cli_reply_ms(at_ms),
                                  wsgate_cli_reply_ms(rs));

    printf("{\"workspace_id\":\"%s\",\"state\":\"%s\",\"last_failure\":",
           cli->id, ngx_http_wsgate_state_name(state));

    if (regfail->elements == 0) {
        printf("null");

    } else {
        printf("{\"at_ms\":");
        wsgate_cli_json_field(regfail, "at_ms", 1);
        printf(",\"status\":");
        wsgate_cli_json_field(regfail, "status", 1);
        printf(",\"reason\":");
        wsgate_cli_json_field(regfail, "reason", 0);
        printf(",\"source\":");
        wsgate_cli_json_field(regfail, "source", 0);
        printf("}");
    }

    printf(",\"restart_at_ms\":");

    if (rs->type == REDIS_REPLY_STRING
        && wsgate_cli_parse_ll(rs->str, &restart) == 0)
    {
        printf("%lld", restart);

    } else {
        printf("null");
    }

    printf(",\"live_tokens\":%lld}\n", live);

    freeReplyObject(r);

    if (fflush(stdout) != 0) {
        wsgate_cli_error("cannot write to stdout: %s", strerror(errno));
        return WSGATE_CLI_FAILED;
    }

    return WSGATE_CLI_OK;
}


/* the state's keys in one MULTI/EXEC, then one EXISTS per set member */

static int
wsgate_cli_status_read(wsgate_cli_t *cli, redisReply **result,
    long long *live)
{
    int            rc;
    void          *reply;
    size_t         i, len;
    redisReply    *r, *members, *e;
    const u_char  *key;

    redisAppendCommand(cli->ctx, "MULTI");

    key = wsgate_cli_key(cli, NGX_HTTP_WSGATE_KEY_REGFAIL, cli->id,
                         strlen(cli->id), &len);
    if (key == NULL) {
        return WSGATE_CLI_FAILED;
    }

    redisAppendCommand(cli->ctx, "HGETALL %b", key, len);

    key = wsgate_cli_key(cli, NGX_HTTP_WSGATE_KEY_RESTART, cli->id,
                         strlen(cli->id), &len);
    if (key == NULL) {
        return WSGATE_CLI_FAILED;
    }

    redisAppendCommand(cli->ctx, "GET %b", key, len);
    redisAppendCommand(cli->ctx, "SMEMBERS %b", cli->set_key,
                       cli->set_key_len);
    redisAppendCommand(cli->ctx, "EXEC");

    rc = wsgate_cli_exec(cli, 3, &r);
    if (rc != WSGATE_CLI_OK) {
        return WSGATE_CLI_FAILED;
    }

    if (wsgate_cli_status_check(cli->url.addr, r) != WSGATE_CLI_OK) {
        freeReplyObject(r);
        return WSGATE_CLI_FAILED;
    }

    members = r->element[2];

    /* live tokens: one EXISTS per digest in the set, pipelined */

    *live = 0;

    for (i = 0; i < members->elements; i++) {
        e = members->element[i];

        key = wsgate_cli_key(cli, NGX_HTTP_WSGATE_KEY_TOKEN, e->str, e->len,
                             &len);
        if (key == NULL) {
            freeReplyObject(r);
            return WSGATE_CLI_FAILED;
        }

        redisAppendCommand(cli->ctx, "EXISTS %b", key, len);
    }

    for (i = 0; i < members->elements; i++) {

        if (redisGetReply(cli->ctx, &reply) != REDIS_OK) {
            freeReplyObject(r);
            return wsgate_cli_io_error(cli, "EXISTS");
        }

        e = reply;

        if (e->type != REDIS_REPLY_INTEGER) {
            wsgate_cli_error("redis %s: EXISTS: %s", cli->url.addr,
                             e->type == REDIS_REPLY_ERROR
                             ? e->str : "unexpected reply");
            freeReplyObject(e);
            freeReplyObject(r);
            return WSGATE_CLI_FAILED;
        }

        *live += e->integer;
        freeReplyObject(e);
    }

    *result = r;

    return WSGATE_CLI_OK;
}


/* EXEC's reply to HGETALL, GET, SMEMBERS has the shapes status reads */

static int
wsgate_cli_status_check(const char *addr, redisReply *r)
{
    size_t       i;
    redisReply  *regfail, *rs, *members;

    regfail = r->element[0];
    rs = r->element[1];
    members = r->element[2];

    if (regfail->type != REDIS_REPLY_ARRAY
        || members->type != REDIS_REPLY_ARRAY
        || (rs->type != REDIS_REPLY_STRING && rs->type != REDIS_REPLY_NIL))
    {
        goto invalid;
    }

    for (i = 0; i < regfail->elements; i++) {
        if (regfail->element[i]->type != REDIS_REPLY_STRING) {
            goto invalid;
        }
    }

    for (i = 0; i < members->elements; i++) {
        if (members->element[i]->type != REDIS_REPLY_STRING) {
            goto invalid;
        }
    }

    return WSGATE_CLI_OK;

invalid:

    wsgate_cli_error("redis %s: EXEC: unexpected reply", addr);

    return WSGATE_CLI_FAILED;
}


/* a time in ms as the gateway reads it: 0 unless a number above -1 */

static uint64_t
wsgate_cli_reply_ms(redisReply *v)
{
    long long  n;

    if (v == NULL || v->type != REDIS_REPLY_STRING
        || wsgate_cli_parse_ll(v->str, &n) != 0 || n < 0)
    {
        return 0;
    }

    return (uint64_t) n;
}


static int
wsgate_cli_parse_ll(const char *s, long long *value)
{
    int        neg;
    long long  n;

    neg = (*s == '-');
    s += neg;

    if (*s == '\0' || strlen(s) > 18) {
        return -1;
    }

    n = 0;

    while (*s != '\0') {
        if (*s < '0' || *s > '9') {
            return -1;
        }

        n = n * 10 + (*s++ - '0');
    }

    *value = neg ? -n : n;

    return 0;
}


/* a field of an HGETALL reply as JSON: a number, a string, or null */

static void
wsgate_cli_json_field(redisReply *hash, const char *name, int number)
{
    u_char       c, hex[2];
    size_t       i;
    long long    n;
    redisReply  *v;

    v = NULL;

    for (i = 0; i + 1 < hash->elements; i += 2) {
        if (strcmp(hash->element[i]->str, name) == 0) {
            v = hash->element[i + 1];
        }
    }

    if (v == NULL || v->type != REDIS_REPLY_STRING) {
        printf("null");
        return;
    }

    if (number) {
        if (wsgate_cli_parse_ll(v->str, &n) == 0) {
            printf("%lld", n);

        } else {
            printf("null");
        }

        return;
    }

    putchar('"');

    for (i = 0; i < v->len; i++) {
        c = (u_char) v->str[i];

        if (c == '"' || c == '\\') {
            printf("\\%c", c);

        } else if (c < 0x20 || c == 0x7f) {
            (void) ngx_http_wsgate_hex_dump(hex, &c, 1);
            printf("\\u00%c%c", hex[0], hex[1]);

        } else {
            putchar(c);
        }
    }

    putchar('"');
}


/*
 * --cluster: "host:port[,host:port...]", a host in [] for IPv6, the port
 * 6379 when none is given.  The seeds become the first nodes.
 */

static int
wsgate_cli_parse_seeds(wsgate_cli_t *cli, const char *s)
{
    int          port;
    long         n;
    char         shown[WSGATE_CLI_SHOWN_MAX];
    size_t       len, hlen, count;
    const char  *p, *end, *host, *colon, *rb;

    p = s;
    count = 0;

    for ( ;; ) {
        end = strchr(p, ',');
        len = (end != NULL) ? (size_t) (end - p) : strlen(p);

        if (len == 0) {
            goto invalid;
        }

        port = 6379;

        if (*p == '[') {
            host = p + 1;
            rb = memchr(p, ']', len);

            if (rb == NULL || rb == host) {
                goto invalid;
            }

            hlen = rb - host;
            colon = (rb + 1 < p + len) ? rb + 1 : NULL;

            if (colon != NULL && *colon != ':') {
                goto invalid;
            }

        } else {
            host = p;
            colon = memchr(p, ':', len);
            hlen = (colon != NULL) ? (size_t) (colon - p) : len;
        }

        if (colon != NULL) {
            if (wsgate_cli_parse_int(colon + 1, p + len - colon - 1, 65535,
                                     &n)
                != 0 || n == 0)
            {
                goto invalid;
            }

            port = (int) n;
        }

        if (hlen == 0 || hlen >= WSGATE_CLI_HOST_MAX
            || wsgate_cli_span(host, hlen, "/?#@[] ,") != hlen)
        {
            goto invalid;
        }

        if (++count > WSGATE_CLI_SEEDS_MAX) {
            wsgate_cli_error("too many --cluster seeds (at most %d)",
                             WSGATE_CLI_SEEDS_MAX);
            return -1;
        }

        if (wsgate_cli_node(cli, host, hlen, port) < 0) {
            return -1;
        }

        cli->nseeds = cli->nnodes;

        if (end == NULL) {
            return 0;
        }

        p = end + 1;
    }

invalid:

    wsgate_cli_error("invalid --cluster \"%s\" (expected "
                     "host:port[,host:port...]; credentials go in the "
                     "--redis URL)",
                     wsgate_cli_redact_arg(s, shown, sizeof(shown)));

    return -1;
}


/* how many of the len bytes at s come before one of reject */

static size_t
wsgate_cli_span(const char *s, size_t len, const char *reject)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        if (s[i] == '\0' || strchr(reject, s[i]) != NULL) {
            break;
        }
    }

    return i;
}


/* the index of the node host:port, added if new; -1 when out of room */

static int
wsgate_cli_node(wsgate_cli_t *cli, const char *host, size_t len, int port)
{
    size_t              i;
    wsgate_cli_node_t  *node;

    for (i = 0; i < cli->nnodes; i++) {
        node = &cli->nodes[i];

        if (node->port == port && strlen(node->host) == len
            && strncmp(node->host, host, len) == 0)
        {
            return (int) i;
        }
    }

    if (cli->nodes == NULL) {
        cli->nodes = calloc(WSGATE_CLI_NODES_MAX, sizeof(wsgate_cli_node_t));
        if (cli->nodes == NULL) {
            wsgate_cli_error("out of memory");
            return -1;
        }
    }

    if (cli->nnodes == WSGATE_CLI_NODES_MAX || len >= WSGATE_CLI_HOST_MAX) {
        wsgate_cli_error("redis cluster: more than %d nodes, or a host name "
                         "too long", WSGATE_CLI_NODES_MAX);
        return -1;
    }

    node = &cli->nodes[cli->nnodes];

    node->host = strndup(host, len);
    if (node->host == NULL) {
        wsgate_cli_error("out of memory");
        return -1;
    }

    node->port = port;

    snprintf(node->addr, sizeof(node->addr),
             memchr(host, ':', len) != NULL ? "%s[%s]:%d" : "%s%s:%d",
             (cli->url.user != NULL || cli->url.password != NULL)
             ? "***@" : "", node->host, port);

    return (int) cli->nnodes++;
}


/* a connection to the node, with AUTH as --redis gives it */

static int
wsgate_cli_node_connect(wsgate_cli_t *cli, wsgate_cli_node_t *node)
{
    redisReply        *r;
    struct timeval     tv;
    wsgate_cli_url_t  *u;

    if (node->ctx != NULL) {
        return WSGATE_CLI_OK;
    }

    u = &cli->url;

    tv.tv_sec = WSGATE_CLI_CONNECT_MS / 1000;
    tv.tv_usec = (WSGATE_CLI_CONNECT_MS % 1000) * 1000;

    node->ctx = redisConnectWithTimeout(node->host, node->port, tv);

    if (node->ctx == NULL || node->ctx->err) {
        wsgate_cli_error("cannot connect to redis %s: %s", node->addr,
                         node->ctx != NULL ? node->ctx->errstr
                                           : "out of memory");
        goto failed;
    }

    tv.tv_sec = WSGATE_CLI_COMMAND_MS / 1000;
    tv.tv_usec = (WSGATE_CLI_COMMAND_MS % 1000) * 1000;

    if (redisSetTimeout(node->ctx, tv) != REDIS_OK) {
        (void) wsgate_cli_ctx_io_error(node->ctx, node->addr, "connect");
        goto failed;
    }

    if (u->password != NULL) {

        if (u->user != NULL) {
            r = wsgate_cli_node_command(cli, node, "AUTH %s %s", u->user,
                                        u->password);

        } else {
            r = wsgate_cli_node_command(cli, node, "AUTH %s", u->password);
        }

        if (r == NULL) {
            goto failed;
        }

        freeReplyObject(r);
    }

    return WSGATE_CLI_OK;

failed:

    if (node->ctx != NULL) {
        redisFree(node->ctx);
        node->ctx = NULL;
    }

    return WSGATE_CLI_FAILED;
}


static redisReply *
wsgate_cli_node_command(wsgate_cli_t *cli, wsgate_cli_node_t *node,
    const char *fmt, ...)
{
    va_list      args;
    redisReply  *r;

    va_start(args, fmt);
    r = wsgate_cli_vcommand(cli, node->ctx, node->addr, fmt, args);
    va_end(args);

    return r;
}


/*
 * The slot map from the first seed that answers CLUSTER SLOTS.  Until one
 * does, the seeds' failures are kept quiet: only the last is printed.
 */

static int
wsgate_cli_cluster_connect(wsgate_cli_t *cli)
{
    int          rc;
    size_t       i;
    redisReply  *r;

    cli->slots = malloc(NGX_HTTP_WSGATE_SLOTS * sizeof(int16_t));
    if (cli->slots == NULL) {
        wsgate_cli_error("out of memory");
        return WSGATE_CLI_FAILED;
    }

    rc = WSGATE_CLI_FAILED;
    wsgate_cli_muted = 1;

    for (i = 0; i < cli->nseeds; i++) {

        if (wsgate_cli_node_connect(cli, &cli->nodes[i]) != WSGATE_CLI_OK) {
            continue;
        }

        r = wsgate_cli_node_command(cli, &cli->nodes[i], "CLUSTER SLOTS");
        if (r == NULL) {
            continue;
        }

        rc = wsgate_cli_cluster_slots(cli, i, r);

        freeReplyObject(r);

        if (rc == WSGATE_CLI_OK) {
            break;
        }
    }

    wsgate_cli_muted = 0;

    if (rc != WSGATE_CLI_OK) {
        wsgate_cli_error("%s%s", wsgate_cli_muted_msg,
                         cli->nseeds > 1 ? " (and every other seed failed)"
                                         : "");
    }

    return rc;
}


/*
 * CLUSTER SLOTS: [start, end, [host, port, id, ...], replicas...] per
 * range.  A master named "" or "?" (its address unknown to itself) is on
 * the host of the seed that answered.
 */

static int
wsgate_cli_cluster_slots(wsgate_cli_t *cli, size_t seed, redisReply *r)
{
    int          node;
    size_t       i, s, len;
    long long    start, end;
    redisReply  *e, *m;
    const char  *host;

    for (s = 0; s < NGX_HTTP_WSGATE_SLOTS; s++) {
        cli->slots[s] = -1;
    }

    if (r->type != REDIS_REPLY_ARRAY) {
        goto invalid;
    }

    for (i = 0; i < r->elements; i++) {
        e = r->element[i];

        if (e->type != REDIS_REPLY_ARRAY || e->elements < 3
            || e->element[0]->type != REDIS_REPLY_INTEGER
            || e->element[1]->type != REDIS_REPLY_INTEGER
            || e->element[2]->type != REDIS_REPLY_ARRAY
            || e->element[2]->elements < 2)
        {
            goto invalid;
        }

        start = e->element[0]->integer;
        end = e->element[1]->integer;
        m = e->element[2];

        if (start < 0 || end < start || end >= NGX_HTTP_WSGATE_SLOTS
            || m->element[0]->type != REDIS_REPLY_STRING
            || m->element[1]->type != REDIS_REPLY_INTEGER
            || m->element[1]->integer < 1 || m->element[1]->integer > 65535)
        {
            goto invalid;
        }

        host = m->element[0]->str;
        len = m->element[0]->len;

        if (len == 0 || (len == 1 && host[0] == '?')) {
            host = cli->nodes[seed].host;
            len = strlen(host);
        }

        node = wsgate_cli_node(cli, host, len, (int) m->element[1]->integer);
        if (node < 0) {
            return WSGATE_CLI_FAILED;
        }

        for (s = start; s <= (size_t) end; s++) {
            cli->slots[s] = (int16_t) node;
        }
    }

    return WSGATE_CLI_OK;

invalid:

    wsgate_cli_error("redis %s: CLUSTER SLOTS: unexpected reply",
                     cli->nodes[seed].addr);

    return WSGATE_CLI_FAILED;
}


/* a command formatted for hiredis; name (its first word) for messages */

static int
wsgate_cli_cmd(wsgate_cli_cmd_t *cmd, const char *fmt, ...)
{
    va_list  args;

    snprintf(cmd->name, sizeof(cmd->name), "%.*s",
             (int) strcspn(fmt, " "), fmt);

    va_start(args, fmt);
    cmd->len = redisvFormatCommand(&cmd->buf, fmt, args);
    va_end(args);

    if (cmd->len < 0) {
        cmd->buf = NULL;
        wsgate_cli_error("out of memory");
        return -1;
    }

    return 0;
}


static void
wsgate_cli_cmd_free(wsgate_cli_cmd_t *cmd, size_t n)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        if (cmd[i].buf != NULL) {
            redisFreeCommand(cmd[i].buf);
            cmd[i].buf = NULL;
        }
    }
}


/*
 * Runs one command (tx == 0) or the n commands as one MULTI/EXEC on the
 * node that serves slot, and returns the command's reply or EXEC's array.
 * -MOVED: the map learns the slot's new node, and the command goes there;
 * -ASK: it goes to the node named, after ASKING, the map unchanged;
 * -TRYAGAIN (a slot in migration): again after a short pause.  A queued
 * command redirected aborts the transaction, so it is run again whole.
 * Any other error (-CLUSTERDOWN among them) is printed, and NULL returned.
 */

static redisReply *
wsgate_cli_cluster_run(wsgate_cli_t *cli, uint16_t slot, int tx,
    wsgate_cli_cmd_t *cmd, size_t n)
{
    int                 asking, target, redirected;
    char                last[600];
    void               *reply;
    size_t              i, k, nrep;
    redisReply         *rep[WSGATE_CLI_TX_MAX + 3], *r;
    wsgate_cli_node_t  *node;

    if (n == 0 || n > WSGATE_CLI_TX_MAX || (!tx && n != 1)) {
        wsgate_cli_error("internal error: %d commands", (int) n);
        return NULL;
    }

    asking = 0;
    target = -1;
    last[0] = '\0';

    for (k = 0; k < WSGATE_CLI_REDIRECTS; k++) {

        if (target >= 0) {
            node = &cli->nodes[target];

        } else {
            node = &cli->nodes[cli->slots[slot] >= 0 ? cli->slots[slot] : 0];
        }

        if (wsgate_cli_node_connect(cli, node) != WSGATE_CLI_OK) {
            return NULL;
        }

        if (asking) {
            redisAppendCommand(node->ctx, "ASKING");
        }

        if (tx) {
            redisAppendCommand(node->ctx, "MULTI");
        }

        for (i = 0; i < n; i++) {
            redisAppendFormattedCommand(node->ctx, cmd[i].buf, cmd[i].len);
        }

        if (tx) {
            redisAppendCommand(node->ctx, "EXEC");
        }

        nrep = asking + tx + n + tx;

        for (i = 0; i < nrep; i++) {

            if (redisGetReply(node->ctx, &reply) != REDIS_OK) {
                (void) wsgate_cli_ctx_io_error(node->ctx, node->addr,
                                               wsgate_cli_run_what(i, asking,
                                                                   tx, cmd,
                                                                   n));
                redisFree(node->ctx);
                node->ctx = NULL;
                wsgate_cli_replies_free(rep, i);
                return NULL;
            }

            rep[i] = reply;
        }

        /* the first redirection decides */

        redirected = 0;

        for (i = 0; i < nrep && !redirected; i++) {
            r = rep[i];

            if (r->type != REDIS_REPLY_ERROR) {
                continue;
            }

            snprintf(last, sizeof(last), "%s: %s: %.200s", node->addr,
                     wsgate_cli_run_what(i, asking, tx, cmd, n), r->str);

            redirected = wsgate_cli_redirect(cli, node, r->str, &asking,
                                             &target, (int) k);
            if (redirected == -1) {
                wsgate_cli_replies_free(rep, nrep);
                return NULL;
            }
        }

        if (redirected) {
            wsgate_cli_replies_free(rep, nrep);
            continue;
        }

        /* no redirection: any error is the answer */

        for (i = 0; i < nrep; i++) {
            r = rep[i];

            if (r->type == REDIS_REPLY_ERROR
                || (tx && i == nrep - 1 && r->type != REDIS_REPLY_ARRAY))
            {
                wsgate_cli_error("redis %s: %s: %s", node->addr,
                                 wsgate_cli_run_what(i, asking, tx, cmd, n),
                                 r->type == REDIS_REPLY_ERROR
                                 ? r->str : "unexpected reply");
                wsgate_cli_replies_free(rep, nrep);
                return NULL;
            }
        }

        r = rep[nrep - 1];
        rep[nrep - 1] = NULL;
        wsgate_cli_replies_free(rep, nrep);

        if (tx) {
            if (r->elements != n) {
                wsgate_cli_error("redis %s: EXEC: unexpected reply",
                                 node->addr);
                freeReplyObject(r);
                return NULL;
            }

            for (i = 0; i < n; i++) {
                if (r->element[i]->type == REDIS_REPLY_ERROR) {
                    wsgate_cli_error("redis %s: EXEC: %s: %s", node->addr,
                                     cmd[i].name, r->element[i]->str);
                    freeReplyObject(r);
                    return NULL;
                }
            }
        }

        return r;
    }

    wsgate_cli_error("redis %s (slot %d, gave up after %d attempts)", last,
                     (int) slot, WSGATE_CLI_REDIRECTS);

    return NULL;
}


/* the name of the i-th command sent by wsgate_cli_cluster_run() */

static const char *
wsgate_cli_run_what(size_t i, int asking, int tx, wsgate_cli_cmd_t *cmd,
    size_t n)
{
    if (asking) {
        if (i == 0) {
            return "ASKING";
        }

        i--;
    }

    if (tx) {
        if (i == 0) {
            return "MULTI";
        }

        i--;
    }

    return (i < n) ? cmd[i].name : "EXEC";
}


/*
 * An error reply: 1 when it redirects (MOVED, ASK) or asks to wait
 * (TRYAGAIN), with *asking and *target (the node to send to, -1 for the
 * map's) set for the next attempt; 0 when it is an answer; -1 on a
 * redirection that cannot be followed.
 */

static int
wsgate_cli_redirect(wsgate_cli_t *cli, wsgate_cli_node_t *from,
    const char *err, int *asking, int *target, int attempt)
{
    int          moved, node;
    long         slot, port;
    char        *end;
    size_t       len;
    const char  *p, *colon, *host;

    if (strncmp(err, "TRYAGAIN", 8) == 0) {
        /* about 10, 20, ... ms: a slot's keys move in milliseconds */
        *asking = 0;
        *target = -1;
        wsgate_cli_backoff(4 * (attempt + 1));
        return 1;
    }

    if (strncmp(err, "MOVED ", 6) == 0) {
        moved = 1;
        p = err + 6;

    } else if (strncmp(err, "ASK ", 4) == 0) {
        moved = 0;
        p = err + 4;

    } else {
        return 0;
    }

    /* "<slot> <host>:<port>"; an IPv6 host is not bracketed */

    slot = strtol(p, &end, 10);

    if (end == p || *end != ' ' || slot < 0
        || slot >= NGX_HTTP_WSGATE_SLOTS)
    {
        goto invalid;
    }

    host = end + 1;
    colon = strrchr(host, ':');

    if (colon == NULL) {
        goto invalid;
    }

    len = colon - host;

    if (wsgate_cli_parse_int(colon + 1, strlen(colon + 1), 65535, &port)
        != 0 || port == 0)
    {
        goto invalid;
    }

    if (len == 0) {
        host = from->host;
        len = strlen(host);
    }

    node = wsgate_cli_node(cli, host, len, (int) port);
    if (node < 0) {
        return -1;
    }

    if (moved) {
        cli->slots[slot] = (int16_t) node;
    }

    *target = node;
    *asking = !moved;

    return 1;

invalid:

    wsgate_cli_error("redis %s: cannot follow \"%s\"", from->addr, err);

    return -1;
}


static void
wsgate_cli_replies_free(redisReply **rep, size_t n)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        if (rep[i] != NULL) {
            freeReplyObject(rep[i]);
        }
    }
}


/* one command about key, on the node serving its slot */

static redisReply *
wsgate_cli_cluster_command(wsgate_cli_t *cli, const u_char *key, size_t len,
    const char *fmt, ...)
{
    va_list           args;
    redisReply       *r;
    wsgate_cli_cmd_t  cmd;

    snprintf(cmd.name, sizeof(cmd.name), "%.*s",
             (int) strcspn(fmt, " "), fmt);

    va_start(args, fmt);
    cmd.len = redisvFormatCommand(&cmd.buf, fmt, args);
    va_end(args);

    if (cmd.len < 0) {
        wsgate_cli_error("out of memory");
        return NULL;
    }

    r = wsgate_cli_cluster_run(cli, ngx_http_wsgate_slot(key, len), 0, &cmd,
                               1);

    redisFreeCommand(cmd.buf);

    return r;
}


/*
 * The lock of the token set: SET NX PX in the set's own slot, with a
 * random owner, tried for up to WSGATE_CLI_LOCK_WAIT_MS.  It serialises
 * the writers of one workspace (or system caller) as WATCH does on one
 * node; see redis/README.md, "Redis Cluster".
 */

static int
wsgate_cli_lock(wsgate_cli_t *cli)
{
    int            attempt;
    size_t         len;
    u_char         raw[16];
    long long      start;
    redisReply    *r;
    const u_char  *key;

    if (RAND_bytes(raw, sizeof(raw)) != 1) {
        wsgate_cli_error("RAND_bytes() failed");
        return WSGATE_CLI_FAILED;
    }

    *ngx_http_wsgate_hex_dump((u_char *) cli->lock_owner, raw, sizeof(raw))
        = '\0';

    key = wsgate_cli_key(cli, cli->is_system ? NGX_HTTP_WSGATE_KEY_SYS_LOCK
                                             : NGX_HTTP_WSGATE_KEY_WS_LOCK,
                         cli->id, strlen(cli->id), &len);
    if (key == NULL) {
        return WSGATE_CLI_FAILED;
    }

    memcpy(cli->lock_key, key, len);
    cli->lock_key[len] = '\0';
    cli->lock_key_len = len;

    start = wsgate_cli_now_ms();

    for (attempt = 0; /* void */; attempt++) {

        r = wsgate_cli_cluster_command(cli, (u_char *) cli->lock_key, len,
                                       "SET %b %s NX PX %d", cli->lock_key,
                                       len, cli->lock_owner,
                                       WSGATE_CLI_LOCK_MS);
        if (r == NULL) {
            return WSGATE_CLI_FAILED;
        }

        if (r->type == REDIS_REPLY_STATUS) {
            freeReplyObject(r);
            cli->locked_ms = wsgate_cli_now_ms();
            return WSGATE_CLI_OK;
        }

        freeReplyObject(r);

        if (wsgate_cli_now_ms() - start >= WSGATE_CLI_LOCK_WAIT_MS) {
            break;
        }

        wsgate_cli_backoff(attempt < 10 ? attempt + 1 : 10);
    }

    r = wsgate_cli_cluster_command(cli, (u_char *) cli->lock_key, len,
                                   "PTTL %b", cli->lock_key, len);

    wsgate_cli_error("%s is being changed by another writer: %s is taken "
                     "(for %lld ms more); nothing written", cli->set_key,
                     cli->lock_key, wsgate_cli_reply_int(r));

    if (r != NULL) {
        freeReplyObject(r);
    }

    return WSGATE_CLI_FAILED;
}


/*
 * Every write under the lock is checked against its lease: none is sent
 * later than WSGATE_CLI_LOCK_USE_MS after the lock was taken, so that
 * with the command timeout it lands before another writer can have it.
 */

static int
wsgate_cli_lock_held(wsgate_cli_t *cli)
{
    if (wsgate_cli_now_ms() - cli->locked_ms < WSGATE_CLI_LOCK_USE_MS) {
        return WSGATE_CLI_OK;
    }

    wsgate_cli_error("%s: held %s for %d s; stopped before its lease "
                     "runs out, the change is incomplete (run it again)",
                     cli->set_key, cli->lock_key,
                     WSGATE_CLI_LOCK_USE_MS / 1000);

    return WSGATE_CLI_FAILED;
}


/* the lock is deleted only while it is still ours */

static void
wsgate_cli_unlock(wsgate_cli_t *cli)
{
    redisReply  *r;

    if (cli->locked_ms == 0) {
        return;
    }

    cli->locked_ms = 0;

    r = wsgate_cli_cluster_command(cli, (u_char *) cli->lock_key,
                                   cli->lock_key_len,
                                   "EVAL %s 1 %b %s", WSGATE_CLI_UNLOCK_LUA,
                                   cli->lock_key, cli->lock_key_len,
                                   cli->lock_owner);
    if (r == NULL) {
        wsgate_cli_error("%s was not released; it expires within %d s",
                         cli->lock_key, WSGATE_CLI_LOCK_MS / 1000);
        return;
    }

    freeReplyObject(r);
}


static int
wsgate_cli_cluster_issue(wsgate_cli_t *cli)
{
    return wsgate_cli_cluster_change(cli, 1, 0);
}


static int
wsgate_cli_cluster_rotate(wsgate_cli_t *cli)
{
    return wsgate_cli_cluster_change(cli, 1, 1);
}


static int
wsgate_cli_cluster_revoke(wsgate_cli_t *cli)
{
    return wsgate_cli_cluster_change(cli, 0, 1);
}


/*
 * issue, rotate and revoke on a Redis Cluster.  The token keys and the
 * set live in different slots, so a change is several parts, each atomic
 * on its node, in an order that never lets a token work that should not
 * (redis/README.md, "Redis Cluster"):
 *
 *   1. the lock of the set;
 *   2. revoking: the set's members (and with --grace their PTTLs);
 *   3. issuing: SADD of the new digest, then the new token key in one
 *      MULTI/EXEC (HSET, PEXPIRE), so it never lives without its TTL;
 *   4. revoking: each old token key DELeted (or PEXPIREd to the grace),
 *      then the digests of the keys gone SREMed from the set;
 *   5. the lock released; the new token printed.
 */

static int
wsgate_cli_cluster_change(wsgate_cli_t *cli, int issue, int revoke)
{
    int               rc, ntx;
    char              token[WSGATE_CLI_TOKEN_LEN + 2];
    char              digest[NGX_HTTP_WSGATE_DIGEST_LEN + 1];
    size_t            i, len, nprune, changed, sooner, *argvlen;
    uint16_t          slot, set_slot;
    long long         grace;
    redisReply       *r;
    const char      **argv;
    const u_char     *key;
    wsgate_cli_cmd_t  cmd[2];
    wsgate_cli_set_t  set;

    if (issue && wsgate_cli_token_new(token, digest) != 0) {
        return WSGATE_CLI_FAILED;
    }

    grace = cli->grace_ms > 0 ? cli->grace_ms : 0;
    set_slot = ngx_http_wsgate_slot((u_char *) cli->set_key,
                                    cli->set_key_len);

    memset(&set, 0, sizeof(wsgate_cli_set_t));
    memset(cmd, 0, sizeof(cmd));
    argv = NULL;
    argvlen = NULL;
    changed = 0;
    sooner = 0;

    rc = wsgate_cli_lock(cli);
    if (rc != WSGATE_CLI_OK) {
        goto done;
    }

    rc = WSGATE_CLI_FAILED;

    /* 2. the old tokens */

    if (revoke) {
        r = wsgate_cli_cluster_command(cli, (u_char *) cli->set_key,
                                       cli->set_key_len, "SMEMBERS %b",
                                       cli->set_key, cli->set_key_len);
        if (r == NULL) {
            goto done;
        }

        if (wsgate_cli_set_init(cli, &set, r) != WSGATE_CLI_OK) {
            goto done;
        }

        for (i = 0; grace > 0 && i < set.n; i++) {
            key = wsgate_cli_key(cli, NGX_HTTP_WSGATE_KEY_TOKEN,
                                 set.digest[i], set.len[i], &len);
            if (key == NULL) {
                goto done;
            }

            r = wsgate_cli_cluster_command(cli, key, len, "PTTL %b", key,
                                           len);
            if (r == NULL) {
                goto done;
            }

            set.pttl[i] = wsgate_cli_reply_int(r);
            freeReplyObject(r);
        }
    }

    /* 3. the new token: its digest in the set first, then its key */

    if (issue) {
        if (wsgate_cli_lock_held(cli) != WSGATE_CLI_OK) {
            goto done;
        }

        r = wsgate_cli_cluster_command(cli, (u_char *) cli->set_key,
                                       cli->set_key_len, "SADD %b %s",
                                       cli->set_key, cli->set_key_len,
                                       digest);
        if (r == NULL) {
            goto done;
        }

        freeReplyObject(r);

        key = wsgate_cli_key(cli, NGX_HTTP_WSGATE_KEY_TOKEN, digest,
                             NGX_HTTP_WSGATE_DIGEST_LEN, &len);
        if (key == NULL) {
            goto done;
        }

        slot = ngx_http_wsgate_slot(key, len);

        if (cli->is_system) {
            ntx = wsgate_cli_cmd(&cmd[0], "HSET %b name %s kind system "
                                 "created_ms %lld", key, len, cli->id,
                                 wsgate_cli_now_ms());

        } else {
            ntx = wsgate_cli_cmd(&cmd[0], "HSET %b ws %s kind workspace "
                                 "created_ms %lld", key, len, cli->id,
                                 wsgate_cli_now_ms());
        }

        if (ntx != 0) {
            goto done;
        }

        ntx = 1;

        if (cli->ttl_ms > 0) {
            if (wsgate_cli_cmd(&cmd[1], "PEXPIRE %b %lld", key, len,
                               cli->ttl_ms)
                != 0)
            {
                goto done;
            }

            ntx = 2;
        }

        if (wsgate_cli_lock_held(cli) != WSGATE_CLI_OK) {
            goto done;
        }

        r = wsgate_cli_cluster_run(cli, slot, 1, cmd, ntx);
        if (r == NULL) {
            goto done;
        }

        freeReplyObject(r);
    }

    /* 4. the old token keys, then their digests */

    if (revoke) {
        argv = calloc(set.n + 2, sizeof(char *));
        argvlen = calloc(set.n + 2, sizeof(size_t));

        if (argv == NULL || argvlen == NULL) {
            wsgate_cli_error("out of memory");
            goto done;
        }

        nprune = 0;

        for (i = 0; i < set.n; i++) {

            if (grace == 0 || set.pttl[i] == -2) {
                argv[2 + nprune] = set.digest[i];
                argvlen[2 + nprune] = set.len[i];
                nprune++;
            }

            if (grace > 0 && set.pttl[i] != -1 && set.pttl[i] <= grace) {
                sooner += (set.pttl[i] >= 0);
                continue;
            }

            key = wsgate_cli_key(cli, NGX_HTTP_WSGATE_KEY_TOKEN,
                                 set.digest[i], set.len[i], &len);
            if (key == NULL || wsgate_cli_lock_held(cli) != WSGATE_CLI_OK) {
                goto done;
            }

            if (grace == 0) {
                r = wsgate_cli_cluster_command(cli, key, len, "DEL %b", key,
                                               len);

            } else {
                r = wsgate_cli_cluster_command(cli, key, len,
                                               "PEXPIRE %b %lld", key, len,
                                               grace);
            }

            if (r == NULL) {
                goto done;
            }

            changed += wsgate_cli_reply_int(r);
            freeReplyObject(r);
        }

        if (nprune > 0) {
            argv[0] = "SREM";
            argvlen[0] = 4;
            argv[1] = cli->set_key;
            argvlen[1] = cli->set_key_len;

            wsgate_cli_cmd_free(cmd, 2);
            snprintf(cmd[0].name, sizeof(cmd[0].name), "SREM");

            cmd[0].len = redisFormatCommandArgv(&cmd[0].buf, 2 + nprune,
                                                argv, argvlen);
            if (cmd[0].len < 0) {
                cmd[0].buf = NULL;
                wsgate_cli_error("out of memory");
                goto done;
            }

            if (wsgate_cli_lock_held(cli) != WSGATE_CLI_OK) {
                goto done;
            }

            r = wsgate_cli_cluster_run(cli, set_slot, 0, cmd, 1);
            if (r == NULL) {
                goto done;
            }

            freeReplyObject(r);
        }
    }

    rc = WSGATE_CLI_OK;

done:

    wsgate_cli_unlock(cli);
    wsgate_cli_cmd_free(cmd, 2);
    wsgate_cli_set_free(&set);
    free(argv);
    free(argvlen);

    if (rc != WSGATE_CLI_OK) {
        if (issue) {
            OPENSSL_cleanse(token, sizeof(token));
        }

        return rc;
    }

    if (!issue) {
        printf("revoked %d token(s) of %s\n", (int) changed, cli->id);
        return WSGATE_CLI_OK;
    }

    rc = wsgate_cli_print_token(token);

    if (rc == WSGATE_CLI_OK && revoke) {
        wsgate_cli_rotate_note(cli, grace, changed, sooner);
    }

    return rc;
}


/* the state's keys in one MULTI/EXEC in their slot, then each EXISTS */

static int
wsgate_cli_cluster_status_read(wsgate_cli_t *cli, redisReply **result,
    long long *live)
{
    size_t            i, len;
    redisReply       *r, *members, *e;
    const u_char     *key;
    wsgate_cli_cmd_t  cmd[3];

    memset(cmd, 0, sizeof(cmd));

    key = wsgate_cli_key(cli, NGX_HTTP_WSGATE_KEY_REGFAIL, cli->id,
                         strlen(cli->id), &len);
    if (key == NULL || wsgate_cli_cmd(&cmd[0], "HGETALL %b", key, len) != 0)
    {
        goto failed;
    }

    key = wsgate_cli_key(cli, NGX_HTTP_WSGATE_KEY_RESTART, cli->id,
                         strlen(cli->id), &len);
    if (key == NULL || wsgate_cli_cmd(&cmd[1], "GET %b", key, len) != 0) {
        goto failed;
    }

    if (wsgate_cli_cmd(&cmd[2], "SMEMBERS %b", cli->set_key,
                       cli->set_key_len)
        != 0)
    {
        goto failed;
    }

    r = wsgate_cli_cluster_run(cli, ngx_http_wsgate_slot(
                                   (u_char *) cli->set_key, cli->set_key_len),
                               1, cmd, 3);
    if (r == NULL) {
        goto failed;
    }

    wsgate_cli_cmd_free(cmd, 3);

    if (wsgate_cli_status_check("cluster", r) != WSGATE_CLI_OK) {
        freeReplyObject(r);
        return WSGATE_CLI_FAILED;
    }

    members = r->element[2];
    *live = 0;

    for (i = 0; i < members->elements; i++) {
        key = wsgate_cli_key(cli, NGX_HTTP_WSGATE_KEY_TOKEN,
                             members->element[i]->str,
                             members->element[i]->len, &len);
        if (key == NULL) {
            freeReplyObject(r);
            return WSGATE_CLI_FAILED;
        }

        e = wsgate_cli_cluster_command(cli, key, len, "EXISTS %b", key, len);
        if (e == NULL) {
            freeReplyObject(r);
            return WSGATE_CLI_FAILED;
        }

        *live += wsgate_cli_reply_int(e);
        freeReplyObject(e);
    }

    *result = r;

    return WSGATE_CLI_OK;

failed:

    wsgate_cli_cmd_free(cmd, 3);

    return WSGATE_CLI_FAILED;
}


static void
wsgate_cli_cluster_free(wsgate_cli_t *cli)
{
    size_t  i;

    for (i = 0; i < cli->nnodes; i++) {
        if (cli->nodes[i].ctx != NULL) {
            redisFree(cli->nodes[i].ctx);
        }

        free(cli->nodes[i].host);
    }

    free(cli->nodes);
    free(cli->slots);
}
