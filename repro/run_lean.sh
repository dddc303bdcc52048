#!/bin/sh
# Runs each lean probe without ampshim (straight to srv.py) and under it
# (https://acme.my.salesforce.com routed to srv.py as a plain relay), diffing
# what the application saw. Usage: repro/run_lean.sh [MODE...]
set -u
R=$(cd "$(dirname "$0")" && pwd); B=$R/../build
T=$(mktemp -d); /usr/bin/python3 $R/srv.py $T/port $T/log & SRV=$!
trap 'kill $SRV' EXIT
while [ ! -s $T/port ]; do sleep 0.05; done; P=$(cat $T/port)
cat > $T/amp.cfg <<CFG
proxy: { url = "http://127.0.0.1:$P"; project_id = "0b6e8a7e-7c9b-4a39-9d2f-6f5f3c1c2b10";
  api_key = "amp-test-key-7f3a9c2e41d8"; rate_limiter_mode = "throttle"; };
routes = ( { base_url = "https://*.my.salesforce.com"; installation_id = "inst-sf-1"; } );
throttle: { state_file = "$T/state"; on_block = "fail"; };
CFG
chmod 600 $T/amp.cfg
for m in ${@:-late pause nullfn nobody auth private dup reset}; do
  for path in /plain /q429 /auth; do
    rm -f $T/state
    env -u LD_PRELOAD HOME=$T $R/lean $m http://127.0.0.1:$P$path > $T/a 2>$T/ae; echo "exit $?" >> $T/a
    env HOME=$T NO_PROXY='*' AMPSHIM_CONFIG=$T/amp.cfg LD_PRELOAD=$B/libampshim.so $R/lean $m https://acme.my.salesforce.com$path > $T/b 2>$T/be; echo "exit $?" >> $T/b
    if cmp -s $T/a $T/b; then echo "SAME  $m $path: $(tail -2 $T/a | head -1)"; else echo "DIFF  $m $path"; diff $T/a $T/b | head -20; cat $T/be | head -5; fi
  done
done
