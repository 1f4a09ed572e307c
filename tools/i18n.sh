#!/usr/bin/env bash
# make i18n: install both addons (and OCA queue_job, which
# backorder_po_link_queue needs) into a throwaway database without demo data,
# export each addon's translatable terms with Odoo into <addon>/i18n/<addon>.pot,
# then merge every <addon>/i18n/*.po with it (msgmerge when gettext is
# installed, else babel), keeping existing translations. Every language of
# backorder_po_link is kept in each addon: a missing .po starts from the .pot.
# New terms come out untranslated: translate them, then run the tests
# <addon>/tests/test_i18n.py.
set -euo pipefail
source "$(dirname "$0")/common.sh"
DB="${I18N_DB:-bopl_i18n}"
addons=(backorder_po_link backorder_po_link_queue)
ADDONS_PATH="$ADDONS_PATH,$(queue_job_addons)"

fresh_db "$DB" no "sale_stock,purchase_stock"
odoo_install "$DB" "queue_job,$(IFS=,; echo "${addons[*]}")" "$BUILD/i18n-install.log" \
  "$NO_DEMO"

# export_pot ADDON: write ADDON/i18n/ADDON.pot from the database, keeping the
# committed one when only its dates would change.
export_pot() {
  local addon="$1" pot="$here/$1/i18n/$1.pot" new_pot="$BUILD/$1.pot"
  local log="$BUILD/i18n-export-$1.log"
  mkdir -p "$here/$addon/i18n"
  say "exporting the terms of $addon from $DB"
  rm -f "$new_pot"
  if ! "${ODOO_BIN[@]}" -c "$BUILD/$DB.conf" -d "$DB" --stop-after-init \
      --i18n-export="$new_pot" --modules="$addon" --log-level=info \
      >"$log" 2>&1 || [ ! -s "$new_pot" ]; then
    tail -n 40 "$log" >&2
    die "exporting the terms of $addon failed"
  fi
  if grep -E '^[0-9-]+ [0-9:,]+ [0-9]+ (WARNING|ERROR|CRITICAL) ' "$log" >&2; then
    die "the export log of $addon has the WARNING/ERROR lines above"
  fi
  if "$VENV/bin/python" - "$pot" "$new_pot" <<'PY'
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
    say "$(basename "$pot") is up to date"
  else
    cp "$new_pot" "$pot"
    say "wrote $pot"
  fi
  say "$(grep -c '^msgid ' "$pot" | awk '{print $1 - 1}') terms in $(basename "$pot")"
}

# new_po PO POT LIKE: start PO from POT, with the language headers of LIKE
# (the same language's .po of backorder_po_link).
new_po() {
  say "starting $1 from $(basename "$2")"
  "$VENV/bin/python" - "$@" <<'PY'
import sys
import polib
po_path, pot_path, like_path = sys.argv[1:4]
po = polib.pofile(pot_path, wrapwidth=78)
like = polib.pofile(like_path)
for key in ("Language-Team", "Language", "Plural-Forms"):
    po.metadata[key] = like.metadata[key]
po.save(po_path)
PY
}

# merge_po PO POT: bring PO in line with POT, keeping its translations.
merge_po() {
  local po="$1" pot="$2"
  if command -v msgmerge >/dev/null; then
    msgmerge --quiet --no-fuzzy-matching -o "$po.tmp" "$po" "$pot"
    msgattrib --no-obsolete -o "$po" "$po.tmp"
    rm -f "$po.tmp"
  else
    "$VENV/bin/python" - "$po" "$pot" <<'PY'
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
    say "${po#"$here"/}: $(msgfmt --statistics -o /dev/null "$po" 2>&1)"
  else
    say "merged ${po#"$here"/}"
  fi
}

shopt -s nullglob
main_i18n="$here/${addons[0]}/i18n"
for addon in "${addons[@]}"; do
  export_pot "$addon"
  pot="$here/$addon/i18n/$addon.pot"
  for like in "$main_i18n"/*.po; do
    po="$here/$addon/i18n/$(basename "$like")"
    [ -f "$po" ] || new_po "$po" "$pot" "$like"
  done
  for po in "$here/$addon/i18n"/*.po; do
    merge_po "$po" "$pot"
  done
done
