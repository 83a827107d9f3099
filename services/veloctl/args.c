/* args.c: veloctl's command-line parser (see args.h).
 *
 * One table lists every option with the commands it applies to and the
 * setter that checks its value, so the parser, the applicability check
 * and the usage text agree. Options are collected in one pass wherever
 * they appear; only then is the command known and each seen option
 * checked against it. */
#include "args.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "velo/parse.h"

#define CMD(c) (1u << (c))
#define ALL_CMDS                                                               \
    (CMD(VELOCTL_SYSTEMS) | CMD(VELOCTL_STATIONS) | CMD(VELOCTL_STATION) |     \
     CMD(VELOCTL_WATCH) | CMD(VELOCTL_HEALTH))
#define MAX_POS 4        /* command plus at most 3 arguments, then an error */
#define URL_MAX 255      /* the RPC layer keeps URLs below 256 bytes */
#define TEXT_MAX 256     /* --q */
#define CURSOR_MAX 1024  /* --cursor: opaque, but bounded */
#define RADIUS_MAX 20037 /* km: half the Earth's circumference */

typedef int (*flag_set)(struct veloctl_args *a, const char *v, char *err,
                        size_t n);

struct flag {
    const char *name; /* without "--" */
    bool        takes_value;
    unsigned    cmds; /* CMD() bits of the commands that accept it */
    flag_set    set;
};

static const char *const cmd_names[] = {
    [VELOCTL_SYSTEMS] = "systems", [VELOCTL_STATIONS] = "stations",
    [VELOCTL_STATION] = "station", [VELOCTL_WATCH] = "watch",
    [VELOCTL_HEALTH] = "health",
};

/* State of one parse, beside the result. */
struct parse {
    const char *pos[MAX_POS];
    size_t      npos;
    unsigned    seen; /* bit i: flags[i] was given */
    bool        rpc_from_flag;
};

/* A u32 option within [min, max]. */
static int
u32_in(const char *flag, const char *v, uint32_t min, uint32_t max,
       uint32_t *out, char *err, size_t n)
{
    uint32_t x;

    if (velo_parse_u32(v, &x) != VELO_OK || x < min || x > max)
        return velo_errf(VELO_EINVAL, err, n,
                         "--%s: expected a whole number from %u to %u, got "
                         "\"%.64s\"",
                         flag, (unsigned)min, (unsigned)max, v);
    *out = x;
    return VELO_OK;
}

/* An address nng can dial: a known scheme and, for TCP, host:port. */
static bool
url_ok(const char *u)
{
    static const char *const tcp[] = {"tcp://", "tcp4://", "tcp6://",
                                      "tls+tcp://"};
    static const char *const other[] = {"ipc://", "inproc://", "ws://",
                                        "wss://"};
    const char              *rest = NULL, *colon;
    uint32_t                 port;
    size_t                   i;

    if (strlen(u) > URL_MAX)
        return false;
    for (i = 0; i < sizeof(other) / sizeof(other[0]); i++)
        if (strncmp(u, other[i], strlen(other[i])) == 0)
            return u[strlen(other[i])] != '\0';
    for (i = 0; rest == NULL && i < sizeof(tcp) / sizeof(tcp[0]); i++)
        if (strncmp(u, tcp[i], strlen(tcp[i])) == 0)
            rest = u + strlen(tcp[i]);
    if (rest == NULL || (colon = strrchr(rest, ':')) == NULL || colon == rest)
        return false;
    return velo_parse_u32(colon + 1, &port) == VELO_OK && port >= 1 &&
           port <= 65535;
}

static int
url_check(const char *flag, const char *v, char *err, size_t n)
{
    if (url_ok(v))
        return VELO_OK;
    return velo_errf(
        VELO_EINVAL, err, n,
        "%s: \"%.64s\" is not an address veloctl can dial (expected "
        "e.g. tcp://127.0.0.1:7701)",
        flag, v);
}

static int
set_rpc(struct veloctl_args *a, const char *v, char *err, size_t n)
{
    if (a->nrpc == VELOCTL_MAX_URLS)
        return velo_errf(VELO_EINVAL, err, n, "--rpc: at most 16 addresses");
    if (url_check("--rpc", v, err, n) != VELO_OK)
        return VELO_EINVAL;
    a->rpc[a->nrpc++] = v;
    return VELO_OK;
}

static int
set_pub(struct veloctl_args *a, const char *v, char *err, size_t n)
{
    if (url_check("--pub", v, err, n) != VELO_OK)
        return VELO_EINVAL;
    a->pub = v;
    return VELO_OK;
}

static int
set_timeout_ms(struct veloctl_args *a, const char *v, char *err, size_t n)
{
    return u32_in("timeout-ms", v, 1, 3600000, &a->timeout_ms, err, n);
}

static int
set_json(struct veloctl_args *a, const char *v, char *err, size_t n)
{
    (void)v, (void)err, (void)n;
    a->json = true;
    return VELO_OK;
}

static int
set_all(struct veloctl_args *a, const char *v, char *err, size_t n)
{
    (void)v, (void)err, (void)n;
    a->all = true;
    return VELO_OK;
}

static int
set_log_level(struct veloctl_args *a, const char *v, char *err, size_t n)
{
    if (velo_log_level_parse(v, &a->log_level) == VELO_OK)
        return VELO_OK;
    return velo_errf(
        VELO_EINVAL, err, n,
        "--log-level: expected debug, info, warn, error or off, got "
        "\"%.64s\"",
        v);
}

/* One number of --near: the len bytes at v. */
static bool
coord_parse(const char *v, size_t len, double *out)
{
    char tmp[64];

    if (len >= sizeof(tmp))
        return false;
    memcpy(tmp, v, len);
    tmp[len] = '\0';
    return velo_parse_double(tmp, out) == VELO_OK;
}

static int
set_near(struct veloctl_args *a, const char *v, char *err, size_t n)
{
    const char *comma = strchr(v, ',');
    double      lat, lon;

    /* A second comma makes the longitude fail to parse. */
    if (comma == NULL || !coord_parse(v, (size_t)(comma - v), &lat) ||
        !coord_parse(comma + 1, strlen(comma + 1), &lon))
        return velo_errf(VELO_EINVAL, err, n,
                         "--near: expected LAT,LON in decimal degrees (e.g. "
                         "48.8566,2.3522), got \"%.64s\"",
                         v);
    if (fabs(lat) > 90.0)
        return velo_errf(VELO_EINVAL, err, n,
                         "--near: latitude %g is outside -90..90", lat);
    if (fabs(lon) > 180.0)
        return velo_errf(VELO_EINVAL, err, n,
                         "--near: longitude %g is outside -180..180", lon);
    a->has_near = true;
    a->near_lat = lat;
    a->near_lon = lon;
    return VELO_OK;
}

static int
set_radius(struct veloctl_args *a, const char *v, char *err, size_t n)
{
    a->has_radius = true;
    return u32_in("radius", v, 1, RADIUS_MAX * 1000u, &a->radius_m, err, n);
}

static int
set_min_bikes(struct veloctl_args *a, const char *v, char *err, size_t n)
{
    a->has_min_bikes = true;
    return u32_in("min-bikes", v, 0, 100000, &a->min_bikes, err, n);
}

static int
set_min_docks(struct veloctl_args *a, const char *v, char *err, size_t n)
{
    a->has_min_docks = true;
    return u32_in("min-docks", v, 0, 100000, &a->min_docks, err, n);
}

static int
set_status(struct veloctl_args *a, const char *v, char *err, size_t n)
{
    a->has_status = true;
    if (strcasecmp(v, "open") == 0)
        a->status = VELO__V1__STATION_STATUS__STATION_STATUS_OPEN;
    else if (strcasecmp(v, "closed") == 0)
        a->status = VELO__V1__STATION_STATUS__STATION_STATUS_CLOSED;
    else
        return velo_errf(VELO_EINVAL, err, n,
                         "--status: expected open or closed, got \"%.64s\"", v);
    return VELO_OK;
}

static int
set_q(struct veloctl_args *a, const char *v, char *err, size_t n)
{
    if (v[0] == '\0' || strlen(v) > TEXT_MAX)
        return velo_errf(VELO_EINVAL, err, n,
                         "--q: expected 1 to 256 bytes of text");
    a->q = v;
    return VELO_OK;
}

static int
set_cursor(struct veloctl_args *a, const char *v, char *err, size_t n)
{
    if (v[0] == '\0' || strlen(v) > CURSOR_MAX)
        return velo_errf(VELO_EINVAL, err, n,
                         "--cursor: expected a next_cursor value");
    a->cursor = v;
    return VELO_OK;
}

static int
set_limit(struct veloctl_args *a, const char *v, char *err, size_t n)
{
    a->has_limit = true;
    return u32_in("limit", v, 1, 5000, &a->limit, err, n);
}

static int
set_count(struct veloctl_args *a, const char *v, char *err, size_t n)
{
    a->has_count = true;
    return u32_in("count", v, 1, UINT32_MAX, &a->count, err, n);
}

static int
set_timeout_s(struct veloctl_args *a, const char *v, char *err, size_t n)
{
    a->has_timeout_s = true;
    return u32_in("timeout-s", v, 1, 2000000, &a->timeout_s, err, n);
}

#define STN CMD(VELOCTL_STATIONS)
static const struct flag flags[] = {
    {"rpc", true, ALL_CMDS, set_rpc},
    {"pub", true, ALL_CMDS, set_pub},
    {"timeout-ms", true, ALL_CMDS, set_timeout_ms},
    {"json", false, ALL_CMDS, set_json},
    {"log-level", true, ALL_CMDS, set_log_level},
    {"near", true, STN, set_near},
    {"radius", true, STN, set_radius},
    {"min-bikes", true, STN, set_min_bikes},
    {"min-docks", true, STN, set_min_docks},
    {"status", true, STN, set_status},
    {"q", true, STN, set_q},
    {"limit", true, STN, set_limit},
    {"cursor", true, STN, set_cursor},
    {"all", false, STN, set_all},
    {"count", true, CMD(VELOCTL_WATCH), set_count},
    {"timeout-s", true, CMD(VELOCTL_WATCH), set_timeout_s},
};
#define NFLAGS (sizeof(flags) / sizeof(flags[0]))

/* Splits VELO_STREAM_RPC (URLs separated by spaces or commas) into
 * a->rpc, in a->env_copy. */
static int
env_rpc_split(struct veloctl_args *a, const char *env, char *err, size_t n)
{
    static const char sep[] = " ,\t";
    char             *p;
    size_t            len;

    if (env != NULL && strlen(env) >= sizeof(a->env_copy))
        return velo_errf(VELO_EINVAL, err, n, "VELO_STREAM_RPC is too long");
    snprintf(a->env_copy, sizeof(a->env_copy), "%s", env ? env : "");
    for (p = a->env_copy + strspn(a->env_copy, sep); *p != '\0';
         p += strspn(p, sep)) {
        len = strcspn(p, sep);
        if (p[len] != '\0')
            p[len++] = '\0';
        if (set_rpc(a, p, err, n) != VELO_OK)
            return velo_errf(
                VELO_EINVAL, err, n,
                "VELO_STREAM_RPC: \"%.64s\" is not a valid address "
                "(or more than 16 addresses)",
                p);
        p += len;
    }
    if (a->nrpc == 0)
        a->rpc[a->nrpc++] = VELOCTL_DEFAULT_RPC;
    return VELO_OK;
}

static const struct flag *
flag_find(const char *name, size_t len, size_t *idx)
{
    size_t i;

    for (i = 0; i < NFLAGS; i++) {
        if (strncmp(flags[i].name, name, len) == 0 &&
            flags[i].name[len] == '\0') {
            *idx = i;
            return &flags[i];
        }
    }
    return NULL;
}

/* Handles the option at argv[*i], taking its value from "=..." or from
 * the next argument, and moves *i past what it used. */
static int
flag_take(struct veloctl_args *a, struct parse *p, int argc, char *const *argv,
          int *i, char *err, size_t n)
{
    const char        *arg = argv[*i], *name, *eq, *val;
    const struct flag *f;
    size_t             idx;

    name = arg + (arg[1] == '-' ? 2 : 1);
    eq = strchr(name, '=');
    f = flag_find(name, eq ? (size_t)(eq - name) : strlen(name), &idx);
    if (f == NULL || arg[1] != '-')
        return velo_errf(VELO_EINVAL, err, n, "unknown option %.64s", arg);
    if (!f->takes_value && eq != NULL)
        return velo_errf(VELO_EINVAL, err, n, "--%s takes no value", f->name);
    val = eq != NULL ? eq + 1 : "";
    if (f->takes_value && eq == NULL) {
        if (*i + 1 >= argc)
            return velo_errf(VELO_EINVAL, err, n, "--%s needs a value",
                             f->name);
        val = argv[++*i];
    }
    if (f->set == set_rpc && !p->rpc_from_flag) {
        p->rpc_from_flag = true; /* the flags replace the environment */
        a->nrpc = 0;
    }
    p->seen |= 1u << idx;
    return f->set(a, val, err, n);
}

static bool
is_help(const char *s)
{
    return strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0;
}

/* Sorts argv into options (applied to a) and positional arguments. */
static int
args_scan(struct veloctl_args *a, struct parse *p, int argc, char *const *argv,
          char *err, size_t n)
{
    bool opts_done = false;
    int  i, rv;

    for (i = 1; i < argc; i++)
        if (strcmp(argv[i], "--") == 0 || is_help(argv[i]))
            break;
    if (i < argc && is_help(argv[i]))
        return VELO_CFG_HELP;
    for (i = 1; i < argc; i++) {
        if (!opts_done && strcmp(argv[i], "--") == 0) {
            opts_done = true;
        } else if (!opts_done && argv[i][0] == '-' && argv[i][1] != '\0') {
            rv = flag_take(a, p, argc, argv, &i, err, n);
            if (rv != VELO_OK)
                return rv;
        } else if (p->npos == MAX_POS) {
            return velo_errf(VELO_EINVAL, err, n,
                             "unexpected argument \"%.64s\"", argv[i]);
        } else {
            p->pos[p->npos++] = argv[i];
        }
    }
    return VELO_OK;
}

/* Names the command and checks how many arguments it got. */
static int
cmd_resolve(struct veloctl_args *a, const struct parse *p, char *err, size_t n)
{
    static const size_t min_pos[] = {0, 0, 2, 1, 0},
                        max_pos[] = {0, 1, 2, 1, 0};
    size_t c, i;

    if (p->npos == 0)
        return velo_errf(VELO_EINVAL, err, n, "missing command");
    for (c = 0; c < sizeof(cmd_names) / sizeof(cmd_names[0]); c++)
        if (strcmp(p->pos[0], cmd_names[c]) == 0)
            break;
    if (c == sizeof(cmd_names) / sizeof(cmd_names[0]))
        return velo_errf(VELO_EINVAL, err, n, "unknown command \"%.64s\"",
                         p->pos[0]);
    a->cmd = (enum veloctl_cmd)c;
    if (p->npos - 1 > max_pos[c])
        return velo_errf(VELO_EINVAL, err, n,
                         "unexpected argument \"%.64s\" after %s",
                         p->pos[max_pos[c] + 1], cmd_names[c]);
    if (p->npos - 1 < min_pos[c])
        return velo_errf(VELO_EINVAL, err, n, "%s needs %s", cmd_names[c],
                         c == VELOCTL_STATION ? "SYSTEM and ID" : "SYSTEM");
    for (i = 1; i < p->npos; i++)
        if (p->pos[i][0] == '\0' || strlen(p->pos[i]) > TEXT_MAX)
            return velo_errf(VELO_EINVAL, err, n,
                             "%s: SYSTEM and ID must be 1 to 256 bytes",
                             cmd_names[c]);
    a->system = p->npos > 1 ? p->pos[1] : NULL;
    a->station = p->npos > 2 ? p->pos[2] : NULL;
    return VELO_OK;
}

/* Every option given must belong to the command. */
static int
flags_check(const struct veloctl_args *a, const struct parse *p, char *err,
            size_t n)
{
    size_t i;

    for (i = 0; i < NFLAGS; i++)
        if ((p->seen & (1u << i)) && !(flags[i].cmds & CMD(a->cmd)))
            return velo_errf(VELO_EINVAL, err, n, "--%s does not apply to %s",
                             flags[i].name, cmd_names[a->cmd]);
    if (a->has_radius && !a->has_near)
        return velo_errf(VELO_EINVAL, err, n, "--radius needs --near LAT,LON");
    return VELO_OK;
}

int
veloctl_args_parse(struct veloctl_args *a, int argc, char *const *argv,
                   const char *env_rpc, const char *env_pub, char *err,
                   size_t err_size)
{
    struct parse p = {0};
    int          rv;

    memset(a, 0, sizeof(*a));
    a->timeout_ms = 2000;
    a->log_level = VELO_LOG_OFF;
    a->pub =
        env_pub != NULL && env_pub[0] != '\0' ? env_pub : VELOCTL_DEFAULT_PUB;
    err[0] = '\0';
    rv = env_rpc_split(a, env_rpc, err, err_size);
    if (rv == VELO_OK && !url_ok(a->pub))
        rv = velo_errf(VELO_EINVAL, err, err_size,
                       "VELO_STREAM_PUB: \"%.64s\" is not a valid address",
                       a->pub);
    if (rv == VELO_OK)
        rv = args_scan(a, &p, argc, argv, err, err_size);
    if (rv == VELO_OK && p.npos > 0 && strcmp(p.pos[0], "help") == 0)
        rv = VELO_CFG_HELP;
    if (rv == VELO_OK)
        rv = cmd_resolve(a, &p, err, err_size);
    if (rv == VELO_OK)
        rv = flags_check(a, &p, err, err_size);
    return rv;
}

const char *
veloctl_usage_short(void)
{
    return "usage: veloctl [--rpc URL]... [--pub URL] [--timeout-ms MS] "
           "[--json] COMMAND [ARGS]\n"
           "commands: systems | stations [SYSTEM] | station SYSTEM ID | "
           "watch SYSTEM | health\n"
           "Try 'veloctl --help' for more.\n";
}

const char *
veloctl_usage(void)
{
    return "veloctl: query velo-stream, the live state of every bike-share "
           "station\n"
           "\n"
           "usage: veloctl [OPTIONS] COMMAND [ARGS] [OPTIONS]\n"
           "\n"
           "commands:\n"
           "  systems                 every system with station and bike "
           "counts\n"
           "  stations [SYSTEM]       stations of SYSTEM (all systems when "
           "omitted)\n"
           "      --near LAT,LON      sort by distance from this point "
           "(adds DIST)\n"
           "      --radius M          only stations within M metres (needs "
           "--near)\n"
           "      --min-bikes N       at least N bikes available\n"
           "      --min-docks N       at least N free docks\n"
           "      --status open|closed\n"
           "      --q TEXT            name contains TEXT (any case)\n"
           "      --limit N           stations per page, 1..5000 (service "
           "default 100)\n"
           "      --cursor C          start at a next_cursor from --json "
           "output\n"
           "      --all               follow cursors to the last page\n"
           "  station SYSTEM ID       one station in detail\n"
           "  watch SYSTEM            print live changes (nng SUB) until "
           "interrupted\n"
           "      --count N           stop after N changes\n"
           "      --timeout-s S       stop after S seconds\n"
           "  health                  readiness of every --rpc instance\n"
           "\n"
           "global options:\n"
           "  --rpc URL         velo-stream RPC address; repeat for failover "
           "(env\n"
           "                    VELO_STREAM_RPC, space-separated; default "
           "tcp://127.0.0.1:7701)\n"
           "  --pub URL         velo-stream PUB address for watch (env "
           "VELO_STREAM_PUB;\n"
           "                    default tcp://127.0.0.1:7702)\n"
           "  --timeout-ms MS   per request, all instances together "
           "(default 2000)\n"
           "  --json            one JSON document (watch: one object per "
           "line)\n"
           "  --log-level L     library events on stderr: debug, info, warn, "
           "error, off\n"
           "                    (default off)\n"
           "  --help            this text\n"
           "\n"
           "exit status: 0 ok, 1 the service answered an error (or a "
           "health check\n"
           "failed), 2 usage error, 3 the service cannot be reached.\n";
}
