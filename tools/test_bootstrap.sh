#!/usr/bin/env bash
# The Odoo source step of tools/bootstrap.sh never removes a user's files: it
# refuses an ODOO_SRC that holds something other than Odoo of the series
# (ODOO_SERIES, 18.0 by default), saying so,
# and removes only what a failed clone created. Runs in a temporary folder
# with a local repository (no network) and a temporary VENV; the real venv and
# Odoo source are not touched. Closing line: "bootstrap: N passed, M failed".
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
S="${ODOO_SERIES:-18.0}"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/bopl-test-bootstrap.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0

check() {  # check DESCRIPTION COMMAND...: one assertion
  local what="$1"; shift
  if "$@"; then
    passed=$((passed + 1)); echo "ok - $what"
  else
    failed=$((failed + 1)); echo "FAIL - $what"
    sed 's/^/    | /' "$tmp/out"
  fi
}

# run ODOO_SRC [ODOO_REPO]: bootstrap.sh with a temporary VENV; output in
# $tmp/out, exit code in $rc. The default repository does not exist.
run() {
  ODOO_SRC="$1" ODOO_REPO="${2:-$tmp/no-such-repo}" VENV="$tmp/venv" PYTHON=false \
    bash "$here/tools/bootstrap.sh" >"$tmp/out" 2>&1
  rc=$?
}
said() { grep -qF -- "$1" "$tmp/out"; }
no_venv() { [ ! -e "$tmp/venv" ]; }

# 1. A folder with a user's file and no Odoo: refused, the file survives.
mkdir -p "$tmp/mine"
echo "my notes" >"$tmp/mine/notes.txt"
run "$tmp/mine"
check "folder without Odoo: non-zero exit" test "$rc" -ne 0
check "folder without Odoo: the user's file survives" \
  grep -qx "my notes" "$tmp/mine/notes.txt"
check "folder without Odoo: the message names the folder and what was expected" \
  said "ODOO_SRC=$tmp/mine exists but holds no Odoo $S (no odoo/release.py)"
check "folder without Odoo: no clone was tried, no venv made" \
  eval '! said "cloning" && no_venv'

# 2. A file where the folder should be: refused, the file survives.
echo "a file" >"$tmp/afile"
run "$tmp/afile"
check "a file as ODOO_SRC: non-zero exit, the file survives, named" \
  eval 'test "$rc" -ne 0 && grep -qx "a file" "$tmp/afile" && said "ODOO_SRC=$tmp/afile exists"'

# 3. Another Odoo version: refused, untouched.
mkdir -p "$tmp/odoo17/odoo"
echo "version_info = (17, 0, 0, FINAL, 0, '')" >"$tmp/odoo17/odoo/release.py"
run "$tmp/odoo17"
check "Odoo 17 as ODOO_SRC: non-zero exit, the tree survives, the version is named" \
  eval 'test "$rc" -ne 0 && test -f "$tmp/odoo17/odoo/release.py" && said "ODOO_SRC=$tmp/odoo17 holds no Odoo $S" && said "(17, 0"'

# 4. A nonexistent folder whose clone fails: removed again, with the parents
#    the step created; the parent that was there stays.
run "$tmp/new/deeper/odoo"
check "nonexistent ODOO_SRC, clone fails: non-zero exit, the repository is named" \
  eval 'test "$rc" -ne 0 && said "could not be cloned from $tmp/no-such-repo"'
check "nonexistent ODOO_SRC, clone fails: what the step created is removed" \
  eval '[ ! -e "$tmp/new" ] && [ -d "$tmp" ]'

# 5. An empty folder whose clone fails: kept, and left empty.
mkdir -p "$tmp/empty"
run "$tmp/empty"
check "empty ODOO_SRC, clone fails: non-zero exit, the folder stays, empty" \
  eval 'test "$rc" -ne 0 && [ -d "$tmp/empty" ] && [ -z "$(ls -A "$tmp/empty")" ]'

# 6. A clone that works (a local repository with a branch of the series holding a
#    stand-in release.py) lands in ODOO_SRC; the venv step after it is stopped
#    by PYTHON=false, so nothing is installed.
repo="$tmp/fake-odoo"
mkdir -p "$repo/odoo"
echo "version_info = (${S%.0}, 0, 0, FINAL, 0, '')" >"$repo/odoo/release.py"
git -C "$repo" init -q -b "$S"
git -C "$repo" add odoo/release.py
git -C "$repo" -c user.name=test -c user.email=test@example.invalid commit -q -m stand-in
run "$tmp/cloned/odoo" "file://$repo"
check "clone from a reachable repository: the source lands in ODOO_SRC, the venv step is reached" \
  eval 'test -f "$tmp/cloned/odoo/odoo/release.py" && said "Creating virtualenv $tmp/venv"'

echo "bootstrap: $passed passed, $failed failed"
[ "$failed" = 0 ]
