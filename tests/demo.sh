#!/bin/bash
# `make demo`: the real curl CLI, unchanged, calls Salesforce; ampshim
# sends the call to the project's mock of the Ampersand proxy on loopback,
# which shows what it received.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/ampshim-demo.XXXXXX)
trap 'kill $mock 2>/dev/null || true; rm -rf "$work"' EXIT

project=0b6e8a7e-7c9b-4a39-9d2f-6f5f3c1c2b10
key=demo-key-5d41402abc4b2a76b9719d91
/usr/bin/python3 "$root/tests/mock_proxy.py" serve --port-file "$work/port" --log "$work/log" \
    --project-id "$project" --api-key "$key" &
mock=$!
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.05; done
port=$(cat "$work/port")

umask 077
cat > "$work/demo.cfg" <<CFG
# The proxy is the mock on loopback here; in real use: https://proxy.withampersand.com
proxy:
{
  url = "http://127.0.0.1:$port";
  project_id = "$project";
  api_key = "$key";
  rate_limiter_mode = "throttle";
};
routes = (
  { base_url = "https://*.my.salesforce.com"; installation_id = "inst-acme-salesforce"; }
);
throttle: { state_file = "$work/state"; };
CFG

say() { printf '\n\033[1m%s\033[0m\n' "$*"; }
say "The config ($work/demo.cfg), as ampshim check sees it:"
"$root/build/ampshim" check -c "$work/demo.cfg"

url=https://acme.my.salesforce.com/services/data/v56.0/sobjects/Account
say "\$ ampshim run -c demo.cfg -- curl -sS -X POST $url -H 'Content-Type: application/json' -d '{\"Name\":\"Acme\"}'"
AMPSHIM_LOG=info "$root/build/ampshim" run -c "$work/demo.cfg" -- \
    curl -sS -X POST "$url" -H 'Content-Type: application/json' -d '{"Name":"Acme"}'
echo

say "What the proxy received (the API key masked):"
/usr/bin/python3 "$root/tests/mock_proxy.py" show --log "$work/log"

say "Act two: Salesforce is rate limiting. The proxy answers the next call 429, retry in 60 s:"
retry=$(date -u -d '+60 sec' '+%a, %d %b %Y %H:%M:%S UTC')
curl -s -o /dev/null -X POST "http://127.0.0.1:$port/__mock/queue" \
    -d "{\"status\": 429, \"headers\": {\"X-Amp-Retry-After\": \"$retry\", \"X-Amp-Retryable\": \"true\"}, \"body\": \"rate limited\"}"
echo "\$ ampshim run -c demo.cfg -- curl -sS -w ' (HTTP %{http_code})' $url"
"$root/build/ampshim" run -c "$work/demo.cfg" -- curl -sS -w ' (HTTP %{http_code})\n' "$url" || true

before=$(wc -l < "$work/log")
say "A new curl process a moment later is answered 429 here, as the proxy would, and nothing leaves the machine:"
echo "\$ ampshim run -c demo.cfg -- curl -sS -i $url"
"$root/build/ampshim" run -c "$work/demo.cfg" -- curl -sS -i "$url" || echo "(curl exited $?)"
echo
echo "requests the proxy received meanwhile: $(( $(wc -l < "$work/log") - before ))"

say "\$ ampshim state -c demo.cfg"
"$root/build/ampshim" state -c "$work/demo.cfg"
