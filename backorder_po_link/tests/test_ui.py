# Copyright 2026 backorder_po_link contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import Command
from odoo.tests import HttpCase, new_test_user, tagged

from .common import BackorderCommon
from .screens import DemoScreensCase


@tagged("post_install", "-at_install", "is_tour")
class TestRoleTours(DemoScreensCase):
    """Each role plays its part of the demo story in Chromium."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env.ref("base.main_company")
        cls.chair = cls.env.ref("backorder_po_link.demo_product_chair")
        cls.table = cls.env.ref("backorder_po_link.demo_product_table")
        cls.so_harbor = cls.env.ref("backorder_po_link.demo_so_harbor")
        cls.so_lindenhof = cls.env.ref("backorder_po_link.demo_so_lindenhof")
        cls.po_oakworks = cls.env.ref("backorder_po_link.demo_po_oakworks")
        cls.po_steelline = cls.env.ref("backorder_po_link.demo_po_steelline")
        auto_link = "backorder_po_link.group_backorder_auto_link"
        cls.salesman = new_test_user(
            cls.env,
            login="bo_salesman",
            groups=f"sales_team.group_sale_salesman,{auto_link}",
            name="Sam Seller",
        )
        cls.purchaser = new_test_user(
            cls.env,
            login="bo_purchaser",
            groups="purchase.group_purchase_user,"
            f"sales_team.group_sale_salesman_all_leads,{auto_link}",
            name="Pat Purchaser",
        )
        cls.storekeeper = new_test_user(
            cls.env,
            login="bo_storekeeper",
            groups="stock.group_stock_user",
            name="Wes Warehouse",
        )
        cls.manager = new_test_user(
            cls.env,
            login="bo_manager",
            groups="sales_team.group_sale_salesman_all_leads,"
            "purchase.group_purchase_user,backorder_po_link.group_backorder_manager",
            name="Max Manager",
        )

    def test_demo_serves_the_priority_customer_first(self):
        """The demo's lamps: Nordic Hotels (priority 5) ordered after Harbor
        Cafe and is served in full first."""
        ref = self.env.ref
        self.assertEqual(self.company.backorder_allocation_order, "priority")
        links = ref("backorder_po_link.demo_po_oakworks_lamps").order_line
        self.assertEqual(
            {
                link.sale_order_id.partner_id.name: link.quantity
                for link in links.backorder_link_ids
            },
            {"Nordic Hotels Group": 3, "Harbor Cafe": 2},
        )

    def _tour(self, url, tour, login):
        self.start_tour(url, tour, login=login)
        self.env.invalidate_all()

    def test_salesperson_confirms_order_and_sees_expected_date(self):
        quote = self.env.ref("backorder_po_link.demo_quote_harbor")
        quote.user_id = self.salesman
        self._tour(
            f"/odoo/action-sale.action_quotations_with_onboarding/{quote.id}",
            "backorder_po_link_salesperson_tour",
            "bo_salesman",
        )
        line = quote.order_line
        self.assertEqual(quote.state, "sale")
        self.assertEqual(line.backorder_linked_qty, 3)
        self.assertEqual(line.backorder_link_ids.purchase_order_id, self.po_steelline)
        self.assertEqual(
            line.backorder_expected_date, self.po_steelline.order_line.date_planned
        )
        self.assertEqual(line.backorder_status, "linked")
        self.assertScreenshot("sale_order")

    def test_purchaser_confirms_po_and_sees_linked_orders(self):
        rfq = self.env.ref("backorder_po_link.demo_rfq_oakworks")
        self._tour(
            f"/odoo/action-purchase.purchase_rfq/{rfq.id}",
            "backorder_po_link_purchaser_tour",
            "bo_purchaser",
        )
        self.assertEqual(rfq.state, "purchase")
        links = rfq.backorder_link_ids
        self.assertEqual(links.sale_order_id, self.so_lindenhof)
        self.assertEqual(sum(links.mapped("quantity")), 8)
        self.assertEqual(self.so_lindenhof.order_line.backorder_qty, 0)
        self.assertScreenshot("purchase_order")

    def test_warehouse_receives_and_ships_fulfillable_backorder(self):
        receipt = self.po_oakworks.picking_ids
        self.assertEqual(receipt.state, "assigned")
        self._tour(
            f"/odoo/action-stock.action_picking_tree_all/{receipt.id}",
            "backorder_po_link_warehouse_tour",
            "bo_storekeeper",
        )
        self.assertEqual(receipt.state, "done")
        chair_line = self.so_harbor.order_line.filtered(
            lambda line: line.product_id == self.chair
        )
        self.assertEqual(chair_line.qty_delivered, 12)
        self.assertEqual(chair_line.backorder_link_ids.mapped("state"), ["done"])
        # Harbor Cafe's tables, still on order, wait in a backorder delivery.
        waiting = self.so_harbor.picking_ids.filtered(lambda p: p.state != "done")
        self.assertEqual(waiting.move_ids.product_id, self.table)
        # Hotel Lindenhof's 12 chairs are reserved, ready for the next truck.
        lindenhof_chairs = self.so_lindenhof.order_line
        self.assertEqual(lindenhof_chairs.backorder_status, "backordered")
        self.assertEqual(
            lindenhof_chairs.backorder_link_ids.filtered(
                lambda link: link.state == "received"
            ).quantity,
            12,
        )
        self.assertEqual(self.so_lindenhof.picking_ids.move_ids.quantity, 12)
        self.assertScreenshot("fulfillable")

    def test_admin_turns_automation_on_in_settings(self):
        self.assertFalse(self.company.backorder_auto_rfq)
        self._tour("/odoo/settings", "backorder_po_link_admin_tour", "admin")
        self.assertTrue(self.company.backorder_auto_rfq)
        self.assertScreenshot("settings")

    def test_salesperson_sees_late_backorders(self):
        late = self.env.ref("backorder_po_link.demo_so_atelier_late").order_line
        self.assertTrue(late.backorder_is_late)
        self.assertFalse(self.so_harbor.order_line.filtered("backorder_is_late"))
        self._tour(
            "/odoo/action-backorder_po_link.action_late_backorders",
            "backorder_po_link_late_tour",
            "bo_manager",
        )
        self.assertScreenshot("late_backorders")

    def test_manager_links_and_unlinks_by_hand(self):
        # An order confirmed while linking on confirmation is off: its two
        # tables wait, unlinked, while the Steelline PO has three free.
        self.company.backorder_link_on_so_confirm = False
        order = self.env["sale.order"].create(
            {
                "partner_id": self.env.ref(
                    "backorder_po_link.demo_customer_atelier"
                ).id,
                "order_line": [
                    Command.create({"product_id": self.table.id, "product_uom_qty": 2})
                ],
            }
        )
        order.action_confirm()
        self.assertEqual(order.order_line.backorder_status, "backordered")
        self._tour(
            f"/odoo/action-sale.action_orders/{order.id}",
            "backorder_po_link_manager_tour",
            "bo_manager",
        )
        links = order.order_line.backorder_link_ids
        self.assertEqual(links.mapped("state"), ["cancel"])
        self.assertEqual(links.origin, "manual")
        self.assertEqual(links.purchase_order_id, self.po_steelline)
        self.assertEqual(order.order_line.backorder_qty, 2)
        self.assertIn(
            "Backorder link removed by Max Manager",
            order.message_ids.mapped("body")[0],
        )


@tagged("post_install", "-at_install")
class TestPortal(BackorderCommon, HttpCase):
    def test_portal_shows_expected_dates_only(self):
        """The customer's portal page lists backordered items with their
        expected date, never the vendor or the purchase order."""
        so = self._create_so([(self.product, 4), (self.product_2, 2)])
        po = self._create_po([(self.product, 10)], days_ahead=9)
        self.assertEqual(so.order_line[0].backorder_linked_qty, 4)
        response = self.url_open(so.get_portal_url())
        self.assertEqual(response.status_code, 200)
        html = response.text
        self.assertIn("Backordered Items", html)
        self.assertIn(po.order_line.date_planned.strftime("%m/%d/%Y"), html)
        self.assertIn("On order", html)
        self.assertIn("to be confirmed", html)  # the table line, not linked yet
        self.assertNotIn(po.name, html)
        self.assertNotIn(self.vendor.name, html)
