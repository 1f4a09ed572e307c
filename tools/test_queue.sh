#!/usr/bin/env bash
# The tests of backorder_po_link_queue (the batch run and the automatic RFQs as
# OCA queue_job jobs): install queue_job and the addon (which brings
# backorder_po_link) into a fresh database, then run its tests with
# pytest-odoo. Fails on any failure, error, skipped test or ERROR line in
# Odoo's log; lists the WARNING lines at the end (tools/test.sh lists them
# itself, with its own: BOPL_LIST_WARNINGS=no).
set -euo pipefail
source "$(dirname "$0")/common.sh"
DB="${QUEUE_TEST_DB:-$(series_db bopl_queue_test)}"
bash "$here/tools/bootstrap.sh"

fresh_db "$DB" no "sale_stock,purchase_stock"
odoo_install "$DB" queue_job,backorder_po_link_queue "$BUILD/$DB-install.log" \
  "$NO_DEMO"
"$VENV/bin/python" - "$DB" <<'PY' || die "backorder_po_link_queue did not install with its dependencies"
import sys, psycopg2
with psycopg2.connect(dbname=sys.argv[1]) as cn, cn.cursor() as cr:
    cr.execute("SELECT name FROM ir_module_module WHERE state = 'installed' AND name IN "
               "('queue_job', 'backorder_po_link', 'backorder_po_link_queue')")
    sys.exit(0 if len(cr.fetchall()) == 3 else 1)
PY

log="$BUILD/$DB-pytest.log"        # pytest's output
odoo_log="$BUILD/$DB-odoo.log"     # everything Odoo logs during the run
rm -f "$odoo_log"
say "running the backorder_po_link_queue tests on $DB (Odoo's log: $odoo_log)"
set +e
(cd "$here" && "$VENV/bin/python" -m pytest -c "$here/pytest.ini" \
   --odoo-config="$BUILD/$DB.conf" --odoo-database="$DB" \
   --odoo-log-level=warn --odoo-extra "logfile=$odoo_log" \
   ${PYTEST_ARGS:-} backorder_po_link_queue/tests) 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e
# A skipped test fails the run (conftest.py); so does any ERROR line.
test_log_clean "$odoo_log" || rc=1
if [ "$rc" != 0 ] || [ "${BOPL_LIST_WARNINGS:-yes}" != no ]; then
  test_log_warnings "$odoo_log"
fi
[ "$rc" = 0 ] || exit "$rc"
# Closing line read by CI: pytest's own summary is above; repeat it last.
grep -E '^=+ .*(passed|failed).* =+$' "$log" | tail -n 1
