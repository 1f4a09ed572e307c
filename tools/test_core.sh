#!/usr/bin/env bash
# make test-core: Odoo's own sale_stock, purchase_stock, sale_purchase_stock,
# stock_dropshipping, sale_mrp and purchase_mrp test suites, through pytest-odoo
# (full registry, so at_install tests run too), on a database with
# backorder_po_link installed and every automation on. mrp and
# stock_dropshipping are installed too, so kits (phantom BoMs), manufacturing
# orders and dropship/MTO purchases meet the addon's hooks.
# The check is differential: tests that also fail without the addon are listed
# in tools/core-baseline-failures.txt (written by `make test-core-baseline`),
# one `<module>.tests.<file>.<Class>::<test>` a line (on 19.0:
# tools/core-baseline-failures-19.0.txt).
# CORE_SUITES (space-separated modules) runs a subset of the suites; the check
# stays differential against the full baseline.
set -euo pipefail
source "$(dirname "$0")/common.sh"
MODE="${1:-}"
# What the database holds (sale_mrp and purchase_mrp would also come in as
# auto_install modules of mrp; listed to say they are wanted).
CORE_MODULES="sale_stock,purchase_stock,sale_purchase_stock,mrp,stock_dropshipping,sale_mrp,purchase_mrp"
# Whose tests run.
CORE_SUITES="${CORE_SUITES:-sale_stock purchase_stock sale_purchase_stock stock_dropshipping sale_mrp purchase_mrp}"
BASELINE="$here/tools/core-baseline-failures.txt"
[ "$ODOO_SERIES" = 18.0 ] || BASELINE="$here/tools/core-baseline-failures-$ODOO_SERIES.txt"
bash "$here/tools/bootstrap.sh"

if [ "$MODE" = --baseline ]; then
  DB=$(series_db backorder_core_baseline)
  fresh_db "$DB" yes "$CORE_MODULES"
  write_conf "$BUILD/$DB.conf" "$DB" "${HTTP_PORT:-8169}"
else
  DB=$(series_db backorder_core)
  fresh_db "$DB" yes "$CORE_MODULES"
  odoo_install "$DB" backorder_po_link "$BUILD/$DB-install.log"
  say "switching every automation on"
  "${ODOO_BIN[@]}" shell -c "$BUILD/$DB.conf" -d "$DB" --log-level=warn \
    <"$here/tools/enable_automations.py" >"$BUILD/$DB-enable.log" 2>&1 \
    || { cat "$BUILD/$DB-enable.log" >&2; die "could not switch the automations on"; }
fi

tests=()
for mod in $CORE_SUITES; do tests+=("$ODOO_SRC/addons/$mod/tests"); done
junit="$BUILD/$DB-junit.xml"
say "running Odoo's $CORE_SUITES tests on $DB (about 10 minutes)"
start=$(date +%s)
set +e
# --rootdir: test ids carry their module (purchase_stock and stock_dropshipping
# both have a test_purchase_order.TestPurchaseOrder, for one).
(cd "$BUILD" && "$VENV/bin/python" -m pytest -c "$here/pytest.ini" -p no:cacheprovider \
   --rootdir="$ODOO_SRC/addons" \
   --odoo-config="$BUILD/$DB.conf" --odoo-database="$DB" --odoo-http \
   --odoo-log-level=error --junitxml="$junit" -q "${tests[@]}") \
   >"$BUILD/$DB-pytest.log" 2>&1
set -e
tail -n 3 "$BUILD/$DB-pytest.log" >&2
say "took $(( $(date +%s) - start )) s"
"$VENV/bin/python" - "$junit" >&2 <<'PY'
import collections, sys
import xml.etree.ElementTree as ET
count, secs = collections.Counter(), collections.Counter()
for case in ET.parse(sys.argv[1]).iter("testcase"):
    mod = case.get("classname").split(".", 1)[0]
    count[mod] += 1
    secs[mod] += float(case.get("time") or 0)
for mod in count:
    print(f"[test_core]   {mod}: {count[mod]} tests, {secs[mod]:.0f} s")
PY

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
