#!/usr/bin/env bash
# Provision everything `make demo` / `make test` need, idempotently, for the
# Odoo series ODOO_SERIES (18.0, the default, or 19.0; see tools/common.sh):
#   - Odoo source of that series in $ODOO_SRC (shallow clone of the official branch when missing),
#   - a virtualenv in $VENV with Odoo's requirements, Odoo (editable) and the dev tools,
#   - a check that PostgreSQL answers.
# A second run costs about a second: each step is skipped when its stamp is newer
# than its inputs.
set -euo pipefail

source "$(dirname "$0")/common.sh"  # ODOO_SERIES, ODOO_SRC, VENV
ODOO_REPO="${ODOO_REPO:-https://github.com/odoo/odoo.git}"
PYTHON="${PYTHON:-python3.11}"
S="$ODOO_SERIES"
# OCA queue_job of the series (used by backorder_po_link_queue).
case "$S" in
  18.0) QUEUE_JOB='odoo-addon-queue_job==18.0.4.1.2.2' ;;
  19.0) QUEUE_JOB='odoo-addon-queue_job==19.0.2.4.0.1' ;;
esac

say() { printf '[bootstrap] %s\n' "$*" >&2; }
die() { printf '[bootstrap] ERROR: %s\n' "$*" >&2; exit 1; }

# --- Odoo source --------------------------------------------------------------
# Only ever removes what it created itself: a folder that exists is never
# cloned into unless it is empty, and never deleted.
src_help="point ODOO_SRC at an Odoo $S source tree or an empty/nonexistent folder"
if [ ! -f "$ODOO_SRC/odoo/release.py" ]; then
  if [ -L "$ODOO_SRC" ] && [ ! -e "$ODOO_SRC" ]; then
    die "ODOO_SRC=$ODOO_SRC is a link to nothing; $src_help"
  elif [ -e "$ODOO_SRC" ] && [ ! -d "$ODOO_SRC" ]; then
    die "ODOO_SRC=$ODOO_SRC exists but is not a folder (no odoo/release.py in it); $src_help"
  elif [ -d "$ODOO_SRC" ] && [ -n "$(ls -A "$ODOO_SRC")" ]; then
    die "ODOO_SRC=$ODOO_SRC exists but holds no Odoo $S (no odoo/release.py); $src_help"
  fi
  # The folders this step creates, outermost first: only these are removed
  # when the clone fails (an empty ODOO_SRC that was there stays, emptied of
  # what the clone left).
  created=()
  dir="$ODOO_SRC"
  while [ ! -e "$dir" ] && [ ! -L "$dir" ]; do
    created=("$dir" "${created[@]}")
    dir="$(dirname "$dir")"
  done
  say "No Odoo source in $ODOO_SRC: cloning the official $S branch (shallow) from $ODOO_REPO."
  mkdir -p "$(dirname "$ODOO_SRC")"
  if ! git clone --depth 1 --branch "$S" "$ODOO_REPO" "$ODOO_SRC"; then
    if [ "${#created[@]}" -gt 0 ]; then
      rm -rf "$ODOO_SRC"
      for (( i = ${#created[@]} - 1; i >= 0; i-- )); do
        rmdir "${created[$i]}" 2>/dev/null || true
      done
    elif [ -d "$ODOO_SRC" ]; then
      find "$ODOO_SRC" -mindepth 1 -maxdepth 1 -exec rm -rf {} +
    fi
    die "Odoo $S source is missing from ODOO_SRC=$ODOO_SRC and could not be cloned from $ODOO_REPO.
  Provide it yourself, then run this again:
    git clone --depth 1 --branch $S https://github.com/odoo/odoo.git $ODOO_SRC
  or point ODOO_SRC at an existing Odoo $S checkout: make test ODOO_SRC=/path/to/odoo"
  fi
fi
if ! grep -q "version_info = (${S%.0}, 0" "$ODOO_SRC/odoo/release.py"; then
  found="$(grep -o -m 1 'version_info = ([^)]*)' "$ODOO_SRC/odoo/release.py" || true)"
  die "ODOO_SRC=$ODOO_SRC holds no Odoo $S (odoo/release.py says ${found:-no version_info}); $src_help"
fi

# --- virtualenv ---------------------------------------------------------------
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
"$PYTHON" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' \
  || say "warning: $("$PYTHON" --version) found; Odoo $S is tested here with Python 3.11."
if [ ! -x "$VENV/bin/python" ]; then
  say "Creating virtualenv $VENV"
  "$PYTHON" -m venv "$VENV"
fi
export PIP_CONSTRAINT="$here/tools/pip-constraints.txt"
export PIP_DISABLE_PIP_VERSION_CHECK=1
pip=("$VENV/bin/python" -m pip install -q)

stamp="$VENV/.bootstrap-stamp"
if [ ! -f "$stamp" ] || [ "$ODOO_SRC/requirements.txt" -nt "$stamp" ] \
   || [ "$here/requirements-dev.txt" -nt "$stamp" ] || [ "$here/tools/bootstrap.sh" -nt "$stamp" ] \
   || [ "$(cat "$VENV/.odoo-src" 2>/dev/null)" != "$ODOO_SRC" ]; then
  for hdr in /usr/include/postgresql/libpq-fe.h /usr/include/ldap.h /usr/include/sasl/sasl.h; do
    [ -f "$hdr" ] || die "Missing C header $hdr needed to build psycopg2 / python-ldap.
  On Debian/Ubuntu: sudo apt-get install libpq-dev libldap2-dev libsasl2-dev"
  done
  say "Installing Odoo's requirements and the dev tools into $VENV (first run takes a few minutes)"
  "${pip[@]}" "setuptools<81" wheel
  "${pip[@]}" -r "$ODOO_SRC/requirements.txt"
  "${pip[@]}" -r "$here/requirements-dev.txt"
  "${pip[@]}" --no-build-isolation --no-deps -e "$ODOO_SRC"
  printf '%s' "$ODOO_SRC" > "$VENV/.odoo-src"
  touch "$stamp"
fi

# --- OCA queue_job (used by backorder_po_link_queue) --------------------------
# From PyPI with --no-deps: it requires the `odoo` distribution, which is the
# editable source install above; its one other requirement, requests, is in
# Odoo's requirements. The wheel puts it in site-packages/odoo/addons/queue_job.
if ! compgen -G "$VENV/lib/python3*/site-packages/odoo/addons/queue_job/__manifest__.py" >/dev/null; then
  say "Installing OCA queue_job $S into $VENV"
  "${pip[@]}" --no-deps "$QUEUE_JOB"
fi
# Installed --no-deps: the Python packages its manifest needs (queue_job 19.0
# added openupgradelib), those not importable yet.
missing="$("$VENV/bin/python" - <<'PY'
import ast, glob, importlib.util, sys
manifest = glob.glob(f"{sys.prefix}/lib/python3*/site-packages/odoo/addons/queue_job/__manifest__.py")[0]
deps = ast.literal_eval(open(manifest).read()).get("external_dependencies", {}).get("python", [])
print(" ".join(d for d in deps if importlib.util.find_spec(d) is None))
PY
)"
if [ -n "$missing" ]; then
  say "Installing what OCA queue_job needs: $missing"
  # shellcheck disable=SC2086
  "${pip[@]}" $missing
fi

# --- PostgreSQL ---------------------------------------------------------------
if ! "$VENV/bin/python" - <<'PY' 2>/tmp/bootstrap-pg.$$; then
import psycopg2
psycopg2.connect(dbname="postgres", connect_timeout=5).close()
PY
  err="$(cat /tmp/bootstrap-pg.$$)"; rm -f /tmp/bootstrap-pg.$$
  die "PostgreSQL does not answer (host ${PGHOST:-local socket/127.0.0.1}, port ${PGPORT:-5432}, user ${PGUSER:-$USER}):
  $err
  Start one (Debian: sudo pg_ctlcluster 15 main start) or set PGHOST / PGPORT / PGUSER / PGPASSWORD.
  The user must be allowed to create databases."
fi
rm -f /tmp/bootstrap-pg.$$
say "ready: venv $VENV, Odoo $ODOO_SRC"
