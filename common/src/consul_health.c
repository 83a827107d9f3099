/* consul_health.c: reading /v1/health/service/<name> answers (pure).
 *
 * The answer is an array of {Node, Service, Checks}. Everything in it comes
 * from the network: each string is cut to its field, a wrong type skips
 * the entry (or fails the whole answer when it is not an array at all),
 * and at most max results are kept. */
#include <stdio.h>
#include <string.h>

#include "velo/consul.h"
#include "velo/json.h"

/* Copies obj[key] (a string) into buf, "" when absent or not a string. */
static void
health_str(const cJSON *obj, const char *key, char *buf, size_t size)
{
    const char *s = NULL;

    if (velo_json_str(obj, key, &s) != VELO_OK)
        s = "";
    snprintf(buf, size, "%s", s);
}

/* True when host (len bytes) means every interface. */
static bool
health_wildcard(const char *host, size_t len)
{
    static const char *const any[] = {"0.0.0.0", "[::]", "*", ""};
    size_t                   i;

    for (i = 0; i < sizeof(any) / sizeof(any[0]); i++) {
        if (strlen(any[i]) == len && memcmp(host, any[i], len) == 0)
            return true;
    }
    return false;
}

/* inst->pub from Meta.pub (see velo/consul.h); inst->address is set. */
static void
health_pub(const cJSON *svc, struct velo_consul_instance *inst)
{
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(svc, "Meta");
    char         v[VELO_CONSUL_URL_MAX];
    const char  *host, *colon;
    int          n;

    if (!cJSON_IsObject(meta))
        return;
    health_str(meta, "pub", v, sizeof(v));
    if (strncmp(v, "tcp://", 6) != 0)
        return;
    host = v + 6;
    colon = strrchr(host, ':');
    if (colon == NULL || colon[1] == '\0' ||
        strspn(colon + 1, "0123456789") != strlen(colon + 1) ||
        strpbrk(host, "/ ") != NULL)
        return;
    if (!health_wildcard(host, (size_t)(colon - host)))
        n = snprintf(inst->pub, sizeof(inst->pub), "%s", v);
    else
        n = snprintf(inst->pub, sizeof(inst->pub),
                     strchr(inst->address, ':') != NULL ? "tcp://[%s]%s"
                                                        : "tcp://%s%s",
                     inst->address, colon);
    if (n < 0 || (size_t)n >= sizeof(inst->pub))
        inst->pub[0] = '\0';
}

/* Reads one entry's service into inst; false when it is unusable. */
static bool
health_instance(const cJSON *e, struct velo_consul_instance *inst)
{
    const cJSON *svc = cJSON_GetObjectItemCaseSensitive(e, "Service");
    const cJSON *node = cJSON_GetObjectItemCaseSensitive(e, "Node");
    uint32_t     port = 0;
    int          n;

    if (!cJSON_IsObject(svc))
        return false;
    memset(inst, 0, sizeof(*inst));
    health_str(svc, "ID", inst->id, sizeof(inst->id));
    health_str(svc, "Address", inst->address, sizeof(inst->address));
    if (inst->address[0] == '\0' && cJSON_IsObject(node))
        health_str(node, "Address", inst->address, sizeof(inst->address));
    if (velo_json_u32(svc, "Port", &port) != VELO_OK || port == 0 ||
        port > 65535 || inst->address[0] == '\0' ||
        strpbrk(inst->address, "/ ") != NULL)
        return false;
    inst->port = (uint16_t)port;
    health_pub(svc, inst);
    n = snprintf(inst->url, sizeof(inst->url),
                 strchr(inst->address, ':') != NULL ? "tcp://[%s]:%u"
                                                    : "tcp://%s:%u",
                 inst->address, (unsigned)port);
    return n > 0 && (size_t)n < sizeof(inst->url);
}

int
velo_consul_parse_health(const char *body, size_t len,
                         struct velo_consul_instance *out, size_t max,
                         size_t *n)
{
    cJSON       *root = NULL;
    const cJSON *e;
    size_t       k = 0;
    int          rv;

    rv = velo_json_parse(body, len, &root);
    if (rv != VELO_OK)
        return VELO_EPROTO;
    if (!cJSON_IsArray(root)) {
        cJSON_Delete(root);
        return VELO_EPROTO;
    }
    cJSON_ArrayForEach(e, root)
    {
        if (k < max && health_instance(e, &out[k]))
            k++;
    }
    cJSON_Delete(root);
    *n = k;
    return VELO_OK;
}

/* Appends the rows of one entry's checks; returns the new count. */
static size_t
health_entry_rows(const cJSON *e, struct velo_consul_check_row *out, size_t k,
                  size_t max)
{
    const cJSON *svc = cJSON_GetObjectItemCaseSensitive(e, "Service");
    const cJSON *checks = cJSON_GetObjectItemCaseSensitive(e, "Checks");
    const cJSON *ck;
    uint32_t     port = 0;
    char         addr[128];

    if (!cJSON_IsObject(svc) || !cJSON_IsArray(checks))
        return k;
    health_str(svc, "Address", addr, sizeof(addr));
    if (velo_json_u32(svc, "Port", &port) != VELO_OK)
        port = 0;
    cJSON_ArrayForEach(ck, checks)
    {
        struct velo_consul_check_row *r = &out[k];

        if (k >= max || !cJSON_IsObject(ck))
            continue;
        memset(r, 0, sizeof(*r));
        health_str(svc, "Service", r->service, sizeof(r->service));
        health_str(svc, "ID", r->id, sizeof(r->id));
        snprintf(r->address, sizeof(r->address), "%s:%u", addr, (unsigned)port);
        health_str(ck, "Name", r->check, sizeof(r->check));
        health_str(ck, "Status", r->status, sizeof(r->status));
        health_str(ck, "Output", r->output, sizeof(r->output));
        k++;
    }
    return k;
}

int
velo_consul_parse_checks(const char *body, size_t len,
                         struct velo_consul_check_row *out, size_t max,
                         size_t *n)
{
    cJSON       *root = NULL;
    const cJSON *e;
    size_t       k = 0;

    if (velo_json_parse(body, len, &root) != VELO_OK)
        return VELO_EPROTO;
    if (!cJSON_IsArray(root)) {
        cJSON_Delete(root);
        return VELO_EPROTO;
    }
    cJSON_ArrayForEach(e, root) { k = health_entry_rows(e, out, k, max); }
    cJSON_Delete(root);
    *n = k;
    return VELO_OK;
}
