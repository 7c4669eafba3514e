# doc_examples.sh - runs the curl examples of docs/api.md as written, so the
# documentation and the tests cannot drift apart. Sourced after lib.sh.
#
# An example is the ```sh block right after a line `<!-- example: NAME -->`. Before it
# runs, STATE/tls/cert.pem becomes $CACERT, alice:PASSWORD becomes $REQ_USER and
# https://127.0.0.1:8443 becomes $BASE; nothing else changes.

DOC_API="$ODS_SRC/docs/api.md"

# doc_example NAME prints the example's command, substituted, on one line.
doc_example() {
    python3 - "$DOC_API" "$1" "$CACERT" "$REQ_USER" "$BASE" <<'PY'
import sys
doc, name, cacert, user, base = sys.argv[1:]
lines = open(doc).read().split("\n")
marker = "<!-- example: %s -->" % name
i = lines.index(marker)
assert lines[i + 1] == "```sh", "example %s: no ```sh block after the marker" % name
body = []
for l in lines[i + 2:]:
    if l == "```":
        break
    body.append(l)
cmd = "\n".join(body).replace("\\\n", " ")
cmd = cmd.replace("STATE/tls/cert.pem", cacert).replace("alice:PASSWORD", user)
cmd = cmd.replace("https://127.0.0.1:8443", base)
print(cmd)
PY
}

# run_doc_example NAME runs it with the body in $BODY and the HTTP status in STATUS
# (the example's own output options are kept; -w/-o/-D are added after them).
run_doc_example() {
    local cmd
    cmd=$(doc_example "$1") || fail "docs/api.md has no example '$1'"
    : >"$BODY"
    : >"$HEADERS"
    STATUS=$(eval "$cmd -o '$BODY' -D '$HEADERS' -w '%{http_code}'") || STATUS="curl-failed"
}
