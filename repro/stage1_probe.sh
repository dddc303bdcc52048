#!/bin/sh
# Stage-1 probes (review17): each prints what arrived at the proxy (P) and at a
# plain upstream (U) and the program's exit status and output.
set -u
R=$(cd "$(dirname "$0")" && pwd); B=$(cd $R/../build && pwd); PY=/usr/bin/python3
T=$(mktemp -d); $PY $R/srv.py $T/port $T/log & SRV=$!
trap 'kill $SRV' EXIT
while [ ! -s $T/port ]; do sleep 0.05; done; P=$(cat $T/port)
printf 'proxy: { url = "http://127.0.0.1:%s"; project_id = "0b6e8a7e-7c9b-4a39-9d2f-6f5f3c1c2b10"; api_key = "amp-test-key-7f3a9c2e41d8"; };\nroutes = ( { base_url = "http://upstream.test:%s"; installation_id = "inst-1"; } );\n' $P $P > $T/amp.cfg; chmod 600 $T/amp.cfg
# upstream.test resolves to the same server: a routed request carries x-api-key, an unrouted one none.
GET='import pycurl,io; c=pycurl.Curl(); c.setopt(c.URL,"http://upstream.test:%s/x"); c.setopt(c.RESOLVE,["upstream.test:%s:127.0.0.1"]); b=io.BytesIO(); c.setopt(c.WRITEDATA,b); c.perform(); print("status",c.getinfo(c.RESPONSE_CODE))' 
report() { echo "   -> requests: $(wc -l < $T/log), with key: $(grep -c amp-test-key $T/log)"; : > $T/log; }
ENV="env HOME=$T NO_PROXY=* AMPSHIM_CONFIG=$T/amp.cfg"
echo "== 1. pycurl, baseline"; $ENV LD_PRELOAD=$B/libampshim.so $PY -c "$(printf "$GET" $P $P)"; echo "   exit $?"; report
echo "== 2. static TLS surplus exhausted (GLIBC_TUNABLES optional_static_tls=0)"
$ENV LD_PRELOAD=$B/libampshim.so GLIBC_TUNABLES=glibc.rtld.optional_static_tls=0 AMPSHIM_LOG=warn $PY -c "$(printf "$GET" $P $P)"; echo "   exit $?"; report
echo "== 3. relative LD_PRELOAD, chdir before libcurl is loaded"
(cd $B/.. && $ENV LD_PRELOAD=build/libampshim.so $PY -c "import os; os.chdir('/'); $(printf "$GET" $P $P)"; echo "   exit $?"); report
echo "== 4. ld.so --preload with a relative path, chdir before libcurl is loaded"
(cd $B/.. && $ENV AMPSHIM_LOG=warn /lib64/ld-linux-x86-64.so.2 --preload build/libampshim.so $PY -c "import os; os.chdir('/'); $(printf "$GET" $P $P)"; echo "   exit $?"); report
mkdir -p $T/lone $T/badver $T/garbage
cp $B/libampshim.so $T/lone/; cp $B/libampshim.so $T/badver/; cp $B/libampshim.so $T/garbage/
printf 'int amp_core_attach_0(void){return 0;}\n' > $T/v.c && cc -shared -fPIC $T/v.c -o $T/badver/libampshim-core.so
echo "not an elf" > $T/garbage/libampshim-core.so
for d in lone badver garbage; do
  echo "== 5. core: $d (curl linked; stdout must be the body only)"
  $ENV LD_PRELOAD=$T/$d/libampshim.so curl -s --resolve upstream.test:$P:127.0.0.1 http://upstream.test:$P/x > $T/out 2>$T/err; echo "   exit $? stdout=[$(cat $T/out)] stderr=[$(cat $T/err)]"; report
done
echo "== 6. CDLL(None) look-ups before and after libcurl is opened"
$ENV LD_PRELOAD=$B/libampshim.so $PY -c '
import ctypes
g = ctypes.CDLL(None)
for n in ("curl_easy_init", "curl_version", "curl_nonexistent"):
    print("before", n, hasattr(g, n))
g2 = ctypes.CDLL(None)
print("before: g2 has curl_version", hasattr(g2, "curl_version"))
ctypes.CDLL("libcurl.so.4")
g3 = ctypes.CDLL(None); f = g3.curl_version; f.restype = ctypes.c_char_p; print("after:", f()[:20])
'; echo "   exit $?"
