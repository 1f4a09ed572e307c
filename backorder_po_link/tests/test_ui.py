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
