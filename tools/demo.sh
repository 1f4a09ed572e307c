#!/usr/bin/env bash
# make demo: serve Odoo with backorder_po_link and its demo data on
# http://localhost:8069 (admin / admin) until Ctrl-C. The database
# backorder_demo is created the first time and reused afterwards;
# `make demo-reset` (--reset) rebuilds it.
set -euo pipefail
source "$(dirname "$0")/common.sh"
DB="${DEMO_DB:-$(series_db backorder_demo)}"
PORT="${DEMO_PORT:-8069}"
bash "$here/tools/bootstrap.sh"

if [ "${1:-}" = --reset ]; then
  say "dropping $DB"
  drop_db "$DB"
fi
HTTP_PORT="$PORT"
if ! db_exists "$DB"; then
  fresh_db "$DB" yes "sale_stock,purchase_stock"
  HTTP_PORT="$PORT" odoo_install "$DB" backorder_po_link "$BUILD/demo-install.log"
fi
write_conf "$BUILD/$DB.conf" "$DB" "$PORT"
# Serve on every interface of this machine's loopback only.
sed -i 's/^http_interface = .*/http_interface = 127.0.0.1/' "$BUILD/$DB.conf"
say "serving $DB on http://localhost:$PORT (login admin / admin); Ctrl-C to stop"
exec "${ODOO_BIN[@]}" -c "$BUILD/$DB.conf" -d "$DB" -u backorder_po_link
