# backorder_po_link: developer commands. See README.md.
SHELL := /bin/bash
# ODOO_SERIES=19.0 runs any command below against Odoo 19.0 (its own source in
# ~/.cache/odoo/19.0, venv .venv-19.0, build folder .build/19.0, databases
# *_19); the default is 18.0. ODOO_SRC points at another source tree.
export ODOO_SERIES ?= 18.0

.PHONY: help venv demo demo-reset test test-bootstrap test-core test-core-baseline lint wheel audit load bench i18n layout clean

help:
	@echo "(any of them with ODOO_SERIES=19.0 runs against Odoo 19.0; the default is 18.0)"
	@echo "make demo                 serve Odoo with the addon and demo data on http://localhost:8069"
	@echo "make demo-reset           rebuild the demo database, then serve it"
	@echo "make test                 the whole test suite on a fresh database"
	@echo "make test-bootstrap       tools/bootstrap.sh never removes a user's files (part of make test)"
	@echo "make test-core            Odoo's sale_stock/purchase_stock/sale_purchase_stock/stock_dropshipping/"
	@echo "                          sale_mrp/purchase_mrp tests with the addon and every automation on"
	@echo "make test-core-baseline   the same tests without the addon: writes tools/core-baseline-failures.txt"
	@echo "make lint                 OCA checks: ruff, pylint-odoo, XML/manifest checks, prettier (FIX=1 fixes)"
	@echo "make wheel                build both addons' wheels (odoo-addon-backorder_po_link and"
	@echo "                          odoo-addon-backorder_po_link_queue) into .build/dist, try them on a throwaway db"
	@echo "make audit DB=name        check every backorder link invariant on a database"
	@echo "make load                 8 concurrent workers confirm, cancel and receive; audit and replay"
	@echo "make bench                benchmark at 100k backorders (and 10k, 50k): writes bench/results/"
	@echo "make layout               each file of the addons, its line count and what it owns"
	@echo "make i18n                 export both addons' i18n/<addon>.pot and merge their .po files"

venv:
	@bash tools/bootstrap.sh

demo:
	@bash tools/demo.sh

demo-reset:
	@bash tools/demo.sh --reset

test:
	@bash tools/test.sh

test-bootstrap:
	@bash tools/test_bootstrap.sh

test-core:
	@bash tools/test_core.sh

test-core-baseline:
	@bash tools/test_core.sh --baseline

lint:
	@bash tools/lint.sh

wheel:
	@bash tools/wheel.sh

audit:
	@test -n "$(DB)" || { echo "usage: make audit DB=<database>"; exit 2; }
	@bash tools/audit.sh "$(DB)"

load:
	@bash tools/load.sh

bench:
	@bash tools/bench.sh

i18n:
	@bash tools/i18n.sh

layout:
	@python3 tools/layout.py

clean:
	rm -rf .build .coverage .coverage.*
