/* args.c: veloctl's command-line parser (see args.h).
 *
 * Two tables drive everything: cmds (name, arguments, summary) and flags
 * (name, value, the commands it applies to, the setter that checks its
 * value, help). getopt_long scans argv from the flag table, the command
 * and its arguments are checked against the command table, and usage.c
 * prints --help and the short usage from both, so the parser, the checks
 * and the text cannot disagree. Adding a command is a row in cmds (and
 * its enum value in args.h); adding an option is a row in flags.
 *
 * Options are collected in one pass wherever they appear; only then is
 * the command known and each seen option checked against it. */
#include "args.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "args_int.h"
#include "velo/clock.h"
#include "velo/cursor.h"
#include "velo/parse.h"
#include "velo/tz.h"
#include "velo/v1/history.pb-c.h"

#define MAX_POS 4    /* command plus at most 3 arguments, then an error */
#define URL_MAX 255  /* the RPC layer keeps URLs below 256 bytes */
#define TEXT_MAX 256 /* --q */
#define CURSOR_MAX VELO_CURSOR_TEXT_MAX /* --cursor: opaque, bounded */
#define RADIUS_MAX 20037                /* km: half the Earth's circumference */
#define FLAG_VAL0 256 /* getopt_long val of flags[0]; above any char */

static const struct veloctl_cmd_def cmds[VELOCTL_NCMDS] = {
    [VELOCTL_SYSTEMS] = {"systems", "", 0, 0,
                         "every system with station and bike counts"},
    [VELOCTL_STATIONS] = {"stations", "[SYSTEM]", 0, 1,
                          "stations of SYSTEM (all systems when omitted)"},
    [VELOCTL_STATION] = {"station", "SYSTEM ID", 2, 2, "one station in detail"},
    [VELOCTL_WATCH] = {"watch", "SYSTEM", 1, 1,
                       "print live changes (nng SUB) until interrupted"},
    [VELOCTL_HEALTH] = {"health", "", 0, 0,
                        "readiness of every --rpc instance"},
    [VELOCTL_HISTORY] = {"history", "SYSTEM ID", 2, 2,
                         "hourly (or --daily) aggregates of one station, "
                         "from velo-warehouse"},
    [VELOCTL_TOP] = {"top", "SYSTEM", 1, 1,
                     "the day's busiest (or most often empty or full) "
                     "stations, from velo-warehouse"},
    [VELOCTL_STATUS] = {"status", "", 0, 0,
                        "every registered velopipe instance with its health "
                        "and check output (Consul; else the --rpc ones)"},
};

/* State of one parse, beside the result. */
struct parse {
    const char *pos[MAX_POS];
    size_t      npos;
    uint64_t    seen; /* bit i: flags[i] was given */
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
set_consul(struct veloctl_args *a, const char *v, char *err, size_t n)
{
    if (strlen(v) == 0 || strlen(v) > URL_MAX)
        return velo_errf(VELO_EINVAL, err, n,
                         "--consul: expected http[s]://host:port");
    a->consul = v;
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

static int
set_wh(struct veloctl_args *a, const char *v, char *err, size_t n)
{
    if (a->nwh == VELOCTL_MAX_URLS)
        return velo_errf(VELO_EINVAL, err, n,
                         "--warehouse-rpc: at most 16 addresses");
    if (url_check("--warehouse-rpc", v, err, n) != VELO_OK)
        return VELO_EINVAL;
    a->wh[a->nwh++] = v;
    return VELO_OK;
}

/* "YYYY-MM-DD" exactly, as a day number (days since 1970-01-01). */
static bool
date_parse(const char *v, int64_t *days)
{
    int y, m, d, used = 0;

    if (strlen(v) != 10 || sscanf(v, "%4d-%2d-%2d%n", &y, &m, &d, &used) != 3 ||
        used != 10 || v[4] != '-' || v[7] != '-' || m < 1 || m > 12 || d < 1 ||
        d > 31)
        return false;
    *days = velo_tz_days_from_civil(y, m, d);
    return true;
}

/* A time: YYYY-MM-DD (UTC midnight), RFC 3339, or ms since the epoch. */
static int
time_arg(const char *flag, const char *v, int64_t *out, char *err, size_t n)
{
    int64_t days;

    if (date_parse(v, &days)) {
        *out = days * 86400000LL;
        return VELO_OK;
    }
    if (velo_time_parse_iso(v, out) == VELO_OK ||
        (v[0] >= '0' && v[0] <= '9' && velo_parse_i64(v, out) == VELO_OK))
        return VELO_OK;
    return velo_errf(VELO_EINVAL, err, n,
                     "--%s: expected YYYY-MM-DD, an RFC 3339 time or ms "
                     "since the epoch, got \"%.64s\"",
                     flag, v);
}

static int
set_from(struct veloctl_args *a, const char *v, char *err, size_t n)
{
    a->has_from = true;
    return time_arg("from", v, &a->from_ms, err, n);
}

static int
set_to(struct veloctl_args *a, const char *v, char *err, size_t n)
{
    a->has_to = true;
    return time_arg("to", v, &a->to_ms, err, n);
}

static int
set_daily(struct veloctl_args *a, const char *v, char *err, size_t n)
{
    (void)v, (void)err, (void)n;
    a->daily = true;
    return VELO_OK;
}

static int
set_date(struct veloctl_args *a, const char *v, char *err, size_t n)
{
    int64_t days;

    if (!date_parse(v, &days))
        return velo_errf(VELO_EINVAL, err, n,
                         "--date: expected YYYY-MM-DD, got \"%.64s\"", v);
    a->date = v;
    return VELO_OK;
}

static int
set_by(struct veloctl_args *a, const char *v, char *err, size_t n)
{
    if (strcmp(v, "flow") == 0)
        a->by = VELO__V1__TOP_RANK__TOP_RANK_FLOW;
    else if (strcmp(v, "empty") == 0)
        a->by = VELO__V1__TOP_RANK__TOP_RANK_MINUTES_EMPTY;
    else if (strcmp(v, "full") == 0)
        a->by = VELO__V1__TOP_RANK__TOP_RANK_MINUTES_FULL;
    else
        return velo_errf(VELO_EINVAL, err, n,
                         "--by: expected flow, empty or full, got \"%.64s\"",
                         v);
    return VELO_OK;
}

#define STN CMD(VELOCTL_STATIONS)
#define WATCH CMD(VELOCTL_WATCH)
#define HIST CMD(VELOCTL_HISTORY)
#define TOP CMD(VELOCTL_TOP)
static const struct veloctl_flag flags[] = {
    {"rpc", "URL", ALL_CMDS, set_rpc,
     "velo-stream RPC address; repeat for failover (env "
     "VELO_STREAM_RPC, space-separated; default " VELOCTL_DEFAULT_RPC ")"},
    {"consul", "URL", ALL_CMDS, set_consul,
     "Consul agent to find velo-stream through when no --rpc or "
     "VELO_STREAM_RPC is given (env VELO_CONSUL_ADDR, CONSUL_HTTP_ADDR; "
     "token CONSUL_HTTP_TOKEN[_FILE])"},
    {"pub", "URL", ALL_CMDS, set_pub,
     "velo-stream PUB address for watch (env VELO_STREAM_PUB; "
     "default " VELOCTL_DEFAULT_PUB ")"},
    {"timeout-ms", "MS", ALL_CMDS, set_timeout_ms,
     "per request, all instances together (default 2000)"},
    {"json", NULL, ALL_CMDS, set_json,
     "one JSON document (watch: one object per line)"},
    {"log-level", "L", ALL_CMDS, set_log_level,
     "library events on stderr: debug, info, warn, error, off "
     "(default off)"},
    {"help", NULL, ALL_CMDS, NULL, "this text"},
    {"near", "LAT,LON", STN, set_near,
     "sort by distance from this point (adds DIST)"},
    {"radius", "M", STN, set_radius,
     "only stations within M metres (needs --near)"},
    {"min-bikes", "N", STN, set_min_bikes, "at least N bikes available"},
    {"min-docks", "N", STN, set_min_docks, "at least N free docks"},
    {"status", "open|closed", STN, set_status, "only open or closed ones"},
    {"q", "TEXT", STN, set_q, "name contains TEXT (any case)"},
    {"limit", "N", STN | HIST | TOP, set_limit,
     "stations per page, 1..5000 (service default 100); history: rows "
     "(default 1000); top: stations (default 10, at most 1000)"},
    {"cursor", "C", STN, set_cursor,
     "start at a next_cursor from --json output"},
    {"all", NULL, STN, set_all, "follow cursors to the last page"},
    {"count", "N", WATCH, set_count, "stop after N changes"},
    {"timeout-s", "S", WATCH, set_timeout_s, "stop after S seconds"},
    {"warehouse-rpc", "URL", HIST | TOP, set_wh,
     "velo-warehouse RPC address; repeat for failover (env "
     "VELO_WAREHOUSE_RPC, space-separated; default " VELOCTL_DEFAULT_WAREHOUSE
     ")"},
    {"from", "T", HIST, set_from,
     "first window: YYYY-MM-DD (UTC), RFC 3339 or ms (default: 24 h, "
     "--daily 31 days before --to)"},
    {"to", "T", HIST, set_to, "end of the range, excluded (default: now)"},
    {"daily", NULL, HIST, set_daily, "daily rows instead of hourly ones"},
    {"date", "D", TOP, set_date,
     "the system's local day, YYYY-MM-DD (default: yesterday, UTC)"},
    {"by", "flow|empty|full", TOP, set_by,
     "rank by bikes in + out (default), minutes empty or minutes full"},
};
#define NFLAGS (sizeof(flags) / sizeof(flags[0]))
_Static_assert(NFLAGS <= 64, "struct parse.seen has 64 bits");

const struct veloctl_cmd_def *const veloctl__cmds = cmds;
const struct veloctl_flag *const    veloctl__flags = flags;
const size_t                        veloctl__nflags = NFLAGS;

/* Splits env (URLs separated by spaces or commas, named var in messages)
 * into buf, adding each with set; def when it holds none. */
static int
env_split(struct veloctl_args *a, const char *env, const char *var, char *buf,
          size_t size, veloctl_flag_set set, const char *def, char *err,
          size_t n)
{
    static const char sep[] = " ,\t";
    char             *p;
    size_t            len;
    bool              any = false;

    if (env != NULL && strlen(env) >= size)
        return velo_errf(VELO_EINVAL, err, n, "%s is too long", var);
    snprintf(buf, size, "%s", env ? env : "");
    for (p = buf + strspn(buf, sep); *p != '\0'; p += strspn(p, sep)) {
        len = strcspn(p, sep);
        if (p[len] != '\0')
            p[len++] = '\0';
        if (set(a, p, err, n) != VELO_OK)
            return velo_errf(VELO_EINVAL, err, n,
                             "%s: \"%.64s\" is not a valid address (or more "
                             "than 16 addresses)",
                             var, p);
        any = true;
        p += len;
    }
    return any ? VELO_OK : set(a, def, err, n);
}

/* VELO_STREAM_RPC into a->rpc, in a->env_copy. */
static int
env_rpc_split(struct veloctl_args *a, const char *env, char *err, size_t n)
{
    /* Given (not the default): Consul is not asked for velo-stream. */
    a->rpc_given = env != NULL && env[strspn(env, " ,\t")] != '\0';
    return env_split(a, env, "VELO_STREAM_RPC", a->env_copy,
                     sizeof(a->env_copy), set_rpc, VELOCTL_DEFAULT_RPC, err, n);
}

int
veloctl_args_warehouse_env(struct veloctl_args *a, const char *env, char *err,
                           size_t err_size)
{
    a->wh_given =
        a->nwh > 0 || (env != NULL && env[strspn(env, " ,\t")] != '\0');
    if (a->nwh > 0) /* --warehouse-rpc replaces the environment */
        return VELO_OK;
    return env_split(a, env, "VELO_WAREHOUSE_RPC", a->wh_env_copy,
                     sizeof(a->wh_env_copy), set_wh, VELOCTL_DEFAULT_WAREHOUSE,
                     err, err_size);
}

static bool
is_help(const char *s)
{
    return strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0;
}

/* getopt_long's table, made from flags: flags[i] returns FLAG_VAL0 + i. */
static void
longopts_fill(struct option *lo)
{
    size_t i;

    for (i = 0; i < NFLAGS; i++)
        lo[i] = (struct option){
            flags[i].name, flags[i].value ? required_argument : no_argument,
            NULL, FLAG_VAL0 + (int)i};
    lo[NFLAGS] = (struct option){NULL, 0, NULL, 0};
}

/* The message for what getopt_long refused (it returned '?' or ':'). The
 * offending argument is the last one it looked at. */
static int
scan_error(int c, const char *arg, char *err, size_t n)
{
    const struct veloctl_flag *f = NULL;

    if (optopt >= FLAG_VAL0 && optopt < FLAG_VAL0 + (int)NFLAGS)
        f = &flags[optopt - FLAG_VAL0];
    if (c == ':' && f != NULL)
        return velo_errf(VELO_EINVAL, err, n, "--%s needs a value", f->name);
    if (f != NULL)
        return velo_errf(VELO_EINVAL, err, n, "--%s takes no value", f->name);
    /* In a group like -xy, optind has not moved past it yet. */
    if (optopt > 0 && optopt < FLAG_VAL0)
        return velo_errf(VELO_EINVAL, err, n, "unknown option -%c", optopt);
    return velo_errf(VELO_EINVAL, err, n, "unknown option %.64s", arg);
}

/* getopt_long also takes unique prefixes ("--js" for --json). Refused:
 * they would start to fail in scripts the day a new option shares the
 * prefix. arg is the argument that named flag f. */
static int
spelled_out(const struct veloctl_flag *f, const char *arg, char *err, size_t n)
{
    size_t len = strlen(f->name);

    if (strncmp(arg + 2, f->name, len) == 0 &&
        (arg[2 + len] == '\0' || arg[2 + len] == '='))
        return VELO_OK;
    return velo_errf(VELO_EINVAL, err, n,
                     "unknown option %.64s (did you mean --%s?)", arg, f->name);
}

/* Applies flags[idx] with value v (NULL when it takes none). */
static int
flag_apply(struct veloctl_args *a, struct parse *p, size_t idx, const char *v,
           char *err, size_t n)
{
    const struct veloctl_flag *f = &flags[idx];

    if (f->set == set_rpc && !p->rpc_from_flag) {
        p->rpc_from_flag = true; /* the flags replace the environment */
        a->rpc_given = true;
        a->nrpc = 0;
    }
    p->seen |= UINT64_C(1) << idx;
    return f->set(a, v != NULL ? v : "", err, n);
}

static int
pos_add(struct parse *p, const char *arg, char *err, size_t n)
{
    if (p->npos == MAX_POS)
        return velo_errf(VELO_EINVAL, err, n, "unexpected argument \"%.64s\"",
                         arg);
    p->pos[p->npos++] = arg;
    return VELO_OK;
}

/* One getopt_long result: an option (applied to a) or, with "-" leading
 * the optstring, a positional argument in order (c == 1). */
static int
scan_one(struct veloctl_args *a, struct parse *p, int c, char *const *argv,
         char *err, size_t n)
{
    const struct veloctl_flag *f;
    const char                *arg;
    size_t                     idx;
    int                        rv;

    if (c == 1)
        return pos_add(p, optarg, err, n);
    if (c < FLAG_VAL0 || c >= FLAG_VAL0 + (int)NFLAGS)
        return scan_error(c, argv[optind - 1], err, n);
    idx = (size_t)(c - FLAG_VAL0);
    f = &flags[idx];
    /* A separate value is the last argument read; the name before it. */
    arg = argv[optind - 1];
    if (f->value != NULL && optarg == arg)
        arg = argv[optind - 2];
    rv = spelled_out(f, arg, err, n);
    if (rv == VELO_OK && f->set == NULL)
        rv = VELO_CFG_HELP;
    if (rv == VELO_OK)
        rv = flag_apply(a, p, idx, f->value != NULL ? optarg : NULL, err, n);
    return rv;
}

/* Sorts argv into options (applied to a) and positional arguments.
 * getopt_long keeps its state in globals (optind, optarg, optopt): a
 * parse runs on one thread at a time, and resets them first. */
static int
args_scan(struct veloctl_args *a, struct parse *p, int argc, char *const *argv,
          char *err, size_t n)
{
    struct option lo[NFLAGS + 1];
    int           i, c, rv = VELO_OK;

    /* --help wins over any error, wherever it is before "--". */
    for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
        if (is_help(argv[i]))
            return VELO_CFG_HELP;
    longopts_fill(lo);
    /* optind 0: glibc starts afresh. "-": positional arguments come back
     * in order (argv is never permuted, and POSIXLY_CORRECT cannot stop
     * the scan at the command); ":": report a missing value as ':'. */
    optind = 0;
    opterr = 0;
    while (rv == VELO_OK &&
           (c = getopt_long(argc, argv, "-:h", lo, NULL)) != -1)
        rv = c == 'h' ? VELO_CFG_HELP : scan_one(a, p, c, argv, err, n);
    /* After "--", everything is positional. */
    for (i = optind; rv == VELO_OK && i < argc; i++)
        rv = pos_add(p, argv[i], err, n);
    return rv;
}

/* "SYSTEM and ID": the first min_args words of the command's arguments. */
static void
needs_text(const struct veloctl_cmd_def *cd, char *buf, size_t size)
{
    const char *w = cd->args;
    size_t      used = 0, len;
    unsigned    k;

    buf[0] = '\0';
    for (k = 0; k < cd->min_args && *w != '\0'; k++) {
        len = strcspn(w, " ");
        used += (size_t)snprintf(buf + used, size - used, "%s%.*s",
                                 k == 0 ? "" : " and ", (int)len, w);
        if (used >= size)
            return;
        w += len + strspn(w + len, " ");
    }
}

/* Names the command and checks how many arguments it got. */
static int
cmd_resolve(struct veloctl_args *a, const struct parse *p, char *err, size_t n)
{
    const struct veloctl_cmd_def *cd;
    char                          needs[64];
    size_t                        c, i;

    if (p->npos == 0)
        return velo_errf(VELO_EINVAL, err, n, "missing command");
    for (c = 0; c < VELOCTL_NCMDS; c++)
        if (strcmp(p->pos[0], cmds[c].name) == 0)
            break;
    if (c == VELOCTL_NCMDS)
        return velo_errf(VELO_EINVAL, err, n, "unknown command \"%.64s\"",
                         p->pos[0]);
    cd = &cmds[c];
    a->cmd = (enum veloctl_cmd)c;
    if (p->npos - 1 > cd->max_args)
        return velo_errf(VELO_EINVAL, err, n,
                         "unexpected argument \"%.64s\" after %s",
                         p->pos[cd->max_args + 1], cd->name);
    if (p->npos - 1 < cd->min_args) {
        needs_text(cd, needs, sizeof(needs));
        return velo_errf(VELO_EINVAL, err, n, "%s needs %s", cd->name, needs);
    }
    for (i = 1; i < p->npos; i++)
        if (p->pos[i][0] == '\0' || strlen(p->pos[i]) > TEXT_MAX)
            return velo_errf(VELO_EINVAL, err, n,
                             "%s: SYSTEM and ID must be 1 to 256 bytes",
                             cd->name);
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
        if ((p->seen & (UINT64_C(1) << i)) && !(flags[i].cmds & CMD(a->cmd)))
            return velo_errf(VELO_EINVAL, err, n, "--%s does not apply to %s",
                             flags[i].name, cmds[a->cmd].name);
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
veloctl_cmd_name(enum veloctl_cmd cmd)
{
    return (unsigned)cmd < VELOCTL_NCMDS ? cmds[cmd].name : NULL;
}
