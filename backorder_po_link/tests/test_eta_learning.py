# Copyright 2026 backorder_po_link contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import ast
from datetime import timedelta

from freezegun import freeze_time

from odoo import fields
from odoo.tests import tagged

from .common import BackorderCommon


@tagged("post_install", "-at_install")
class TestEtaLearning(BackorderCommon):
    """Expected dates that learn: each vendor's usual delay, from its
    receipts, and the dates customers are told."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.backorder_notify_customer = True
        cls.customer.email = "deco.addict@example.com"

    def _mails(self, order):
        return self.env["mail.mail"].search(
            [("model", "=", "sale.order"), ("res_id", "=", order.id)]
        )

    def _learn_on(self):
        """The admin switches the option on in the settings."""
        settings = self.env["res.config.settings"].create({})
        self.assertFalse(settings.backorder_eta_learn, "off by default")
        settings.backorder_eta_learn = True
        settings.execute()
        self.assertTrue(self.company.backorder_eta_learn)

    def test_date_received_set_at_receipt(self):
        order = self._create_so([(self.product, 2)])
        po = self._create_po([(self.product, 2)], days_ahead=4)
        link = order.order_line.backorder_link_ids
        promised = po.order_line.date_planned
        self.assertEqual(link.expected_date_linked, promised)
        self.assertFalse(link.date_received)
        # The vendor announces a later date: the link keeps its promise.
        po.order_line.date_planned = promised + timedelta(days=2)
        self.assertEqual(link.expected_date, promised + timedelta(days=2))
        self.assertEqual(link.expected_date_linked, promised)
        arrival = promised + timedelta(days=3, hours=12)
        with freeze_time(arrival):
            self._validate_picking(po.picking_ids)
        self.assertEqual(link.state, "received")
        self.assertEqual(link.date_received, arrival)
        self.assertAlmostEqual(link.receipt_delay_days, 3.5)

    def test_split_link_keeps_its_dates(self):
        order = self._create_so([(self.product, 5)])
        po = self._create_po([(self.product, 5)], days_ahead=3)
        self._validate_picking(po.picking_ids, quantity=2)
        links = order.order_line.backorder_link_ids
        received = links.filtered(lambda link: link.state == "received")
        waiting = links - received
        self.assertEqual(received.quantity, 2)
        self.assertTrue(received.date_received)
        self.assertFalse(waiting.date_received)
        self.assertEqual(
            links.mapped("expected_date_linked"), [po.order_line.date_planned] * 2
        )

    def test_vendor_delay_is_the_median_of_five_receipts(self):
        self._receive_with_delays([1, 2, 3, 4, 10])
        self.assertEqual(self.vendor.backorder_vendor_delay_days, 3.0)
        links = self._links(vendor_id=self.vendor.id, state="received")
        self.assertEqual(sorted(links.mapped("receipt_delay_days")), [1, 2, 3, 4, 10])

    def test_four_receipts_teach_nothing(self):
        self._receive_with_delays([5, 5, 5, 5])
        self.assertEqual(self.vendor.backorder_vendor_delay_days, 0.0)

    def test_old_receipts_are_ignored(self):
        self._receive_with_delays([6, 6, 6, 6, 6], days_ago=200)
        self.assertEqual(self.vendor.backorder_vendor_delay_days, 0.0)
        # Four recent receipts and the old ones: still fewer than five.
        self._receive_with_delays([2, 2, 2, 2])
        self.env.invalidate_all()
        self.assertEqual(self.vendor.backorder_vendor_delay_days, 0.0)
        self._receive_with_delays([4])
        self.env.invalidate_all()
        self.assertEqual(self.vendor.backorder_vendor_delay_days, 2.0)

    def test_one_query_for_all_vendors(self):
        other = self.env["res.partner"].create({"name": "Birch & Co"})
        self._receive_with_delays([1, 1, 2, 2, 2])
        self._receive_with_delays([5, 6, 7, 8, 9], vendor=other)
        self._commit()  # the customers' emails, out of the count
        self.env.invalidate_all()
        vendors = self.vendor | other | self.customer
        with self.assertQueryCount(1):
            delays = vendors.mapped("backorder_vendor_delay_days")
        self.assertEqual(delays, [2.0, 7.0, 0.0])

    def test_learning_on_customer_dates_say_expected_around(self):
        self._receive_with_delays([3, 3, 3, 3, 3])
        self._commit()
        self._learn_on()
        order = self._create_so([(self.product, 2)])
        po = self._create_po([(self.product, 5)], days_ahead=7)
        self._commit()
        shifted = po.order_line.date_planned + timedelta(days=3)
        link = order.order_line.backorder_link_ids
        self.assertEqual(link.expected_date, po.order_line.date_planned)
        self.assertEqual(link.customer_date, shifted)
        self.assertEqual(link.date_told, shifted)
        text = f"expected around {shifted.strftime('%m/%d/%Y')}"
        # The email...
        mail = self._mails(order)
        self.assertEqual(len(mail), 1)
        self.assertIn(text, mail.body_html)
        # ... the portal...
        portal = order._get_backorder_portal_lines()
        self.assertEqual([row["date"] for row in portal], [text])
        # ... and the badge on the sales line.
        self.assertEqual(order.order_line.backorder_badge, f"On order: {text}")
        self.assertEqual(order.order_line.backorder_customer_date, shifted)

    def test_learning_off_dates_unchanged(self):
        self._receive_with_delays([3, 3, 3, 3, 3])
        self.assertEqual(self.vendor.backorder_vendor_delay_days, 3.0)
        order = self._create_so([(self.product, 2)])
        po = self._create_po([(self.product, 5)], days_ahead=7)
        self._commit()
        planned = po.order_line.date_planned
        date = planned.strftime("%m/%d/%Y")
        link = order.order_line.backorder_link_ids
        self.assertEqual(link.customer_date, planned)
        mail = self._mails(order)
        self.assertIn(date, mail.body_html)
        self.assertNotIn("expected around", mail.body_html)
        self.assertEqual(
            [row["date"] for row in order._get_backorder_portal_lines()], [date]
        )
        self.assertEqual(order.order_line.backorder_badge, f"On order: {date}")

    def test_learned_delay_makes_a_promise_late(self):
        self._receive_with_delays([4, 4, 4, 4, 4])
        order = self._create_so(
            [(self.product, 2)],
            commitment_date=fields.Datetime.now() + timedelta(days=9),
        )
        self._create_po([(self.product, 5)], days_ahead=7)
        line = order.order_line
        self.assertFalse(line.backorder_is_late)
        self._learn_on()
        self.env.invalidate_all()
        self.assertTrue(line.backorder_is_late)
        self.assertIn(
            line, self.env["sale.order.line"].search([("backorder_is_late", "=", True)])
        )

    def test_early_vendor_never_brings_dates_forward(self):
        self._receive_with_delays([-2, -2, -2, -2, -2])
        self.assertEqual(self.vendor.backorder_vendor_delay_days, -2.0)
        self._learn_on()
        order = self._create_so([(self.product, 1)])
        po = self._create_po([(self.product, 1)], days_ahead=5)
        link = order.order_line.backorder_link_ids
        self.assertEqual(link.customer_date, po.order_line.date_planned)

    def test_eta_accuracy_report(self):
        self._receive_with_delays([1, 2, 3, 4, 10])
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "backorder_po_link.backorder_po_link_action_eta_accuracy"
        )
        groups = self.env["backorder.po.link"]._read_group(
            ast.literal_eval(action["domain"]),
            ["vendor_id"],
            ["__count", "receipt_delay_days:avg"],
        )
        self.assertEqual(groups, [(self.vendor, 5, 4.0)])
