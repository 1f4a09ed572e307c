# Copyright 2026 backorder_po_link contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.tests import HttpCase, tagged

from .common import BackorderCommon


@tagged("post_install", "-at_install")
class TestUi(BackorderCommon, HttpCase):
    def test_salesperson_opens_backordered_order(self):
        """A salesperson opens a confirmed order with a backordered line and
        sees its link to the purchase order with the expected date."""
        salesman = self._new_user(
            "bo_salesman",
            "sales_team.group_sale_salesman,stock.group_stock_user",
            name="Sam Seller",
        )
        so = self._create_so([(self.product, 4)], user_id=salesman.id)
        po = self._create_po([(self.product, 10)])
        self.assertEqual(so.backorder_link_ids.purchase_order_id, po)
        self.start_tour(
            f"/odoo/action-sale.action_orders/{so.id}",
            "backorder_po_link_salesperson_tour",
            login="bo_salesman",
        )

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
