/* payload_json.c: cJSON parsing with \u0000 kept visible (payload_json.h). */
#include "payload_json.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "velo/json.h"

/* Marks every \u0000 escape inside a string of body. *copy stays NULL when
 * there is none (the body is parsed as is), else it is a malloc'd copy
 * with the marks. VELO_EPROTO on a raw NUL byte. */
static int
mark_nuls(const char *body, size_t len, char **copy)
{
    bool   in_str = false;
    size_t i;

    *copy = NULL;
    for (i = 0; i < len; i++) {
        char c = body[i];

        if (c == '\0')
            goto bad;
        if (c == '"') {
            in_str = !in_str;
        } else if (in_str && c == '\\' && i + 1 < len) {
            if (body[i + 1] == 'u' && i + 5 < len &&
                memcmp(body + i + 2, "0000", 4) == 0) {
                if (*copy == NULL) {
                    *copy = malloc(len);
                    if (*copy == NULL)
                        return VELO_ENOMEM;
                    memcpy(*copy, body, len);
                }
                memcpy(*copy + i + 2, "FFFF", 4);
            }
            i++; /* the escaped character: never a closing quote */
        }
    }
    return VELO_OK;
bad:
    free(*copy);
    *copy = NULL;
    return VELO_EPROTO;
}

int
ingest_payload_json_parse(const char *body, size_t len, cJSON **out)
{
    char *copy = NULL;
    int   rv;

    rv = mark_nuls(body, len, &copy);
    if (rv != VELO_OK)
        return rv;
    if (copy == NULL)
        return velo_json_parse(body, len, out);
    rv = velo_json_parse(copy, len, out);
    free(copy);
    return rv;
}
