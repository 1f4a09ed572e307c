"""make load: concurrent confirmations must never promise the same goods twice.

Eight worker threads, each with its own database connection, run a shuffled
list of operations on a few products: confirm sales orders and purchase orders,
cancel some, receive some. Each operation is one transaction, retried like
Odoo's request layer does on serialization failures and deadlocks. Commits are
logged in order. Then:

- the invariant audit must find nothing;
- the same committed operations are replayed one at a time, in commit order,
  on a second database holding the same starting data, and the totals (per
  product: quantity linked and awaiting receipt, quantity received) must
  match.

The run fails unless it committed at least one operation of each kind
(sales confirmation, PO confirmation, cancellation, receipt), so a short run
(--ops) still mixes them all.

Usage: python tools/load_test.py -c ODOO_CONF --db DB --replay-db DB2 [--ops N]
"""

import argparse
import logging
import random
import sys
import threading
import time
import traceback
from collections import Counter, defaultdict
from functools import partial

from psycopg2 import errors as pg_errors

import odoo
from odoo import SUPERUSER_ID, Command, api
from odoo.exceptions import ValidationError
from odoo.modules.registry import Registry
from odoo.service.model import PG_CONCURRENCY_EXCEPTIONS_TO_RETRY as CONCURRENCY_ERRORS
from odoo.service.model import retrying


def setup(registry, n_products):
    """Starting data, committed: products with a vendor, customers, switches."""
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        env.ref("base.main_company").write(
            {"backorder_link_on_po_confirm": True, "backorder_link_on_so_confirm": True}
        )
        vendor = env["res.partner"].create({"name": "Load Vendor"})
        customers = env["res.partner"].create(
            [{"name": f"Load Customer {i}"} for i in range(5)]
        )
        products = env["product.product"].create(
            [
                {
                    "name": f"Load Product {i}",
                    "default_code": f"LOAD-{i}",
                    "type": "consu",
                    "is_storable": True,
                    "seller_ids": [Command.create({"partner_id": vendor.id})],
                }
                for i in range(n_products)
            ]
        )
        return {
            "vendor": vendor.id,
            "customers": customers.ids,
            "products": dict(
                zip(products.mapped("default_code"), products.ids, strict=True)
            ),
        }


# The four kinds of operation a run must mix, and the operations of each.
KINDS = {
    "sales confirmations": ("so",),
    "PO confirmations": ("po",),
    "cancellations": ("cancel_so", "cancel_po"),
    "receipts": ("receive_po",),
}


def count_kinds(ops, indexes):
    """How many of the operations at indexes are of each of KINDS."""
    counts = Counter(ops[index][0] for index in indexes)
    return {kind: sum(counts[op] for op in names) for kind, names in KINDS.items()}


def format_kinds(counts):
    return ", ".join(f"{n} {kind}" for kind, n in counts.items())


def make_operations(n_ops, n_products, seed):
    """Creations first in the list, then a shuffle with cancels and receipts
    that name the order they act on by the index of the creating operation."""
    rnd = random.Random(seed)
    ops = []
    for _i in range(n_ops):
        roll = rnd.random()
        product = f"LOAD-{rnd.randrange(n_products)}"
        creates = [k for k, op in enumerate(ops) if op[0] in ("so", "po")]
        if roll < 0.45 or not creates:
            ops.append(("so", product, rnd.randint(1, 6), rnd.randrange(5)))
        elif roll < 0.80:
            ops.append(("po", product, rnd.randint(2, 12)))
        else:
            target = rnd.choice(creates)
            kind = ops[target][0]
            if kind == "so":
                ops.append(("cancel_so", target))
            else:
                ops.append(rnd.choice([("cancel_po", target), ("receive_po", target)]))
    return ops


# Odoo's stock.picking.button_validate subscribes the user to the transfer
# before validating it: two workers that validate the same receipt at once
# both insert that follower, and the second one's unique key violation comes
# back from Odoo's retry loop as a ValidationError (not retried; Odoo shows it
# to the second user). A race of Odoo's, not of the links: the operation did
# not happen, as with a give-up, and the replay reflects that.
FOLLOWER_KEY = "mail_followers_mail_followers_res_partner_res_model_id_uniq"


def refused_by_odoo(op, exc):
    """Whether exc is the follower race above on a receipt."""
    cause = exc.__cause__
    return (
        op[0] == "receive_po"
        and isinstance(exc, ValidationError)
        and isinstance(cause, pg_errors.UniqueViolation)
        and cause.diag.constraint_name == FOLLOWER_KEY
    )


def run_op(env, op, data, created):
    """One operation; returns the id of the order it created, if any, or
    None when it had nothing to act on (its target is missing or done)."""
    kind = op[0]
    if kind == "so":
        _kind, product, qty, customer = op
        order = env["sale.order"].create(
            {
                "partner_id": data["customers"][customer],
                "order_line": [
                    Command.create(
                        {
                            "product_id": data["products"][product],
                            "product_uom_qty": qty,
                        }
                    )
                ],
            }
        )
        order.action_confirm()
        return order.id
    if kind == "po":
        _kind, product, qty = op
        order = env["purchase.order"].create(
            {
                "partner_id": data["vendor"],
                "order_line": [
                    Command.create(
                        {"product_id": data["products"][product], "product_qty": qty}
                    )
                ],
            }
        )
        order.button_confirm()
        return order.id
    target = created.get(op[1])
    if target is None:
        return None
    if kind == "cancel_so":
        order = env["sale.order"].browse(target)
        if order.state != "sale":
            return None
        order._action_cancel()
        return target
    order = env["purchase.order"].browse(target)
    if order.state != "purchase":
        return None
    pickings = order.picking_ids.filtered(lambda p: p.state not in ("done", "cancel"))
    if kind == "cancel_po":
        if order.picking_ids.filtered(lambda p: p.state == "done"):
            return None
        order.button_cancel()
        return target
    if not pickings:
        return None
    pickings.move_ids.picked = True
    pickings.with_context(cancel_backorder=True).button_validate()
    return target


class Runner:
    def __init__(self, registry, data, ops):
        self.registry = registry
        self.data = data
        self.ops = ops
        self.queue = list(range(len(ops)))
        self.lock = threading.Lock()
        self.commit_lock = threading.Lock()
        self.created = {}  # op index -> order id
        self.log = []  # op indexes, in commit order
        self.tries = 0
        self.skipped = 0
        self.gave_up = []
        self.refused = []  # refused_by_odoo
        self.failures = []

    def next_op(self):
        with self.lock:
            return self.queue.pop(0) if self.queue else None

    def worker(self):
        while (index := self.next_op()) is not None:
            op = self.ops[index]
            with self.registry.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                try:
                    # Odoo's own retry loop of the request layer: rollback,
                    # random back-off, up to 5 tries.
                    retrying(partial(self.attempt, env, index, op), env)
                except CONCURRENCY_ERRORS:
                    # Odoo would show the user an error after 5 tries: the
                    # operation did not happen, which the replay reflects.
                    with self.lock:
                        self.gave_up.append((index, op))
                except ValidationError as exc:
                    with self.lock:
                        if refused_by_odoo(op, exc):
                            self.refused.append((index, op))
                        else:
                            self.failures.append(
                                (index, op, repr(exc), traceback.format_exc())
                            )
                except Exception as exc:  # noqa: BLE001 - reported below
                    with self.lock:
                        self.failures.append(
                            (index, op, repr(exc), traceback.format_exc())
                        )

    def attempt(self, env, index, op):
        with self.lock:
            self.tries += 1
            created = dict(self.created)
        result = run_op(env, op, self.data, created)
        env.flush_all()
        # Commit here, under a lock, so that the log holds the commit order.
        with self.commit_lock:
            env.cr.commit()
            with self.lock:
                if result is None:
                    self.skipped += 1
                    return
                if op[0] in ("so", "po"):
                    self.created[index] = result
                self.log.append(index)

    def run(self, workers):
        threads = [threading.Thread(target=self.worker) for _i in range(workers)]
        start = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return time.monotonic() - start


def replay(registry, data, ops, log):
    created = {}
    for index in log:
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            result = run_op(env, ops[index], data, created)
            if result is None:
                raise AssertionError(
                    f"replay: operation {index} {ops[index]} found nothing"
                )
            if ops[index][0] in ("so", "po"):
                created[index] = result


def totals(registry):
    with registry.cursor() as cr:
        cr.execute(
            """
            SELECT pp.default_code, l.state, ROUND(SUM(l.quantity)::numeric, 3)
              FROM backorder_po_link l
              JOIN product_product pp ON pp.id = l.product_id
             WHERE l.state IN ('linked', 'received')
          GROUP BY pp.default_code, l.state
            """
        )
        result = defaultdict(dict)
        for code, state, qty in cr.fetchall():
            result[code][state] = float(qty)
        env = api.Environment(cr, SUPERUSER_ID, {})
        problems = env["backorder.audit"]._audit()
        links = env["backorder.po.link"].search_count([])
    return dict(result), problems, links


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("-c", "--config", required=True)
    parser.add_argument("--db", required=True)
    parser.add_argument("--replay-db", required=True)
    parser.add_argument("--ops", type=int, default=400)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--products", type=int, default=3)
    parser.add_argument("--seed", type=int, default=21)
    args = parser.parse_args()
    odoo.tools.config.parse_config(["-c", args.config, "--log-level=warn"])
    # Serialization failures are expected here and retried: Odoo logs each
    # failed statement, which would drown the figures.
    logging.getLogger("odoo.sql_db").setLevel(logging.CRITICAL)

    registry = Registry(args.db)
    data = setup(registry, args.products)
    replay_registry = Registry(args.replay_db)
    replay_data = setup(replay_registry, args.products)

    ops = make_operations(args.ops, args.products, args.seed)
    runner = Runner(registry, data, ops)
    print(
        f"load: {len(ops)} operations on {args.products} products, "
        f"{args.workers} workers: "
        f"{format_kinds(count_kinds(ops, range(len(ops))))}"
    )
    seconds = runner.run(args.workers)
    done = len(runner.log)
    print(
        f"load: {done} committed, {runner.skipped} with nothing to act on, "
        f"{runner.tries - len(ops)} retries, "
        f"{len(runner.gave_up)} gave up after 5 tries "
        f"(as Odoo would), {len(runner.refused)} receipts refused by Odoo "
        f"(validated twice at once), {len(runner.failures)} failures, "
        f"{seconds:.1f} s, {done / seconds:.1f} operations/s"
    )
    committed = count_kinds(ops, runner.log)
    print(f"load: committed {format_kinds(committed)}")
    missing = [kind for kind, n in committed.items() if not n]
    if missing:
        print(f"load: FAILED, no {' and no '.join(missing)} committed: raise --ops")
    for index, op, error, _trace in runner.failures[:10]:
        print("  FAILED", index, op, error)
    if runner.failures:
        print("  the first failure's traceback:")
        print("    " + runner.failures[0][3].rstrip().replace("\n", "\n    "))

    start = time.monotonic()
    replay(replay_registry, replay_data, ops, runner.log)
    print(
        f"replay: {done} operations one at a time in {time.monotonic() - start:.1f} s"
    )

    got, problems, links = totals(registry)
    want, replay_problems, _ = totals(replay_registry)
    print(f"audit (concurrent run): {links} links, {len(problems)} problem(s)")
    for check, detail in problems[:20]:
        print("  AUDIT FAIL", check, detail)
    print(f"audit (replay): {len(replay_problems)} problem(s)")
    print(
        f"{'product':<10} {'linked':>12} {'received':>12} "
        f"{'replay linked':>14} {'replay recv':>12}"
    )
    for code in sorted(set(got) | set(want)):
        g, w = got.get(code, {}), want.get(code, {})
        print(
            f"{code:<10} {g.get('linked', 0):>12} {g.get('received', 0):>12} "
            f"{w.get('linked', 0):>14} {w.get('received', 0):>12}"
        )
    ok = (
        not runner.failures
        and not missing
        and not problems
        and not replay_problems
        and got == want
    )
    print(
        f"load: {len(ops)} operations, {done} committed, "
        f"{runner.tries - len(ops)} retries, {len(runner.gave_up)} give-ups, "
        f"{len(runner.refused)} refused, {len(runner.failures)} failures; "
        f"audit {len(problems)} problem(s), "
        f"replay totals {'match' if got == want else 'DIFFER'}"
    )
    print("load: PASSED" if ok else "load: FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
