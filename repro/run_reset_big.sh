#!/bin/sh
# curl_easy_reset from within the write callback on a 200,000-byte body: the bytes
# on stdout (libcurl's default writer after the reset) with and without ampshim.
R=$(cd "$(dirname "$0")" && pwd); B=$R/../build
T=$(mktemp -d); /usr/bin/python3 $R/srv.py $T/port $T/log & SRV=$!
trap 'kill $SRV' EXIT
while [ ! -s $T/port ]; do sleep 0.05; done; P=$(cat $T/port)
printf 'proxy: { url = "http://127.0.0.1:%s"; project_id = "0b6e8a7e-7c9b-4a39-9d2f-6f5f3c1c2b10"; api_key = "amp-test-key-7f3a9c2e41d8"; };\nroutes = ( { base_url = "https://*.my.salesforce.com"; installation_id = "inst-sf-1"; } );\nthrottle: { state_file = "%s/state"; };\n' $P $T > $T/amp.cfg; chmod 600 $T/amp.cfg
env -u LD_PRELOAD $R/lean reset http://127.0.0.1:$P/big | md5sum; env -u LD_PRELOAD $R/lean reset http://127.0.0.1:$P/big | tail -c 60; echo
env HOME=$T AMPSHIM_CONFIG=$T/amp.cfg LD_PRELOAD=$B/libampshim.so $R/lean reset https://acme.my.salesforce.com/big | md5sum
env HOME=$T AMPSHIM_CONFIG=$T/amp.cfg LD_PRELOAD=$B/libampshim.so $R/lean reset https://acme.my.salesforce.com/big | tail -c 60; echo
