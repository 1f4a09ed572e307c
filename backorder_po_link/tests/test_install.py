# Copyright 2026 backorder_po_link contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.tests import tagged

from .common import BackorderCommon


@tagged("post_install", "-at_install")
class TestInstall(BackorderCommon):
    """With the addon installed, standard flows behave as before."""

    def _assert_standard_flow(self):
        self._put_in_stock(self.product, 2)
        so = self._create_so([(self.product, 5), (self.product_2, 1)])
        self.assertEqual(so.state, "sale")
        self.assertEqual(len(so.picking_ids), 1)
        self.assertEqual(so.picking_ids.state, "assigned")
        self.assertEqual(so.order_line.move_ids.mapped("quantity"), [2, 0])
        po = self._create_po([(self.product, 10)])
        self.assertEqual(po.state, "purchase")
        self.assertEqual(len(po.picking_ids), 1)
        self.assertEqual(po.picking_ids.move_ids.product_uom_qty, 10)
        receipt = po.picking_ids
        receipt.button_validate()
        self.assertEqual(receipt.state, "done")
        self.assertEqual(po.order_line.qty_received, 10)
        return so, po

    def test_orders_confirm_as_before_with_automations_off(self):
        self.company.write(
            {
                "backorder_link_on_po_confirm": False,
                "backorder_link_on_so_confirm": False,
            }
        )
        so, po = self._assert_standard_flow()
        self.assertFalse(so.backorder_link_ids | po.backorder_link_ids)

    def test_orders_confirm_as_before_with_automations_on(self):
        _so, po = self._assert_standard_flow()
        self.assertEqual(len(po.backorder_link_ids), 1)
        self.assertEqual(po.backorder_link_ids.quantity, 3)

    def test_settings_show_company_values(self):
        settings = self.env["res.config.settings"].create({})
        self.assertTrue(settings.backorder_link_on_po_confirm)
        settings.backorder_max_days_out = 12
        settings.execute()
        self.assertEqual(self.company.backorder_max_days_out, 12)

    def test_settings_switch_the_nightly_batch(self):
        cron = self.env.ref("backorder_po_link.ir_cron_backorder_auto_link")
        self.assertFalse(cron.active)  # off by default, like every automation
        settings = self.env["res.config.settings"].create({})
        self.assertFalse(settings.backorder_auto_link_nightly)
        settings.backorder_auto_link_nightly = True
        settings.execute()
        self.assertTrue(cron.active)
        self.assertTrue(
            self.env["res.config.settings"].create({}).backorder_auto_link_nightly
        )
        settings = self.env["res.config.settings"].create({})
        settings.backorder_auto_link_nightly = False
        settings.execute()
        self.assertFalse(cron.active)
