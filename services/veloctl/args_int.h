/* args_int.h: the command and option tables, shared by the parser
 * (args.c, which defines them) and the usage text (usage.c). Not for the
 * commands: they see only struct veloctl_args. */
#ifndef VELOCTL_ARGS_INT_H
#define VELOCTL_ARGS_INT_H

#include <stddef.h>

#include "args.h"

#define CMD(c) (1u << (c))
#define ALL_CMDS (CMD(VELOCTL_NCMDS) - 1u)

typedef int (*veloctl_flag_set)(struct veloctl_args *a, const char *v,
                                char *err, size_t n);

/* One option. Global ones (cmds == ALL_CMDS) are listed under "global
 * options", the others under each command they apply to. */
struct veloctl_flag {
    const char      *name;  /* without "--" */
    const char      *value; /* placeholder in the usage; NULL: takes no value */
    unsigned         cmds;  /* CMD() bits of the commands that accept it */
    veloctl_flag_set set;   /* checks and stores the value; NULL: --help */
    const char      *help;  /* one line of --help, wrapped when printed */
};

/* One command; its index is its enum veloctl_cmd. */
struct veloctl_cmd_def {
    const char *name;
    const char *args; /* positional arguments, "[X]" when optional */
    unsigned    min_args, max_args;
    const char *help;
};

/* Indexed by enum veloctl_cmd, VELOCTL_NCMDS rows. */
extern const struct veloctl_cmd_def *const veloctl__cmds;
/* veloctl__nflags rows, in --help order. */
extern const struct veloctl_flag *const veloctl__flags;
extern const size_t                     veloctl__nflags;

#endif
