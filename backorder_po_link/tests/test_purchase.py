# Copyright 2026 backorder_po_link contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import tagged

from odoo.addons.backorder_po_link.models.backorder_series import (
    LINE_UOM,
    run_cron,
    set_purchase_unit,
)

from .common import BackorderCommon


@tagged("post_install", "-at_install")
class TestBackordersToPurchase(BackorderCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.vendor_2 = cls.env["res.partner"].create({"name": "Birch & Co"})
        cls.product.seller_ids = [
            Command.create({"partner_id": cls.vendor.id, "price": 50})
        ]
        cls.product_2.seller_ids = [
            Command.create({"partner_id": cls.vendor.id, "price": 80})
        ]
        cls.product_3 = cls._create_product(
            "Birch Stool",
            seller_ids=[Command.create({"partner_id": cls.vendor_2.id, "price": 20})],
        )
        cls.Report = cls.env["backorder.purchase.report"]

    def _row(self, product):
        return self.Report.search([("product_id", "=", product.id)])

    def test_quantity_to_purchase_hand_computed(self):
        """Backorders 7 + 15, 6 linked; 4 free on order; 2 free in stock:
        to purchase = (1 + 15) - 4 - 2 = 10."""
        self._put_in_stock(self.product, 3)
        so1 = self._create_so([(self.product, 10)], days_ago=3)  # 3 from stock
        so2 = self._create_so([(self.product, 15)], days_ago=1)
        self._create_po([(self.product, 6)])  # linked to so1
        self.company.backorder_link_on_po_confirm = False
        self._create_po([(self.product, 4)])  # free on order
        self._put_in_stock(self.product, 2)  # arrives, not reserved yet
        self.assertEqual(so1.order_line.backorder_qty, 1)
        self.assertEqual(so2.order_line.backorder_qty, 15)
        row = self._row(self.product)
        self.assertRecordValues(
            row,
            [
                {
                    "warehouse_id": self.warehouse.id,
                    "backorder_qty": 16,
                    "free_supply_qty": 4,
                    "free_stock_qty": 2,
                    "qty_to_purchase": 10,
                }
            ],
        )
        self.assertEqual(self.product.backorder_qty_to_purchase, 10)
        lines = self.env["sale.order.line"].search(
            row.action_view_sale_lines()["domain"]
        )
        self.assertEqual(lines, so1.order_line | so2.order_line)

    def test_never_below_zero(self):
        self._create_so([(self.product, 2)])
        self.company.backorder_link_on_po_confirm = False
        self._create_po([(self.product, 10)])
        self.assertEqual(self._row(self.product).qty_to_purchase, 0)
        self.assertEqual(self.product.backorder_qty_to_purchase, 0)

    def test_create_rfqs_grouped_by_vendor(self):
        self._create_so([(self.product, 3), (self.product_2, 2), (self.product_3, 5)])
        products = self.product | self.product_2 | self.product_3
        action = products.action_backorder_create_rfq()
        rfqs = self.env["purchase.order"].search(action["domain"])
        self.assertEqual(len(rfqs), 2)
        self.assertEqual(set(rfqs.mapped("state")), {"draft"})
        by_vendor = {po.partner_id: po for po in rfqs}
        self.assertEqual(
            sorted(
                by_vendor[self.vendor].order_line.mapped(
                    lambda l: (l.product_id.name, l.product_qty)
                )
            ),
            [("Oak Chair", 3), ("Walnut Table", 2)],
        )
        self.assertEqual(by_vendor[self.vendor_2].order_line.product_qty, 5)
        self.assertEqual(
            by_vendor[self.vendor].picking_type_id, self.warehouse.in_type_id
        )

    def test_reuses_open_draft_rfq(self):
        draft = self._create_po([(self.product_2, 1)], confirm=False)
        self._create_so([(self.product, 3)])
        action = self.product.action_backorder_create_rfq()
        self.assertEqual(action["res_id"], draft.id)
        self.assertEqual(
            draft.order_line.filtered(
                lambda l: l.product_id == self.product
            ).product_qty,
            3,
        )
        # Running it again does not order twice.
        self.product.action_backorder_create_rfq()
        self.assertEqual(
            self.env["purchase.order"].search_count([("state", "=", "draft")]), 1
        )
        self.assertEqual(
            draft.order_line.filtered(
                lambda l: l.product_id == self.product
            ).product_qty,
            3,
        )

    def test_minimum_quantity_and_purchase_unit(self):
        self.product.seller_ids.min_qty = 24
        self._create_so([(self.product, 10)])
        action = self.product.action_backorder_create_rfq()
        line = self.env["purchase.order"].browse(action["res_id"]).order_line
        self.assertEqual(line.product_qty, 24)
        # Bought by the dozen: 30 units are 2.5 dozens.
        set_purchase_unit(self.product_2, self.uom_dozen)
        self._create_so([(self.product_2, 30)])
        action = self.product_2.action_backorder_create_rfq()
        line = (
            self.env["purchase.order"]
            .browse(action["res_id"])
            .order_line.filtered(lambda l: l.product_id == self.product_2)
        )
        self.assertEqual(line[LINE_UOM], self.uom_dozen)
        self.assertEqual(line.product_qty, 2.5)

    def test_product_without_vendor_is_reported(self):
        orphan = self._create_product("Orphan Lamp")
        self._create_so([(self.product, 3), (orphan, 1)])
        action = (self.product | orphan).action_backorder_create_rfq()
        self.assertEqual(action["tag"], "display_notification")
        self.assertIn("Orphan Lamp", action["params"]["message"])
        rfqs = self.env["purchase.order"].search(action["params"]["next"]["domain"])
        self.assertEqual(rfqs.order_line.product_id, self.product)
        with self.assertRaisesMsg(UserError, "Orphan Lamp"):
            orphan.action_backorder_create_rfq()

    def test_confirming_rfq_links_its_own_backorders_first(self):
        newer = self._create_so([(self.product, 5)])
        action = self.product.action_backorder_create_rfq()
        rfq = self.env["purchase.order"].browse(action["res_id"])
        self.assertEqual(rfq.order_line.backorder_sale_line_ids, newer.order_line)
        older = self._create_so([(self.product, 5)], days_ago=30)
        rfq.order_line.product_qty = 7
        rfq.button_confirm()
        self.assertLinks(rfq.backorder_link_ids, [(newer, rfq, 5), (older, rfq, 2)])

    def test_purchaser_without_sales_rights_buys_and_confirms(self):
        """A purchaser who may not read sales orders presses Create RFQs, then
        Confirm Order: the RFQ serves the backorders it was bought for."""
        newer = self._create_so([(self.product, 5)])
        older = self._create_so([(self.product, 5)], days_ago=30)
        buyer = self._new_user(
            "bo_buyer_only",
            "purchase.group_purchase_user,backorder_po_link.group_backorder_auto_link",
        )
        self.assertFalse(buyer.has_group("sales_team.group_sale_salesman"))
        self.assertFalse(buyer.has_group("stock.group_stock_user"))
        action = self.product.with_user(buyer).action_backorder_create_rfq()
        rfq = self.env["purchase.order"].with_user(buyer).browse(action["res_id"])
        self.assertEqual(rfq.order_line.product_qty, 10)
        rfq.order_line.product_qty = 7
        self.env.invalidate_all()  # Confirm is pressed in a request of its own
        rfq.button_confirm()
        self.assertEqual(rfq.state, "purchase")
        self.assertLinks(
            rfq.sudo().backorder_link_ids, [(older, rfq, 5), (newer, rfq, 2)]
        )

    def test_automatic_rfq_mode(self):
        self._create_so([(self.product, 4)])
        cron = self.env.ref("backorder_po_link.ir_cron_backorder_auto_rfq")
        run_cron(self, cron)
        self.assertFalse(self.env["purchase.order"].search([("state", "=", "draft")]))
        self.company.backorder_auto_rfq = True
        run_cron(self, cron)
        rfq = self.env["purchase.order"].search([("state", "=", "draft")])
        self.assertEqual(rfq.order_line.product_qty, 4)

    def test_search_backordered_lines(self):
        waiting = self._create_so([(self.product, 4)])
        self._put_in_stock(self.product_2, 5)
        served = self._create_so([(self.product_2, 4)])
        found = self.env["sale.order.line"].search([("backorder_qty", ">", 0)])
        self.assertIn(waiting.order_line, found)
        self.assertNotIn(served.order_line, found)
        with self.assertRaisesMsg(UserError, "can only be searched"):
            self.env["sale.order.line"].search([("backorder_qty", ">", 3)])
