/* amp_host_addr_of: the proxy's host as an address, read once per config
 * (confine.c checks each new connection to a plain-http relay against it). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "hostaddr.h"

static void expect(const char *url, enum amp_host_kind kind, const unsigned char *addr, size_t n)
{
    struct amp_host_addr a;

    memset(&a, 0xa5, sizeof(a));
    amp_host_addr_of(url, &a);
    if (a.kind != kind)
        fail_msg("'%s': kind %d, not %d", url ? url : "(null)", (int)a.kind, (int)kind);
    if (n && memcmp(a.addr, addr, n) != 0)
        fail_msg("'%s': another address", url);
}

static void addresses_and_localhost(void **state)
{
    (void)state;
    static const unsigned char v4[4] = { 127, 0, 0, 1 }, v4b[4] = { 127, 0, 0, 2 };
    static const unsigned char v4c[4] = { 127, 0, 0, 8 };
    static const unsigned char v6[16] = { [15] = 1 };

    expect("http://127.0.0.1:8080", AMP_HOST_IPV4, v4, 4);
    expect("http://127.0.0.2/", AMP_HOST_IPV4, v4b, 4);
    /* What libcurl connects to for the forms it reads as numbers. */
    expect("http://127.1:8080", AMP_HOST_IPV4, v4, 4);
    expect("http://127.0.0.010/", AMP_HOST_IPV4, v4c, 4);
    expect("http://0x7f.0.0.1/", AMP_HOST_IPV4, v4, 4);
    expect("http://[::1]:9000", AMP_HOST_IPV6, v6, 16);
    expect("http://[::1]", AMP_HOST_IPV6, v6, 16);
    expect("http://localhost:8080", AMP_HOST_LOCALHOST, NULL, 0);
    expect("http://LocalHost", AMP_HOST_LOCALHOST, NULL, 0);
    expect("http://relay.localhost:1", AMP_HOST_LOCALHOST, NULL, 0);
    /* Anything else is a name only a look-up places. */
    expect("http://relay.internal:8080", AMP_HOST_NAME, NULL, 0);
    expect("http://localhost.evil.test", AMP_HOST_NAME, NULL, 0);
    expect("http://xlocalhost", AMP_HOST_NAME, NULL, 0);
    /* Nothing to read: no scheme, no host, a broken or overlong one. */
    expect(NULL, AMP_HOST_NAME, NULL, 0);
    expect("127.0.0.1:8080", AMP_HOST_NAME, NULL, 0);
    expect("http://", AMP_HOST_NAME, NULL, 0);
    expect("http://[", AMP_HOST_NAME, NULL, 0);
    expect("http://[]", AMP_HOST_NAME, NULL, 0);
    expect("http://[::1", AMP_HOST_NAME, NULL, 0);
    expect("http://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.localhost/",
           AMP_HOST_NAME, NULL, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(addresses_and_localhost),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
