#!/bin/bash
# SPDX-License-Identifier: MIT
# patd export / patd import: a populated SQLite store moved to another
# SQLite file and, when PATD_TEST_STORE names a PostgreSQL database (run
# through tests/unit/with_pg.sh), to PostgreSQL. Every token must verify
# exactly as before (patd token verify reads it from stdin), and users,
# tokens (revocation, usage), the policy, the scopes and the audit trail
# must be the same; the admin's web password must still sign in. An
# import into a store that is not empty, of a cut file or of a bad line
# is refused and writes nothing. What binds users to an identity provider
# (user_attrs: a SCIM user's userName, externalId and name parts, an
# OpenID subject) comes along: the table is the same after the import,
# and the target's SCIM endpoint finds the user by its externalId.
#
#   transfer.sh PATH_TO_PATD
. "$(dirname "$0")/lib.sh" "$@"

SRC=$TMPD/src.db
PGURL=${PATD_TEST_STORE:-}

# free_port: a free loopback port.
free_port() {
    py -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# serve STORE: starts patd serve on STORE in the background; sets BASE
# and SERVE_PID once /healthz answers.
serve() {
    local port i
    port=$(free_port)
    BASE=http://127.0.0.1:$port
    "$PATD" serve --db "$1" --listen "127.0.0.1:$port" \
        >>"$TMPD/serve.log" 2>&1 &
    SERVE_PID=$!
    BG_PIDS+=("$SERVE_PID")
    for i in $(seq 1 200); do
        curl -fs "$BASE/healthz" >/dev/null 2>&1 && return 0
        sleep 0.05
    done
    fail "patd serve on $1 did not come up"
    return 1
}

# unserve: SIGTERM (pending usage is written at shutdown), then wait.
unserve() {
    kill -TERM "$SERVE_PID"
    wait "$SERVE_PID"
    check "patd serve exited 0" [ $? -eq 0 ]
    bg_forget "$SERVE_PID"
}

# token NAME USER ARGS...: creates a token; its secret in SECRET, id in ID.
token() {
    local name=$1 user=$2
    shift 2
    run "$PATD" token create --db "$SRC" --user "$user" --name "$name" \
        --json "$@"
    SECRET=$(printf '%s' "$OUT" | py -c 'import json,sys; print(json.load(sys.stdin)["token"])')
    ID=$(printf '%s' "$OUT" | py -c 'import json,sys; print(json.load(sys.stdin)["id"])')
    [ -n "$SECRET" ] || fail "token create $name: $ERR"
}

# verdicts STORE FILE: the JSON verdict of every secret, one a line.
verdicts() {
    local s
    : >"$2"
    for s in "${SECRETS[@]}"; do
        printf '%s\n' "$s" | "$PATD" token verify --db "$1" --json 2>/dev/null |
            py -c 'import json,sys; print(json.dumps(json.load(sys.stdin), sort_keys=True))' \
                >>"$2"
    done
}

# attrs STORE FILE: every user attribute (username, name, value), sorted,
# read with the database's own client.
attrs() {
    local q="SELECT u.username, a.name, a.value FROM user_attrs a
        JOIN users u ON u.id = a.user_id ORDER BY 1, 2"
    case $1 in
    postgres*) psql "$1" -Atc "$q" >"$2" 2>&1 ;;
    *) sqlite3 "$1" "$q" >"$2" 2>&1 ;;
    esac
}

# state STORE FILE: users, every token, scopes, policy and the audit
# trail (without event ids and the import's own event), canonically.
state() {
    local id
    {
        "$PATD" user list --db "$1" --json
        "$PATD" scope list --db "$1" --json
        for id in "${IDS[@]}"; do
            "$PATD" token show "$id" --db "$1" --json
        done
        "$PATD" audit list --db "$1" --json | py -c '
import json, sys
items = json.load(sys.stdin)
items = items["items"] if isinstance(items, dict) else items
for e in items:
    e.pop("id", None)
    e.pop("seq", None)
    if e.get("action") != "store.imported":
        print(json.dumps(e, sort_keys=True))'
    } >"$2" 2>&1
}

# --- a populated SQLite store -------------------------------------------
expect_exit 0 "$PATD" init --db "$SRC"
ADMIN=$OUT
printf 'admin-password-1\n' | "$PATD" user passwd admin --db "$SRC" \
    >/dev/null 2>&1
check "admin password set" [ $? -eq 0 ]
expect_exit 0 "$PATD" scope add repo:read --description "Read repositories" \
    --db "$SRC"
for u in alice bob carol; do
    expect_exit 0 "$PATD" user add "$u" --scope patd:self --scope repo:read \
        --db "$SRC"
done

# A SCIM provisioner (Okta): its user and token.
expect_exit 0 "$PATD" user add scim-okta --scope patd:scim --db "$SRC"

SECRETS=()
IDS=()
token okta scim-okta --scope patd:scim
SCIM=$SECRET
token active alice --scope repo:read --audience api.example --cidr 10.0.0.0/8
SECRETS+=("$SECRET")
IDS+=("$ID")
token used alice --scope repo:read
SECRETS+=("$SECRET")
IDS+=("$ID")
USED=$SECRET
USED_ID=$ID
token revoked alice --scope repo:read
SECRETS+=("$SECRET")
IDS+=("$ID")
expect_exit 0 "$PATD" token revoke "$ID" --reason compromised --db "$SRC"
token grace alice --scope repo:read
SECRETS+=("$SECRET")
IDS+=("$ID")
expect_exit 0 "$PATD" token regenerate "$ID" --grace 3600 --db "$SRC"
SECRETS+=("$OUT") # the new secret; the old one is inside its grace
token nograce alice --scope repo:read
SECRETS+=("$SECRET")
IDS+=("$ID")
expect_exit 0 "$PATD" token regenerate "$ID" --grace 0 --db "$SRC"
SECRETS+=("$OUT") # the new secret; the old one is retired (a reuse)
token expiring alice --scope repo:read \
    --expires-at "$(date -u -d '+2 seconds' +%Y-%m-%dT%H:%M:%SZ)"
SECRETS+=("$SECRET")
IDS+=("$ID")
EXPIRING=$SECRET
token bobs bob --scope repo:read
SECRETS+=("$SECRET")
IDS+=("$ID")
expect_exit 0 "$PATD" user disable bob --db "$SRC"
token carols carol --scope repo:read
SECRETS+=("$SECRET")
IDS+=("$ID")
SECRETS+=("pat_notatokenatallbutwellformedish00000") # malformed

# Usage, through a server: one use from 127.0.0.1; carol deleted.
if serve "$SRC"; then
    code=$(curl -s -o /dev/null -w '%{http_code}' \
        -H "Authorization: Bearer $USED" "$BASE/v1/auth")
    expect_eq 200 "$code" "the used token is valid"
    CAROL_ID=$("$PATD" user show carol --db "$SRC" --json |
        py -c 'import json,sys; print(json.load(sys.stdin)["id"])')
    code=$(curl -s -o /dev/null -w '%{http_code}' -X DELETE \
        -H "Authorization: Bearer $ADMIN" "$BASE/v1/users/$CAROL_ID")
    case $code in 200 | 204) ok "carol deleted" ;; *) fail "delete carol: $code" ;; esac
    # Dana, provisioned by SCIM: userName, externalId and name parts.
    code=$(curl -s -o "$TMPD/dana.json" -w '%{http_code}' \
        -H "Authorization: Bearer $SCIM" \
        -H 'Content-Type: application/scim+json' \
        -d '{"userName":"dana@example.com","externalId":"00u-dana",
             "name":{"givenName":"Dana","familyName":"Scully"}}' \
        "$BASE/scim/v2/Users")
    expect_eq 201 "$code" "dana created through SCIM"
    unserve
fi
# Dana signed in once through the provider: her OpenID subject (written
# as the callback does, the issuer and the sub).
sqlite3 "$SRC" "INSERT INTO user_attrs (user_id, name, value)
    SELECT id, 'oidc_subject', 'https://idp.example.com 248289761001'
    FROM users WHERE username = 'dana-example.com'"
check "dana's OpenID subject is set" [ $? -eq 0 ]
attrs "$SRC" "$TMPD/src.attrs"
check "the source has dana's four SCIM attributes and her subject" \
    [ "$(grep -c '^dana-example.com|' "$TMPD/src.attrs")" = 5 ]
run "$PATD" token show "$USED_ID" --db "$SRC" --json
expect_out '"last_used_ip": "127.0.0.1"'

# The expiring token expires (polled: the clock, not a sleep, decides).
for i in $(seq 1 100); do
    printf '%s\n' "$EXPIRING" | "$PATD" token verify --db "$SRC" >/dev/null 2>&1 ||
        break
    sleep 0.1
done
msg=$(printf '%s\n' "$EXPIRING" | "$PATD" token verify --db "$SRC" 2>&1 >/dev/null)
check "the expiring token has expired: $msg" [ "${msg%expired}" != "$msg" ]

# Verdicts first: presenting a retired secret writes an audit event,
# which the state (and the export) then includes.
verdicts "$SRC" "$TMPD/src.verdicts"
state "$SRC" "$TMPD/src.state"
check "the source's verdicts cover every kind" \
    grep -q '"EREUSED"' "$TMPD/src.verdicts"
grep -q '"EEXPIRED"' "$TMPD/src.verdicts" && grep -q '"EREVOKED"' "$TMPD/src.verdicts" &&
    grep -q '"EDISABLED"' "$TMPD/src.verdicts" && grep -q '"valid": true' "$TMPD/src.verdicts"
check "revoked, expired, disabled and valid verdicts" [ $? -eq 0 ]

# --- export --------------------------------------------------------------
expect_exit 0 "$PATD" export --db "$SRC" --output "$TMPD/x.jsonl"
expect_err "exported 6 users"
check "the export is private (0600)" \
    [ "$(stat -c %a "$TMPD/x.jsonl")" = 600 ]
expect_exit 1 "$PATD" export --db "$SRC" --output "$TMPD/x.jsonl"
expect_err "cannot create"
check "no plaintext secret in the export" \
    bash -c '! grep -qF -e "$1" -e "$2" -e "$3" "$4"' _ "${SECRETS[0]}" \
    "$USED" "$ADMIN" "$TMPD/x.jsonl"
check "the secrets travel as SHA-256" grep -q '"sha256":"[0-9a-f]\{64\}"' \
    "$TMPD/x.jsonl"
check "no web session in the export" \
    bash -c '! grep -q "\"kind\":\"session\"" "$1"' _ "$TMPD/x.jsonl"

# transfer TARGET LABEL: imports into TARGET and compares everything.
transfer() {
    local target=$1 label=$2
    expect_exit 0 "$PATD" import --db "$target" --input "$TMPD/x.jsonl"
    expect_err "imported 6 users"
    state "$target" "$TMPD/$label.state"
    check "$label: users, tokens, usage, scopes and audit are the same" \
        cmp -s "$TMPD/src.state" "$TMPD/$label.state"
    cmp -s "$TMPD/src.state" "$TMPD/$label.state" ||
        diff "$TMPD/src.state" "$TMPD/$label.state" | head -10
    verdicts "$target" "$TMPD/$label.verdicts"
    check "$label: every token verifies exactly as before" \
        cmp -s "$TMPD/src.verdicts" "$TMPD/$label.verdicts"
    cmp -s "$TMPD/src.verdicts" "$TMPD/$label.verdicts" ||
        diff "$TMPD/src.verdicts" "$TMPD/$label.verdicts" | head -10
    attrs "$target" "$TMPD/$label.attrs"
    check "$label: user attributes (SCIM, OpenID subject) are the same" \
        cmp -s "$TMPD/src.attrs" "$TMPD/$label.attrs"
    cmp -s "$TMPD/src.attrs" "$TMPD/$label.attrs" ||
        diff "$TMPD/src.attrs" "$TMPD/$label.attrs" | head -10
    run "$PATD" audit list --db "$target" --action store.imported
    expect_out "store.imported"
    # Not empty any more: refused, nothing written.
    expect_exit 1 "$PATD" import --db "$target" --input "$TMPD/x.jsonl"
    expect_err "empty"
    # The admin's web password came along.
    if serve "$target"; then
        code=$(curl -s -o /dev/null -w '%{http_code}' \
            -H 'Content-Type: application/json' \
            -d '{"username":"admin","password":"admin-password-1"}' \
            "$BASE/v1/session")
        expect_eq 200 "$code" "$label: the admin signs in with the password"
        # The provisioner still finds dana by the externalId it gave.
        code=$(curl -s -o "$TMPD/$label.scim.json" -w '%{http_code}' \
            -H "Authorization: Bearer $SCIM" \
            "$BASE/scim/v2/Users?filter=externalId%20eq%20%2200u-dana%22")
        expect_eq 200 "$code" "$label: SCIM filter by externalId"
        check "$label: dana found by externalId, with her name parts" \
            py -c 'import json, sys
o = json.load(open(sys.argv[1]))
r = o["Resources"]
assert o["totalResults"] == 1 and r[0]["userName"] == "dana@example.com"
assert r[0]["name"]["givenName"] == "Dana" and r[0]["name"]["familyName"] == "Scully"
' "$TMPD/$label.scim.json"
        unserve
    fi
}

transfer "$TMPD/dst.db" sqlite

# --- refusals -------------------------------------------------------------
head -n -1 "$TMPD/x.jsonl" >"$TMPD/cut.jsonl"
expect_exit 1 "$PATD" import --db "$TMPD/cut.db" --input "$TMPD/cut.jsonl"
expect_err "incomplete"
py -c '
import json, sys
done = False
for line in open(sys.argv[1]):
    o = json.loads(line)
    if o["kind"] == "secret" and not done:
        o["sha256"] = "zz" + o["sha256"][2:]
        done = True
    print(json.dumps(o))' "$TMPD/x.jsonl" >"$TMPD/bad.jsonl"
expect_exit 1 "$PATD" import --db "$TMPD/cut.db" --input "$TMPD/bad.jsonl"
expect_err "sha256"
expect_err "line "
py -c '
import json, sys
for line in open(sys.argv[1]):
    o = json.loads(line)
    if o["kind"] == "user" and o["attrs"]:
        o["attrs"]["Not A Name"] = "x"
    print(json.dumps(o))' "$TMPD/x.jsonl" >"$TMPD/badattr.jsonl"
expect_exit 1 "$PATD" import --db "$TMPD/cut.db" --input "$TMPD/badattr.jsonl"
expect_err "invalid attribute name"
check "the export carries the attributes" \
    grep -q '"attrs":{[^}]*"scim_external_id":"00u-dana"' "$TMPD/x.jsonl"
# Nothing was written by the refusals: the same file takes a full import.
expect_exit 0 "$PATD" import --db "$TMPD/cut.db" --input "$TMPD/x.jsonl"

# --- to PostgreSQL ---------------------------------------------------------
if [ -n "$PGURL" ]; then
    expect_exit 0 "$PATD" migrate --store "$PGURL"
    expect_out "schema version"
    transfer "$PGURL" postgres
    expect_exit 0 "$PATD" migrate --store "$PGURL"
    expect_out "0 migrations applied"
else
    echo "# PATD_TEST_STORE is not set: the PostgreSQL half is skipped"
fi

finish
