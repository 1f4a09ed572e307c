#!/usr/bin/env bash
# make wheel: build each addon's wheel (odoo-addon-<addon>, with whool as OCA
# does) for the series of the Odoo it runs against (ODOO_SERIES: 18.0.* or
# 19.0.* wheels, in .build/dist or .build/19.0/dist), check their metadata and
# content, then prove the wheels work: install both with pip into a folder of
# their own and install the addons from there (not from this checkout) into a
# throwaway database, with OCA queue_job from the venv, where
# tools/bootstrap.sh puts it.
#
# The manifests carry a version without a series ("1.0.0"), which both Odoo
# series accept and prefix with their own; whool needs the series in it. So
# each addon is built from a copy of the files git tracks (what whool would
# pack) whose manifest says "<series>.1.0.0", as Odoo itself reads it.
set -euo pipefail
source "$(dirname "$0")/common.sh"
bash "$here/tools/bootstrap.sh"
addons=(backorder_po_link backorder_po_link_queue)
dist="$BUILD/dist"
rm -rf "$dist" && mkdir -p "$dist"
wheels=()  # the wheel files, in the order of addons
stage="$BUILD/wheel-src"
rm -rf "$stage" && mkdir -p "$stage"
for addon in "${addons[@]}"; do
  say "building the $ODOO_SERIES wheel of $addon"
  (cd "$here" && git ls-files -z --cached -- "$addon" | xargs -0 cp --parents -t "$stage")
  sed -i -E "s/^(    \"version\": \")([0-9]+\.[0-9]+\.[0-9]+\",)$/\1$ODOO_SERIES.\2/" \
    "$stage/$addon/__manifest__.py"
  grep -q "\"version\": \"$ODOO_SERIES\." "$stage/$addon/__manifest__.py" \
    || die "$addon/__manifest__.py: the version must be x.y.z, without a series"
  # The copy lies inside this checkout (.build, ignored): git must not find
  # the checkout from there, or whool would ask it which files to pack.
  GIT_CEILING_DIRECTORIES="$stage" \
    "$VENV/bin/python" -m build --wheel --no-isolation --outdir "$dist" "$stage/$addon" \
    >"$BUILD/wheel-$addon.log" 2>&1 || { tail -n 30 "$BUILD/wheel-$addon.log" >&2; die "build failed"; }
  wheel="$(ls "$dist"/odoo_addon_"$addon"-*.whl)"
  wheels+=("$wheel")
  say "built $(basename "$wheel")"
done

# Metadata and content. whool packs the files git tracks only: a file the
# manifest loads but nobody `git add`ed is missing from the wheel, not from
# this checkout, so each wheel is checked against the manifest.
pairs=()
for i in "${!addons[@]}"; do pairs+=("${addons[$i]}=${wheels[$i]}"); done
"$VENV/bin/python" - "$here" "$ODOO_SERIES" "${pairs[@]}" <<'PY'
import ast, sys, zipfile
from pathlib import Path
from packaging.requirements import Requirement

here = Path(sys.argv[1])
series = sys.argv[2]
# What whool derives from each manifest's depends: Odoo itself, plus one
# odoo-addon-<name> of the same series per depend that is not an Odoo core
# addon (sale_stock and purchase_stock come with the odoo distribution).
requires = {
    "backorder_po_link": {"odoo"},
    "backorder_po_link_queue": {
        "odoo", "odoo-addon-backorder_po_link", "odoo-addon-queue_job",
    },
}
for addon, path in (pair.split("=", 1) for pair in sys.argv[3:]):
    wheel = zipfile.ZipFile(path)
    names = set(wheel.namelist())
    meta = wheel.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    fields = [line.split(": ", 1) for line in meta.splitlines() if ": " in line]
    name = next(v for k, v in fields if k == "Name")
    assert name == f"odoo-addon-{addon}", f"{path}: Name {name}"
    reqs = [Requirement(v) for k, v in fields if k == "Requires-Dist"]
    assert {r.name for r in reqs} == requires[addon], f"{addon}: Requires-Dist {reqs}"
    assert all(str(r.specifier) == f"=={series}.*" for r in reqs), f"{addon}: Requires-Dist {reqs}"
    version = next(v for k, v in fields if k == "Version")
    assert version.startswith(f"{series}."), f"{addon}: Version {version}"
    src = here / addon
    manifest = ast.literal_eval((src / "__manifest__.py").read_text())
    needed = {"__init__.py", "__manifest__.py", "README.rst",
              "static/description/index.html", "static/description/icon.png",
              *manifest.get("data", []), *manifest.get("demo", [])}
    needed |= {str(p.relative_to(src)) for p in (src / "i18n").glob("*.po*")}
    needed |= {str(p.relative_to(src)) for p in src.rglob("*.py")}
    missing = sorted(n for n in needed if f"odoo/addons/{addon}/{n}" not in names)
    assert not missing, (f"{addon}: not in the wheel (whool packs the files git "
                         f"tracks: git add them): {missing}")
    print(f"[wheel] {Path(path).name}: {len(names)} files ({len(needed)} checked)",
          *[f"{k}: {v}" for k, v in fields if k in ("Name", "Version", "Requires-Dist")],
          sep="\n  ")
PY

site="$BUILD/wheel-site"
rm -rf "$site"
"$VENV/bin/pip" install --quiet --no-deps --target "$site" "${wheels[@]}"
queue_job="$(queue_job_addons)"
db="${WHEEL_DB:-$(series_db backorder_wheel)}"
fresh_db "$db" no "sale_stock,purchase_stock"
ADDONS_PATH="$ODOO_SRC/addons,$ODOO_SRC/odoo/addons,$queue_job,$site/odoo/addons"
odoo_install "$db" "$(IFS=,; echo "${addons[*]}")" "$BUILD/wheel-install.log" "$NO_DEMO"

# Where the Python code of each installed addon was imported from.
check_log="$BUILD/wheel-check.log"
"${ODOO_BIN[@]}" shell -c "$BUILD/$db.conf" -d "$db" --log-level=warn >"$check_log" 2>&1 <<'PY' || true
import sys
for mod in env["ir.module.module"].search([("state", "=", "installed")]):
    package = sys.modules.get(f"odoo.addons.{mod.name}")
    print("LOADED", mod.name, package and package.__path__[0])
PY
for addon in "${addons[@]}" queue_job; do
  where="$(grep "^LOADED $addon " "$check_log" | cut -d' ' -f3)" || true
  expected="$site/odoo/addons/$addon"
  [ "$addon" = queue_job ] && expected="$queue_job/queue_job"
  [ "$where" = "$expected" ] || { tail -n 20 "$check_log" >&2;
    die "$addon is not installed from $expected (loaded from: ${where:-nowhere})"; }
  say "Odoo loaded $addon from $where"
done
drop_db "$db"
say "both wheels install with pip and both addons install from them into Odoo"
