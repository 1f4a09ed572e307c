# Copyright 2026 backorder_po_link contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import timedelta

from odoo.tests import tagged

from .common import BackorderCommon


@tagged("post_install", "-at_install")
class TestNotification(BackorderCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.backorder_notify_customer = True
        cls.customer.email = "deco.addict@example.com"
        cls.customer_2.email = "gemini@example.com"

    def _commit(self):
        """What a commit runs before writing: the queued notifications."""
        self.env.cr.precommit.run()
        self.env.flush_all()

    def _mails(self, order, subject_part=""):
        return self.env["mail.mail"].search(
            [
                ("model", "=", "sale.order"),
                ("res_id", "=", order.id),
                ("subject", "ilike", subject_part),
            ]
        )

    def test_po_confirmation_queues_one_email_per_order(self):
        so = self._create_so([(self.product, 2), (self.product_2, 3)])
        so2 = self._create_so([(self.product, 1)], partner=self.customer_2)
        po = self._create_po([(self.product, 5), (self.product_2, 5)])
        self._commit()
        mails = self._mails(so)
        self.assertEqual(len(mails), 1)
        self.assertEqual(mails.state, "outgoing", "queued, not sent inline")
        self.assertEqual(mails.recipient_ids, self.customer)
        self.assertIn("backordered items", mails.subject)
        body = mails.body_html
        self.assertIn("Oak Chair", body)
        self.assertIn("Walnut Table", body)
        self.assertIn(po.order_line[0].date_planned.strftime("%m/%d/%Y"), body)
        self.assertNotIn(po.name, body, "no PO name for the customer")
        self.assertNotIn(self.vendor.name, body, "no vendor name for the customer")
        self.assertEqual(len(self._mails(so2)), 1)
        # It shows in the order's chatter, as sent to the customer.
        message = so.message_ids.filtered(lambda m: m.mail_ids & mails)
        self.assertEqual(message.partner_ids, self.customer)
        self.assertEqual(message.message_type, "comment")

    def test_so_confirmation_queues_email_with_date(self):
        po = self._create_po([(self.product, 5)], days_ahead=12)
        so = self._create_so([(self.product, 2)])
        self._commit()
        mails = self._mails(so)
        self.assertEqual(len(mails), 1)
        self.assertIn(po.order_line.date_planned.strftime("%m/%d/%Y"), mails.body_html)

    def test_several_runs_in_one_transaction_make_one_email(self):
        so = self._create_so([(self.product, 2), (self.product_2, 2)])
        self._create_po([(self.product, 5)])
        self._create_po([(self.product_2, 5)])
        self._commit()
        mails = self._mails(so)
        self.assertEqual(len(mails), 1)
        self.assertIn("Oak Chair", mails.body_html)
        self.assertIn("Walnut Table", mails.body_html)

    def test_nothing_queued_when_setting_off(self):
        self.company.backorder_notify_customer = False
        so = self._create_so([(self.product, 2)])
        self._create_po([(self.product, 5)])
        self._commit()
        self.assertTrue(so.backorder_link_ids)
        self.assertFalse(self._mails(so))

    def test_customer_opt_out(self):
        self.customer.backorder_no_email = True
        so = self._create_so([(self.product, 2)])
        so2 = self._create_so([(self.product, 2)], partner=self.customer_2)
        self._create_po([(self.product, 5)])
        self._commit()
        self.assertFalse(self._mails(so))
        self.assertEqual(len(self._mails(so2)), 1)

    def test_date_change_threshold(self):
        self.company.backorder_date_change_threshold = 2
        so = self._create_so([(self.product, 2)])
        po = self._create_po([(self.product, 5)])
        self._commit()
        line = po.order_line
        line.date_planned = line.date_planned + timedelta(days=1)
        self._commit()
        self.assertFalse(self._mails(so, "new expected date"), "within the threshold")
        line.date_planned = line.date_planned + timedelta(days=5)
        self._commit()
        mails = self._mails(so, "new expected date")
        self.assertEqual(len(mails), 1)
        self.assertIn(line.date_planned.strftime("%m/%d/%Y"), mails.body_html)

    def test_relinked_to_later_po_after_cancel(self):
        so = self._create_so([(self.product, 2)])
        first = self._create_po([(self.product, 5)], days_ahead=3)
        self.company.backorder_link_on_po_confirm = False
        second = self._create_po([(self.product, 5)], days_ahead=20)
        self.company.backorder_link_on_po_confirm = True
        self._commit()
        first.button_cancel()
        self._commit()
        mails = self._mails(so, "new expected date")
        self.assertEqual(len(mails), 1)
        self.assertIn(
            second.order_line.date_planned.strftime("%m/%d/%Y"), mails.body_html
        )

    def test_ready_to_ship_is_optional(self):
        so = self._create_so([(self.product, 2)])
        po = self._create_po([(self.product, 2)])
        po.picking_ids.move_ids.picked = True
        po.picking_ids.button_validate()
        self._commit()
        self.assertFalse(self._mails(so, "have arrived"))
        self.company.backorder_notify_ready = True
        so2 = self._create_so([(self.product, 2)])
        po2 = self._create_po([(self.product, 2)])
        po2.picking_ids.move_ids.picked = True
        po2.picking_ids.button_validate()
        self._commit()
        self.assertEqual(len(self._mails(so2, "have arrived")), 1)

    def test_customer_language(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        self.customer.lang = "fr_FR"
        so = self._create_so([(self.product, 2)])
        po = self._create_po([(self.product, 5)])
        self._commit()
        mails = self._mails(so)
        # French dates: day first.
        self.assertIn(po.order_line.date_planned.strftime("%d/%m/%Y"), mails.body_html)
