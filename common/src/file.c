/* file.c: bounded whole-file reads. */
#include "velo/file.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

int
velo_file_read(const char *path, size_t max, char **out, size_t *len)
{
    FILE       *f = fopen(path, "rb");
    struct stat st;
    char       *p = NULL;
    size_t      n;
    int         rv = VELO_EIO;

    if (f == NULL)
        return VELO_EIO;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode))
        goto out;
    rv = VELO_ETOOBIG;
    if ((unsigned long long)st.st_size > max)
        goto out;
    rv = VELO_ENOMEM;
    n = (size_t)st.st_size;
    p = malloc(n + 1);
    if (p == NULL)
        goto out;
    /* One byte more than the size: a file that grew since fstat fails. */
    rv = fread(p, 1, n + 1, f) == n ? VELO_OK : VELO_EIO;
    if (rv == VELO_OK) {
        p[n] = '\0';
        *out = p;
        *len = n;
        p = NULL;
    }
out:
    free(p);
    fclose(f);
    return rv;
}
