/* http_client_policy.c: which peer addresses count as internal, and which
 * URL hosts a velo_fetch_policy lets reach them (velo/http_client.h).
 *
 * Why a classifier of its own: URLs that come from a third party (a GBFS
 * feed list, a redirect) must not make a service fetch its own admin port
 * or a neighbour on the private network (SSRF). The check runs on the
 * address curl connects to, after DNS, so a public name that resolves
 * inside is caught too. Pure functions, any thread. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "velo/http_client.h"

/* a.b.c.d as a host-order integer. */
static const char *
v4_class(uint32_t a)
{
    if ((a >> 24) == 0)
        return "unspecified"; /* 0.0.0.0/8: "this network" */
    if ((a >> 24) == 127)
        return "loopback";
    if ((a >> 24) == 10 || (a >> 20) == 0xac1 || (a >> 16) == 0xc0a8)
        return "private"; /* 10/8, 172.16/12, 192.168/16 */
    if ((a >> 16) == 0xa9fe)
        return "link-local"; /* 169.254/16, cloud metadata lives here */
    if ((a >> 22) == (0x64400000u >> 22))
        return "cgnat"; /* 100.64/10 */
    if ((a >> 28) == 0xe)
        return "multicast";
    if (a == 0xffffffffu)
        return "broadcast";
    return NULL;
}

static uint32_t
v4_at(const uint8_t *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 |
           b[3];
}

static const char *
v6_class(const uint8_t *b)
{
    static const uint8_t zero[16], mapped[12] = {[10] = 0xff, [11] = 0xff};
    static const uint8_t nat64[12] = {0x00, 0x64, 0xff, 0x9b};

    if (memcmp(b, zero, 16) == 0)
        return "unspecified";
    if (memcmp(b, zero, 15) == 0 && b[15] == 1)
        return "loopback";
    /* IPv4 inside IPv6: mapped (::ffff:a.b.c.d), NAT64 (64:ff9b::/96) and
     * the old compatible form (::a.b.c.d) reach the IPv4 address. */
    if (memcmp(b, mapped, 12) == 0 || memcmp(b, nat64, 12) == 0 ||
        memcmp(b, zero, 12) == 0)
        return v4_class(v4_at(b + 12));
    if ((b[0] & 0xfe) == 0xfc)
        return "unique-local"; /* fc00::/7 */
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)
        return "link-local"; /* fe80::/10 */
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0)
        return "unique-local"; /* fec0::/10, deprecated site-local */
    if (b[0] == 0xff)
        return "multicast";
    return NULL;
}

const char *
velo_addr_internal(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        return v4_class(ntohl(in->sin_addr.s_addr));
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        return v6_class(in6->sin6_addr.s6_addr);
    }
    return NULL;
}

const char *
velo_addr_internal_str(const char *ip)
{
    struct in_addr  a4;
    struct in6_addr a6;

    if (inet_pton(AF_INET, ip, &a4) == 1)
        return v4_class(ntohl(a4.s_addr));
    if (inet_pton(AF_INET6, ip, &a6) == 1)
        return v6_class(a6.s6_addr);
    return "unparsable";
}

/* One entry "host" or "host:port" ("[v6]" or "[v6]:port") against the
 * URL's host and port. */
static bool
entry_matches(const char *e, const char *host, const char *port)
{
    size_t      hl = strlen(host);
    const char *rest;

    if (strncasecmp(e, host, hl) != 0)
        return false;
    rest = e + hl;
    if (*rest == '\0')
        return true;
    return *rest == ':' && port != NULL && strcmp(rest + 1, port) == 0;
}

bool
velo_fetch_policy_allows(const struct velo_fetch_policy *pol, const char *host,
                         const char *port)
{
    size_t i;

    for (i = 0; i < pol->ninternal_ok; i++) {
        if (entry_matches(pol->internal_ok[i], host, port))
            return true;
    }
    return false;
}
