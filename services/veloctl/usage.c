/* usage.c: veloctl's --help and short usage, generated from the command
 * and option tables in args.c (see args_int.h), so the text lists exactly
 * what the parser accepts. */
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "args_int.h"

#define HELP_COL 26    /* --help: where the explanations start */
#define USAGE_WIDTH 80 /* --help and the short usage fit this */

/* "  left" padded to HELP_COL, then help, word-wrapped at USAGE_WIDTH
 * with continuation lines at HELP_COL (a left part too wide for the
 * column gets its help on the next line). */
static void
usage_row(FILE *out, int indent, const char *left, const char *help)
{
    int    col;
    size_t len;

    col = fprintf(out, "%*s%s", indent, "", left);
    if (col >= HELP_COL - 1) {
        fputc('\n', out);
        col = 0;
    }
    col += fprintf(out, "%*s", HELP_COL - col, "");
    for (help += strspn(help, " "); *help != '\0'; help += strspn(help, " ")) {
        len = strcspn(help, " ");
        if (col > HELP_COL && col + 1 + (int)len > USAGE_WIDTH)
            col = fprintf(out, "\n%*s", HELP_COL, "") - 1;
        else if (col > HELP_COL)
            col += fprintf(out, " ");
        col += fprintf(out, "%.*s", (int)len, help);
        help += len;
    }
    fputc('\n', out);
}

static void
usage_flag(FILE *out, int indent, const struct veloctl_flag *f)
{
    char left[64];

    snprintf(left, sizeof(left), "--%s%s%s", f->name, f->value ? " " : "",
             f->value ? f->value : "");
    usage_row(out, indent, left, f->help);
}

void
veloctl_usage(FILE *out)
{
    char   left[64];
    size_t c, i;

    fputs("veloctl: query velo-stream, the live state of every bike-share "
          "station\n\nusage: veloctl [OPTIONS] COMMAND [ARGS] [OPTIONS]\n\n"
          "commands:\n",
          out);
    for (c = 0; c < VELOCTL_NCMDS; c++) {
        snprintf(left, sizeof(left), "%s%s%s", veloctl__cmds[c].name,
                 veloctl__cmds[c].args[0] ? " " : "", veloctl__cmds[c].args);
        usage_row(out, 2, left, veloctl__cmds[c].help);
        for (i = 0; i < veloctl__nflags; i++)
            if (veloctl__flags[i].cmds != ALL_CMDS &&
                (veloctl__flags[i].cmds & CMD(c)))
                usage_flag(out, 6, &veloctl__flags[i]);
    }
    fputs("\nglobal options:\n", out);
    for (i = 0; i < veloctl__nflags; i++)
        if (veloctl__flags[i].cmds == ALL_CMDS)
            usage_flag(out, 2, &veloctl__flags[i]);
    fputs("\nexit status: 0 ok, 1 the service answered an error (or a health "
          "check\nfailed), 2 usage error, 3 the service cannot be reached.\n",
          out);
}

void
veloctl_usage_short(FILE *out)
{
    const int indent = (int)strlen("commands: ");
    size_t    c;
    int       col, len;

    fputs("usage: veloctl [OPTIONS] COMMAND [ARGS] [OPTIONS]\n", out);
    col = fprintf(out, "commands:");
    for (c = 0; c < VELOCTL_NCMDS; c++) {
        len = (int)(strlen(veloctl__cmds[c].name) +
                    strlen(veloctl__cmds[c].args)) +
              1;
        if (c > 0 && col + 3 + len > USAGE_WIDTH)
            col = fprintf(out, " |\n%*s", indent - 1, "") - 2;
        else if (c > 0)
            col += fprintf(out, " |");
        col +=
            fprintf(out, " %s%s%s", veloctl__cmds[c].name,
                    veloctl__cmds[c].args[0] ? " " : "", veloctl__cmds[c].args);
    }
    fputs("\nTry 'veloctl --help' for more.\n", out);
}
