# Copyright 2026 backorder_po_link contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import threading
import time

from psycopg2 import errors as pg_errors

from odoo import SUPERUSER_ID, Command, api
from odoo.modules.registry import Registry
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
            self.assertEqual(env["backorder.allocator"]._audit(), [])

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
