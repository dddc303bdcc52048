#!/bin/sh
# `ampshim` as the integration tests call it under `make asan`
# (AMPSHIM_TEST_LAUNCHER): the ASan build of the launcher, with the
# sanitizer's runtime (AMPSHIM_TEST_PRELOAD: libasan, asan_first.so) put first
# in LD_PRELOAD for `ampshim run`, as a user of a sanitized build would. The
# launcher keeps a sanitizer runtime first and puts the library right after
# it, so the program gets "libasan:libampshim.so:asan_first.so:...".
# Other processes of the tests get the runtime only when they preload the
# library themselves (tests/integration/harness.py, Ctx.env).
if [ "$1" = run ] && [ -n "$AMPSHIM_TEST_PRELOAD" ]; then
    case "$LD_PRELOAD" in
    "$AMPSHIM_TEST_PRELOAD" | "$AMPSHIM_TEST_PRELOAD":*) ;;
    *) LD_PRELOAD="$AMPSHIM_TEST_PRELOAD${LD_PRELOAD:+:$LD_PRELOAD}"; export LD_PRELOAD ;;
    esac
fi
exec "$AMPSHIM_TEST_BUILD/ampshim" "$@"
