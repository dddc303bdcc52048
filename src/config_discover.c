/* Where a program's config is found when AMPSHIM_CONFIG is unset. */
#define _GNU_SOURCE
#include "config.h"
#include "env.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

int amp_config_discover(const char *prog, char *buf, size_t buflen)
{
    const char *xdg = amp_env("XDG_CONFIG_HOME");
    const char *home = amp_env("HOME");
    const char *names[] = { prog, "ampshim" };

    for (int n = 0; n < 2; n++) {
        if (!names[n] || !*names[n] || strchr(names[n], '/'))
            continue;
        for (int d = 0; d < 3; d++) {
            int len;
            if (d == 0 && xdg && xdg[0] == '/')
                len = snprintf(buf, buflen, "%s/ampshim/%s.cfg", xdg, names[n]);
            else if (d == 1 && home && home[0] == '/')
                len = snprintf(buf, buflen, "%s/.config/ampshim/%s.cfg", home, names[n]);
            else if (d == 2)
                len = snprintf(buf, buflen, "/etc/ampshim/%s.cfg", names[n]);
            else
                continue;
            if (len > 0 && (size_t)len < buflen && access(buf, F_OK) == 0)
                return 0;
        }
    }
    return -1;
}
