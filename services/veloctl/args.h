/* args.h: veloctl's command line, parsed without side effects.
 *
 * veloctl COMMAND [ARGS] [OPTIONS]; options may come before or after the
 * command, as --name VALUE or --name=VALUE (spelled out in full: no
 * abbreviations); "--" ends the options. Global options (--rpc, --pub,
 * --timeout-ms, --json, --log-level, --help) apply to every command; the
 * others only to the commands that list them in the usage text, and any
 * other use is a usage error. Every value is checked here (ranges, URL
 * form), so the commands never see a bad one.
 *
 * Scanned with getopt_long; the commands and options are two tables in
 * args.c, which also generate the usage text. A new command is a row
 * there plus its value below (before VELOCTL_NCMDS); a new option is a
 * row there plus its field in struct veloctl_args.
 *
 * velo_cfg does not fit: it has no subcommands or positional arguments. */
#ifndef VELOCTL_ARGS_H
#define VELOCTL_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "velo/err.h"
#include "velo/log.h"
#include "velo/v1/station.pb-c.h"

#define VELOCTL_DEFAULT_RPC "tcp://127.0.0.1:7701"
#define VELOCTL_DEFAULT_PUB "tcp://127.0.0.1:7702"
#define VELOCTL_DEFAULT_WAREHOUSE "tcp://127.0.0.1:7711"
#define VELOCTL_MAX_URLS 16
#define VELOCTL_ENV_MAX 2048 /* longest VELO_STREAM_RPC value accepted */

enum veloctl_cmd {
    VELOCTL_SYSTEMS,
    VELOCTL_STATIONS,
    VELOCTL_STATION,
    VELOCTL_WATCH,
    VELOCTL_HEALTH,
    VELOCTL_HISTORY, /* velo-warehouse HistoryService.GetHourly/GetDaily */
    VELOCTL_TOP,     /* velo-warehouse HistoryService.TopStations */
    VELOCTL_STATUS,  /* every registered instance (Consul) */
};
/* How many commands there are: the last one + 1 (outside the enum, so a
 * switch over the commands stays complete). A row in args.c past it does
 * not compile. */
#define VELOCTL_NCMDS (VELOCTL_STATUS + 1)

/* The parsed command line. String pointers point into argv, into the
 * environment strings given to veloctl_args_parse, or into env_copy: they
 * are borrowed for as long as those live. A has_ flag tells whether an
 * optional value was given. */
struct veloctl_args {
    enum veloctl_cmd cmd;
    const char      *rpc[VELOCTL_MAX_URLS]; /* failover order */
    size_t           nrpc;
    bool rpc_given;     /* by --rpc or VELO_STREAM_RPC: Consul is not asked */
    bool wh_given;      /* by --warehouse-rpc or VELO_WAREHOUSE_RPC: idem */
    const char *consul; /* --consul; NULL: VELO_CONSUL_ADDR, CONSUL_HTTP_ADDR */
    const char *pub;
    uint32_t    timeout_ms; /* per RPC call, all instances */
    bool        json;
    enum velo_log_level     log_level; /* library events on stderr; off */
    const char             *system;    /* NULL: every system (stations) */
    const char             *station;
    bool                    has_near;
    double                  near_lat, near_lon;
    bool                    has_radius, has_min_bikes, has_min_docks;
    uint32_t                radius_m, min_bikes, min_docks;
    bool                    has_status;
    Velo__V1__StationStatus status;
    const char             *q;
    const char             *cursor;
    bool                    has_limit;
    uint32_t                limit;
    bool                    all; /* follow next_cursor to the last page */
    bool                    has_count, has_timeout_s;
    uint32_t                count, timeout_s;
    /* velo-warehouse (history, top) */
    const char *wh[VELOCTL_MAX_URLS]; /* failover order */
    size_t      nwh;
    bool        has_from, has_to;
    int64_t     from_ms, to_ms; /* history: [from, to) */
    bool        daily;          /* history: GetDaily */
    const char *date;           /* top: local day, NULL: yesterday (UTC) */
    int         by;             /* top: Velo__V1__TopRank */
    char        env_copy[VELOCTL_ENV_MAX]; /* VELO_STREAM_RPC, split in place */
    char        wh_env_copy[VELOCTL_ENV_MAX]; /* VELO_WAREHOUSE_RPC, the same */
};

/* Parses argv (argv[0] is the program; argv is never reordered). env_rpc
 * and env_pub are the values of VELO_STREAM_RPC (URLs separated by spaces
 * or commas) and VELO_STREAM_PUB, or NULL; a flag overrides them. Returns
 * VELO_OK, VELO_CFG_HELP (--help or `help`: print veloctl_usage, exit 0)
 * or VELO_EINVAL with one clear sentence in err (print it with the short
 * usage, exit 2). *a is fully written in every case. Thread: one parse at
 * a time (getopt_long keeps its state in globals). */
VELO_MUST_CHECK int veloctl_args_parse(struct veloctl_args *a, int argc,
                                       char *const *argv, const char *env_rpc,
                                       const char *env_pub, char *err,
                                       size_t err_size);

/* Fills a->wh from env (VELO_WAREHOUSE_RPC: URLs separated by spaces or
 * commas; NULL or empty: VELOCTL_DEFAULT_WAREHOUSE) unless --warehouse-rpc
 * gave addresses. Pure; veloctl_main calls it after a successful parse.
 * VELO_EINVAL with the reason in err for a bad address. env is copied into
 * a (wh_env_copy). */
VELO_MUST_CHECK int veloctl_args_warehouse_env(struct veloctl_args *a,
                                               const char *env, char *err,
                                               size_t err_size);

/* The command's name ("stations"); NULL for a value that is none. */
const char *veloctl_cmd_name(enum veloctl_cmd cmd);

/* Writes the whole --help text to out: every command with its arguments
 * and options, then the global options, from args.c's tables; lines fit
 * 80 columns. */
void veloctl_usage(FILE *out);

/* Writes the short usage printed after a usage error: the synopsis and
 * every command with its arguments. */
void veloctl_usage_short(FILE *out);

#endif
