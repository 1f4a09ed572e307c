#!/usr/bin/env bash
# make i18n: install the addon into a throwaway database (without demo data),
# export its translatable terms with Odoo into
# backorder_po_link/i18n/backorder_po_link.pot, then merge every
# backorder_po_link/i18n/*.po with it (msgmerge when gettext is installed,
# else babel), keeping existing translations. New terms come out untranslated:
# translate them, then run the test backorder_po_link/tests/test_i18n.py.
set -euo pipefail
source "$(dirname "$0")/common.sh"
DB="${I18N_DB:-bopl_i18n}"
I18N="$here/backorder_po_link/i18n"
POT="$I18N/backorder_po_link.pot"
mkdir -p "$I18N"

fresh_db "$DB" no "sale_stock,purchase_stock"
odoo_install "$DB" backorder_po_link "$BUILD/i18n-install.log" --without-demo=all

new_pot="$BUILD/backorder_po_link.pot"
log="$BUILD/i18n-export.log"
say "exporting the terms of backorder_po_link from $DB"
rm -f "$new_pot"
if ! "${ODOO_BIN[@]}" -c "$BUILD/$DB.conf" -d "$DB" --stop-after-init \
    --i18n-export="$new_pot" --modules=backorder_po_link --log-level=info \
    >"$log" 2>&1 || [ ! -s "$new_pot" ]; then
  tail -n 40 "$log" >&2
  die "exporting the terms failed"
fi
if grep -E '^[0-9-]+ [0-9:,]+ [0-9]+ (WARNING|ERROR|CRITICAL) ' "$log" >&2; then
  die "the export log has the WARNING/ERROR lines above"
fi

# Keep the committed .pot when only its dates would change.
if "$VENV/bin/python" - "$POT" "$new_pot" <<'PY'
import re, sys
def body(path):
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        return None
    return re.sub(r'^"(POT-Creation|PO-Revision)-Date: .*\n', "", text, flags=re.M)
sys.exit(0 if body(sys.argv[1]) == body(sys.argv[2]) else 1)
PY
then
  say "$(basename "$POT") is up to date"
else
  cp "$new_pot" "$POT"
  say "wrote $POT"
fi
say "$(grep -c '^msgid ' "$POT" | awk '{print $1 - 1}') terms in $(basename "$POT")"

shopt -s nullglob
for po in "$I18N"/*.po; do
  if command -v msgmerge >/dev/null; then
    msgmerge --quiet --no-fuzzy-matching -o "$po.tmp" "$po" "$POT"
    msgattrib --no-obsolete -o "$po" "$po.tmp"
    rm -f "$po.tmp"
  else
    "$VENV/bin/python" - "$po" "$POT" <<'PY'
import sys
from babel.messages.pofile import read_po, write_po
po_path, pot_path = sys.argv[1:3]
with open(po_path, "rb") as f:
    catalog = read_po(f)
with open(pot_path, "rb") as f:
    template = read_po(f)
catalog.update(template, no_fuzzy_matching=True)
with open(po_path, "wb") as f:
    write_po(f, catalog, width=79, ignore_obsolete=True)
PY
  fi
  # OCA's po-pretty-format (make lint): entries sorted and wrapped at 78
  # columns as Odoo writes them, no msgstr equal to its msgid (a term spelt
  # the same in the language goes into SAME_AS_SOURCE in tests/test_i18n.py).
  "$VENV/bin/python" - "$po" <<'PY'
import sys
import polib
po = polib.pofile(sys.argv[1], wrapwidth=78)
po.sort(key=lambda entry: entry.msgid)
for entry in po:
    if entry.msgstr == entry.msgid:
        entry.msgstr = ""
with open(sys.argv[1], "w", encoding="utf-8") as f:
    f.write(str(po))
PY
  if command -v msgfmt >/dev/null; then
    msgfmt --check-format --check-header -o /dev/null "$po"
    say "$(basename "$po"): $(msgfmt --statistics -o /dev/null "$po" 2>&1)"
  else
    say "merged $(basename "$po")"
  fi
done
