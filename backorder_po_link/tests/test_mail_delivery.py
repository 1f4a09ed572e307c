# Copyright 2026 backorder_po_link contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The customer's backorder email really leaves: queued by the linking,
sent by Odoo's mail queue through an outgoing mail server to a real SMTP
server listening on 127.0.0.1."""

import email
import email.policy
import logging
import socket
import threading
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta

from aiosmtpd.controller import Controller
from lxml import html as lxml_html

from odoo import Command
from odoo.tests import tagged

from odoo.addons.backorder_po_link.models.backorder_series import (
    run_cron,
    send_mail_for_real,
)

from .common import BackorderCommon

MODULE = "backorder_po_link"


class _Inbox:
    """aiosmtpd handler: keeps what the server accepted, as received."""

    def __init__(self):
        self.lock = threading.Lock()
        self.messages = []  # (envelope sender, envelope recipients, raw bytes)

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.messages.append(
                (envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content)
            )
        return "250 Message accepted for delivery"

    def received(self):
        with self.lock:
            return list(self.messages)


class _LocalController(Controller):
    """aiosmtpd's threaded server on a socket bound beforehand to a free port
    of 127.0.0.1: no port to guess, no race with other test runs."""

    def __init__(self, handler, sock, **kwargs):
        self._sock = sock
        host, port = sock.getsockname()
        super().__init__(handler, hostname=host, port=port, **kwargs)

    def _create_server(self):
        return self.loop.create_server(self._factory_invoker, sock=self._sock)


@contextmanager
def local_smtp_server():
    """A real SMTP server on 127.0.0.1 (thread of its own), stopped on exit."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    inbox = _Inbox()
    # server_hostname: no DNS look-up of this machine's name for the banner.
    controller = _LocalController(
        inbox, sock, server_hostname="localhost", ready_timeout=30
    )
    # aiosmtpd logs every SMTP command at INFO on "mail.log": keep Odoo's
    # log for what goes wrong (a WARNING or ERROR still shows, and fails).
    smtp_log = logging.getLogger("mail.log")
    level = smtp_log.level
    smtp_log.setLevel(logging.WARNING)
    try:
        controller.start()
        try:
            yield controller, inbox
        finally:
            controller.stop()
    finally:
        smtp_log.setLevel(level)
        sock.close()


@tagged("post_install", "-at_install")
class TestMailDelivery(BackorderCommon):
    def _load_french(self):
        """French as a French-speaking database has it (as test_i18n loads
        it): the addon's terms (templates, table headers) and the unit's."""
        self.env["res.lang"]._activate_lang("fr_FR")
        self.env["ir.module.module"]._load_module_terms(
            [MODULE, "uom"], ["fr_FR"], overwrite=True
        )

    def test_backorder_email_leaves_through_mail_queue_in_french(self):
        threads_before = set(threading.enumerate())
        # Odoo does not really send mail while a test runs: in Odoo 18,
        # ir.mail_server.connect() returns None and send_email() returns
        # before talking SMTP whenever odoo.modules.module.current_test is
        # set (Odoo 18 has no _is_test_mode(); mail.mail only reads the flag
        # to skip INFO log lines). Odoo's test runner sets it to the running
        # test; pytest-odoo sets it only from Odoo 19 on, so under `make test`
        # it is already False, and patching it makes the test the same under
        # both runners. It is the patch Odoo's own MockSmtplibCase makes
        # (odoo/addons/base/tests/common.py), here without mocking smtplib:
        # the real SMTP client code runs against the real server below. The
        # thread's `testing` flag stays on: it only keeps the mail queue from
        # committing the test's transaction, it guards no sending. The patch
        # covers the whole flow, so that an email sent before the mail queue
        # runs would reach the server and fail the test.
        with (
            self.assertNoLogs(level="WARNING"),
            local_smtp_server() as (smtpd, inbox),
            send_mail_for_real(self.env),
        ):
            self._play_and_check(smtpd, inbox)
        self.assertIsNone(smtpd._thread, "the SMTP server's thread is stopped")
        self.assertEqual(
            set(threading.enumerate()) - threads_before, set(), "no thread left"
        )
        with self.assertRaises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", smtpd.port), timeout=5).close()

    def _play_and_check(self, smtpd, inbox):
        # Admin: the outgoing mail server, and its *Test Connection* button.
        server = self.env["ir.mail_server"].create(
            {
                "name": "Local SMTP",
                "smtp_host": "127.0.0.1",
                "smtp_port": smtpd.port,
                "smtp_encryption": "none",
            }
        )
        result = server.test_smtp_connection()
        self.assertEqual(result["params"]["type"], "success", result)
        # Admin: French loaded, *Email Customers About Backorders* saved.
        self._load_french()
        self.env["res.config.settings"].create(
            {"backorder_notify_customer": True}
        ).execute()
        self.assertTrue(self.company.backorder_notify_customer)
        self.product.with_context(lang="fr_FR").name = "Chaise en chêne"
        customer = self.env["res.partner"].create(
            {
                "name": "Hélène Dupont",
                "email": "helene.dupont@example.fr",
                "lang": "fr_FR",
            }
        )

        # Salesperson: a sales order of 3 chairs, none in stock.
        so = self.env["sale.order"].create(
            {
                "partner_id": customer.id,
                "order_line": [
                    Command.create(
                        {"product_id": self.product.id, "product_uom_qty": 3}
                    )
                ],
            }
        )
        so.action_confirm()
        self.assertEqual(so.state, "sale")
        self.assertEqual(so.order_line.backorder_qty, 3, "the line is backordered")
        self.assertFalse(so.order_line.backorder_link_ids)

        # Purchaser: 5 chairs expected on the 20th of a coming month (a day
        # above 12: French day/month and English month/day differ).
        expected = (date.today() + timedelta(days=40)).replace(day=20)
        po = self.env["purchase.order"].create(
            {
                "partner_id": self.vendor.id,
                "order_line": [
                    Command.create(
                        {
                            "product_id": self.product.id,
                            "product_qty": 5,
                            "price_unit": 60.0,
                            "date_planned": datetime.combine(expected, time(12)),
                        }
                    )
                ],
            }
        )
        po.button_confirm()
        link = so.order_line.backorder_link_ids
        self.assertEqual(link.purchase_line_id, po.order_line)
        self.assertEqual(link.quantity, 3)
        self.assertEqual(link.expected_date.date(), expected)

        # What the commit runs: the email is composed and queued.
        self.env.cr.precommit.run()
        self.env.flush_all()
        mail = self.env["mail.mail"].search(
            [("model", "=", "sale.order"), ("res_id", "=", so.id)]
        )
        self.assertEqual(len(mail), 1)
        self.assertEqual(mail.recipient_ids, customer)
        self.assertEqual(mail.state, "outgoing")
        self.assertEqual(inbox.received(), [], "nothing leaves before the mail queue")

        # The scheduled action that sends queued mail, as its worker runs it.
        cron = self.env.ref("mail.ir_cron_mail_scheduler_action")
        self.assertEqual(cron.code, "model.process_email_queue(batch_size=1000)")
        run_cron(self, cron)
        self.assertEqual(mail.state, "sent", mail.failure_reason)
        notification = mail.mail_message_id.notification_ids.filtered(
            lambda n: n.res_partner_id == customer
        )
        self.assertEqual(notification.notification_status, "sent")

        # What the SMTP server received.
        to_customer = [m for m in inbox.received() if customer.email in m[1]]
        self.assertEqual(len(to_customer), 1, "one email to the customer")
        _sender, recipients, raw = to_customer[0]
        self.assertEqual(recipients, [customer.email])
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        (to,) = msg["To"].addresses
        self.assertEqual(
            (to.display_name, to.addr_spec), (customer.name, customer.email)
        )
        self.assertEqual(
            msg["Subject"],
            f"{self.company.name} : vos articles en reliquat de la commande {so.name}",
        )
        self.assertEqual(msg.get_content_type(), "multipart/alternative")
        body = msg.get_body(("html",)).get_content()
        text = msg.get_body(("plain",)).get_content()

        fr_date = expected.strftime("%d/%m/%Y")  # fr_FR's date format
        (table,) = lxml_html.fromstring(body).xpath(
            "//table[thead/tr/th[normalize-space()='Produit']]"
        )
        self.assertEqual(
            [th.text_content().strip() for th in table.xpath("./thead/tr/th")],
            ["Produit", "Quantité", "Prévu"],
        )
        rows = [
            [td.text_content().strip() for td in row.xpath("./td")]
            for row in table.xpath("./tbody/tr")
        ]
        # The unit's French name as Odoo's translations give it ("Unité(s)").
        unit = self.env.ref("uom.product_uom_unit").with_context(lang="fr_FR").name
        self.assertEqual(rows, [["Chaise en chêne", f"3,00 {unit}", fr_date]])
        for part in (body, text):
            self.assertIn("Bonjour Hélène Dupont,", part)
            self.assertIn("Certains articles de votre commande", part)
            self.assertIn("Cordialement,", part)
            self.assertIn(fr_date, part)
            self.assertIn("Chaise en chêne", part)
            # Not the English template, figures or date; no PO or vendor.
            for english in (
                "Hello",
                "Some items of your order",
                "Kind regards",
                "Oak Chair",
                "3.00",
                expected.strftime("%m/%d/%Y"),
                po.name,
                self.vendor.name,
            ):
                self.assertNotIn(english, part)
