# Copyright 2026 backorder_po_link contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The company's rules, in the flows of a real Odoo: a confirmed line's
quantity changed, the batch in several companies, the minimum deposit."""

from datetime import timedelta

from freezegun import freeze_time

from odoo import Command, fields
from odoo.exceptions import UserError
from odoo.tests import Form, tagged

from odoo.addons.backorder_po_link.models.backorder_series import run_cron

from .common import BackorderCommon


class MultiCompanyMixin:
    """Orders in a company other than the user's main one (used by the queue
    addon's tests too)."""

    @classmethod
    def _create_company(cls, name, **vals):
        company = cls.env["res.company"].create({"name": name, **vals})
        cls.env.user.company_ids |= company
        return company

    @classmethod
    def _create_company_so(cls, company, lines):
        order = (
            cls.env["sale.order"]
            .with_company(company)
            .create(
                {
                    "partner_id": cls.customer.id,
                    "company_id": company.id,
                    "order_line": [
                        Command.create({"product_id": p.id, "product_uom_qty": q})
                        for p, q in lines
                    ],
                }
            )
        )
        order.action_confirm()
        return order

    @classmethod
    def _create_company_po(cls, company, lines):
        order = (
            cls.env["purchase.order"]
            .with_company(company)
            .create(
                {
                    "partner_id": cls.vendor.id,
                    "company_id": company.id,
                    "order_line": [
                        Command.create(
                            {"product_id": p.id, "product_qty": q, "price_unit": 60.0}
                        )
                        for p, q in lines
                    ],
                }
            )
        )
        order.button_confirm()
        return order


@tagged("post_install", "-at_install")
class TestQuantityChange(BackorderCommon):
    """A salesperson changes a line of a confirmed order in its form; Odoo
    changes the delivery; the links follow by the sales-confirmation rules."""

    def _set_line_qty(self, order, quantity, user=None):
        form = Form(order.with_user(user) if user else order)
        with form.order_line.edit(0) as line:
            line.product_uom_qty = quantity
        form.save()

    def _active(self, order):
        return order.backorder_link_ids.filtered(lambda l: l.state == "linked")

    def _demand(self, order):
        """What the order's delivery asks for (Odoo merges a change into the
        open move; a merged-away move is cancelled)."""
        moves = order.order_line.move_ids.filtered(lambda m: m.state != "cancel")
        self.assertEqual(len(moves), 1, moves.mapped("state"))
        return moves.product_uom_qty

    def test_raised_quantity_is_linked_to_free_supply(self):
        po = self._create_po([(self.product, 10)])
        so = self._create_so([(self.product, 5)])
        self.assertLinks(self._active(so), [(so, po, 5)])
        self._set_line_qty(so, 8)
        self.assertEqual(self._demand(so), 8)
        self.assertLinks(self._active(so), [(so, po, 5), (so, po, 3)])
        self.assertEqual(set(so.backorder_link_ids.mapped("origin")), {"so_confirm"})
        self.assertEqual(so.order_line.backorder_linked_qty, 8)
        self.assertEqual(so.order_line.backorder_qty, 0)
        self.assertEqual(so.order_line.backorder_status, "linked")
        self.assertEqual(po.order_line.backorder_free_qty, 2)
        self.assertEqual(self.env["backorder.audit"]._audit(), [])

    def test_raised_quantity_of_a_line_linked_to_nothing_yet(self):
        """Confirmed with nothing on order; supply came in later while PO
        linking is off: raising the line links all it lacks, as confirming
        it now would."""
        so = self._create_so([(self.product, 5)])
        self.company.backorder_link_on_po_confirm = False
        po = self._create_po([(self.product, 10)])
        self.assertFalse(so.backorder_link_ids)
        self._set_line_qty(so, 6)
        self.assertLinks(self._active(so), [(so, po, 6)])
        self.assertEqual(so.order_line.backorder_qty, 0)
        self.assertEqual(self.env["backorder.audit"]._audit(), [])

    def test_raised_quantity_not_linked_when_sales_linking_is_off(self):
        po = self._create_po([(self.product, 10)])
        so = self._create_so([(self.product, 5)])
        self.company.backorder_link_on_so_confirm = False
        self._set_line_qty(so, 8)
        self.assertEqual(self._demand(so), 8)
        self.assertLinks(self._active(so), [(so, po, 5)])
        self.assertEqual(so.order_line.backorder_qty, 3)
        self.assertEqual(po.order_line.backorder_free_qty, 5)
        self.assertEqual(self.env["backorder.audit"]._audit(), [])

    def test_raised_quantity_full_coverage_rule(self):
        """Only 2 free for 3 more: with "Only Link Fully Covered Lines" the
        line keeps what it had; without, it takes the 2."""
        po = self._create_po([(self.product, 7)])
        so = self._create_so([(self.product, 5)])
        self._set_line_qty(so, 8)
        self.assertLinks(self._active(so), [(so, po, 5)])
        self.assertEqual(so.order_line.backorder_qty, 3)
        self.company.backorder_so_full_coverage_only = False
        self._set_line_qty(so, 9)
        self.assertLinks(self._active(so), [(so, po, 5), (so, po, 2)])
        self.assertEqual(so.order_line.backorder_qty, 2)
        self.assertEqual(self.env["backorder.audit"]._audit(), [])

    def test_raised_quantity_respects_the_users_group_and_the_rules(self):
        groups = "sales_team.group_sale_salesman,stock.group_stock_user"
        plain = self._new_user("bo_rules_sales", groups)
        auto = self._new_user(
            "bo_rules_sales_auto",
            f"{groups},backorder_po_link.group_backorder_auto_link",
        )
        po = self._create_po([(self.product, 20)])
        so = self._create_so([(self.product, 5)], user_id=plain.id)
        self._set_line_qty(so, 7, user=plain)
        self.assertLinks(self._active(so), [(so, po, 5)])
        self.assertEqual(so.order_line.backorder_qty, 2)
        # The minimum deposit holds for the added quantity too.
        self.company.backorder_min_deposit_percent = 10
        so.user_id = auto
        self._set_line_qty(so, 8, user=auto)
        self.assertLinks(self._active(so), [(so, po, 5)])
        self.assertEqual(so.order_line.backorder_qty, 3)
        self.company.backorder_min_deposit_percent = 0
        self._set_line_qty(so, 9, user=auto)
        self.assertLinks(self._active(so), [(so, po, 5), (so, po, 4)])
        self.assertEqual(so.order_line.backorder_qty, 0)
        self.assertEqual(self.env["backorder.audit"]._audit(), [])

    def test_lowered_quantity_releases_links_to_the_next_backorder(self):
        # Dated as confirmed (no days_ago): Odoo then merges the change into
        # the delivery's move instead of making a return.
        first = self._create_so([(self.product, 5)])
        second = self._create_so([(self.product, 5)])
        po = self._create_po([(self.product, 5)])
        self.assertLinks(self._active(first), [(first, po, 5)])
        self._set_line_qty(first, 2)
        self.assertEqual(self._demand(first), 2)
        self.assertLinks(
            po.backorder_link_ids.filtered(lambda l: l.state == "linked"),
            [(first, po, 2), (second, po, 3)],
        )
        self.assertEqual(first.order_line.backorder_qty, 0)
        self.assertEqual(second.order_line.backorder_qty, 2)
        self.assertEqual(self.env["backorder.audit"]._audit(), [])


@tagged("post_install", "-at_install")
class TestCompanySwitches(MultiCompanyMixin, BackorderCommon):
    """The batch, by hand, nightly or as a dry run, links in the companies
    that link backorders only."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.other = cls._create_company("Switched Off Co")
        cls.company.write(
            {
                "backorder_link_on_po_confirm": False,
                "backorder_link_on_so_confirm": False,
            }
        )
        # Backorders and supply in both companies, nothing linked yet.
        cls.so = cls._create_so([(cls.product, 3)])
        cls.po = cls._create_po([(cls.product, 5)])
        cls.other_so = cls._create_company_so(cls.other, [(cls.product, 2)])
        cls.other_po = cls._create_company_po(cls.other, [(cls.product, 4)])
        # The main company links backorders (on PO confirmation only).
        cls.company.backorder_link_on_po_confirm = True
        cls.manager = cls._new_user(
            "bo_rules_manager",
            "backorder_po_link.group_backorder_manager,"
            "sales_team.group_sale_salesman_all_leads,purchase.group_purchase_user,"
            "stock.group_stock_user",
            company_id=cls.company.id,
            company_ids=[Command.set((cls.company | cls.other).ids)],
        )

    def _wizard(self, companies):
        env = self.env(
            user=self.manager, context={"allowed_company_ids": companies.ids}
        )
        return env["backorder.auto.link.wizard"].create({})

    def test_rule(self):
        Company = self.env["res.company"]
        self.assertEqual(
            (self.company | self.other)._backorder_linking_companies(), self.company
        )
        self.other.backorder_link_on_so_confirm = True
        self.assertTrue(self.other._backorder_relink_enabled())
        self.assertEqual(
            (self.company | self.other)._backorder_linking_companies(),
            self.company | self.other,
        )
        self.assertFalse(Company._backorder_linking_companies())

    def test_nightly_run_leaves_companies_with_every_switch_off(self):
        cron = self.env.ref("backorder_po_link.ir_cron_backorder_auto_link")
        run_cron(self, cron)
        self.assertLinks(self._links(state="linked"), [(self.so, self.po, 3)])
        self.assertFalse(self.other_so.backorder_link_ids)
        self.assertEqual(self.other_so.order_line.backorder_qty, 2)
        self.assertEqual(self.other_po.order_line.backorder_free_qty, 4)
        self.assertEqual(self.env["backorder.audit"]._audit(), [])
        # Switched on, the other company is linked by the next run.
        self.other.backorder_link_on_so_confirm = True
        run_cron(self, cron)
        self.assertLinks(
            self._links(state="linked"),
            [(self.so, self.po, 3), (self.other_so, self.other_po, 2)],
        )
        self.assertEqual(self.env["backorder.audit"]._audit(), [])

    def test_wizard_previews_and_links_the_linking_companies_only(self):
        both = self.company | self.other
        wizard = self._wizard(both)
        wizard.action_preview()
        self.assertEqual(wizard.line_ids.sale_order_id, self.so)
        self.assertEqual(wizard.link_count, 1)
        self.assertEqual(wizard.unlinked_count, 0)
        self.assertFalse(self._links())
        action = self._wizard(both).action_link()
        links = self.env["backorder.po.link"].search(action["domain"])
        self.assertLinks(links, [(self.so, self.po, 3)])
        self.assertFalse(self.other_so.backorder_link_ids)
        self.assertEqual(self.env["backorder.audit"]._audit(), [])

    def test_wizard_in_a_company_with_every_switch_off_says_so(self):
        wizard = self._wizard(self.other)
        with self.assertRaisesMsg(UserError, "None of the selected companies"):
            wizard.action_preview()
        with self.assertRaisesMsg(UserError, "None of the selected companies"):
            wizard.action_link()
        self.assertFalse(self._links())


@tagged("post_install", "-at_install")
class TestDeposit(BackorderCommon):
    """The minimum deposit: what the customer really paid, in the order's
    currency. Supply is on order before the payments (confirmed while PO
    linking is off); the batch then links what the rule lets through."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.backorder_link_on_po_confirm = False
        cls.po = cls._create_po([(cls.product, 20)])
        # A provider as Odoo's own payment tests make one.
        cls.provider = cls.env["payment.provider"].create(
            {
                "name": "Test Provider",
                "code": "none",
                "state": "test",
                "is_published": True,
                "payment_method_ids": [
                    Command.set([cls.env.ref("payment.payment_method_unknown").id])
                ],
            }
        )
        cls.env.ref("payment.payment_method_unknown").active = True
        code = "EUR" if cls.company.currency_id.name != "EUR" else "USD"
        cls.foreign = (
            cls.env["res.currency"]
            .with_context(active_test=False)
            .search([("name", "=", code)])
        )
        cls.foreign.active = True
        cls.paid_on = fields.Date.today() - timedelta(days=10)
        # Ten days ago one unit of the company's currency bought 0.5 of the
        # foreign one (a foreign unit was worth 2); today it buys 2.
        cls.env["res.currency.rate"].create(
            [
                {
                    "name": cls.paid_on,
                    "rate": 0.5,
                    "currency_id": cls.foreign.id,
                    "company_id": cls.company.id,
                },
                {
                    "name": fields.Date.today(),
                    "rate": 2.0,
                    "currency_id": cls.foreign.id,
                    "company_id": cls.company.id,
                },
            ]
        )
        cls._sequence = 0

    def _pay_online(self, order, amount, currency=None, state="done", on=None):
        """A payment transaction of ``order``, confirmed as the provider would
        (``_set_done`` / ``_set_authorized`` / ``_set_canceled``) on ``on``."""
        type(self)._sequence += 1
        tx = self.env["payment.transaction"].create(
            {
                "provider_id": self.provider.id,
                "payment_method_id": self.env.ref("payment.payment_method_unknown").id,
                "amount": amount,
                "currency_id": (currency or order.currency_id).id,
                "partner_id": order.partner_id.id,
                "reference": f"BO-RULES-{self._sequence}",
                "operation": "online_redirect",
                "sale_order_ids": [Command.set(order.ids)],
            }
        )
        setter = {
            "done": tx._set_done,
            "authorized": tx._set_authorized,
            "cancel": tx._set_canceled,
        }[state]
        with freeze_time(on or fields.Datetime.now()):
            setter()
        return tx

    def _down_payment(self, order, percent):
        wizard = (
            self.env["sale.advance.payment.inv"]
            .with_context(active_model="sale.order", active_ids=order.ids)
            .create({"advance_payment_method": "percentage", "amount": percent})
        )
        wizard.create_invoices()
        invoice = order.invoice_ids.filtered(lambda m: m.state == "draft")
        invoice.action_post()
        return invoice

    def _register_payment(self, invoice):
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=invoice.ids
        ).create({})._create_payments()
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))

    def _credit_note(self, invoice):
        action = (
            self.env["account.move.reversal"]
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create({"journal_id": invoice.journal_id.id, "reason": "Deposit back"})
            .refund_moves()
        )
        credit_note = self.env["account.move"].browse(action["res_id"])
        credit_note.action_post()
        self.assertEqual(credit_note.move_type, "out_refund")
        return credit_note

    def _reasons(self):
        """The dry run: why each backorder would stay unlinked (False: it
        would be linked)."""
        wizard = self.env["backorder.auto.link.wizard"].create({})
        wizard.action_preview()
        return {line.sale_order_id: line.reason for line in wizard.line_ids}

    def _batch(self):
        action = self.env["backorder.auto.link.wizard"].create({}).action_link()
        return self.env["backorder.po.link"].search(action["domain"])

    def test_payment_in_another_currency_at_the_rate_of_its_date(self):
        self.company.backorder_min_deposit_percent = 50
        total = self._create_so([(self.product, 1)], confirm=False).amount_total
        # A quarter of the total in foreign money paid ten days ago was worth
        # half of it then (an eighth at today's rate).
        then = self._create_so([(self.product, 1)], days_ago=2)
        self._pay_online(then, total / 4, self.foreign, on=self.paid_on)
        # 0.6 of it in foreign money paid today is worth 0.3: short.
        today = self._create_so([(self.product, 1)], days_ago=1)
        self._pay_online(today, total * 0.6, self.foreign)
        self.assertEqual(self._reasons(), {then: False, today: "deposit"})
        self.assertLinks(self._batch(), [(then, self.po, 1)])
        self.assertFalse(today.backorder_link_ids)
        self.assertEqual(self.env["backorder.audit"]._audit(), [])

    def test_cancelled_refunded_and_voided_payments_do_not_count(self):
        self.company.backorder_min_deposit_percent = 30
        cancelled = self._create_so([(self.product, 1)], days_ago=5)
        self._pay_online(cancelled, cancelled.amount_total, state="cancel")
        refunded = self._create_so([(self.product, 1)], days_ago=4)
        tx = self._pay_online(refunded, refunded.amount_total * 0.5)
        tx.action_refund(amount_to_refund=refunded.amount_total * 0.3)
        refund = tx.child_transaction_ids
        self.assertEqual(refund.operation, "refund")
        self.assertEqual(self._reasons()[refunded], "deposit", "refund requested")
        refund._set_done()
        # Half authorized, a fifth captured and the rest voided: a fifth paid.
        self.provider.support_manual_capture = "partial"  # as Odoo's tests do
        voided = self._create_so([(self.product, 1)], days_ago=3)
        tx = self._pay_online(voided, voided.amount_total * 0.5, state="authorized")
        self.env["payment.capture.wizard"].with_context(
            active_model="payment.transaction", active_ids=tx.ids
        ).create(
            {
                "amount_to_capture": voided.amount_total * 0.2,
                "void_remaining_amount": True,
            }
        ).action_capture()
        capture, void = tx.child_transaction_ids.sorted("id")
        capture._set_done()
        void._set_canceled()
        self.assertEqual(tx.state, "done")
        # Half paid, a tenth refunded: still 40 %.
        kept = self._create_so([(self.product, 1)], days_ago=2)
        tx = self._pay_online(kept, kept.amount_total * 0.5)
        tx.action_refund(amount_to_refund=kept.amount_total * 0.1)
        tx.child_transaction_ids._set_done()
        # A refund the provider refused gives nothing back.
        failed = self._create_so([(self.product, 1)], days_ago=1)
        tx = self._pay_online(failed, failed.amount_total * 0.5)
        tx.action_refund(amount_to_refund=failed.amount_total * 0.5)
        tx.child_transaction_ids._set_error("Refused")
        self.assertEqual(
            self._reasons(),
            {
                cancelled: "deposit",
                refunded: "deposit",
                voided: "deposit",
                kept: False,
                failed: False,
            },
        )
        self.assertLinks(self._batch(), [(kept, self.po, 1), (failed, self.po, 1)])
        self.assertEqual(self.env["backorder.audit"]._audit(), [])

    def test_credit_note_takes_the_down_payment_back(self):
        self.company.backorder_min_deposit_percent = 50
        so = self._create_so([(self.product, 2)])
        invoice = self._down_payment(so, 50)
        self._register_payment(invoice)
        self.assertEqual(self._reasons(), {so: False})
        self._credit_note(invoice)
        self.assertEqual(self._reasons(), {so: "deposit"})
        self.assertFalse(self._batch())
        self.assertEqual(so.order_line[0].backorder_qty, 2)
        # A new down payment, paid, counts again.
        self._register_payment(self._down_payment(so, 50))
        self.assertLinks(self._batch(), [(so, self.po, 2)])
        self.assertEqual(self.env["backorder.audit"]._audit(), [])

    def test_credit_note_of_an_unpaid_down_payment_takes_nothing(self):
        """A down payment never paid and reversed counts nothing either way:
        the paid one still does."""
        self.company.backorder_min_deposit_percent = 30
        so = self._create_so([(self.product, 2)])
        self._credit_note(self._down_payment(so, 40))
        self._register_payment(self._down_payment(so, 30))
        self.assertEqual(self._reasons(), {so: False})

    def test_down_payment_paid_by_an_online_payment_counts_once(self):
        """An online payment of 30 %, then a down-payment invoice: Odoo links
        the invoice to the payment and reconciles them. 30 % paid, not 60."""
        self.company.backorder_min_deposit_percent = 50
        so = self._create_so([(self.product, 2)])
        tx = self._pay_online(so, so.amount_total * 0.3)
        invoice = self._down_payment(so, 30)
        self.assertEqual(invoice.transaction_ids, tx)
        # The payment Odoo's post-processing books for the transaction (on a
        # bank journal: the test provider has no payment method of its own).
        journal = self.env["account.journal"].search(
            [("type", "=", "bank"), ("company_id", "=", self.company.id)], limit=1
        )
        tx._create_payment(
            journal_id=journal.id,
            payment_method_line_id=journal.inbound_payment_method_line_ids[:1].id,
        )
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.assertEqual(self._reasons(), {so: "deposit"})
        self.company.backorder_min_deposit_percent = 30
        self.assertEqual(self._reasons(), {so: False})

    def test_links_of_orders_that_paid_their_deposit_are_firm(self):
        """With the option, links of orders that paid the minimum deposit are
        firm; without a minimum there is nothing to meet."""
        self.company.write(
            {
                "backorder_min_deposit_percent": 20,
                "backorder_firm_when_deposit_met": True,
            }
        )
        paid = self._create_so([(self.product, 1)], days_ago=2)
        self._pay_online(paid, paid.amount_total * 0.25)
        no_rule = self._create_so([(self.product, 1)], days_ago=1)
        self.assertLinks(self._batch(), [(paid, self.po, 1)])
        self.assertTrue(paid.backorder_link_ids.is_firm)
        self.company.backorder_min_deposit_percent = 0
        self.assertLinks(self._batch(), [(no_rule, self.po, 1)])
        self.assertFalse(no_rule.backorder_link_ids.is_firm)
        # Off: a paid order's link is soft.
        self.company.write(
            {
                "backorder_min_deposit_percent": 20,
                "backorder_firm_when_deposit_met": False,
            }
        )
        paid_2 = self._create_so([(self.product, 1)])
        self._pay_online(paid_2, paid_2.amount_total * 0.25)
        self.assertLinks(self._batch(), [(paid_2, self.po, 1)])
        self.assertFalse(paid_2.backorder_link_ids.is_firm)
