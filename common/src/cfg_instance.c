/* cfg_instance.c: the default instance name (see velo/cfg.h). */
#include <stdio.h>
#include <unistd.h>

#include "velo/cfg.h"

void
velo_cfg_instance_default(const char **name, char *buf, size_t size)
{
    char host[64];

    if (*name != NULL && (*name)[0] != '\0')
        return;
    if (gethostname(host, sizeof(host)) != 0)
        snprintf(host, sizeof(host), "localhost");
    host[sizeof(host) - 1] = '\0';
    snprintf(buf, size, "%s:%ld", host, (long)getpid());
    *name = buf;
}
