#!/usr/bin/env bash
# make test: install the addon into a fresh database, then run its whole test
# suite (browser tests included) with pytest-odoo. Fails on any failure, error,
# skipped test or ERROR line in Odoo's log; lists the WARNING lines at the end.
# Log files are named after the database ($BUILD/<db>-*.log), so runs on two
# databases side by side keep their own.
set -euo pipefail
source "$(dirname "$0")/common.sh"
DB="${TEST_DB:-$(series_db backorder_test)}"
bash "$here/tools/bootstrap.sh"
bash "$here/tools/test_bootstrap.sh"

fresh_db "$DB" no "sale_stock,purchase_stock,mrp,stock_dropshipping"
odoo_install "$DB" backorder_po_link "$BUILD/$DB-install.log" "$NO_DEMO"

# The tours' screenshots: the README's (backorder_po_link/static/description)
# are 18.0's; 19.0's go to its build folder.
if [ "$ODOO_SERIES" != 18.0 ]; then
  export BOPL_SCREENSHOT_DIR="$BUILD/screenshots"
fi

log="$BUILD/$DB-pytest.log"        # pytest's output
odoo_log="$BUILD/$DB-odoo.log"     # everything Odoo logs during the run
rm -f "$odoo_log"
say "running the test suite on $DB (Odoo's log: $odoo_log)"
set +e
(cd "$here" && "$VENV/bin/coverage" run --rcfile="$here/.coveragerc" \
   -m pytest -c "$here/pytest.ini" \
   --odoo-config="$BUILD/$DB.conf" --odoo-database="$DB" --odoo-http \
   --odoo-log-level=warn --odoo-extra "logfile=$odoo_log" \
   ${PYTEST_ARGS:-} backorder_po_link/tests) 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e
test_log_clean "$odoo_log" || rc=1
# Coverage of the addon's Python code, printed; below 90 % (.coveragerc) fails.
if ! (cd "$here" && "$VENV/bin/coverage" report --rcfile="$here/.coveragerc"); then
  say "coverage of backorder_po_link is under the floor set in .coveragerc"
  rc=1
fi
if [ "$rc" != 0 ]; then
  test_log_warnings "$odoo_log"
  exit "$rc"
fi

uninstall_log="$BUILD/$DB-uninstall.log"
say "uninstalling the addon from $DB and checking standard Odoo still works"
"${ODOO_BIN[@]}" shell -c "$BUILD/$DB.conf" -d "$DB" --log-level=warn \
  <"$here/tools/check_uninstall.py" >"$uninstall_log" 2>&1 || true
if ! grep -q "uninstall check passed" "$uninstall_log" \
   || grep -E ' (ERROR|CRITICAL) ' "$uninstall_log" >&2; then
  tail -n 30 "$uninstall_log" >&2
  die "uninstalling backorder_po_link failed or broke standard Odoo"
fi
grep "uninstall check passed" "$uninstall_log" >&2

# The queue_job addon, on a database of its own with queue_job installed; its
# WARNING lines are listed below with ours.
QUEUE_TEST_DB="${QUEUE_TEST_DB:-$(series_db bopl_queue_test)}"
export QUEUE_TEST_DB
BOPL_LIST_WARNINGS=no bash "$here/tools/test_queue.sh"

test_log_warnings "$odoo_log"
test_log_warnings "$BUILD/$QUEUE_TEST_DB-odoo.log"

# Closing lines read by CI: pytest's own summaries are above; repeat them last.
say "backorder_po_link:"
grep -E '^=+ .*(passed|failed).* =+$' "$log" | tail -n 1
say "backorder_po_link_queue:"
grep -E '^=+ .*(passed|failed).* =+$' "$BUILD/$QUEUE_TEST_DB-pytest.log" | tail -n 1
