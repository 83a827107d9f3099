/* ready.c: atomic ready file (temp file + rename). */
#include "velo/ready.h"

#include <stdio.h>
#include <unistd.h>

int
velo_ready_write(const char *path, const char *const *lines, size_t n)
{
    char   tmp[4096];
    FILE  *f;
    size_t i;
    int    ok;

    if (path == NULL || *path == '\0')
        return VELO_OK;
    if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >=
        (int)sizeof(tmp))
        return VELO_EINVAL;
    f = fopen(tmp, "w");
    if (f == NULL)
        return VELO_EIO;
    ok = 1;
    for (i = 0; i < n; i++)
        ok &= fprintf(f, "%s\n", lines[i]) > 0;
    ok &= fflush(f) == 0;
    ok &= fsync(fileno(f)) == 0;
    ok &= fclose(f) == 0;
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return VELO_EIO;
    }
    return VELO_OK;
}
