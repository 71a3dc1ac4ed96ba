<?php
// PHP side of bench/settings/encrypter.ts: the same round trip Laravel's Encrypter does
// (openssl_encrypt + HMAC, then verify + openssl_decrypt), for N iterations or LIMIT seconds.
[$_, $cipher, $keyB64, $n, $limit, $size] = $argv;
$c = strtolower($cipher);
$key = base64_decode(substr($keyB64, 7));
$plain = str_repeat('x', (int) $size);
$aead = str_contains($c, 'gcm');
$start = microtime(true);
$done = 0;
for ($i = 0; $i < (int) $n; $i++) {
    $iv = random_bytes(openssl_cipher_iv_length($c));
    $tag = '';
    $value = openssl_encrypt($plain, $c, $key, 0, $iv, $tag);
    $ivB = base64_encode($iv);
    $tagB = base64_encode($tag ?? '');
    $mac = $aead ? '' : hash_hmac('sha256', $ivB . $value, $key);
    $payload = base64_encode(json_encode(['iv' => $ivB, 'value' => $value, 'mac' => $mac, 'tag' => $tagB], JSON_UNESCAPED_SLASHES));
    $p = json_decode(base64_decode($payload), true);
    if (!$aead && !hash_equals(hash_hmac('sha256', $p['iv'] . $p['value'], $key), $p['mac'])) exit(2);
    $out = openssl_decrypt($p['value'], $c, $key, 0, base64_decode($p['iv']), $aead ? base64_decode($p['tag']) : '');
    if ($out !== $plain) exit(3);
    $done++;
    if (($done & 1023) === 0 && microtime(true) - $start > (float) $limit) break;
}
echo json_encode(['ops' => $done, 'seconds' => microtime(true) - $start]);
