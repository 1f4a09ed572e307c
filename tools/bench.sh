#!/usr/bin/env bash
# make bench: build (or reuse) the benchmark databases, then measure.
# BENCH_SCALE (default 100000) backorders in backorder_bench; the scaling rows
# use backorder_bench_10000 and backorder_bench_50000 (each with _19 on 19.0).
set -euo pipefail
source "$(dirname "$0")/common.sh"
SCALE="${BENCH_SCALE:-100000}"
SCALES="${BENCH_SCALES:-10000 50000}"
bash "$here/tools/bootstrap.sh"

build() {  # build DB BACKORDERS
  local db="$1" n="$2"
  if db_exists "$db" && "$VENV/bin/python" - "$db" <<'PY'
import sys, psycopg2
with psycopg2.connect(dbname=sys.argv[1]) as cn, cn.cursor() as cr:
    cr.execute("SELECT to_regclass('backorder_po_link')")
    ok = cr.fetchone()[0]
    if ok:
        cr.execute("SELECT count(*) FROM product_product WHERE default_code = 'BENCH-HOT'")
        ok = cr.fetchone()[0]
    sys.exit(0 if ok else 1)
PY
  then
    say "reusing $db (upgrading the addon in it)"
    write_conf "$BUILD/$db.conf" "$db" 8189
    "${ODOO_BIN[@]}" -c "$BUILD/$db.conf" -d "$db" -u backorder_po_link \
      --stop-after-init --log-level=warn >"$BUILD/bench-upgrade-$db.log" 2>&1 \
      || { tail -20 "$BUILD/bench-upgrade-$db.log" >&2; die "upgrading $db failed"; }
    return
  fi
  fresh_db "$db" no "sale_stock,purchase_stock"
  odoo_install "$db" backorder_po_link "$BUILD/bench-install-$db.log" "$NO_DEMO"
  write_conf "$BUILD/$db.conf" "$db" 8189
  "$VENV/bin/python" "$here/bench/bench.py" -c "$BUILD/$db.conf" --db "$db" --generate "$n"
}

main_db="$(series_db backorder_bench)"
build "$main_db" "$SCALE"
scale_dbs=()
for n in $SCALES; do
  build "$(series_db "backorder_bench_$n")" "$n"
  scale_dbs+=("$(series_db "backorder_bench_$n")")
done
write_conf "$BUILD/$main_db.conf" "$main_db" 8189
sed -i 's/^dbfilter = .*/dbfilter = ^backorder_bench/' "$BUILD/$main_db.conf"
start=$(date +%s)
"$VENV/bin/python" "$here/bench/bench.py" -c "$BUILD/$main_db.conf" \
  --db "$main_db" --scale-dbs "${scale_dbs[@]}" ${BENCH_ARGS:-}
say "measured in $(( $(date +%s) - start )) s"
