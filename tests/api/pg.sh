# pg.sh - the PostgreSQL side of the test harness, sourced by lib.sh and the CLI tests.
#
# When ODS_PG_URL_FILE is set (CTest's pg/ tests: the file scripts/pg-test-cluster
# wrote), every server and odscanctl of a test uses its own fresh database on that
# cluster instead of DIR/odscan.db. When the file is missing (no PostgreSQL installed)
# the test prints `ok - skipped: needs PostgreSQL` and exits 0.

PG_URL=""
PG_BIN=""
if [ -n "${ODS_PG_URL_FILE:-}" ]; then
    if [ ! -s "$ODS_PG_URL_FILE" ]; then
        echo "ok - skipped: needs PostgreSQL"
        exit 0
    fi
    PG_URL=$(cat "$ODS_PG_URL_FILE")
    PG_BIN=$(cat "$(dirname "$ODS_PG_URL_FILE")/bin")
fi

# pg_mode: true when the tests run against PostgreSQL.
pg_mode() { [ -n "$PG_URL" ]; }

# psql_at URL [psql args...]: psql without ~/.psqlrc, stopping at the first error.
psql_at() {
    local url=$1
    shift
    "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -d "$url" "$@"
}

# pg_dump_db URL: every row of a test database as text (data only).
pg_dump_db() {
    "$PG_BIN/pg_dump" --data-only --no-owner -d "$1"
}

# pg_new_db prints the URL of a new, empty database on the test cluster.
pg_new_db() {
    local name
    name="odscan_$(date +%s%N)_$$_$RANDOM"
    psql_at "$PG_URL" -c "CREATE DATABASE $name" >/dev/null || return 1
    printf '%s/%s\n' "${PG_URL%/*}" "$name"
}

# db_query DB SQL: run SQL on a test database (a PostgreSQL URL, else an SQLite file)
# and print the rows, fields separated by '|'.
db_query() {
    case $1 in
    postgresql://*) psql_at "$1" -At -c "$2" ;;
    *) python3 -c 'import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
try:
    rows = c.execute(sys.argv[2]).fetchall()
except sqlite3.ProgrammingError:    # several statements
    c.executescript(sys.argv[2])
    rows = []
c.commit()
for r in rows:
    print("|".join("" if v is None else str(v) for v in r))' "$1" "$2" ;;
    esac
}
