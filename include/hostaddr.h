/* The address a URL's host is by itself, without a name look-up: an IP
 * address is itself (an IPv4 one in any form libcurl reads: "127.1",
 * octal and hex parts), and "localhost" (and a name under it) is loopback as
 * libcurl resolves it. Read once when a config is loaded (its proxy's), so
 * that each new connection to a plain-http relay is checked against it
 * without parsing the URL again (confine.c). */
#ifndef AMPSHIM_HOSTADDR_H
#define AMPSHIM_HOSTADDR_H

enum amp_host_kind {
    AMP_HOST_NAME,       /* another name: only a look-up says where it is */
    AMP_HOST_IPV4,       /* addr[0..3] */
    AMP_HOST_IPV6,       /* addr[0..15] */
    AMP_HOST_LOCALHOST,  /* 127.0.0.1 or ::1 */
};

struct amp_host_addr {
    enum amp_host_kind kind;
    unsigned char addr[16];
};

/* url's host ("scheme://host[:port]/…", "[v6]" too) read as above. */
void amp_host_addr_of(const char *url, struct amp_host_addr *out);

#endif
