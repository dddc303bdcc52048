#!/bin/sh
# `ampshim` as the integration tests call it under `make asan`
# (AMPSHIM_TEST_LAUNCHER): the ASan build of the launcher, except that for
# `run` the library is put into LD_PRELOAD right after the sanitizer's runtime
# (AMPSHIM_TEST_PRELOAD) beforehand. The launcher puts the library in front of
# LD_PRELOAD, which would leave libasan second (the ASan runtime refuses to
# run then), but leaves LD_PRELOAD as it is when the library is already in
# it; so the program it runs gets "libasan:asan_first.so:libampshim.so:...".
real="$AMPSHIM_TEST_BUILD/ampshim"
lib="$AMPSHIM_TEST_BUILD/libampshim.so"
if [ "$1" = run ] && [ -n "$AMPSHIM_TEST_PRELOAD" ]; then
    case ":$LD_PRELOAD:" in
    *":$lib:"*) ;;
    *)
        rest=${LD_PRELOAD#"$AMPSHIM_TEST_PRELOAD"}
        rest=${rest#:}
        LD_PRELOAD="$AMPSHIM_TEST_PRELOAD:$lib${rest:+:$rest}"
        export LD_PRELOAD
        ;;
    esac
fi
exec "$real" "$@"
