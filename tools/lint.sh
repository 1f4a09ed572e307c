#!/usr/bin/env bash
# make lint: the OCA checks that apply here, with tools from PyPI and npm
# (pre-commit's hook repositories live on git hosts this project cannot
# reach; .pre-commit-config.yaml runs these same tools as local hooks).
# `make lint FIX=1` applies the fixes the tools know how to make.
set -uo pipefail
source "$(dirname "$0")/common.sh"
cd "$here"
LINT_VENV="${LINT_VENV:-$here/.venv-lint}"
stamp="$LINT_VENV/.stamp"
if [ ! -f "$stamp" ] || [ requirements-lint.txt -nt "$stamp" ]; then
  say "installing the lint tools into $LINT_VENV (requirements-lint.txt)"
  [ -x "$LINT_VENV/bin/python" ] || python3 -m venv "$LINT_VENV"
  "$LINT_VENV/bin/pip" install --quiet --disable-pip-version-check \
    -r requirements-lint.txt 2>&1 | grep -v "^WARNING: Location" || true
  "$LINT_VENV/bin/ruff" --version >/dev/null || die "installing the lint tools failed"
  touch "$stamp"
fi
VENV="$LINT_VENV"
if [ ! -x node_modules/.bin/prettier ]; then
  say "installing prettier from the npm registry (package-lock.json)"
  npm ci --no-audit --no-fund >/dev/null 2>&1 || die "npm ci failed"
fi

fix="${FIX:-}"
failed=()
run() {  # run NAME CMD...: run a check, remember its failure
  local name="$1"; shift
  say "$name"
  if ! "$@"; then failed+=("$name"); fi
}
addons=$(ls -d */__manifest__.py | xargs -n1 dirname | tr '\n' ' ')
mapfile -t tracked < <(git ls-files --cached --others --exclude-standard)
mapfile -t text_files < <(printf '%s\n' "${tracked[@]}" \
  | grep -vE '\.(png|jpg|jpeg|gif|ico|svg|pdf|woff2?)$|^package-lock\.json$' \
  | while read -r f; do [ -f "$f" ] && echo "$f"; done)
mapfile -t xml_files < <(printf '%s\n' "${text_files[@]}" | grep -E '\.xml$')
mapfile -t po_files < <(printf '%s\n' "${text_files[@]}" | grep -E '\.pot?$' || true)

if [ -n "$fix" ]; then
  "$VENV/bin/ruff" check --fix . || true
  "$VENV/bin/ruff" format .
  node_modules/.bin/prettier --write --log-level warn "**/*.{xml,js}"
  "$VENV/bin/oca-checks-odoo-module" --fix --no-verbose $addons >/dev/null || true
  "$VENV/bin/python" tools/gen_readme.py $addons
fi
run "ruff (lint)" "$VENV/bin/ruff" check --no-fix .
run "ruff (format)" "$VENV/bin/ruff" format --check .
run "pylint-odoo (OCA mandatory checks)" \
  "$VENV/bin/pylint" --rcfile=.pylintrc-mandatory $addons
run "oca-checks-odoo-module (manifest, XML, CSV)" \
  "$VENV/bin/oca-checks-odoo-module" --no-verbose $addons
if [ "${#po_files[@]}" -gt 0 ]; then
  run "oca-checks-po (translations)" "$VENV/bin/oca-checks-po" --no-verbose "${po_files[@]}"
fi
run "README.rst and index.html generated from readme/" \
  "$VENV/bin/python" tools/gen_readme.py --check $addons
run "check-xml" "$VENV/bin/check-xml" "${xml_files[@]}"
run "prettier (XML, JavaScript)" \
  node_modules/.bin/prettier --check --log-level warn "**/*.{xml,js}"
run "trailing whitespace" "$VENV/bin/trailing-whitespace-fixer" "${text_files[@]}"
run "end of files" "$VENV/bin/end-of-file-fixer" "${text_files[@]}"

if [ "${#failed[@]}" -gt 0 ]; then
  say "lint FAILED: ${failed[*]} (make lint FIX=1 fixes what can be fixed)"
  exit 1
fi
say "lint passed"
