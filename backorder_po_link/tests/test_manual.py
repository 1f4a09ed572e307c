# Copyright 2026 backorder_po_link contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form
from odoo.tools.misc import format_date

from .common import BackorderCommon


class TestManualLink(BackorderCommon):
    """Managers link and unlink by hand, from either side; the badge on the
    sales line tells where its goods stand."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.backorder_link_on_so_confirm = False
        cls.company.backorder_link_on_po_confirm = False
        cls.manager = cls._new_user(
            "bo_manager",
            "sales_team.group_sale_salesman_all_leads,purchase.group_purchase_user,"
            "backorder_po_link.group_backorder_manager",
            name="Max Manager",
        )
        cls.so = cls._create_so([(cls.product, 5)])
        cls.po = cls._create_po([(cls.product, 8)], days_ahead=6)
        cls.sale_line = cls.so.order_line
        cls.po_line = cls.po.order_line

    def _wizard(self, line, user=None):
        Wizard = self.env["backorder.manual.link.wizard"].with_user(
            user or self.manager
        )
        action = (
            line.with_user(user or self.manager).action_backorder_link_purchase()
            if (line._name == "sale.order.line")
            else line.with_user(user or self.manager).action_backorder_link_sale()
        )
        self.assertEqual(action["res_model"], Wizard._name)
        return Form(Wizard.with_context(**action["context"]))

    def test_link_from_the_sales_line(self):
        self.assertEqual(self.sale_line.backorder_status, "backordered")
        self.assertEqual(self.sale_line.backorder_badge, "Backordered")
        form = self._wizard(self.sale_line)
        self.assertEqual(form.product_id, self.product)
        form.purchase_line_id = self.po_line
        self.assertEqual(form.quantity, 5)  # all it misses, less than the 8 free
        form.save().action_link()
        link = self.sale_line.backorder_link_ids
        self.assertLinks(link, [(self.so, self.po, 5)])
        self.assertEqual(link.origin, "manual")
        self.assertEqual(link.create_uid, self.manager)
        self.assertEqual(self.po_line.backorder_free_qty, 3)
        self.assertEqual(self.sale_line.backorder_status, "linked")
        self.assertEqual(
            self.sale_line.backorder_badge,
            f"On order: {format_date(self.env, self.po_line.date_planned)}",
        )

    def test_link_from_the_purchase_line(self):
        form = self._wizard(self.po_line)
        form.sale_line_id = self.sale_line
        form.quantity = 2
        form.save().action_link()
        self.assertLinks(self.po_line.backorder_link_ids, [(self.so, self.po, 2)])
        self.assertEqual(self.sale_line.backorder_qty, 3)
        # Something still uncovered: the badge says so first.
        self.assertEqual(self.sale_line.backorder_status, "backordered")

    def test_refusals_in_words(self):
        def attempt(sale_line, quantity):
            form = self._wizard(sale_line)
            form.purchase_line_id = self.po_line
            form.quantity = quantity
            return form.save().action_link

        with self.assertRaisesMsg(UserError, "greater than zero"):
            attempt(self.sale_line, 0)()
        with self.assertRaisesMsg(UserError, "still has 5.0 Units"):
            attempt(self.sale_line, 6)()
        other = self._create_so([(self.product, 9)])
        with self.assertRaisesMsg(UserError, "has only 8.0 Units"):
            attempt(other.order_line, 9)()
        self.assertFalse(self.po_line.backorder_link_ids)

    def test_link_model_refuses_what_the_wizard_cannot_see(self):
        """The wizard's domains keep other products out; the link itself
        refuses them anyway, for whoever writes links another way."""
        other_po = self._create_po([(self.product_2, 8)])
        wizard = (
            self.env["backorder.manual.link.wizard"]
            .with_user(self.manager)
            .create(
                {
                    "sale_line_id": self.sale_line.id,
                    "purchase_line_id": other_po.order_line.id,
                    "product_id": self.product.id,
                    "company_id": self.company.id,
                    "quantity": 1,
                }
            )
        )
        with self.assertRaises(UserError):  # nothing free of this product there
            wizard.action_link()
        with self.assertRaisesMsg(ValidationError, "same product"):
            self.env["backorder.po.link"].with_user(self.manager).create(
                {
                    "sale_line_id": self.sale_line.id,
                    "purchase_line_id": other_po.order_line.id,
                    "quantity": 1,
                }
            )

    def test_only_managers_link_by_hand(self):
        salesman = self._new_user("bo_salesman", "sales_team.group_sale_salesman")
        with self.assertRaises(AccessError):
            self.env["backorder.manual.link.wizard"].with_user(salesman).create(
                {"sale_line_id": self.sale_line.id, "purchase_line_id": self.po_line.id}
            )

    def test_unlink_frees_the_goods(self):
        form = self._wizard(self.sale_line)
        form.purchase_line_id = self.po_line
        form.save().action_link()
        link = self.sale_line.backorder_link_ids
        link.with_user(self.manager).action_cancel()
        self.assertEqual(link.state, "cancel")
        self.assertEqual(self.sale_line.backorder_qty, 5)
        self.assertEqual(self.sale_line.backorder_status, "backordered")
        self.assertEqual(self.po_line.backorder_free_qty, 8)
        for order in (self.so, self.po):
            self.assertIn(
                "Backorder link removed by Max Manager", order.message_ids[0].body
            )

    def test_unlink_refuses_received_goods(self):
        self.company.backorder_link_on_po_confirm = True
        po = self._create_po([(self.product, 5)])
        link = self.sale_line.backorder_link_ids
        self.assertLinks(link, [(self.so, po, 5)])
        po.picking_ids.button_validate()
        self.assertEqual(link.state, "received")
        self.assertEqual(self.sale_line.backorder_status, "ready")
        self.assertEqual(self.sale_line.backorder_badge, "Ready")
        with self.assertRaisesMsg(UserError, "Only links awaiting receipt"):
            link.with_user(self.manager).action_cancel()
        self.assertEqual(link.state, "received")
