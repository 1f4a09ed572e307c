# Copyright 2026 backorder_po_link contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import threading
import time

import psycopg2
from psycopg2 import errors as pg_errors

from odoo import SUPERUSER_ID, Command, api
from odoo.modules.registry import Registry
from odoo.sql_db import connection_info_for
from odoo.tests import BaseCase, tagged
from odoo.tests.common import get_db_name
from odoo.tools import mute_logger

from .common import remove_committed_orders


@tagged("post_install", "-at_install")
class TestConcurrentConfirmations(BaseCase):
    """Two real transactions, each with its own database connection, confirm
    purchase orders for the same backorder at the same time. The second one
    waits for the first, then either sees its link or fails with a
    serialization error that Odoo's request layer retries; it never promises
    the same sales line twice."""

    def setUp(self):
        super().setUp()
        self.registry = Registry(get_db_name())
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            company = env.ref("base.main_company")
            self.saved_flags = company.backorder_link_on_po_confirm
            company.backorder_link_on_po_confirm = True
            partner = env["res.partner"].create({"name": "Concurrent Customer"})
            vendor = env["res.partner"].create({"name": "Concurrent Vendor"})
            # The vendor is known already: confirming does not touch the product.
            product = env["product.product"].create(
                {
                    "name": "Concurrent Chair",
                    "type": "consu",
                    "is_storable": True,
                    "seller_ids": [Command.create({"partner_id": vendor.id})],
                }
            )
            so = env["sale.order"].create(
                {
                    "partner_id": partner.id,
                    "order_line": [
                        Command.create({"product_id": product.id, "product_uom_qty": 5})
                    ],
                }
            )
            so.action_confirm()
            pos = env["purchase.order"].create(
                [
                    {
                        "partner_id": vendor.id,
                        "order_line": [
                            Command.create({"product_id": product.id, "product_qty": 5})
                        ],
                    }
                    for _i in range(2)
                ]
            )
            self.so_id, self.po_ids = so.id, pos.ids
            self.product_id = product.id

    def tearDown(self):
        """This test commits: take everything it made away again."""
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env.ref("base.main_company").backorder_link_on_po_confirm = self.saved_flags
            remove_committed_orders(
                env["sale.order"].browse(self.so_id),
                env["purchase.order"].browse(self.po_ids),
                env["product.product"].browse(self.product_id),
            )
        super().tearDown()

    def _confirm_with_retries(self, po_id, started, result):
        """Confirm like an Odoo request: retry on serialization failures."""
        tries = 0
        while True:
            tries += 1
            with self.registry.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                po = env["purchase.order"].browse(po_id)
                # The transaction's snapshot starts with this first read.
                po.read(["state"])
                started.set()
                begin = time.monotonic()
                try:
                    po.button_confirm()
                    env.flush_all()
                    # Real, separate transactions are the point of this test.
                    cr.commit()  # pylint: disable=invalid-commit
                except (
                    pg_errors.SerializationFailure,
                    pg_errors.LockNotAvailable,
                    pg_errors.DeadlockDetected,
                ):
                    cr.rollback()
                    result["retries"] = result.get("retries", 0) + 1
                    if tries > 5:
                        raise
                    continue
                result["waited"] = time.monotonic() - begin
                result["tries"] = tries
                return

    @mute_logger("odoo.sql_db")
    def test_second_confirmation_waits_or_retries_never_double_links(self):
        first_started, second_started = threading.Event(), threading.Event()
        result = {}
        with self.registry.cursor() as cr_a:
            env_a = api.Environment(cr_a, SUPERUSER_ID, {})
            env_a["purchase.order"].browse(self.po_ids[0]).button_confirm()
            env_a.flush_all()
            # A holds the product's lock and its row locks; B starts now.
            thread = threading.Thread(
                target=self._confirm_with_retries,
                args=(self.po_ids[1], second_started, result),
            )
            thread.start()
            self.assertTrue(second_started.wait(30))
            time.sleep(1.0)
            self.assertTrue(thread.is_alive(), "B must wait for A's lock")
            cr_a.commit()  # pylint: disable=invalid-commit
        first_started.set()
        thread.join(60)
        self.assertFalse(thread.is_alive())
        self.assertTrue(
            result.get("retries") or result["waited"] >= 0.9,
            f"the second confirmation neither waited nor retried: {result}",
        )
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            links = env["backorder.po.link"].search(
                [
                    ("sale_order_id", "=", self.so_id),
                    ("state", "in", ("linked", "received")),
                ]
            )
            self.assertEqual(sum(links.mapped("quantity")), 5)
            self.assertEqual(links.purchase_order_id.id, self.po_ids[0])
            pos = env["purchase.order"].browse(self.po_ids)
            self.assertEqual(pos.mapped("state"), ["purchase", "purchase"])
            self.assertEqual(pos[1].order_line.backorder_free_qty, 5)
            self.assertEqual(env["backorder.audit"]._audit(), [])

    @mute_logger("odoo.sql_db")
    def test_allocation_after_a_concurrent_one_retries_with_a_fresh_view(self):
        """B's snapshot predates A's commit: once B gets the product's lock,
        what it reads is stale even on rows A did not touch, so it must fail
        and be retried rather than act on it."""
        with self.registry.cursor() as cr_b:
            env_b = api.Environment(cr_b, SUPERUSER_ID, {})
            env_b["purchase.order"].browse(self.po_ids[1]).read(["state"])
            with self.registry.cursor() as cr_a:
                env_a = api.Environment(cr_a, SUPERUSER_ID, {})
                env_a["backorder.allocator"]._lock_products([self.product_id])
                cr_a.commit()  # pylint: disable=invalid-commit
            with self.assertRaises(pg_errors.SerializationFailure):
                env_b["backorder.allocator"]._lock_products([self.product_id])
            cr_b.rollback()
        with self.registry.cursor() as cr_c:
            # A transaction that starts after A's commit goes through.
            env_c = api.Environment(cr_c, SUPERUSER_ID, {})
            env_c["backorder.allocator"]._lock_products([self.product_id])


@tagged("post_install", "-at_install")
class TestGuardBetweenTransactions(BaseCase):
    """Two raw database connections insert links against the same purchase
    line at the same time, bypassing the ORM and the allocator: the guard of
    the second one waits for the first transaction to end, then refuses the
    over-promise (READ COMMITTED) or fails with a serialization error
    (REPEATABLE READ, Odoo's own cursors). Only one of them commits."""

    def setUp(self):
        super().setUp()
        self.registry = Registry(get_db_name())
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            company = env.ref("base.main_company")
            self.saved_flags = (
                company.backorder_link_on_po_confirm,
                company.backorder_link_on_so_confirm,
            )
            # Nothing links automatically: the raw connections do.
            company.backorder_link_on_po_confirm = False
            company.backorder_link_on_so_confirm = False
            partner = env["res.partner"].create({"name": "Raw Customer"})
            vendor = env["res.partner"].create({"name": "Raw Vendor"})
            product = env["product.product"].create(
                {"name": "Raw Lamp", "type": "consu", "is_storable": True}
            )
            sos = env["sale.order"].create(
                [
                    {
                        "partner_id": partner.id,
                        "order_line": [
                            Command.create(
                                {"product_id": product.id, "product_uom_qty": 4}
                            )
                        ],
                    }
                    for _i in range(2)
                ]
            )
            sos.action_confirm()
            po = env["purchase.order"].create(
                {
                    "partner_id": vendor.id,
                    "order_line": [
                        Command.create({"product_id": product.id, "product_qty": 5})
                    ],
                }
            )
            po.button_confirm()
            self.so_ids, self.po_id = sos.ids, po.id
            self.sale_line_ids = sos.order_line.ids
            self.po_line_id = po.order_line.id
            self.product_id = product.id

    def tearDown(self):
        """This test commits: take everything it made away again."""
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env.ref("base.main_company").write(
                {
                    "backorder_link_on_po_confirm": self.saved_flags[0],
                    "backorder_link_on_so_confirm": self.saved_flags[1],
                }
            )
            remove_committed_orders(
                env["sale.order"].browse(self.so_ids),
                env["purchase.order"].browse(self.po_id),
                env["product.product"].browse(self.product_id),
            )
        super().tearDown()

    def _connect(self, isolation_level):
        connection = psycopg2.connect(**connection_info_for(get_db_name())[1])
        connection.set_session(isolation_level=isolation_level)
        return connection

    @staticmethod
    def _insert_link(cursor, sale_line_id, purchase_line_id, quantity):
        cursor.execute(
            "INSERT INTO backorder_po_link (sale_line_id, purchase_line_id,"
            " quantity, state, origin, date_linked)"
            " VALUES (%s, %s, %s, 'linked', 'manual', now())",
            (sale_line_id, purchase_line_id, quantity),
        )

    def _race(self, isolation_level):
        """A and B each promise 4 of the purchase line's 5 units to their own
        sales line; both checks run before A commits."""
        a, b = self._connect(isolation_level), self._connect(isolation_level)
        outcome = {}

        def check_and_commit_b():
            try:
                with b.cursor() as cr_b:
                    # What commit does first: the deferred guard runs.
                    cr_b.execute(
                        "SET CONSTRAINTS backorder_po_link_check_totals IMMEDIATE"
                    )
                b.commit()
                outcome["b"] = "committed"
            except psycopg2.Error as error:
                b.rollback()
                outcome["b"] = type(error)

        try:
            with a.cursor() as cr_a, b.cursor() as cr_b:
                self._insert_link(cr_a, self.sale_line_ids[0], self.po_line_id, 4)
                cr_a.execute("SET CONSTRAINTS backorder_po_link_check_totals IMMEDIATE")
                # B's snapshot is taken here, before A commits.
                self._insert_link(cr_b, self.sale_line_ids[1], self.po_line_id, 4)
            thread = threading.Thread(target=check_and_commit_b)
            thread.start()
            thread.join(1.0)
            outcome["b_waited"] = thread.is_alive()
            a.commit()
            thread.join(30)
            self.assertFalse(thread.is_alive())
        finally:
            a.close()
            b.close()
        with self.registry.cursor() as cr:
            cr.execute(
                "SELECT COALESCE(SUM(quantity), 0) FROM backorder_po_link"
                " WHERE purchase_line_id = %s AND state IN ('linked', 'received')",
                (self.po_line_id,),
            )
            promised = cr.fetchone()[0]
            # The test's own links go again, so each isolation level starts clean.
            cr.execute(
                "DELETE FROM backorder_po_link WHERE purchase_line_id = %s",
                (self.po_line_id,),
            )
        return outcome, promised

    @mute_logger("odoo.sql_db")
    def test_two_raw_connections_cannot_both_over_promise(self):
        for isolation_level, refusal in (
            ("READ COMMITTED", pg_errors.CheckViolation),
            ("REPEATABLE READ", pg_errors.SerializationFailure),
        ):
            with self.subTest(isolation_level=isolation_level):
                outcome, promised = self._race(isolation_level)
                self.assertEqual(
                    promised, 4, f"5 units on order, {promised} promised: {outcome}"
                )
                self.assertEqual(outcome["b"], refusal)
                self.assertTrue(
                    outcome["b_waited"], "B's guard must wait for A's transaction"
                )
