#!/usr/bin/env bash
# make wheel: build each addon's wheel (odoo-addon-<addon>, with whool as OCA
# does) into .build/dist, then prove the wheel works: install it with pip
# into a folder of its own and install the addon from there (not from this
# checkout) into a throwaway database.
set -euo pipefail
source "$(dirname "$0")/common.sh"
bash "$here/tools/bootstrap.sh"
dist="$BUILD/dist"
rm -rf "$dist" && mkdir -p "$dist"
for addon in backorder_po_link; do
  say "building the wheel of $addon"
  "$VENV/bin/python" -m build --wheel --no-isolation --outdir "$dist" "$here/$addon" \
    >"$BUILD/wheel-$addon.log" 2>&1 || { tail -n 30 "$BUILD/wheel-$addon.log" >&2; die "build failed"; }
done
wheel="$(ls "$dist"/odoo_addon_backorder_po_link-*.whl)"
say "built $(basename "$wheel")"
"$VENV/bin/python" - "$wheel" <<'PY'
import sys, zipfile
names = zipfile.ZipFile(sys.argv[1]).namelist()
meta = next(n for n in names if n.endswith(".dist-info/METADATA"))
text = zipfile.ZipFile(sys.argv[1]).read(meta).decode()
assert "Name: odoo-addon-backorder_po_link" in text, text[:300]
for needed in ("odoo/addons/backorder_po_link/__manifest__.py",
               "odoo/addons/backorder_po_link/static/description/index.html",
               "odoo/addons/backorder_po_link/views/sale_order_views.xml"):
    assert needed in names, needed
print("[wheel] metadata:", *[l for l in text.splitlines() if l.startswith(("Name:", "Version:", "Requires-Dist:"))], sep="\n  ")
PY
site="$BUILD/wheel-site"
rm -rf "$site"
"$VENV/bin/pip" install --quiet --no-deps --target "$site" "$wheel"
db="${WHEEL_DB:-backorder_wheel}"
fresh_db "$db" no "sale_stock,purchase_stock"
ADDONS_PATH="$ODOO_SRC/addons,$ODOO_SRC/odoo/addons,$site/odoo/addons" \
  odoo_install "$db" backorder_po_link "$BUILD/wheel-install.log" --without-demo=all
where="$(echo 'print("MODULE_PATH", odoo.modules.module.get_module_path("backorder_po_link"))' \
  | "${ODOO_BIN[@]}" shell -c "$BUILD/$db.conf" -d "$db" --log-level=warn 2>/dev/null \
  | grep MODULE_PATH)"
case "$where" in
  *"$site/odoo/addons/backorder_po_link") say "Odoo loaded the addon from the wheel: ${where#MODULE_PATH }" ;;
  *) die "Odoo did not load the addon from the wheel ($where)" ;;
esac
drop_db "$db"
say "the wheel installs with pip and the addon installs from it into Odoo"
