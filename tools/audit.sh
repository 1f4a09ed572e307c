#!/usr/bin/env bash
# make audit DB=name: every invariant of the backorder links on database DB.
set -euo pipefail
source "$(dirname "$0")/common.sh"
DB="$1"
bash "$here/tools/bootstrap.sh"
db_exists "$DB" || die "no database $DB"
conf="$BUILD/audit-$DB.conf"
write_conf "$conf" "$DB" 8199
"${ODOO_BIN[@]}" shell -c "$conf" -d "$DB" --log-level=warn --no-http <"$here/tools/audit.py"
