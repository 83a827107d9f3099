/* cfg.c: the configuration loader behind every service's settings table.
 *
 * Order of precedence: default < environment variable < --flag. Nothing
 * here is global: the loader state lives on velo_cfg_load's stack, string
 * values point into argv, environ or the table's defaults, and the only
 * heap memory that outlives the call is the item array of each
 * VELO_OPT_LIST setting (released by velo_cfg_fini). */
#include "velo/cfg.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "velo/buf.h"
#include "velo/parse.h"

#define CFG_ERRS_MAX (16 * 1024)  /* every problem, on stderr */
#define CFG_USAGE_MAX (64 * 1024) /* --help and --help-markdown text */
#define CFG_CHECK_MAX 2048        /* what spec->check may write */

/* What one command-line argument turned out to be. */
enum arg_kind {
    ARG_OPT,        /* a known setting with its value */
    ARG_HELP,       /* --help */
    ARG_HELP_MD,    /* --help-markdown */
    ARG_UNKNOWN,    /* --name that is not in the table */
    ARG_NOVALUE,    /* --name as the last argument, value missing */
    ARG_POSITIONAL, /* anything not starting with "--" */
};

struct arg {
    enum arg_kind kind;
    size_t        opt;   /* ARG_OPT, ARG_NOVALUE: index in spec->opts */
    const char   *value; /* ARG_OPT */
    const char   *text;  /* the argument as given */
};

/* State of one velo_cfg_load call. */
struct loader {
    const struct velo_cfg_spec *spec;
    void                       *cfg;
    int                         argc;
    char                      **argv;
    struct velo_buf             errs; /* one problem per line */
    int                         nerr;
};

static void *
opt_field(void *cfg, const struct velo_opt *o)
{
    return (char *)cfg + o->off;
}

/* The table default; admin-port takes the service's own (DESIGN §7). */
static const char *
opt_default(const struct velo_cfg_spec *spec, const struct velo_opt *o)
{
    if (o->def == NULL && strcmp(o->name, "admin-port") == 0)
        return spec->admin_port_default;
    return o->def;
}

/* The environment value, or NULL. An empty variable counts as unset, since
 * deployment templates often render "" for "not given". */
static const char *
opt_env(const struct velo_opt *o)
{
    const char *v;

    if (o->env == NULL)
        return NULL;
    v = getenv(o->env);
    return v != NULL && *v != '\0' ? v : NULL;
}

static bool
find_opt(const struct velo_cfg_spec *spec, const char *name, size_t n,
         size_t *idx)
{
    size_t i;

    for (i = 0; i < spec->nopts; i++) {
        if (strncmp(spec->opts[i].name, name, n) == 0 &&
            spec->opts[i].name[n] == '\0') {
            *idx = i;
            return true;
        }
    }
    return false;
}

/* Reads argv[*i] (and argv[*i + 1] for "--name value") and moves *i past
 * what it used. A bool flag never takes the next argument. */
static void
arg_next(const struct velo_cfg_spec *spec, int argc, char **argv, int *i,
         struct arg *a)
{
    const char *s = argv[(*i)++];
    const char *name = s + 2;
    const char *eq;

    a->text = s;
    a->value = NULL;
    a->kind = ARG_POSITIONAL;
    if (strncmp(s, "--", 2) != 0 || s[2] == '\0')
        return;
    eq = strchr(name, '=');
    if (eq == NULL && strcmp(name, "help") == 0) {
        a->kind = ARG_HELP;
        return;
    }
    if (eq == NULL && strcmp(name, "help-markdown") == 0) {
        a->kind = ARG_HELP_MD;
        return;
    }
    a->kind = ARG_UNKNOWN;
    if (!find_opt(spec, name, eq ? (size_t)(eq - name) : strlen(name), &a->opt))
        return;
    a->kind = ARG_OPT;
    if (eq != NULL)
        a->value = eq + 1;
    else if (spec->opts[a->opt].type == VELO_OPT_BOOL)
        a->value = "true";
    else if (*i < argc)
        a->value = argv[(*i)++];
    else
        a->kind = ARG_NOVALUE;
}

static void cfg_err(struct loader *ld, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Records one problem; they are all printed together at the end. */
static void
cfg_err(struct loader *ld, const char *fmt, ...)
{
    char    line[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    ld->nerr++;
    if (velo_buf_printf(&ld->errs, "  %s\n", line) != VELO_OK) {
        /* Past CFG_ERRS_MAX: the count in the header still says how many. */
    }
}

static void
write_all(int fd, const char *p, size_t n)
{
    ssize_t w;

    while (n > 0) {
        w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        p += w;
        n -= (size_t)w;
    }
}

/* ---- --help and --help-markdown ---------------------------------------- */

/* The value placeholder after --name in --help, by enum velo_opt_type. */
static const char *const type_meta[] = {"=TEXT", "=N",     "[=BOOL]",
                                        "=X",    "=LEVEL", "=ITEM"};

/* The default as shown to people; a secret's default is never shown. */
static const char *
default_text(const struct velo_cfg_spec *spec, const struct velo_opt *o)
{
    const char *def = opt_default(spec, o);

    if (def == NULL)
        return o->optional ? "(unset)" : "(required)";
    if (o->secret)
        return "(hidden)";
    return *def == '\0' ? "(empty)" : def;
}

/* Range and repetition notes that follow the help text. */
static void
opt_notes(const struct velo_opt *o, char *buf, size_t size)
{
    buf[0] = '\0';
    if (o->type == VELO_OPT_U32 && o->max != 0)
        snprintf(buf, size, " (%u..%u)", (unsigned)o->min, (unsigned)o->max);
    else if (o->type == VELO_OPT_LIST)
        snprintf(buf, size,
                 " (repeatable; the environment variable holds "
                 "items separated by spaces)");
}

static int
usage_opt(struct velo_buf *b, const struct velo_cfg_spec *spec,
          const struct velo_opt *o)
{
    char notes[128];

    opt_notes(o, notes, sizeof(notes));
    return velo_buf_printf(b, "  --%s%s%s%s\n      %s%s\n      default: %s\n",
                           o->name, type_meta[o->type], o->env ? "  env " : "",
                           o->env ? o->env : "", o->help ? o->help : "", notes,
                           default_text(spec, o));
}

static int
usage_text(struct velo_buf *b, const struct velo_cfg_spec *spec)
{
    size_t i;
    int    rv;

    rv = velo_buf_printf(
        b,
        "usage: velo-%s [--name=value | --name value]...\n%s%s"
        "\nEach setting is its default, overridden by its environment "
        "variable,\noverridden by its flag.\n\n",
        spec->svc, spec->summary ? spec->summary : "",
        spec->summary ? "\n" : "");
    for (i = 0; rv == VELO_OK && i < spec->nopts; i++)
        rv = usage_opt(b, spec, &spec->opts[i]);
    if (rv == VELO_OK)
        rv = velo_buf_puts(b, "  --help\n      print this help and exit\n"
                              "  --help-markdown\n      print the settings "
                              "as a Markdown table and exit\n");
    return rv;
}

/* Appends s with '|' escaped so it stays inside one table cell. */
static int
md_cell(struct velo_buf *b, const char *s)
{
    int rv = VELO_OK;

    for (; rv == VELO_OK && *s != '\0'; s++) {
        if (*s == '|')
            rv = velo_buf_puts(b, "\\|");
        else if (*s == '\n')
            rv = velo_buf_puts(b, " ");
        else
            rv = velo_buf_append(b, s, 1);
    }
    return rv;
}

static int
markdown_opt(struct velo_buf *b, const struct velo_cfg_spec *spec,
             const struct velo_opt *o)
{
    const char *def = default_text(spec, o);
    char        notes[128];
    int         rv;

    opt_notes(o, notes, sizeof(notes));
    rv = velo_buf_printf(b, "| `--%s` | %s%s%s | ", o->name, o->env ? "`" : "",
                         o->env ? o->env : "", o->env ? "`" : "");
    /* Real defaults go in code spans; "(required)" and friends do not. */
    if (rv == VELO_OK)
        rv = velo_buf_puts(b, def[0] == '(' ? "" : "`");
    if (rv == VELO_OK)
        rv = md_cell(b, def);
    if (rv == VELO_OK)
        rv = velo_buf_puts(b, def[0] == '(' ? " | " : "` | ");
    if (rv == VELO_OK)
        rv = md_cell(b, o->help ? o->help : "");
    if (rv == VELO_OK)
        rv = md_cell(b, notes);
    if (rv == VELO_OK)
        rv = velo_buf_puts(b, " |\n");
    return rv;
}

static int
markdown_text(struct velo_buf *b, const struct velo_cfg_spec *spec)
{
    size_t i;
    int    rv;

    rv = velo_buf_printf(b, "## velo-%s\n\n", spec->svc);
    if (rv == VELO_OK && spec->summary != NULL)
        rv = velo_buf_printf(b, "%s\n\n", spec->summary);
    if (rv == VELO_OK)
        rv = velo_buf_puts(b, "| flag | env | default | description |\n"
                              "| --- | --- | --- | --- |\n");
    for (i = 0; rv == VELO_OK && i < spec->nopts; i++)
        rv = markdown_opt(b, spec, &spec->opts[i]);
    return rv;
}

/* Prints --help or --help-markdown on stdout. */
static void
print_help(const struct velo_cfg_spec *spec, bool markdown)
{
    struct velo_buf b;
    int             rv;

    velo_buf_init(&b, CFG_USAGE_MAX);
    rv = markdown ? markdown_text(&b, spec) : usage_text(&b, spec);
    /* Print even a cut text: a partial usage beats none. */
    (void)rv;
    if (b.data != NULL)
        write_all(STDOUT_FILENO, b.data, b.len);
    velo_buf_fini(&b);
}

/* ---- parsing ------------------------------------------------------------ */

/* First pass over argv: help requests and arguments that match nothing.
 * Returns true when help was printed. */
static bool
scan_args(struct loader *ld)
{
    struct arg a;
    int        i = 1;

    while (i < ld->argc) {
        arg_next(ld->spec, ld->argc, ld->argv, &i, &a);
        if (a.kind == ARG_HELP || a.kind == ARG_HELP_MD) {
            print_help(ld->spec, a.kind == ARG_HELP_MD);
            return true;
        }
        if (a.kind == ARG_UNKNOWN) /* only the name: a value may be secret */
            cfg_err(ld, "unknown flag %.*s", (int)strcspn(a.text, "="), a.text);
        else if (a.kind == ARG_NOVALUE)
            cfg_err(ld, "%s needs a value", a.text);
        else if (a.kind == ARG_POSITIONAL)
            cfg_err(ld, "unexpected argument \"%s\"", a.text);
    }
    return false;
}

/* The last --name value given for opts[idx] (or NULL); *count is how many
 * times the flag was given. */
static const char *
flag_value(const struct loader *ld, size_t idx, size_t *count)
{
    const char *v = NULL;
    struct arg  a;
    int         i = 1;

    *count = 0;
    while (i < ld->argc) {
        arg_next(ld->spec, ld->argc, ld->argv, &i, &a);
        if (a.kind == ARG_OPT && a.opt == idx) {
            v = a.value;
            (*count)++;
        }
    }
    return v;
}

static void
bad_value(struct loader *ld, const struct velo_opt *o, const char *v,
          const char *src, const char *problem)
{
    if (o->secret)
        cfg_err(ld, "--%s (from %s): %s", o->name, src, problem);
    else
        cfg_err(ld, "--%s=\"%s\" (from %s): %s", o->name, v, src, problem);
}

static void
set_u32(struct loader *ld, const struct velo_opt *o, const char *v,
        const char *src)
{
    char     problem[64];
    uint32_t u;

    if (velo_parse_u32(v, &u) != VELO_OK) {
        bad_value(ld, o, v, src, "not a non-negative integer");
        return;
    }
    if (o->max != 0 && (u < o->min || u > o->max)) {
        snprintf(problem, sizeof(problem), "out of range %u..%u",
                 (unsigned)o->min, (unsigned)o->max);
        bad_value(ld, o, v, src, problem);
        return;
    }
    *(uint32_t *)opt_field(ld->cfg, o) = u;
}

/* Parses v into the field of a non-list setting. */
static void
set_scalar(struct loader *ld, const struct velo_opt *o, const char *v,
           const char *src)
{
    void               *field = opt_field(ld->cfg, o);
    enum velo_log_level lvl;
    double              d;
    bool                b;

    switch (o->type) {
    case VELO_OPT_U32:
        set_u32(ld, o, v, src);
        return;
    case VELO_OPT_BOOL:
        if (velo_parse_bool(v, &b) == VELO_OK)
            *(bool *)field = b;
        else
            bad_value(ld, o, v, src, "not a boolean (true/false)");
        return;
    case VELO_OPT_DBL:
        if (velo_parse_double(v, &d) == VELO_OK)
            *(double *)field = d;
        else
            bad_value(ld, o, v, src, "not a finite number");
        return;
    case VELO_OPT_LEVEL:
        if (velo_log_level_parse(v, &lvl) == 0)
            *(enum velo_log_level *)field = lvl;
        else
            bad_value(ld, o, v, src,
                      "not one of debug, info, warn, error, off");
        return;
    default:
        *(const char **)field = v;
        return;
    }
}

static void
missing(struct loader *ld, const struct velo_opt *o)
{
    if (o->env != NULL)
        cfg_err(ld, "--%s is required (or set %s)", o->name, o->env);
    else
        cfg_err(ld, "--%s is required", o->name);
}

static void
resolve_scalar(struct loader *ld, size_t idx)
{
    const struct velo_opt *o = &ld->spec->opts[idx];
    const char            *v, *env, *flag, *src = "default";
    size_t                 nflags;

    v = opt_default(ld->spec, o);
    env = opt_env(o);
    if (env != NULL) {
        v = env;
        src = o->env;
    }
    flag = flag_value(ld, idx, &nflags);
    if (flag != NULL) {
        v = flag;
        src = "command line";
    }
    if (v == NULL) {
        if (!o->optional)
            missing(ld, o);
        return;
    }
    set_scalar(ld, o, v, src);
}

/* Splits s at whitespace into one allocation: the item array followed by
 * a private copy of s, so that free(l->items) releases both. */
static int
list_split(struct velo_strlist *l, const char *s)
{
    size_t n = 0, len = strlen(s), i;
    bool   in = false;
    char  *copy;

    for (i = 0; i < len; i++) {
        if (!isspace((unsigned char)s[i]) && !in)
            n++;
        in = !isspace((unsigned char)s[i]);
    }
    if (n == 0)
        return VELO_OK;
    l->items = malloc(n * sizeof(*l->items) + len + 1);
    if (l->items == NULL)
        return VELO_ENOMEM;
    copy = (char *)(l->items + n);
    memcpy(copy, s, len + 1);
    for (i = 0, in = false; i < len; i++) {
        if (isspace((unsigned char)copy[i]))
            copy[i] = '\0';
        else if (!in)
            l->items[l->len++] = copy + i;
        in = copy[i] != '\0';
    }
    return VELO_OK;
}

/* Items from n --name flags; they point into argv. */
static int
list_from_flags(struct loader *ld, size_t idx, size_t n, struct velo_strlist *l)
{
    struct arg a;
    int        i = 1;

    l->items = malloc(n * sizeof(*l->items));
    if (l->items == NULL)
        return VELO_ENOMEM;
    while (i < ld->argc) {
        arg_next(ld->spec, ld->argc, ld->argv, &i, &a);
        if (a.kind == ARG_OPT && a.opt == idx)
            l->items[l->len++] = a.value;
    }
    return VELO_OK;
}

/* Flags, when given, replace the environment's list (they do not add). */
static void
resolve_list(struct loader *ld, size_t idx)
{
    const struct velo_opt *o = &ld->spec->opts[idx];
    struct velo_strlist   *l = opt_field(ld->cfg, o);
    const char            *src;
    size_t                 nflags;
    int                    rv;

    l->items = NULL;
    l->len = 0;
    (void)flag_value(ld, idx, &nflags);
    if (nflags > 0) {
        rv = list_from_flags(ld, idx, nflags, l);
    } else {
        src = opt_env(o);
        if (src == NULL)
            src = opt_default(ld->spec, o);
        rv = src != NULL ? list_split(l, src) : VELO_OK;
    }
    if (rv != VELO_OK)
        cfg_err(ld, "--%s: out of memory", o->name);
    else if (l->len == 0 && opt_default(ld->spec, o) == NULL && !o->optional)
        missing(ld, o);
}

/* Cross-field rules; spec->check writes one problem per line. */
static void
run_check(struct loader *ld)
{
    char        errs[CFG_CHECK_MAX];
    const char *line, *nl;
    int         n;

    errs[0] = '\0';
    n = ld->spec->check(ld->cfg, errs, sizeof(errs));
    if (n <= 0)
        return;
    errs[sizeof(errs) - 1] = '\0';
    for (line = errs; *line != '\0'; line = *nl ? nl + 1 : nl) {
        nl = line + strcspn(line, "\n");
        if (nl > line)
            cfg_err(ld, "%.*s", (int)(nl - line), line);
    }
    if (ld->nerr < n)
        ld->nerr = n; /* a check may count more problems than it wrote */
}

static void
print_errors(struct loader *ld)
{
    char head[128];
    char tail[128];

    snprintf(head, sizeof(head),
             "velo-%s: invalid configuration (%d problem%s):\n", ld->spec->svc,
             ld->nerr, ld->nerr == 1 ? "" : "s");
    snprintf(tail, sizeof(tail), "Run velo-%s --help for every setting.\n",
             ld->spec->svc);
    write_all(STDERR_FILENO, head, strlen(head));
    if (ld->errs.data != NULL)
        write_all(STDERR_FILENO, ld->errs.data, ld->errs.len);
    write_all(STDERR_FILENO, tail, strlen(tail));
}

int
velo_cfg_load(const struct velo_cfg_spec *spec, void *cfg, int argc,
              char **argv)
{
    struct loader ld;
    size_t        i;
    int           rv;

    ld.spec = spec;
    ld.cfg = cfg;
    ld.argc = argc;
    ld.argv = argv;
    ld.nerr = 0;
    velo_buf_init(&ld.errs, CFG_ERRS_MAX);
    if (scan_args(&ld)) {
        rv = VELO_CFG_HELP;
        goto out;
    }
    for (i = 0; i < spec->nopts; i++) {
        if (spec->opts[i].type == VELO_OPT_LIST)
            resolve_list(&ld, i);
        else
            resolve_scalar(&ld, i);
    }
    if (ld.nerr == 0 && spec->check != NULL)
        run_check(&ld);
    rv = ld.nerr == 0 ? VELO_OK : VELO_EINVAL;
    if (rv != VELO_OK)
        print_errors(&ld);
    else if (spec->derive != NULL)
        spec->derive(cfg);
out:
    if (rv != VELO_OK)
        velo_cfg_fini(spec, cfg); /* callers only fini a loaded config */
    velo_buf_fini(&ld.errs);
    return rv;
}

/* ---- startup dump and cleanup ------------------------------------------ */

static bool
opt_is_set(const struct velo_opt *o, const void *field)
{
    if (o->type == VELO_OPT_STR)
        return *(const char *const *)field != NULL;
    if (o->type == VELO_OPT_LIST)
        return ((const struct velo_strlist *)field)->len > 0;
    return true; /* numbers, bools and levels always hold a value */
}

/* Joins list items with spaces into buf (cut at size). */
static const char *
join_list(const struct velo_strlist *l, char *buf, size_t size)
{
    size_t i, used = 0;
    int    n;

    buf[0] = '\0';
    for (i = 0; i < l->len && used < size; i++) {
        n = snprintf(buf + used, size - used, "%s%s", i > 0 ? " " : "",
                     l->items[i]);
        used += n > 0 ? (size_t)n : 0;
    }
    return buf;
}

static void
log_opt(const struct velo_opt *o, const void *field)
{
    struct velo_log_field f[3] = {
        {0}, VELO_S("key", o->name), VELO_S("value", NULL)};
    char joined[1024];

    if (!opt_is_set(o, field))
        f[2].v.s = NULL;
    else if (o->secret)
        f[2].v.s = "<redacted>";
    else if (o->type == VELO_OPT_U32)
        f[2] = VELO_U("value", *(const uint32_t *)field);
    else if (o->type == VELO_OPT_BOOL)
        f[2] = VELO_B("value", *(const bool *)field);
    else if (o->type == VELO_OPT_DBL)
        f[2] = VELO_D("value", *(const double *)field);
    else if (o->type == VELO_OPT_LEVEL)
        f[2].v.s = velo_log_level_name(*(const enum velo_log_level *)field);
    else if (o->type == VELO_OPT_LIST)
        f[2].v.s = join_list(field, joined, sizeof(joined));
    else
        f[2].v.s = *(const char *const *)field;
    velo_log_emit(VELO_LOG_INFO, "config.value", f, 3);
}

void
velo_cfg_log(const struct velo_cfg_spec *spec, const void *cfg)
{
    size_t i;

    if (!velo_log_enabled(VELO_LOG_INFO))
        return;
    for (i = 0; i < spec->nopts; i++)
        log_opt(&spec->opts[i], (const char *)cfg + spec->opts[i].off);
}

void
velo_cfg_fini(const struct velo_cfg_spec *spec, void *cfg)
{
    struct velo_strlist *l;
    size_t               i;

    for (i = 0; i < spec->nopts; i++) {
        if (spec->opts[i].type != VELO_OPT_LIST)
            continue;
        l = opt_field(cfg, &spec->opts[i]);
        free(l->items);
        l->items = NULL;
        l->len = 0;
    }
}
