"""make bench: how much linking adds to confirmations, and how fast a full batch
runs, on generated data at the scale of a large distributor.

Data is generated in SQL by cloning one real, ORM-made order of each kind
(every NOT NULL column filled the way Odoo fills it), so 100,000 backordered
sales lines take seconds to build. Every measurement runs in a transaction that
is rolled back, so each one starts from the same data.

Usage: python bench/bench.py -c ODOO_CONF --db DB [--backorders N ...]
"""

import argparse
import datetime
import gc
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import psycopg2

import odoo
from odoo import SUPERUSER_ID, Command, api
from odoo.modules.registry import Registry
from odoo.tools import SQL

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
HOT_BACKORDERS = 10_000  # candidates of the "hot" product (query-count check)
COLD_BACKORDERS = 10


def progress(label, done, total):
    width = 30
    filled = int(width * done / max(total, 1))
    sys.stdout.write(
        f"\r  {label:<28} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}"
    )
    if done >= total:
        sys.stdout.write("\n")
    sys.stdout.flush()


# ----------------------------------------------------------------------
# Data
# ----------------------------------------------------------------------
def columns(cr, table):
    cr.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
        "AND column_name != 'id' ORDER BY ordinal_position",
        (table,),
    )
    return [r[0] for r in cr.fetchall()]


def clone(cr, table, template_id, source_sql, overrides, params):
    """INSERT INTO table one row per row of ``source_sql`` (aliased s),
    copying the template row t except the ``overrides`` (column -> SQL)."""
    cols = columns(cr, table)
    select = ", ".join(overrides.get(c, f't."{c}"') for c in cols)
    cr.execute(
        f'INSERT INTO "{table}" ({", ".join(f"{chr(34)}{c}{chr(34)}" for c in cols)}) '
        f'SELECT {select} FROM ({source_sql}) s, "{table}" t WHERE t.id = %(tid)s',
        {**params, "tid": template_id},
    )


def generate(registry, n_backorders, n_products, n_customers, n_po_lines, seed=7):
    """Generated data, committed: returns what the measurements need."""
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        cr.execute(
            "SELECT count(*) FROM product_product WHERE default_code LIKE 'BENCH-%%'"
        )
        if cr.fetchone()[0]:
            raise SystemExit("database already holds bench data")
        company = env.ref("base.main_company")
        company.write(
            {
                "backorder_link_on_po_confirm": False,
                "backorder_link_on_so_confirm": False,
            }
        )
        print(
            f"generating: {n_backorders} backordered sales lines, {n_products} products, "
            f"{n_customers} customers, {n_po_lines} open purchase lines"
        )
        vendor = env["res.partner"].create({"name": "Bench Vendor"})
        customers = env["res.partner"].create(
            [{"name": f"Bench Customer {i}"} for i in range(n_customers)]
        )
        progress("customers", n_customers, n_customers)
        products = env["product.product"]
        batch = 500
        for start in range(0, n_products, batch):
            products |= env["product.product"].create(
                [
                    {
                        "name": f"Bench Product {i}",
                        "default_code": f"BENCH-{i:05d}",
                        "type": "consu",
                        "is_storable": True,
                        "seller_ids": [Command.create({"partner_id": vendor.id})],
                    }
                    for i in range(start, min(start + batch, n_products))
                ]
            )
            progress("products", len(products), n_products)
        hot = env["product.product"].create(
            {
                "name": "Bench Hot",
                "default_code": "BENCH-HOT",
                "type": "consu",
                "is_storable": True,
                "seller_ids": [Command.create({"partner_id": vendor.id})],
            }
        )
        cold = env["product.product"].create(
            {
                "name": "Bench Cold",
                "default_code": "BENCH-COLD",
                "type": "consu",
                "is_storable": True,
                "seller_ids": [Command.create({"partner_id": vendor.id})],
            }
        )
        # One real order of each kind, made by the ORM, to clone.
        so = env["sale.order"].create(
            {
                "partner_id": customers[0].id,
                "order_line": [
                    Command.create({"product_id": products[0].id, "product_uom_qty": 1})
                ],
            }
        )
        so.action_confirm()
        po = env["purchase.order"].create(
            {
                "partner_id": vendor.id,
                "order_line": [
                    Command.create({"product_id": products[0].id, "product_qty": 1})
                ],
            }
        )
        po.button_confirm()
        env.flush_all()
        so_line, move = so.order_line, so.order_line.move_ids
        po_line = po.order_line
        cr.execute(
            "SELECT id FROM product_product WHERE default_code LIKE 'BENCH-%%' "
            "AND default_code NOT IN ('BENCH-HOT', 'BENCH-COLD') ORDER BY id"
        )
        product_ids = [r[0] for r in cr.fetchall()]
        params = {
            "products": product_ids,
            "customers": customers.ids,
            "hot": hot.id,
            "cold": cold.id,
            "now": datetime.datetime.now(),
        }
        lines_per_order = 4
        # Demand: the regular lines, then HOT_BACKORDERS lines of the hot
        # product and COLD_BACKORDERS of the cold one.
        # The query-count check needs 10,000 candidates of one product; a
        # small scale keeps the same share of its demand on it as 100k does.
        hot_n = (
            HOT_BACKORDERS
            if n_backorders >= 10 * HOT_BACKORDERS
            else n_backorders // 10
        )
        specials = hot_n + COLD_BACKORDERS
        regular = max(n_backorders - specials, 0)
        n_orders = (regular + specials + lines_per_order - 1) // lines_per_order
        cr.execute(
            "CREATE TEMP TABLE bench_so AS SELECT g AS n FROM generate_series(1, %s) g",
            (n_orders,),
        )
        clone(
            cr,
            "sale_order",
            so.id,
            "SELECT n FROM bench_so",
            {
                "name": "'BSO' || lpad(s.n::text, 7, '0')",
                "partner_id": "(%(customers)s::int[])[1 + s.n %% array_length(%(customers)s::int[], 1)]",
                "partner_invoice_id": "(%(customers)s::int[])[1 + s.n %% array_length(%(customers)s::int[], 1)]",
                "partner_shipping_id": "(%(customers)s::int[])[1 + s.n %% array_length(%(customers)s::int[], 1)]",
                "date_order": "%(now)s::timestamp - ((%(norders)s - s.n) * interval '1 minute')",
            },
            {**params, "norders": n_orders},
        )
        cr.execute("SELECT id FROM sale_order WHERE name LIKE 'BSO%%' ORDER BY id")
        order_ids = [r[0] for r in cr.fetchall()]
        progress("sales orders", len(order_ids), n_orders)
        cr.execute(
            """
            CREATE TEMP TABLE bench_sol AS
            SELECT row_number() OVER () AS n, o.id AS order_id, k AS seq,
                   CASE WHEN (row_number() OVER ()) <= %(regular)s
                        THEN (%(products)s::int[])[1 + (hashint4(row_number() OVER ()::int) & 2147483647) %% array_length(%(products)s::int[], 1)]
                        WHEN (row_number() OVER ()) <= %(regular)s + %(hot_n)s THEN %(hot)s
                        ELSE %(cold)s END AS product_id,
                   1 + (hashint4(o.id * 7 + k) & 2147483647) %% 5 AS qty
              FROM unnest(%(orders)s::int[]) AS o(id), generate_series(1, %(lpo)s) k
             LIMIT %(total)s
            """,
            {
                **params,
                "regular": regular,
                "hot_n": hot_n,
                "orders": order_ids,
                "lpo": lines_per_order,
                "total": regular + specials,
            },
        )
        clone(
            cr,
            "sale_order_line",
            so_line.id,
            "SELECT * FROM bench_sol",
            {
                "order_id": "s.order_id",
                "product_id": "s.product_id",
                "sequence": "s.seq * 10",
                "product_uom_qty": "s.qty",
                "qty_delivered": "0",
                "qty_to_invoice": "s.qty",
                "backorder_linked_qty": "0",
                "name": "'Bench line ' || s.n",
            },
            params,
        )
        cr.execute(
            "CREATE TEMP TABLE bench_sol_ids AS SELECT sol.id, sol.product_id, "
            "sol.product_uom_qty AS qty, sol.order_id FROM sale_order_line sol "
            "JOIN sale_order so ON so.id = sol.order_id WHERE so.name LIKE 'BSO%%'"
        )
        clone(
            cr,
            "stock_move",
            move.id,
            "SELECT * FROM bench_sol_ids",
            {
                "sale_line_id": "s.id",
                "product_id": "s.product_id",
                "product_uom_qty": "s.qty",
                "product_qty": "s.qty",
                "quantity": "0",
                "state": "'confirmed'",
                "picking_id": "NULL",
                "group_id": "NULL",
                "reference": "'BENCH'",
                "origin": "'BENCH'",
            },
            params,
        )
        progress("backordered lines + moves", regular + specials, n_backorders)
        # Supply: purchase lines spread over the products, 5 per order.
        n_pos = (n_po_lines + 4) // 5
        cr.execute(
            "CREATE TEMP TABLE bench_po AS SELECT g AS n FROM generate_series(1, %s) g",
            (n_pos,),
        )
        clone(
            cr,
            "purchase_order",
            po.id,
            "SELECT n FROM bench_po",
            {
                "name": "'BPO' || lpad(s.n::text, 7, '0')",
                "date_order": "%(now)s::timestamp - (s.n * interval '1 minute')",
            },
            params,
        )
        cr.execute("SELECT id FROM purchase_order WHERE name LIKE 'BPO%%' ORDER BY id")
        po_ids = [r[0] for r in cr.fetchall()]
        cr.execute(
            """
            CREATE TEMP TABLE bench_pol AS
            SELECT row_number() OVER () AS n, o.id AS order_id,
                   (%(products)s::int[])[1 + (hashint4(o.id * 5 + k) & 2147483647) %% array_length(%(products)s::int[], 1)] AS product_id,
                   10 + (hashint4(o.id * 11 + k) & 2147483647) %% 50 AS qty,
                   %(now)s::timestamp + ((hashint4(o.id + k) & 2147483647) %% 60) * interval '1 day' AS planned
              FROM unnest(%(orders)s::int[]) AS o(id), generate_series(1, 5) k
             LIMIT %(total)s
            """,
            {**params, "orders": po_ids, "total": n_po_lines},
        )
        clone(
            cr,
            "purchase_order_line",
            po_line.id,
            "SELECT * FROM bench_pol",
            {
                "order_id": "s.order_id",
                "product_id": "s.product_id",
                "product_qty": "s.qty",
                "product_uom_qty": "s.qty",
                "qty_received": "0",
                "date_planned": "s.planned",
                "backorder_linked_qty": "0",
                "name": "'Bench PO line ' || s.n",
            },
            params,
        )
        progress("open purchase lines", n_po_lines, n_po_lines)
        cr.execute("ANALYZE")
        env.invalidate_all()
        cr.commit()
        return {
            "products": product_ids,
            "hot": hot.id,
            "cold": cold.id,
            "vendor": vendor.id,
            "customers": customers.ids,
        }


def bench_data(registry):
    with registry.cursor() as cr:
        cr.execute(
            "SELECT id FROM product_product WHERE default_code LIKE 'BENCH-0%%' ORDER BY id"
        )
        products = [r[0] for r in cr.fetchall()]
        cr.execute(
            "SELECT id, default_code FROM product_product WHERE default_code IN ('BENCH-HOT', 'BENCH-COLD')"
        )
        special = {code: pid for pid, code in cr.fetchall()}
        cr.execute("SELECT id FROM res_partner WHERE name = 'Bench Vendor'")
        vendor = cr.fetchone()[0]
        cr.execute(
            "SELECT id FROM res_partner WHERE name LIKE 'Bench Customer %%' ORDER BY id"
        )
        customers = [r[0] for r in cr.fetchall()]
        cr.execute(
            "SELECT count(*) FROM stock_move WHERE reference = 'BENCH' AND state = 'confirmed'"
        )
        backorders = cr.fetchone()[0]
    return {
        "products": products,
        "hot": special["BENCH-HOT"],
        "cold": special["BENCH-COLD"],
        "vendor": vendor,
        "customers": customers,
        "backorders": backorders,
    }


# ----------------------------------------------------------------------
# Measurements
# ----------------------------------------------------------------------
@contextmanager
def rolled_back(registry):
    cr = registry.cursor()
    try:
        yield api.Environment(cr, SUPERUSER_ID, {})
    finally:
        cr.rollback()
        cr.close()


def set_linking(env, on):
    env.ref("base.main_company").write(
        {"backorder_link_on_po_confirm": on, "backorder_link_on_so_confirm": on}
    )
    env.flush_all()


def busiest_products(env, n):
    env.cr.execute(
        "SELECT product_id FROM stock_move WHERE reference = 'BENCH' AND state = 'confirmed' "
        "AND product_id NOT IN (SELECT id FROM product_product WHERE default_code IN "
        "('BENCH-HOT', 'BENCH-COLD')) GROUP BY product_id ORDER BY count(*) DESC LIMIT %s",
        (n,),
    )
    return [r[0] for r in env.cr.fetchall()]


def time_po_confirm(registry, data, linking, n_lines=100):
    with rolled_back(registry) as env:
        set_linking(env, linking)
        products = busiest_products(env, n_lines)
        po = env["purchase.order"].create(
            {
                "partner_id": data["vendor"],
                "order_line": [
                    Command.create({"product_id": p, "product_qty": 20})
                    for p in products
                ],
            }
        )
        env.flush_all()
        gc.collect()  # no collection of the setup's garbage inside the timing
        start = time.perf_counter()
        po.button_confirm()
        env.flush_all()
        env.cr.execute("SET CONSTRAINTS ALL IMMEDIATE")  # what commit would check
        elapsed = time.perf_counter() - start
        links = len(po.order_line.backorder_link_ids)
        floor = time_link_floor(env, po) if links else None
    return elapsed, links, floor


def time_link_floor(env, po):
    """The floor of the linking step: the links just made, inserted again by
    one bare INSERT ... SELECT into a table without keys, indexes or
    triggers."""
    env.cr.execute(
        "CREATE TEMP TABLE bench_link_floor "
        "(LIKE backorder_po_link INCLUDING DEFAULTS) ON COMMIT DROP"
    )
    cols = ", ".join(c for c in columns(env.cr, "backorder_po_link") if c != "id")
    start = time.perf_counter()
    env.cr.execute(
        f"INSERT INTO bench_link_floor ({cols}) SELECT {cols} FROM backorder_po_link "
        "WHERE purchase_order_id = %s",
        (po.id,),
    )
    return time.perf_counter() - start


def time_so_confirm(registry, data, linking, n_lines=20):
    with rolled_back(registry) as env:
        set_linking(env, linking)
        # Products with free supply on order, so that linking has work to do.
        env.cr.execute(
            "SELECT product_id FROM purchase_order_line pol JOIN purchase_order po "
            "ON po.id = pol.order_id WHERE po.name LIKE 'BPO%%' GROUP BY product_id "
            "ORDER BY sum(product_qty) DESC LIMIT %s",
            (n_lines,),
        )
        products = [r[0] for r in env.cr.fetchall()]
        so = env["sale.order"].create(
            {
                "partner_id": data["customers"][0],
                "order_line": [
                    Command.create({"product_id": p, "product_uom_qty": 2})
                    for p in products
                ],
            }
        )
        env.flush_all()
        gc.collect()  # no collection of the setup's garbage inside the timing
        start = time.perf_counter()
        so.action_confirm()
        env.flush_all()
        env.cr.execute("SET CONSTRAINTS ALL IMMEDIATE")  # what commit would check
        elapsed = time.perf_counter() - start
        links = len(so.order_line.backorder_link_ids)
    return elapsed, links


def time_so_priority(registry, data, give, n_lines=20):
    """A 20-line sales order of a priority customer whose products' supply is
    all softly linked already (the batch linked it to older backorders):
    with ``give``, the order takes links from the others."""
    with rolled_back(registry) as env:
        set_linking(env, True)
        company = env.ref("base.main_company")
        company.write(
            {
                "backorder_allocation_order": "priority",
                "backorder_reallocate_to_priority": give,
            }
        )
        products = env["product.product"].browse(busiest_products(env, 5 * n_lines))
        env["backorder.allocator"]._run_batch(products=products)
        env.flush_all()
        env.cr.execute(
            "SELECT product_id FROM purchase_order_line pol"
            " JOIN purchase_order po ON po.id = pol.order_id"
            " WHERE pol.product_id = ANY(%s) AND po.state = 'purchase'"
            " GROUP BY product_id"
            " HAVING SUM(pol.product_qty - pol.backorder_linked_qty) <= 0"
            " AND SUM(pol.backorder_linked_qty) >= 2"
            " ORDER BY product_id LIMIT %s",
            (products.ids, n_lines),
        )
        lines = [r[0] for r in env.cr.fetchall()]
        customer = env["res.partner"].browse(data["customers"][1])
        customer.backorder_priority = 10
        so = env["sale.order"].create(
            {
                "partner_id": customer.id,
                "order_line": [
                    Command.create({"product_id": p, "product_uom_qty": 2})
                    for p in lines
                ],
            }
        )
        env.flush_all()
        gc.collect()
        start = time.perf_counter()
        so.action_confirm()
        env.flush_all()
        env.cr.execute("SET CONSTRAINTS ALL IMMEDIATE")
        elapsed = time.perf_counter() - start
        links = len(so.order_line.backorder_link_ids)
    return elapsed, links, len(lines)


def link_query_count(registry, data, product_key):
    with rolled_back(registry) as env:
        po = env["purchase.order"].create(
            {
                "partner_id": data["vendor"],
                "order_line": [
                    Command.create({"product_id": data[product_key], "product_qty": 5})
                ],
            }
        )
        set_linking(env, False)
        po.button_confirm()
        env.flush_all()
        env.cr.execute(
            "SELECT count(*) FROM stock_move WHERE product_id = %s AND reference = 'BENCH'",
            (data[product_key],),
        )
        candidates = env.cr.fetchone()[0]
        before = env.cr.sql_log_count
        env["backorder.allocator"].sudo()._allocate(
            "po_confirm", purchase_lines=po.order_line
        )
        env.flush_all()
        count = env.cr.sql_log_count - before
    return count, candidates


def run_batch_child(config, db):
    """The batch in a process of its own, for an honest peak memory."""
    out = subprocess.run(
        [sys.executable, __file__, "-c", config, "--db", db, "--child-batch"],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def child_batch(registry):
    with rolled_back(registry) as env:
        # The batch links in companies that link backorders; the data was
        # generated with linking off.
        set_linking(env, True)
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        start = time.perf_counter()
        links = env["backorder.allocator"]._run_batch()
        env.flush_all()
        env.cr.execute("SET CONSTRAINTS ALL IMMEDIATE")  # what commit would check
        elapsed = time.perf_counter() - start
        problems = env["backorder.audit"]._audit()
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "seconds": elapsed,
                "links": len(links),
                "peak_rss_mb": rss,
                "rss_before_mb": rss_before,
                "audit_problems": len(problems),
            }
        )
    )


def time_odoo_reservation(registry, n=2000):
    """Odoo's own reservation pass over n of the same waiting deliveries,
    with stock put in place for them."""
    with rolled_back(registry) as env:
        env.cr.execute(
            "SELECT id FROM stock_move WHERE reference = 'BENCH' AND state = 'confirmed' "
            "ORDER BY id LIMIT %s",
            (n,),
        )
        moves = env["stock.move"].browse([r[0] for r in env.cr.fetchall()])
        stock = env.ref("stock.warehouse0").lot_stock_id
        for product, product_moves in moves.grouped("product_id").items():
            env["stock.quant"]._update_available_quantity(
                product, stock, sum(product_moves.mapped("product_qty"))
            )
        env.flush_all()
        gc.collect()  # no collection of the setup's garbage inside the timing
        start = time.perf_counter()
        moves.with_context(backorder_link_receiving=True)._action_assign()
        env.flush_all()
        env.cr.execute("SET CONSTRAINTS ALL IMMEDIATE")
        elapsed = time.perf_counter() - start
        reserved = sum(1 for m in moves if m.state == "assigned")
    return elapsed, reserved


def time_to_purchase_view(registry):
    with rolled_back(registry) as env:
        env.flush_all()
        gc.collect()  # no collection of the setup's garbage inside the timing
        start = time.perf_counter()
        # The report is a table query (no view): the statement Odoo builds.
        env.cr.execute(
            SQL(
                "SELECT count(*), sum(qty_to_purchase) FROM %s AS report",
                env["backorder.purchase.report"]._table_sql,
            )
        )
        rows, total = env.cr.fetchone()
        elapsed = time.perf_counter() - start
    return elapsed, rows, float(total or 0)


def repeat(fn, n):
    values = [fn() for _i in range(n)]
    return values


def summary(values):
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


# ----------------------------------------------------------------------
# Report
# ----------------------------------------------------------------------
def fmt(s, unit="s", digits=3):
    return f"{s['median']:.{digits}f} {unit} (min {s['min']:.{digits}f}, max {s['max']:.{digits}f})"


def vacuum(db):
    """What autovacuum does on a live database: the measurements roll back
    their work, which leaves dead rows (a rolled-back batch leaves ~100k in
    the link table and its indexes) that a real database would not keep."""
    _name, info = odoo.sql_db.connection_info_for(db)
    cn = psycopg2.connect(**info)
    try:
        cn.autocommit = True
        with cn.cursor() as cr:
            cr.execute(
                "VACUUM ANALYZE backorder_po_link, backorder_po_link_touched, backorder_po_link_check, "
                "sale_order_line, purchase_order_line, stock_move, mail_message"
            )
    finally:
        cn.close()


def measure_scale(config, db, repeats, full):
    vacuum(db)
    registry = Registry(db)
    data = bench_data(registry)
    res = {"backorders": data["backorders"]}
    on, off, links = [], [], 0
    # One pair first, not counted: caches, plans and compiled triggers warm up.
    floors = []
    time_po_confirm(registry, data, False)
    time_po_confirm(registry, data, True)
    for _i in range(repeats):  # alternated, same data
        t_off, _l, _f = time_po_confirm(registry, data, False)
        t_on, links, floor = time_po_confirm(registry, data, True)
        off.append(t_off)
        on.append(t_on)
        if floor is not None:
            floors.append(floor)
    res["po_on"], res["po_off"] = summary(on), summary(off)
    res["po_links"] = links
    res["po_floor"] = summary(floors) if floors else None
    res["po_step_vs_floor"] = (
        (statistics.median(on) - statistics.median(off)) / statistics.median(floors)
        if floors
        else None
    )
    res["po_ratio"] = statistics.median(on) / statistics.median(off)
    vacuum(db)
    batch = run_batch_child(config, db)
    res["batch"] = batch
    vacuum(db)
    if not full:
        return res
    on, off = [], []
    time_so_confirm(registry, data, False)
    time_so_confirm(registry, data, True)
    for _i in range(repeats):
        t_off, _l = time_so_confirm(registry, data, False)
        t_on, links = time_so_confirm(registry, data, True)
        off.append(t_off)
        on.append(t_on)
    res["so_on"], res["so_off"] = summary(on), summary(off)
    res["so_links"] = links
    res["so_ratio"] = statistics.median(on) / statistics.median(off)
    on, off = [], []
    time_so_priority(registry, data, False)
    time_so_priority(registry, data, True)
    for _i in range(max(repeats // 2, 2)):
        t_off, _l, _n = time_so_priority(registry, data, False)
        t_on, links, n_lines = time_so_priority(registry, data, True)
        off.append(t_off)
        on.append(t_on)
    res["give_on"], res["give_off"] = summary(on), summary(off)
    res["give_links"], res["give_lines"] = links, n_lines
    res["give_ratio"] = statistics.median(on) / statistics.median(off)
    res["queries_cold"], res["cand_cold"] = link_query_count(registry, data, "cold")
    res["queries_hot"], res["cand_hot"] = link_query_count(registry, data, "hot")
    odoo_times, reserved = [], 0
    for _i in range(min(max(repeats // 2, 1), 3)):  # ~1 min each
        elapsed, reserved = time_odoo_reservation(registry)
        odoo_times.append(elapsed)
    res["odoo"] = summary(odoo_times)
    res["odoo_reserved"] = reserved
    views = []
    for _i in range(repeats):
        elapsed, rows, total = time_to_purchase_view(registry)
        views.append(elapsed)
    res["view"] = summary(views)
    res["view_rows"], res["view_total"] = rows, total
    return res


def report(main, scales):
    per_backorder_ours = main["batch"]["seconds"] / main["backorders"]
    per_backorder_odoo = main["odoo"]["median"] / 2000
    ratio_vs_odoo = per_backorder_ours / per_backorder_odoo
    lines = [
        f"# backorder_po_link benchmark, {datetime.date.today().isoformat()}",
        "",
        (
            f"Machine: {os.cpu_count()} cores. Data: {main['backorders']} backordered "
            "sales lines (moves waiting for stock), open purchase lines as generated; "
            "medians of repeated runs, min and max beside them."
        ),
        "",
        "| # | measure | figure | goal | met |",
        "|---|---|---|---|---|",
        f"| 1 | confirm a 100-line PO, linking off | {fmt(main['po_off'])} | | |",
        f"| 1 | confirm a 100-line PO, linking on ({main['po_links']} links) | {fmt(main['po_on'])} | | |",
        f"| 1 | ratio on / off | {main['po_ratio']:.2f} x | <= 1.15 x | {'yes' if main['po_ratio'] <= 1.15 else 'NO'} |",
        *(
            [
                f"| 1 | floor: the same {main['po_links']} links by one bare INSERT ... SELECT into a table without keys | {fmt(main['po_floor'], digits=4)} | | |",
                f"| 1 | linking step (on - off) / floor | {main['po_step_vs_floor']:.1f} x | | |",
            ]
            if main.get("po_floor")
            else []
        ),
        f"| 2 | confirm a 20-line SO, linking off | {fmt(main['so_off'])} | | |",
        f"| 2 | confirm a 20-line SO, linking on ({main['so_links']} links) | {fmt(main['so_on'])} | | |",
        f"| 2 | ratio on / off | {main['so_ratio']:.2f} x | <= 1.15 x | {'yes' if main['so_ratio'] <= 1.15 else 'NO'} |",
        f"| 2b | confirm a {main['give_lines']}-line SO of a priority customer, all its supply softly linked, giving supply to priority off | {fmt(main['give_off'])} | | |",
        f"| 2b | the same, giving supply to priority on ({main['give_links']} links taken) | {fmt(main['give_on'])} | | |",
        f"| 2b | ratio on / off | {main['give_ratio']:.2f} x | | |",
        f"| 3 | SQL queries of the linking step, {main['cand_cold']} candidates | {main['queries_cold']} | same | |",
        f"| 3 | SQL queries of the linking step, {main['cand_hot']} candidates | {main['queries_hot']} | same | {'yes' if main['queries_cold'] == main['queries_hot'] else 'NO'} |",
        f"| 4 | batch auto-link over {main['backorders']} backorders | {main['batch']['seconds']:.1f} s, {main['batch']['links']} links | < 30 s | {'yes' if main['batch']['seconds'] < 30 else 'NO'} |",
        f"| 4 | links per second | {main['batch']['links'] / main['batch']['seconds']:.0f} | | |",
        f"| 4 | peak memory of the process | {main['batch']['peak_rss_mb']:.0f} MB | < 1024 MB | {'yes' if main['batch']['peak_rss_mb'] < 1024 else 'NO'} |",
        f"| 4 | audit after the batch | {main['batch']['audit_problems']} problems | 0 | {'yes' if not main['batch']['audit_problems'] else 'NO'} |",
        f"| 4 | Odoo's reservation of 2000 waiting deliveries ({main['odoo_reserved']} reserved) | {fmt(main['odoo'])} | | |",
        f"| 4 | time per backorder, ours / Odoo's | {ratio_vs_odoo:.4f} x | <= 0.05 x | {'yes' if ratio_vs_odoo <= 0.05 else 'NO'} |",
        f"| 5 | Backorders to Purchase over the whole database ({main['view_rows']} rows) | {fmt(main['view'])} | < 1 s | {'yes' if main['view']['median'] < 1 else 'NO'} |",
        "",
        "Scaling (items 1 and 4):",
        "",
        "| backorders | PO confirm on / off | batch seconds | links | seconds per 1000 backorders |",
        "|---|---|---|---|---|",
    ]
    for s in scales:
        lines.append(
            f"| {s['backorders']} | {s['po_ratio']:.2f} x | {s['batch']['seconds']:.2f} | "
            f"{s['batch']['links']} | {1000 * s['batch']['seconds'] / s['backorders']:.3f} |"
        )
    figures = {
        "po_confirm_ratio": round(main["po_ratio"], 3),
        "po_link_floor_seconds": round(main["po_floor"]["median"], 4)
        if main.get("po_floor")
        else None,
        "so_confirm_ratio": round(main["so_ratio"], 3),
        "so_priority_give_ratio": round(main["give_ratio"], 3),
        "so_priority_give_links": main["give_links"],
        "link_queries_10": main["queries_cold"],
        "link_queries_10000": main["queries_hot"],
        "batch_seconds": round(main["batch"]["seconds"], 2),
        "batch_links_per_second": round(
            main["batch"]["links"] / main["batch"]["seconds"]
        ),
        "batch_peak_rss_mb": round(main["batch"]["peak_rss_mb"]),
        "batch_vs_odoo_reservation_ratio": round(ratio_vs_odoo, 5),
        "to_purchase_view_seconds": round(main["view"]["median"], 3),
        "scale": [s["backorders"] for s in scales],
        "batch_seconds_by_scale": [round(s["batch"]["seconds"], 2) for s in scales],
        "po_confirm_ratio_by_scale": [round(s["po_ratio"], 3) for s in scales],
    }
    return "\n".join(lines) + "\n", figures


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("-c", "--config", required=True)
    parser.add_argument("--db", required=True)
    parser.add_argument("--generate", type=int, help="backorders to generate into --db")
    parser.add_argument("--products", type=int, default=2000)
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--po-lines", type=int, default=10000)
    parser.add_argument("--scale-dbs", nargs="*", default=[])
    parser.add_argument("--repeats", type=int, default=11)
    parser.add_argument("--child-batch", action="store_true")
    args = parser.parse_args()
    odoo.tools.config.parse_config(["-c", args.config, "--log-level=warn"])
    if args.child_batch:
        child_batch(Registry(args.db))
        return 0
    if args.generate:
        start = time.perf_counter()
        generate(
            Registry(args.db),
            args.generate,
            args.products,
            args.customers,
            args.po_lines,
        )
        print(f"generated in {time.perf_counter() - start:.1f} s")
        return 0
    print(f"measuring on {args.db} ...")
    main_res = measure_scale(args.config, args.db, args.repeats, full=True)
    scales = []
    for db in args.scale_dbs:
        print(f"measuring scale on {db} ...")
        scales.append(
            measure_scale(args.config, db, max(args.repeats // 2, 2), full=False)
        )
    scales.append(main_res)
    scales.sort(key=lambda s: s["backorders"])
    table, figures = report(main_res, scales)
    print()
    print(table)
    RESULTS.mkdir(exist_ok=True)
    # Figures of Odoo 19.0 (tools/bench.sh passes ODOO_SERIES) beside 18.0's.
    series = os.environ.get("ODOO_SERIES", "18.0")
    suffix = "" if series == "18.0" else f"-{series}"
    md = RESULTS / f"{datetime.date.today().isoformat()}{suffix}.md"
    md.write_text(table)
    (RESULTS / f"latest{suffix}.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(f"written to {md} and latest{suffix}.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
