#!/bin/sh
# (1) each probe's 429 recorded: a second perform on the handle must be stopped (rc 55);
# (2) a 429 streamed slowly (4 s) blocks another process within its first second;
# (3) reset from within the write callback on a big body, under valgrind.
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
E="env HOME=$T NO_PROXY=* AMPSHIM_CONFIG=$T/amp.cfg LD_PRELOAD=$B/libampshim.so"
U=https://acme.my.salesforce.com
for m in late pause nullfn nobody auth private reset; do
  rm -f $T/state
  echo "== $m: $($E $R/lean $m $U/q429 $U/plain 2>&1 | grep -E 'perform|warning' | tr '\n' '|')"
done
rm -f $T/state; : > $T/log
$E $R/lean plain $U/slow429 > $T/slow.out 2>&1 & S=$!
sleep 1.2
$E $R/lean plain $U/plain > $T/other.out 2>&1
echo "== other process during slow 429: $(grep perform $T/other.out)"; wait $S
echo "== slow: $(grep -E 'perform' $T/slow.out)"; echo "requests at server: $(wc -l < $T/log)"
rm -f $T/state
$E valgrind -q --error-exitcode=9 --leak-check=full $R/lean reset $U/big > $T/vg.out 2>&1; echo "== valgrind reset/big exit $?"; grep -v '^write' $T/vg.out | head -30
