#!/usr/bin/env bash
# make test: install the addon into a fresh database, then run its whole test
# suite (browser tests included) with pytest-odoo. Fails on any failure, error,
# skipped test or ERROR log line.
set -euo pipefail
source "$(dirname "$0")/common.sh"
DB="${TEST_DB:-backorder_test}"
bash "$here/tools/bootstrap.sh"

fresh_db "$DB" no "sale_stock,purchase_stock,mrp,stock_dropshipping"
odoo_install "$DB" backorder_po_link "$BUILD/test-install.log" --without-demo=all

log="$BUILD/test-pytest.log"
say "running the test suite on $DB"
set +e
(cd "$here" && "$VENV/bin/coverage" run --rcfile="$here/.coveragerc" \
   -m pytest -c "$here/pytest.ini" \
   --odoo-config="$BUILD/$DB.conf" --odoo-database="$DB" --odoo-http \
   --odoo-log-level=warn \
   ${PYTEST_ARGS:-} backorder_po_link/tests) 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e
test_log_clean "$log" || rc=1
# Coverage of the addon's Python code, printed; below 90 % (.coveragerc) fails.
if ! (cd "$here" && "$VENV/bin/coverage" report --rcfile="$here/.coveragerc"); then
  say "coverage of backorder_po_link is under the floor set in .coveragerc"
  rc=1
fi
[ "$rc" = 0 ] || exit "$rc"

say "uninstalling the addon from $DB and checking standard Odoo still works"
"${ODOO_BIN[@]}" shell -c "$BUILD/$DB.conf" -d "$DB" --log-level=warn \
  <"$here/tools/check_uninstall.py" >"$BUILD/test-uninstall.log" 2>&1 || true
if ! grep -q "uninstall check passed" "$BUILD/test-uninstall.log" \
   || grep -E ' (ERROR|CRITICAL) ' "$BUILD/test-uninstall.log" >&2; then
  tail -n 30 "$BUILD/test-uninstall.log" >&2
  die "uninstalling backorder_po_link failed or broke standard Odoo"
fi
grep "uninstall check passed" "$BUILD/test-uninstall.log" >&2

# The queue_job addon, on a database of its own with queue_job installed.
bash "$here/tools/test_queue.sh"

# Closing lines read by CI: pytest's own summaries are above; repeat them last.
say "backorder_po_link:"
grep -E '^=+ .*(passed|failed).* =+$' "$log" | tail -n 1
say "backorder_po_link_queue:"
grep -E '^=+ .*(passed|failed).* =+$' "$BUILD/test-queue-pytest.log" | tail -n 1
