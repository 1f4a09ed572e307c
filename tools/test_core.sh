#!/usr/bin/env bash
# make test-core: Odoo's own sale_stock, purchase_stock and sale_purchase_stock
# test suites, through pytest-odoo (full registry, so at_install tests run too),
# on a database with backorder_po_link installed and every automation on.
# The check is differential: tests that also fail without the addon are listed
# in tools/core-baseline-failures.txt (written by `make test-core-baseline`).
set -euo pipefail
source "$(dirname "$0")/common.sh"
MODE="${1:-}"
CORE_MODULES="sale_stock,purchase_stock,sale_purchase_stock"
BASELINE="$here/tools/core-baseline-failures.txt"
bash "$here/tools/bootstrap.sh"

if [ "$MODE" = --baseline ]; then
  DB=backorder_core_baseline
  fresh_db "$DB" yes "$CORE_MODULES"
  write_conf "$BUILD/$DB.conf" "$DB" "${HTTP_PORT:-8169}"
else
  DB=backorder_core
  fresh_db "$DB" yes "$CORE_MODULES"
  odoo_install "$DB" backorder_po_link "$BUILD/core-install.log"
  say "switching every automation on"
  "${ODOO_BIN[@]}" shell -c "$BUILD/$DB.conf" -d "$DB" --log-level=warn \
    <"$here/tools/enable_automations.py" >"$BUILD/core-enable.log" 2>&1 \
    || { cat "$BUILD/core-enable.log" >&2; die "could not switch the automations on"; }
fi

tests=()
for mod in ${CORE_MODULES//,/ }; do tests+=("$ODOO_SRC/addons/$mod/tests"); done
junit="$BUILD/$DB-junit.xml"
say "running Odoo's $CORE_MODULES tests on $DB (about 10 minutes)"
start=$(date +%s)
set +e
(cd "$BUILD" && "$VENV/bin/python" -m pytest -c "$here/pytest.ini" -p no:cacheprovider \
   --odoo-config="$BUILD/$DB.conf" --odoo-database="$DB" --odoo-http \
   --odoo-log-level=error --junitxml="$junit" -q "${tests[@]}") \
   >"$BUILD/$DB-pytest.log" 2>&1
set -e
tail -n 3 "$BUILD/$DB-pytest.log" >&2
say "took $(( $(date +%s) - start )) s"

failed="$BUILD/$DB-failures.txt"
"$VENV/bin/python" - "$junit" >"$failed" <<'PY'
import sys
import xml.etree.ElementTree as ET
for case in ET.parse(sys.argv[1]).iter("testcase"):
    if case.find("failure") is not None or case.find("error") is not None:
        print(f"{case.get('classname')}::{case.get('name')}")
PY
sort -o "$failed" "$failed"
total=$("$VENV/bin/python" -c "
import sys, xml.etree.ElementTree as ET
print(sum(1 for _ in ET.parse(sys.argv[1]).iter('testcase')))" "$junit")

if [ "$MODE" = --baseline ]; then
  cp "$failed" "$BASELINE"
  say "$total tests, $(wc -l <"$failed") failing without the addon: written to $BASELINE"
  exit 0
fi

[ -f "$BASELINE" ] || die "no $BASELINE: run make test-core-baseline first"
new="$(comm -23 "$failed" <(sort "$BASELINE"))"
say "$total tests; failing without the addon: $(grep -c . "$BASELINE" || true); failing with it: $(grep -c . "$failed" || true)"
if [ -n "$new" ]; then
  printf '%s\n' "$new" | sed 's/^/  NEW FAILURE: /' >&2
  die "Odoo's own tests fail with backorder_po_link installed (log: $BUILD/$DB-pytest.log)"
fi
say "no test fails that does not fail without the addon"
