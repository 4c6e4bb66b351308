#!/bin/bash
# SPDX-License-Identifier: MIT
# Native TLS ([tls] cert and key) with the real patd, curl and the
# openssl CLI, and a test CA made here:
# - HTTPS answers with TLS 1.2 and 1.3; TLS 1.1 and a CBC cipher suite
#   are refused (a control openssl s_server shows the client really
#   offers TLS 1.1); plain HTTP gets no answer;
# - the session cookie is Secure without [session] cookie_secure;
# - SIGHUP rotates the certificate: a new connection sees the new one;
#   a broken file at SIGHUP keeps the old certificate and patd up;
# - a key that is not the certificate's, or a missing file, stops patd
#   serve at start (exit 1, saying why).
#   tls_test.sh PATD
set -u
patd=$(realpath "$1")
dir=$(mktemp -d)
pid=
ctl=
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    [ -n "$ctl" ] && kill "$ctl" 2>/dev/null && wait "$ctl" 2>/dev/null
    rm -rf "$dir"
}
trap cleanup EXIT
pass=0
fail=0
ok() { # name status
    if [ "$2" -eq 0 ]; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        echo "FAIL $1"
    fi
}
cd "$dir" || exit 1
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
# A CA and two server certificates (the second for the rotation), P-256.
ossl() { openssl "$@" >/dev/null 2>&1; }
ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj /CN=patd-test-ca -keyout ca.key -out ca.pem
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >ext
for n in a b; do
    ossl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -subj "/CN=patd-test-$n" -keyout "$n.key" -out "$n.csr"
    ossl x509 -req -in "$n.csr" -CA ca.pem -CAkey ca.key -CAcreateserial \
        -days 2 -extfile ext -out "$n.pem"
done
[ -s a.pem ] && [ -s b.pem ]
ok "test CA and certificates made" $?
cp a.pem cert.pem
cp a.key key.pem
"$patd" init --db p.db >/dev/null 2>&1
printf 'correct horse battery staple\n' | "$patd" user passwd admin --db p.db
port=$(free_port)
printf '[tls]\ncert = %s/cert.pem\nkey = %s/key.pem\n' "$dir" "$dir" >t.conf
"$patd" serve --config t.conf --db p.db --listen "127.0.0.1:$port" \
    2>serve.log &
pid=$!
url=https://localhost:$port
up=1
for _ in $(seq 100); do
    if curl -sf --cacert ca.pem "$url/healthz" >/dev/null 2>&1; then
        up=0
        break
    fi
    sleep 0.1
done
ok "patd serves HTTPS ($(tail -1 serve.log))" $up
grep -q "serving on https://" serve.log
ok "it says https" $?

code=$(curl -s --cacert ca.pem --tlsv1.2 --tls-max 1.2 -o /dev/null \
    -w '%{http_code}' "$url/healthz")
[ "$code" = 200 ]
ok "TLS 1.2 accepted ($code)" $?
code=$(curl -s --cacert ca.pem --tlsv1.3 -o /dev/null -w '%{http_code}' \
    "$url/healthz")
[ "$code" = 200 ]
ok "TLS 1.3 accepted ($code)" $?
# TLS 1.1: the client allows it explicitly (OpenSSL's default security
# level would refuse it on its own), as the control server shows.
s11() { openssl s_client -connect "127.0.0.1:$1" -tls1_1 \
    -cipher 'DEFAULT:@SECLEVEL=0' </dev/null >"s11.$1" 2>&1; }
cport=$(free_port)
openssl s_server -accept "$cport" -cert a.pem -key a.key -tls1_1 \
    -cipher 'DEFAULT:@SECLEVEL=0' -www >/dev/null 2>&1 &
ctl=$!
for _ in $(seq 50); do
    s11 "$cport" && grep -q '^New, TLSv1' "s11.$cport" && break
    sleep 0.1
done
grep -q 'Protocol *: TLSv1.1' "s11.$cport" &&
    grep -qE '^New, TLSv1[.0-9]*, Cipher is [A-Z0-9-]+$' "s11.$cport"
ok "control: the client speaks TLS 1.1 to a server that allows it" $?
kill "$ctl"
wait "$ctl" 2>/dev/null
ctl=
s11 "$port"
grep -q '^New, (NONE), Cipher is (NONE)' "s11.$port"
ok "TLS 1.1 refused" $?
curl -s --cacert ca.pem --tls-max 1.2 --ciphers ECDHE-ECDSA-AES128-SHA \
    -o /dev/null "$url/healthz"
[ $? -ne 0 ]
ok "a CBC cipher suite refused" $?
cipher=$(curl -sv --cacert ca.pem --tls-max 1.2 -o /dev/null "$url/healthz" \
    2>&1 | sed -n 's/.*SSL connection using //p')
[[ $cipher == *GCM* || $cipher == *CHACHA20* ]]
ok "TLS 1.2 negotiates an AEAD suite ($cipher)" $?
out=$(curl -s -m 5 "http://127.0.0.1:$port/healthz")
[ -z "$out" ]
ok "plain HTTP gets no answer" $?

# The session cookie is Secure (cookie_secure is left at false).
curl -s --cacert ca.pem -D hdr -o body -H 'Content-Type: application/json' \
    -d '{"username":"admin","password":"correct horse battery staple"}' \
    "$url/v1/session"
grep -i '^set-cookie: patd_session=' hdr | grep -q '; Secure'
ok "session cookie Secure ($(grep -i '^HTTP/\|^set-cookie' hdr |
    sed 's/patd_session=[^;]*/patd_session=.../' | tr -d '\r' | tr '\n' ' '))" $?

# Rotation: b.pem replaces a.pem; SIGHUP; a new connection gets it.
fpr() { # the SHA-256 fingerprint of the certificate patd presents
    openssl s_client -connect "127.0.0.1:$port" -servername localhost \
        </dev/null 2>/dev/null | openssl x509 -noout -fingerprint -sha256 2>/dev/null
}
want_a=$(openssl x509 -in a.pem -noout -fingerprint -sha256)
want_b=$(openssl x509 -in b.pem -noout -fingerprint -sha256)
[ "$(fpr)" = "$want_a" ]
ok "certificate a presented" $?
# A keep-alive connection opened before the rotation: one request now,
# one after (when the file "rotated" appears), on the same connection.
python3 - "$port" >keepalive.out 2>&1 <<'PY' &
import http.client, os, ssl, sys, time
ctx = ssl.create_default_context(cafile="ca.pem")
c = http.client.HTTPSConnection("localhost", int(sys.argv[1]), context=ctx,
                                timeout=10)
c.request("GET", "/healthz")
r = c.getresponse(); r.read()
print("before", r.status, flush=True)
end = time.monotonic() + 10
while not os.path.exists("rotated") and time.monotonic() < end:
    time.sleep(0.05)
sock = c.sock
c.request("GET", "/healthz")
r = c.getresponse(); r.read()
print("after", r.status, "same connection" if c.sock is sock else "new", flush=True)
PY
kapid=$!
for _ in $(seq 50); do
    grep -q before keepalive.out && break
    sleep 0.1
done
cp b.pem cert.pem
cp b.key key.pem
kill -HUP "$pid"
got=
for _ in $(seq 50); do
    got=$(fpr)
    [ "$got" = "$want_b" ] && break
    sleep 0.1
done
[ "$got" = "$want_b" ]
ok "after SIGHUP a new connection gets certificate b" $?
code=$(curl -s --cacert ca.pem -o /dev/null -w '%{http_code}' "$url/healthz")
[ "$code" = 200 ]
ok "and is verified by the CA ($code)" $?
grep -q "TLS certificate reloaded" serve.log
ok "patd says it reloaded" $?
touch rotated
wait "$kapid"
grep -q '^after 200 same connection$' keepalive.out
ok "a connection from before the rotation goes on ($(tr '\n' ' ' <keepalive.out))" $?
# A broken certificate at SIGHUP: b stays, patd stays up.
printf 'not a certificate\n' >cert.pem
kill -HUP "$pid"
for _ in $(seq 50); do
    grep -q "TLS not reloaded" serve.log && break
    sleep 0.1
done
grep -q "TLS not reloaded, the old certificate stays" serve.log
ok "a broken file is refused at SIGHUP" $?
[ "$(fpr)" = "$want_b" ]
ok "certificate b still presented" $?
kill -0 "$pid"
ok "patd still up" $?
kill -TERM "$pid"
wait "$pid"
ok "patd stops with 0" $?
pid=

# Refused at start.
expect_refused() { # name want-stderr conf
    "$patd" serve --config "$3" --db p.db --listen "127.0.0.1:$(free_port)" \
        >/dev/null 2>err &
    local p=$! rc
    for _ in $(seq 50); do
        kill -0 "$p" 2>/dev/null || break
        sleep 0.1
    done
    kill "$p" 2>/dev/null
    wait "$p"
    rc=$?
    [ "$rc" = 1 ] && grep -qF -- "$2" err
    ok "$1 (exit $rc: $(tail -1 err))" $?
}
printf '[tls]\ncert = %s/a.pem\nkey = %s/b.key\n' "$dir" "$dir" >m.conf
expect_refused "a key that is not the certificate's" "is not the key of" m.conf
printf '[tls]\ncert = %s/none.pem\nkey = %s/a.key\n' "$dir" "$dir" >n.conf
expect_refused "a missing certificate" "cannot read" n.conf
printf '[tls]\ncert = %s/a.pem\n' "$dir" >k.conf
expect_refused "a certificate without a key" "tls.key is not" k.conf
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
