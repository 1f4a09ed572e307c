# Copyright 2026 backorder_po_link contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Who is served first (the company's allocation order), firm and soft
promises, and supply given to higher-priority orders."""

from datetime import timedelta

from odoo import fields
from odoo.tests import Form, tagged

from .common import BackorderCommon


@tagged("post_install", "-at_install")
class TestAllocationOrder(BackorderCommon):
    """Backorders wait; a purchase order confirmed afterwards serves them in
    the company's allocation order."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer_3 = cls.env["res.partner"].create({"name": "Ready Mat"})

    def _linked_orders(self, po):
        return po.order_line.backorder_link_ids.sale_order_id

    def _three_orders(self):
        in_days = fields.Datetime.now() + timedelta(days=20)
        soon = fields.Datetime.now() + timedelta(days=3)
        old = self._create_so([(self.product, 1)], days_ago=10, commitment_date=in_days)
        urgent = self._create_so(
            [(self.product, 1)],
            days_ago=5,
            partner=self.customer_2,
            commitment_date=soon,
        )
        recent = self._create_so(
            [(self.product, 1)], days_ago=2, partner=self.customer_3
        )
        return old, urgent, recent

    def test_order_date_is_the_default(self):
        self.assertEqual(self.company.backorder_allocation_order, "order_date")
        self.customer_2.backorder_priority = 10
        old, urgent, _recent = self._three_orders()
        po = self._create_po([(self.product, 2)])
        self.assertEqual(self._linked_orders(po), old | urgent)

    def test_requested_date_serves_the_earliest_commitment_first(self):
        self.company.backorder_allocation_order = "requested_date"
        _old, urgent, recent = self._three_orders()
        # Requested: the old order in 20 days, the urgent one in 3 days, the
        # recent one (no commitment date) when ordered, two days ago.
        po = self._create_po([(self.product, 2)])
        self.assertEqual(self._linked_orders(po), urgent | recent)

    def test_priority_then_starred_delivery_then_order_date(self):
        self.company.backorder_allocation_order = "priority"
        # A contact of a customer orders with its company's priority.
        buyer = self.env["res.partner"].create(
            {"name": "Gemini Buyer", "parent_id": self.customer_2.id}
        )
        with Form(self.customer_2) as partner:
            partner.backorder_priority = 5
        self.assertEqual(buyer.backorder_priority, 5)
        old = self._create_so([(self.product, 1)], days_ago=10)
        starred = self._create_so(
            [(self.product, 1)], days_ago=4, partner=self.customer_3
        )
        plain = self._create_so(
            [(self.product, 1)], days_ago=6, partner=self.customer_3
        )
        favourite = self._create_so([(self.product, 1)], days_ago=1, partner=buyer)
        starred.picking_ids.priority = "1"
        po = self._create_po([(self.product, 2)])
        self.assertEqual(self._linked_orders(po), favourite | starred)
        # The next supply goes to the oldest of the others.
        po_2 = self._create_po([(self.product, 1)])
        self.assertEqual(self._linked_orders(po_2), old)
        self.assertFalse(plain.order_line.backorder_link_ids)

    def test_dry_run_shows_the_order_it_used(self):
        self.company.write(
            {
                "backorder_allocation_order": "priority",
                "backorder_link_on_po_confirm": False,
            }
        )
        self.customer_3.backorder_priority = 2
        old, urgent, recent = self._three_orders()
        self._create_po([(self.product, 2)])
        wizard = self.env["backorder.auto.link.wizard"].create({})
        wizard.action_preview()
        self.assertIn("highest customer priority first", wizard.allocation_order)
        self.assertEqual(
            [(line.sale_order_id, line.turn) for line in wizard.line_ids],
            [(recent, 1), (old, 2), (urgent, 3)],
        )
        self.assertEqual(wizard.line_ids.mapped("planned_qty"), [1, 1, 0])
        # The batch links as previewed.
        self.env["backorder.auto.link.wizard"].create({}).action_link()
        self.assertEqual(self._links(state="linked").sale_order_id, recent | old)

    def test_sales_confirmation_takes_earliest_arrival_first(self):
        self.company.backorder_allocation_order = "priority"
        late = self._create_po([(self.product, 3)], days_ahead=20)
        early = self._create_po([(self.product, 3)], days_ahead=5)
        so = self._create_so([(self.product, 2)])
        self.assertLinks(so.order_line.backorder_link_ids, [(so, early, 2)])
        self.assertFalse(late.order_line.backorder_link_ids)


@tagged("post_install", "-at_install")
class TestFirmLinks(BackorderCommon):
    def test_engine_links_are_soft_manual_links_firm(self):
        so = self._create_so([(self.product, 5)])
        po = self._create_po([(self.product, 3)])
        link = so.order_line.backorder_link_ids
        self.assertLinks(link, [(so, po, 3)])
        self.assertFalse(link.is_firm)
        po_2 = self._create_po([(self.product, 1)], confirm=False)
        self.company.backorder_link_on_po_confirm = False
        po_2.button_confirm()
        action = so.order_line.action_backorder_link_purchase()
        form = Form(
            self.env["backorder.manual.link.wizard"].with_context(**action["context"])
        )
        form.purchase_line_id = po_2.order_line
        form.save().action_link()
        manual = so.order_line.backorder_link_ids - link
        self.assertLinks(manual, [(so, po_2, 1)])
        self.assertTrue(manual.is_firm)
        # A receipt splits a link; both parts keep the promise's kind.
        picking = po_2.picking_ids
        self._validate_picking(picking)
        self.assertEqual(manual.state, "received")
        self.assertTrue(manual.is_firm)


@tagged("post_install", "-at_install")
class TestGiveToPriority(BackorderCommon):
    """A starred customer's order takes soft links of orders served after it,
    on goods not yet received."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.write(
            {
                "backorder_allocation_order": "priority",
                "backorder_reallocate_to_priority": True,
                "backorder_notify_salesperson": True,
            }
        )
        cls.customer_2.backorder_priority = 5
        cls.regular = cls._create_so([(cls.product, 5)], days_ago=10)
        cls.po = cls._create_po([(cls.product, 5)])

    def _activity(self, order):
        return self.env["mail.activity"].search(
            [
                ("res_model", "=", "sale.order"),
                ("res_id", "=", order.id),
                (
                    "activity_type_id",
                    "=",
                    self.env.ref(
                        "backorder_po_link.mail_activity_type_backorder_supply"
                    ).id,
                ),
            ]
        )

    def test_higher_priority_order_takes_soft_links(self):
        self.assertLinks(self._links(state="linked"), [(self.regular, self.po, 5)])
        vip = self._create_so([(self.product, 3)], partner=self.customer_2)
        self.assertLinks(vip.order_line.backorder_link_ids, [(vip, self.po, 3)])
        self.assertLinks(
            self.regular.order_line.backorder_link_ids.filtered(
                lambda link: link.state == "linked"
            ),
            [(self.regular, self.po, 2)],
        )
        self.assertEqual(self.regular.order_line.backorder_qty, 3)
        self.assertEqual(self.po.order_line.backorder_linked_qty, 5)
        self.assertIn(
            "3.00 Units no supply any more", self._activity(self.regular).note
        )
        self.assertEqual(self.env["backorder.audit"]._audit(), [])

    def test_lower_priority_or_firm_links_are_not_taken(self):
        # An order served after the one holding the links takes nothing.
        later = self._create_so(
            [(self.product, 2)],
            partner=self.env["res.partner"].create({"name": "Late Comer"}),
        )
        self.assertFalse(later.order_line.backorder_link_ids)
        # Firm links stay put: the starred order is not covered in full.
        self.regular.order_line.backorder_link_ids.is_firm = True
        vip = self._create_so([(self.product, 3)], partner=self.customer_2)
        self.assertFalse(vip.order_line.backorder_link_ids)
        self.assertEqual(self.regular.order_line.backorder_linked_qty, 5)

    def test_received_goods_are_not_taken(self):
        self._validate_picking(self.po.picking_ids, quantity=4)
        vip = self._create_so([(self.product, 3)], partner=self.customer_2)
        # One unit is still awaited: not enough for the whole line.
        self.assertFalse(vip.order_line.backorder_link_ids)
        vip_2 = self._create_so([(self.product, 1)], partner=self.customer_2)
        self.assertLinks(vip_2.order_line.backorder_link_ids, [(vip_2, self.po, 1)])
        self.assertEqual(
            self.regular.order_line.backorder_link_ids.filtered(
                lambda link: link.state == "received"
            ).quantity,
            4,
        )

    def test_off_by_default_and_off_means_off(self):
        company = self.env["res.company"].create({"name": "Fresh Co"})
        self.assertFalse(company.backorder_reallocate_to_priority)
        self.assertFalse(company.backorder_firm_when_deposit_met)
        self.company.backorder_reallocate_to_priority = False
        vip = self._create_so([(self.product, 3)], partner=self.customer_2)
        self.assertFalse(vip.order_line.backorder_link_ids)
        self.assertEqual(self.regular.order_line.backorder_linked_qty, 5)

    def test_orders_that_lost_links_are_linked_to_other_supply(self):
        """The order that lost its links takes free supply that the starred
        order could not use: a second warehouse's, which only the first
        order's warehouse accepts."""
        self.company.backorder_same_warehouse_only = True
        wh2 = self.env["stock.warehouse"].create({"name": "North", "code": "NRT"})
        regular_2 = self._create_so(
            [(self.product_2, 4)], days_ago=10, warehouse_id=wh2.id
        )
        wh2.backorder_source_warehouse_ids = self.warehouse | wh2
        po_main = self._create_po([(self.product_2, 4)])
        self.assertLinks(
            self._links(product_id=self.product_2.id), [(regular_2, po_main, 4)]
        )
        po_north = self._create_po(
            [(self.product_2, 4)], days_ahead=12, picking_type_id=wh2.in_type_id.id
        )
        self.assertFalse(po_north.order_line.backorder_link_ids)
        vip = self._create_so([(self.product_2, 4)], partner=self.customer_2)
        self.assertLinks(vip.order_line.backorder_link_ids, [(vip, po_main, 4)])
        self.assertLinks(
            regular_2.order_line.backorder_link_ids.filtered(
                lambda link: link.state == "linked"
            ),
            [(regular_2, po_north, 4)],
        )
        # Its salesperson hears of the new date and purchase.
        activity = self._activity(regular_2)
        self.assertEqual(activity.user_id, regular_2.user_id)
        self.assertIn("Supply was given to a higher-priority order:", activity.note)
        self.assertIn(po_north.name, activity.note)
        self.assertFalse(self._activity(vip))
