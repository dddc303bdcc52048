<?php
/* A PHP program making N requests with php-curl, for tests/bench/real/real.py
 * (not run by make test).
 *
 *   php client.php fresh|reuse N URL NOPROXY [HEADER...]
 *
 * fresh: curl_init, curl_setopt, curl_exec, curl_close for every request,
 * as PHP programs do (a new handle, so a new connection, each time);
 * reuse: one handle for all N (keep-alive). NOPROXY 1 sets CURLOPT_NOPROXY
 * "*" (the native run, which also sends ampshim's headers itself: HEADER...).
 * Prints "ok requests=N" when every request was answered 200, else exits 1. */
[$_, $mode, $n, $url, $noproxy] = array_slice($argv, 0, 5);
$headers = array_slice($argv, 5);
$n = (int)$n;

function setup($ch, $url, $noproxy, $headers) {
    curl_setopt($ch, CURLOPT_URL, $url);
    curl_setopt($ch, CURLOPT_RETURNTRANSFER, true);
    if ($noproxy === "1") {
        curl_setopt($ch, CURLOPT_NOPROXY, "*");
    }
    if ($headers) {
        curl_setopt($ch, CURLOPT_HTTPHEADER, $headers);
    }
}

$ch = null;
for ($i = 0; $i < $n; $i++) {
    if ($mode === "fresh" || $ch === null) {
        $ch = curl_init();
        setup($ch, $url, $noproxy, $headers);
    }
    $body = curl_exec($ch);
    if ($body === false || curl_getinfo($ch, CURLINFO_RESPONSE_CODE) !== 200) {
        fwrite(STDERR, "request $i failed: " . curl_error($ch) . "\n");
        exit(1);
    }
    if ($mode === "fresh") {
        curl_close($ch);
        $ch = null;   /* the handle is freed here (curl_close alone does not, since PHP 8) */
    }
}
echo "ok requests=$n\n";
