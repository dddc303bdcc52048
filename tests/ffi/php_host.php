<?php
// php-curl (the compiled extension, not FFI) set up the way Guzzle 7's CurlFactory does it:
// CURLOPT_CUSTOMREQUEST, HTTP/1.1, and a CURLOPT_HTTPHEADER list that starts from the PSR-7
// request's headers, Host first ("Host: acme.my.salesforce.com" for https://acme.my.salesforce.com/...).
// usage: php php_guzzle_host.php [--post] URL...   One line per URL: `url=U rc=N status=S body_len=L body=B`.
$args = array_slice($argv, 1);
$post = in_array('--post', $args, true);
$urls = array_values(array_filter($args, fn($a) => $a !== '--post'));
$BODY = '{"Name":"php-guzzle-style","n":6}';
$failed = false;
foreach ($urls as $url) {
    $u = parse_url($url);
    $host = $u['host'] . (isset($u['port']) && $u['port'] != ($u['scheme'] === 'https' ? 443 : 80) ? ':' . $u['port'] : '');
    $hdrs = [];
    if ($post) { $hdrs[] = 'Expect:'; }                       // applyBody(): keep curl from adding Expect
    $hdrs[] = "Host: $host";                                  // applyHeaders(): PSR-7 puts Host first
    $hdrs[] = 'User-Agent: GuzzleHttp/7';
    if ($post) { $hdrs[] = 'Content-Type: application/json'; }
    $hdrs[] = 'X-Ffi-Test: php-guzzle-style';
    $hdrs[] = 'Accept:';                                      // no Accept given: Guzzle removes curl's
    $body = '';
    $ch = curl_init();
    $opts = [
        CURLOPT_CUSTOMREQUEST => $post ? 'POST' : 'GET',
        CURLOPT_URL => $url,
        CURLOPT_RETURNTRANSFER => false,
        CURLOPT_HEADER => false,
        CURLOPT_CONNECTTIMEOUT => 300,
        CURLOPT_PROTOCOLS => CURLPROTO_HTTP | CURLPROTO_HTTPS,
        CURLOPT_HTTP_VERSION => CURL_HTTP_VERSION_1_1,
        CURLOPT_HTTPHEADER => $hdrs,
        CURLOPT_WRITEFUNCTION => function ($ch, $data) use (&$body) { $body .= $data; return strlen($data); },
        CURLOPT_HEADERFUNCTION => fn($ch, $h) => strlen($h),
    ];
    if ($post) { $opts[CURLOPT_POSTFIELDS] = $BODY; }
    curl_setopt_array($ch, $opts);
    curl_exec($ch);
    $rc = curl_errno($ch);
    printf("url=%s rc=%d status=%d body_len=%d body=%s\n", $url, $rc, curl_getinfo($ch, CURLINFO_RESPONSE_CODE),
           strlen($body), str_replace("\n", '\n', $body));
    curl_close($ch);
    $failed = $failed || $rc !== 0;
}
exit($failed ? 1 : 0);
