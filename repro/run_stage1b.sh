#!/bin/sh
# review17: libcurl-gnutls client; 8 threads dlopen'ing libcurl (RTLD_LOCAL, then RTLD_DEEPBIND) x 30.
R=$(cd "$(dirname "$0")" && pwd); B=$(cd $R/../build && pwd)
T=$(mktemp -d); /usr/bin/python3 $R/srv.py $T/port $T/log & SRV=$!
trap 'kill $SRV' EXIT
while [ ! -s $T/port ]; do sleep 0.05; done; P=$(cat $T/port)
printf 'proxy: { url = "http://127.0.0.1:%s"; project_id = "0b6e8a7e-7c9b-4a39-9d2f-6f5f3c1c2b10"; api_key = "amp-test-key-7f3a9c2e41d8"; };\nroutes = ( { base_url = "http://upstream.test:%s"; installation_id = "inst-1"; } );\n' $P $P > $T/amp.cfg; chmod 600 $T/amp.cfg
E="env HOME=$T NO_PROXY=* AMPSHIM_CONFIG=$T/amp.cfg LD_PRELOAD=$B/libampshim.so"
report() { echo "   -> requests: $(wc -l < $T/log), with key: $(grep -c amp-test-key $T/log)"; : > $T/log; }
echo "== gnutls client"; $E $R/gnutls http://upstream.test:$P/x upstream.test:$P:127.0.0.1; report
for mode in local deepbind; do
  bad=0
  for i in $(seq 30); do
    timeout 20 $E $R/race http://upstream.test:$P/x upstream.test:$P:127.0.0.1 $mode > $T/o 2>&1; rc=$?
    [ $rc -ne 0 ] && { bad=$((bad+1)); echo "   run $i exit $rc: $(head -3 $T/o)"; }
  done
  echo "== race $mode: 30 runs, $bad bad; $(grep -c 'perform rc=0' $T/log 2>/dev/null)"; report
done
