/* Key confinement as a rule: every option the linked libcurl has
 * (curl_easy_option_next) is classed in confine.c, once, and the ones
 * that could send a routed request elsewhere are among those set aside. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "confine.h"

static void every_option_classed(void **state)
{
    (void)state;
    const struct curl_easyoption *o = NULL;
    int n = 0, unknown = 0;

    while ((o = curl_easy_option_next(o))) {
        if (o->flags & CURLOT_FLAG_ALIAS)
            continue;
        n++;
        if (amp_confine_class(o->name) == AMP_OPT_UNKNOWN) {
            print_error("CURLOPT_%s (%d) is not classed in src/confine.c\n", o->name, o->id);
            unknown++;
        }
    }
    assert_true(n > 250);
    assert_int_equal(unknown, 0);
}

/* The ones the review named, and what options.c sets aside. */
static void diverting_options_set_aside(void **state)
{
    (void)state;
    static const char *const aside[] = { "URL", "CURLU", "PORT", "CONNECT_TO", "RESOLVE",
                                         "UNIX_SOCKET_PATH", "ABSTRACT_UNIX_SOCKET", "DOH_URL",
                                         "OPENSOCKETFUNCTION", "SOCKOPTFUNCTION",
                                         "SSL_VERIFYPEER", "SSL_VERIFYHOST", "SSL_CTX_FUNCTION",
                                         "HEADEROPT", "NOPROXY" };
    for (size_t i = 0; i < sizeof(aside) / sizeof(aside[0]); i++)
        if (amp_confine_class(aside[i]) != AMP_OPT_ASIDE)
            fail_msg("CURLOPT_%s must be set aside", aside[i]);
    assert_int_equal(amp_confine_class("PROXY"), AMP_OPT_VERIFIED);
    assert_int_equal(amp_confine_class("NO_SUCH_OPTION"), AMP_OPT_UNKNOWN);
    assert_non_null(strstr(amp_confine_class_why(AMP_OPT_UNKNOWN), "review"));
}

/* Each name in one class only. */
static void classes_disjoint(void **state)
{
    (void)state;
    const struct curl_easyoption *o = NULL;

    while ((o = curl_easy_option_next(o)))
        if (!(o->flags & CURLOT_FLAG_ALIAS) && amp_confine_classes_naming(o->name) != 1)
            fail_msg("CURLOPT_%s is named by %d classes", o->name, amp_confine_classes_naming(o->name));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_option_classed),
        cmocka_unit_test(diverting_options_set_aside),
        cmocka_unit_test(classes_disjoint),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
