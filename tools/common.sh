# Shared settings of the tools/*.sh scripts (sourced, not run).
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# ODOO_SERIES (18.0, the default, or 19.0) picks the Odoo the tools run
# against. Each series has its own source folder, venv, build folder (logs,
# configurations, filestore, wheels), database names and HTTP ports, so both
# can be installed side by side and run at the same time; 18.0 keeps the
# names it always had.
export ODOO_SERIES="${ODOO_SERIES:-18.0}"
case "$ODOO_SERIES" in
  18.0) series_sfx=""; PORT_SHIFT=0; NO_DEMO="--without-demo=all" ;;
  19.0) series_sfx="_19"; PORT_SHIFT=1000; NO_DEMO="--without-demo=True" ;;
  *) printf '[%s] ERROR: ODOO_SERIES=%s: the supported series are 18.0 and 19.0\n' \
       "$(basename "$0" .sh)" "$ODOO_SERIES" >&2; exit 2 ;;
esac
export ODOO_SRC="${ODOO_SRC:-$HOME/.cache/odoo/$ODOO_SERIES}"
if [ "$ODOO_SERIES" = 18.0 ]; then
  VENV="${VENV:-$here/.venv}"
  BUILD="$here/.build"
else
  VENV="${VENV:-$here/.venv-$ODOO_SERIES}"
  BUILD="$here/.build/$ODOO_SERIES"
fi
export VENV
ODOO_BIN=("$VENV/bin/python" "$ODOO_SRC/odoo-bin")
ADDONS_PATH="$ODOO_SRC/addons,$ODOO_SRC/odoo/addons,$here"
mkdir -p "$BUILD"

# NO_DEMO: the odoo-bin option that installs without demo data (18.0 takes a
# list of modules, 19.0 a boolean).
# series_db NAME: the name of database NAME for this series (NAME on 18.0,
# NAME_19 on 19.0).
series_db() { printf '%s%s' "$1" "$series_sfx"; }

# queue_job_addons: the folder holding OCA queue_job, which tools/bootstrap.sh
# installs from PyPI into the venv's site-packages/odoo/addons. Odoo would find
# it there through the odoo.addons namespace anyway; scripts that name their
# addons path in full put it on explicitly.
queue_job_addons() {
  local manifest
  manifest="$(compgen -G "$VENV/lib/python3*/site-packages/odoo/addons/queue_job/__manifest__.py" \
    | head -n 1)" || true
  [ -n "$manifest" ] || die "OCA queue_job is not in $VENV (tools/bootstrap.sh installs it)"
  dirname "$(dirname "$manifest")"
}

say() { printf '[%s] %s\n' "$(basename "$0" .sh)" "$*" >&2; }
die() { printf '[%s] ERROR: %s\n' "$(basename "$0" .sh)" "$*" >&2; exit 1; }

# write_conf FILE DB HTTP_PORT: an Odoo configuration for one database. The
# port is shifted by the series' PORT_SHIFT (0 on 18.0, 1000 on 19.0).
write_conf() {
  local port=$(( $3 + PORT_SHIFT ))
  cat >"$1" <<CONF
[options]
addons_path = $ADDONS_PATH
db_name = $2
dbfilter = ^$2\$
list_db = False
http_port = $port
http_interface = 127.0.0.1
gevent_port = $(( port + 3 ))
data_dir = $BUILD/data
admin_passwd = admin
without_demo = False
workers = 0
max_cron_threads = 1
CONF
  [ -n "${PGHOST:-}" ] && echo "db_host = $PGHOST" >>"$1"
  [ -n "${PGPORT:-}" ] && echo "db_port = $PGPORT" >>"$1"
  [ -n "${PGUSER:-}" ] && echo "db_user = $PGUSER" >>"$1"
  [ -n "${PGPASSWORD:-}" ] && echo "db_password = $PGPASSWORD" >>"$1"
  return 0
}

db_exists() {
  "$VENV/bin/python" - "$1" <<'PY'
import sys, psycopg2
with psycopg2.connect(dbname="postgres") as cn, cn.cursor() as cr:
    cr.execute("SELECT 1 FROM pg_database WHERE datname = %s", (sys.argv[1],))
    sys.exit(0 if cr.fetchone() else 1)
PY
}

drop_db() {
  "$VENV/bin/python" - "$1" <<'PY'
import sys, psycopg2
cn = psycopg2.connect(dbname="postgres")
cn.autocommit = True
with cn.cursor() as cr:
    cr.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE datname = %s AND pid <> pg_backend_pid()", (sys.argv[1],))
    cr.execute('DROP DATABASE IF EXISTS "%s"' % sys.argv[1].replace('"', ''))
PY
  rm -rf "$BUILD/data/filestore/$1"
}

# odoo_install DB MODULES LOG [extra odoo args...]: install MODULES into DB,
# failing when the log holds any WARNING, ERROR or CRITICAL line.
odoo_install() {
  local db="$1" modules="$2" log="$3"; shift 3
  write_conf "$BUILD/$db.conf" "$db" "${HTTP_PORT:-8169}"
  say "installing $modules into $db (log: $log)"
  if ! "${ODOO_BIN[@]}" -c "$BUILD/$db.conf" -d "$db" -i "$modules" \
      --stop-after-init --log-level=info "$@" >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    die "installing $modules into $db failed"
  fi
  # Odoo exits 0 when it refuses a module (a manifest of another series, a
  # missing dependency): the state of each module is what counts.
  if ! "$VENV/bin/python" - "$db" "$modules" <<'PY'
import sys, psycopg2
names = sys.argv[2].split(",")
with psycopg2.connect(dbname=sys.argv[1]) as cn, cn.cursor() as cr:
    cr.execute("SELECT name FROM ir_module_module WHERE state = 'installed' AND name = ANY(%s)",
               (names,))
    missing = sorted(set(names) - {name for (name,) in cr.fetchall()})
if missing:
    print("not installed: " + ", ".join(missing), file=sys.stderr)
    sys.exit(1)
PY
  then
    tail -n 40 "$log" >&2
    die "installing $modules into $db left some of them uninstalled (log: $log)"
  fi
  if grep -aE '^[0-9-]+ [0-9:,]+ [0-9]+ (WARNING|ERROR|CRITICAL) ' "$log" >&2; then
    die "the install log of $db has the WARNING/ERROR lines above"
  fi
}

# fresh_db DB DEMO(yes|no) BASE_MODULES: a new database DB holding
# BASE_MODULES, copied from a template database that is built once per Odoo
# source, module list and demo choice (Odoo core modules take minutes to
# install; copying them takes seconds). The addon itself is installed afresh
# by the caller on every run.
fresh_db() {
  local db="$1" demo="$2" modules="$3" key tmpl
  key="$( (cat "$ODOO_SRC/odoo/release.py"; git -C "$ODOO_SRC" rev-parse HEAD 2>/dev/null || true;
           echo "$demo $modules") | sha1sum | cut -c1-10)"
  tmpl="bopl_tmpl_${demo}_$key"
  if ! db_exists "$tmpl"; then
    local args=()
    [ "$demo" = no ] && args=("$NO_DEMO")
    # In a subshell: odoo_install exits on failure, and a half-built
    # template must not be copied next time.
    ( odoo_install "$tmpl" "$modules" "$BUILD/$tmpl.log" "${args[@]}" ) \
      || { drop_db "$tmpl"; exit 1; }
  fi
  drop_db "$db"
  say "copying template $tmpl into $db"
  "$VENV/bin/python" - "$tmpl" "$db" <<'PY'
import sys, psycopg2
cn = psycopg2.connect(dbname="postgres")
cn.autocommit = True
with cn.cursor() as cr:
    cr.execute('CREATE DATABASE "%s" TEMPLATE "%s"' % (sys.argv[2], sys.argv[1]))
PY
  if [ -d "$BUILD/data/filestore/$tmpl" ]; then
    mkdir -p "$BUILD/data/filestore"
    cp -a "$BUILD/data/filestore/$tmpl" "$BUILD/data/filestore/$db"
  fi
}

# A pytest-odoo run logs through Odoo's own logging into a file of its own
# (--odoo-extra logfile=...): pytest's output capture would otherwise swallow
# what Odoo logs during passing tests, browser tours included.
log_line_re='^[0-9-]+ [0-9:,]+ [0-9]+ '

# test_log_clean LOG: false (and the lines shown) when Odoo's log of a test run
# holds an ERROR or CRITICAL line, except the one pytest-odoo causes by
# importing Odoo's test framework before test mode is on.
test_log_clean() {
  [ -f "$1" ] || { say "Odoo's test log $1 is missing: Odoo did not log into it"; return 1; }
  if grep -aE "${log_line_re}(ERROR|CRITICAL) " "$1" \
      | grep -v ' odoo.tests.common: Importing test framework' >&2; then
    say "Odoo's test log $1 has the ERROR lines above"
    return 1
  fi
}

# test_log_warnings LOG: list (not fail on) the WARNING lines of Odoo's log of
# a test run.
test_log_warnings() {
  local n
  n="$(grep -acE "${log_line_re}WARNING " "$1" 2>/dev/null || true)"
  say "${n:-0} WARNING line(s) in Odoo's test log $1 (listed, not failing)"
  grep -aE "${log_line_re}WARNING " "$1" >&2 || true
}
