#!/usr/bin/env bash
# make load: 8 concurrent workers confirm, cancel and receive orders for a few
# products; then the invariant audit and a one-at-a-time replay must agree.
set -euo pipefail
source "$(dirname "$0")/common.sh"
DB="${LOAD_DB:-$(series_db backorder_load)}"
bash "$here/tools/bootstrap.sh"
fresh_db "$DB" no "sale_stock,purchase_stock"
odoo_install "$DB" backorder_po_link "$BUILD/$DB-install.log" "$NO_DEMO"
drop_db "${DB}_replay"
"$VENV/bin/python" - "$DB" <<'PY'
import sys, psycopg2
cn = psycopg2.connect(dbname="postgres")
cn.autocommit = True
with cn.cursor() as cr:
    cr.execute('CREATE DATABASE "%s_replay" TEMPLATE "%s"' % (sys.argv[1], sys.argv[1]))
PY
write_conf "$BUILD/$DB.conf" "$DB" 8179
# More connections than workers; the replay database shares the settings.
echo "db_maxconn = 32" >>"$BUILD/$DB.conf"
"$VENV/bin/python" "$here/tools/load_test.py" -c "$BUILD/$DB.conf" \
  --db "$DB" --replay-db "${DB}_replay" ${LOAD_ARGS:-}
