# Copyright 2026 backorder_po_link contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import datetime

import psycopg2
from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger
from odoo.tools.misc import format_date

from odoo.addons.backorder_po_link.models.backorder_series import (
    is_locked,
    lock_purchase,
)

from .common import BackorderCommon


@tagged("post_install", "-at_install")
class TestLinking(BackorderCommon):
    # ------------------------------------------------------------------
    # Switches
    # ------------------------------------------------------------------
    def test_disabled_by_default(self):
        """A new company has every automation off and no rule: confirming
        orders there links nothing."""
        company = self.env["res.company"].create({"name": "Fresh Co"})
        self.assertRecordValues(
            company,
            [
                {
                    "backorder_link_on_po_confirm": False,
                    "backorder_link_on_so_confirm": False,
                    "backorder_so_full_coverage_only": True,
                    "backorder_min_deposit_percent": 0.0,
                    "backorder_max_days_out": 0,
                    "backorder_same_warehouse_only": False,
                }
            ],
        )
        self.company.write(
            {
                "backorder_link_on_po_confirm": False,
                "backorder_link_on_so_confirm": False,
            }
        )
        so = self._create_so([(self.product, 5)])
        po = self._create_po([(self.product, 10)])
        so2 = self._create_so([(self.product, 3)])
        self.assertFalse(self._links())
        self.assertEqual(so.order_line.backorder_qty, 5)
        self.assertEqual(so2.order_line.backorder_qty, 3)
        self.assertEqual(po.order_line.backorder_free_qty, 10)
        self.assertEqual(po.state, "purchase")
        self.assertEqual(so.state, "sale")

    # ------------------------------------------------------------------
    # Purchase confirmation
    # ------------------------------------------------------------------
    def test_po_confirm_links_oldest_first_with_partial_links(self):
        newest = self._create_so([(self.product, 5)], days_ago=1)
        oldest = self._create_so([(self.product, 5)], days_ago=10)
        middle = self._create_so([(self.product, 5)], days_ago=5)
        po = self._create_po([(self.product, 8)])
        self.assertLinks(po.backorder_link_ids, [(oldest, po, 5), (middle, po, 3)])
        self.assertEqual(po.backorder_link_ids.mapped("origin"), ["po_confirm"] * 2)
        self.assertEqual(po.backorder_link_ids.mapped("state"), ["linked"] * 2)
        self.assertRecordValues(
            po.order_line, [{"backorder_linked_qty": 8, "backorder_free_qty": 0}]
        )
        self.assertRecordValues(
            (oldest | middle | newest).order_line,
            [
                {"backorder_linked_qty": 5, "backorder_qty": 0},
                {"backorder_linked_qty": 3, "backorder_qty": 2},
                {"backorder_linked_qty": 0, "backorder_qty": 5},
            ],
        )
        self.assertEqual(
            oldest.order_line.backorder_expected_date, po.order_line.date_planned
        )
        self.assertEqual(po.backorder_sale_order_count, 2)
        self.assertEqual(oldest.backorder_purchase_order_count, 1)

    def test_po_confirm_same_day_orders_by_order_then_line(self):
        """Orders of the same date compete by order id, then line sequence."""
        first = self._create_so([(self.product, 2), (self.product, 2)], days_ago=3)
        second = self._create_so([(self.product, 2)], days_ago=3)
        second.date_order = first.date_order
        po = self._create_po([(self.product, 3)])
        got = sorted(
            (link.sale_line_id.id, link.quantity) for link in po.backorder_link_ids
        )
        self.assertEqual(
            got, [(first.order_line[0].id, 2), (first.order_line[1].id, 1)]
        )

    def test_po_confirm_ignores_stock_covered_lines(self):
        """Only what stock does not cover is backordered."""
        self._put_in_stock(self.product, 3)
        so = self._create_so([(self.product, 5)])
        self.assertEqual(so.order_line.backorder_qty, 2)
        po = self._create_po([(self.product, 10)])
        self.assertLinks(po.backorder_link_ids, [(so, po, 2)])

    def test_po_confirm_reads_only_the_backorders_its_supply_reaches(self):
        """The supply walks the backorders oldest first and stops once they
        take it all: lines already linked or served by stock take nothing
        and do not stop the walk early."""
        orders = [
            self._create_so([(self.product, 3)], days_ago=20 - i) for i in range(6)
        ]
        self._create_po([(self.product, 4)])  # oldest 3 + 1 of the second
        self._put_in_stock(self.product, 2)
        orders[2].picking_ids.action_assign()  # the third is served by stock...
        self.assertEqual(orders[2].order_line.backorder_qty, 1)  # ...but one
        self.company.backorder_link_on_po_confirm = False
        po = self._create_po([(self.product, 5)])
        pairs, demands = (
            self.env["backorder.allocator"].sudo()._plan(purchase_lines=po.order_line)
        )
        lines = [order.order_line.id for order in orders]
        self.assertEqual(
            [(d.id, d.need) for d in demands],
            [(lines[1], 2), (lines[2], 1), (lines[3], 3)],
            "the fourth line takes the last unit: the fifth and sixth are not read",
        )
        pol = po.order_line.id
        self.assertEqual(
            pairs, [(lines[1], pol, 2), (lines[2], pol, 1), (lines[3], pol, 2)]
        )

    def test_po_confirm_posts_one_message_per_order_and_run(self):
        so = self._create_so([(self.product, 2), (self.product_2, 3)])
        before_so = len(so.message_ids)
        po = self._create_po([(self.product, 5), (self.product_2, 5)])
        self.assertEqual(len(po.backorder_link_ids), 2)
        new_so_messages = so.message_ids[: len(so.message_ids) - before_so]
        link_messages = new_so_messages.filtered(
            lambda m: "Backorder links created" in m.body
        )
        self.assertEqual(len(link_messages), 1)
        self.assertIn(po.name, link_messages.body)
        self.assertIn("Walnut Table", link_messages.body)
        po_messages = po.message_ids.filtered(
            lambda m: "Backorder links created" in (m.body or "")
        )
        self.assertEqual(len(po_messages), 1)
        self.assertIn(so.name, po_messages.body)

    def test_link_notes_list_each_link_with_names_escaped(self):
        product = self._create_product(
            'Chair <b>"Bistro" & Co</b>', default_code="CH'1"
        )
        so = self._create_so([(product, 2.5)])
        po = self._create_po([(product, 4)])
        date = format_date(self.env, po.order_line.date_planned)
        so_note = so.message_ids.filtered(
            lambda m: "Backorder links created" in (m.body or "")
        )
        self.assertIn(
            f"<li>2.50 Units [CH&#39;1] Chair &lt;b&gt;&#34;Bistro&#34; &amp; Co"
            f"&lt;/b&gt; → {po.name} (expected {date})</li>",
            so_note.body,
        )
        po_note = po.message_ids.filtered(
            lambda m: "Backorder links created" in (m.body or "")
        )
        self.assertIn(f"→ {so.name} (expected {date})</li>", po_note.body)
        self.assertEqual(so_note.message_type, "notification")
        self.assertEqual(so_note.subtype_id, self.env.ref("mail.mt_note"))

    # ------------------------------------------------------------------
    # Sales confirmation
    # ------------------------------------------------------------------
    def test_so_confirm_links_earliest_arrival_first(self):
        late = self._create_po([(self.product, 10)], days_ahead=20)
        early = self._create_po([(self.product, 4)], days_ahead=3)
        self.company.backorder_so_full_coverage_only = False
        so = self._create_so([(self.product, 6)])
        self.assertLinks(so.backorder_link_ids, [(so, early, 4), (so, late, 2)])
        self.assertEqual(so.backorder_link_ids.mapped("origin"), ["so_confirm"] * 2)

    def test_so_confirm_after_stock_reservation(self):
        """Odoo reserves stock first; only the rest is linked."""
        self._put_in_stock(self.product, 4)
        po = self._create_po([(self.product, 10)])
        so = self._create_so([(self.product, 6)])
        self.assertLinks(so.backorder_link_ids, [(so, po, 2)])
        self.assertEqual(so.order_line.move_ids.quantity, 4)

    def test_so_confirm_full_coverage_only_skips_partial(self):
        po = self._create_po([(self.product, 3)])
        so = self._create_so([(self.product, 5)])
        self.assertFalse(so.backorder_link_ids)
        self.assertEqual(so.order_line.backorder_qty, 5)
        self.assertEqual(po.order_line.backorder_free_qty, 3)
        # The same order with the option off takes what there is.
        self.company.backorder_so_full_coverage_only = False
        so2 = self._create_so([(self.product, 5)])
        self.assertLinks(so2.backorder_link_ids, [(so2, po, 3)])

    def test_so_confirm_full_coverage_per_line(self):
        """A line that can be covered is linked even when another can't."""
        self._create_po([(self.product, 5)])
        so = self._create_so([(self.product, 5), (self.product_2, 2)])
        self.assertEqual(so.backorder_link_ids.sale_line_id, so.order_line[0])

    def test_so_confirm_ignores_draft_and_cancelled_po(self):
        self._create_po([(self.product, 10)], confirm=False)
        cancelled = self._create_po([(self.product, 10)])
        cancelled.button_cancel()
        so = self._create_so([(self.product, 5)])
        self.assertFalse(so.backorder_link_ids)

    def test_so_confirm_uses_locked_po(self):
        """A locked purchase order is still open supply."""
        po = self._create_po([(self.product, 10)])
        lock_purchase(po)
        self.assertTrue(is_locked(po))
        so = self._create_so([(self.product, 5)])
        self.assertLinks(so.backorder_link_ids, [(so, po, 5)])

    def test_service_and_consumable_lines_are_never_linked(self):
        service = self.env["product.product"].create(
            {"name": "Assembly", "type": "service"}
        )
        consumable = self.env["product.product"].create(
            {"name": "Glue", "type": "consu", "is_storable": False}
        )
        so = self._create_so([(service, 1), (consumable, 4)])
        self._create_po([(consumable, 10)])
        self.assertFalse(so.backorder_link_ids)
        self.assertEqual(so.order_line.mapped("backorder_qty"), [0, 0])

    # ------------------------------------------------------------------
    # Eligibility rules
    # ------------------------------------------------------------------
    def test_min_deposit_rule(self):
        self.company.backorder_min_deposit_percent = 30
        unpaid = self._create_so([(self.product, 1)], days_ago=5)
        paid = self._create_so([(self.product, 1)], days_ago=1)
        provider = self.env["payment.provider"].search([], limit=1)
        self.env["payment.transaction"].create(
            {
                "provider_id": provider.id,
                "payment_method_id": self.env.ref("payment.payment_method_unknown").id,
                "amount": paid.amount_total * 0.3,
                "currency_id": paid.currency_id.id,
                "partner_id": paid.partner_id.id,
                "reference": "DEPOSIT-TEST-1",
                "sale_order_ids": [Command.set(paid.ids)],
                "state": "done",
            }
        )
        po = self._create_po([(self.product, 5)])
        self.assertLinks(po.backorder_link_ids, [(paid, po, 1)])
        self.assertFalse(unpaid.backorder_link_ids)

    def test_min_deposit_counts_paid_down_payments(self):
        self.company.backorder_min_deposit_percent = 50
        so = self._create_so([(self.product, 2)])
        wizard = (
            self.env["sale.advance.payment.inv"]
            .with_context(active_model="sale.order", active_ids=so.ids)
            .create({"advance_payment_method": "percentage", "amount": 50})
        )
        wizard.create_invoices()
        invoice = so.invoice_ids
        invoice.action_post()
        po = self._create_po([(self.product, 5)])
        self.assertFalse(
            po.backorder_link_ids, "a posted but unpaid invoice is no deposit"
        )
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=invoice.ids
        ).create({})._create_payments()
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        po2 = self._create_po([(self.product, 5)])
        self.assertLinks(po2.backorder_link_ids, [(so, po2, 2)])

    def test_max_days_out_seed_002_example(self):
        """Seed 002: today Oct 6, 20 days out, so the scheduled date must be
        on or before Oct 26. Sep 4 and Oct 26 qualify, Oct 27 does not."""
        self.company.backorder_max_days_out = 20
        with freeze_time("2021-10-06 09:00:00"):
            sep_4 = self._create_so(
                [(self.product, 1)], commitment_date=datetime(2021, 9, 4, 10)
            )
            oct_26 = self._create_so(
                [(self.product, 1)], commitment_date=datetime(2021, 10, 26, 10)
            )
            oct_27 = self._create_so(
                [(self.product, 1)], commitment_date=datetime(2021, 10, 27, 10)
            )
            po = self._create_po([(self.product, 10)])
        self.assertLinks(po.backorder_link_ids, [(sep_4, po, 1), (oct_26, po, 1)])
        self.assertFalse(oct_27.backorder_link_ids)

    def test_max_days_out_uses_expected_date_without_commitment(self):
        self.company.backorder_max_days_out = 5
        self.product.sale_delay = 10  # expected 10 days after the order
        far = self._create_so([(self.product, 1)])
        self.product.sale_delay = 2
        near = self._create_so([(self.product, 1)])
        po = self._create_po([(self.product, 10)])
        self.assertLinks(po.backorder_link_ids, [(near, po, 1)])
        self.assertFalse(far.backorder_link_ids)

    def _second_warehouse(self):
        return self.env["stock.warehouse"].create(
            {"name": "Second Warehouse", "code": "WH2", "company_id": self.company.id}
        )

    def test_same_warehouse_only(self):
        wh2 = self._second_warehouse()
        so = self._create_so([(self.product, 2)])
        po_wh2 = self._create_po([(self.product, 5)], picking_type_id=wh2.in_type_id.id)
        self.company.backorder_same_warehouse_only = True
        so2 = self._create_so([(self.product, 2)])
        # so was linked before the rule was on; so2 is refused the WH2 supply.
        self.assertLinks(po_wh2.backorder_link_ids, [(so, po_wh2, 2)])
        self.assertFalse(so2.backorder_link_ids)
        po_wh1 = self._create_po([(self.product, 5)])
        self.assertLinks(po_wh1.backorder_link_ids, [(so2, po_wh1, 2)])

    def test_allowed_source_warehouses(self):
        wh2 = self._second_warehouse()
        wh3 = self.env["stock.warehouse"].create(
            {"name": "Third Warehouse", "code": "WH3", "company_id": self.company.id}
        )
        self.warehouse.backorder_source_warehouse_ids = wh2
        # Same-warehouse-only is overridden by the warehouse's own list.
        self.company.backorder_same_warehouse_only = True
        po_wh1 = self._create_po([(self.product, 5)])
        po_wh3 = self._create_po([(self.product, 5)], picking_type_id=wh3.in_type_id.id)
        po_wh2 = self._create_po(
            [(self.product, 5)], picking_type_id=wh2.in_type_id.id, days_ahead=30
        )
        self.company.backorder_so_full_coverage_only = False
        so = self._create_so([(self.product, 4)])
        self.assertLinks(so.backorder_link_ids, [(so, po_wh2, 4)])
        self.assertFalse(po_wh1.backorder_link_ids | po_wh3.backorder_link_ids)

    def test_po_opt_out(self):
        so = self._create_so([(self.product, 2)])
        po = self._create_po([(self.product, 5)], allow_backorder_link=False)
        self.assertFalse(po.backorder_link_ids)
        so2 = self._create_so([(self.product, 2)])
        self.assertFalse((so | so2).backorder_link_ids)
        self.assertEqual(po.order_line.backorder_free_qty, 5)

    def test_user_without_group_does_not_link(self):
        buyer = self._new_user(
            "buyer_no_auto", "purchase.group_purchase_user,stock.group_stock_user"
        )
        buyer_auto = self._new_user(
            "buyer_auto",
            "purchase.group_purchase_user,stock.group_stock_user,"
            "backorder_po_link.group_backorder_auto_link",
        )
        so = self._create_so([(self.product, 2)])
        po = self._create_po([(self.product, 5)], confirm=False)
        po.with_user(buyer).button_confirm()
        self.assertEqual(po.state, "purchase")
        self.assertFalse(po.backorder_link_ids)
        po2 = self._create_po([(self.product, 5)], confirm=False)
        po2.with_user(buyer_auto).button_confirm()
        self.assertLinks(po2.backorder_link_ids, [(so, po2, 2)])

    def test_admin_has_the_auto_link_group(self):
        admin = self.env.ref("base.user_admin")
        self.assertTrue(admin.has_group("backorder_po_link.group_backorder_auto_link"))
        self.assertTrue(admin.has_group("backorder_po_link.group_backorder_manager"))

    # ------------------------------------------------------------------
    # Units of measure and companies
    # ------------------------------------------------------------------
    def test_units_of_measure(self):
        """A PO line of 1 dozen covers 12 units; a sales line in dozens
        needs 12 units per dozen."""
        in_units = self._create_so([(self.product, 10)], days_ago=3)
        in_dozens = self._create_so([(self.product, 1, self.uom_dozen)], days_ago=2)
        po = self._create_po([(self.product, 2, self.uom_dozen)])
        self.assertLinks(
            po.backorder_link_ids, [(in_units, po, 10), (in_dozens, po, 12)]
        )
        self.assertEqual(po.order_line.backorder_linked_qty, 22)
        self.assertEqual(po.order_line.backorder_free_qty, 2)
        self.assertEqual(in_dozens.order_line.backorder_linked_qty, 12)

    def test_multi_company_separation(self):
        other = self.env["res.company"].create(
            {
                "name": "Other Co",
                "backorder_link_on_po_confirm": True,
                "backorder_link_on_so_confirm": True,
            }
        )
        self.env.user.company_ids |= other
        other_so = (
            self.env["sale.order"]
            .with_company(other)
            .create(
                {
                    "partner_id": self.customer.id,
                    "company_id": other.id,
                    "order_line": [
                        Command.create(
                            {"product_id": self.product.id, "product_uom_qty": 3}
                        )
                    ],
                }
            )
        )
        other_so.with_company(other).action_confirm()
        self.assertEqual(other_so.order_line.backorder_qty, 3)
        po = self._create_po([(self.product, 10)])
        self.assertFalse(po.backorder_link_ids)
        self.assertFalse(other_so.backorder_link_ids)

    # ------------------------------------------------------------------
    # Manual links and invariants
    # ------------------------------------------------------------------
    def _manual(self, so, po, qty, **vals):
        return self.env["backorder.po.link"].create(
            {
                "sale_line_id": so.order_line[0].id,
                "purchase_line_id": po.order_line[0].id,
                "quantity": qty,
                **vals,
            }
        )

    def test_manual_link_invariants(self):
        self.company.write(
            {
                "backorder_link_on_po_confirm": False,
                "backorder_link_on_so_confirm": False,
            }
        )
        so = self._create_so([(self.product, 5)])
        so2 = self._create_so([(self.product, 5)])
        po = self._create_po([(self.product, 6)])
        link = self._manual(so, po, 4)
        self.assertEqual(link.origin, "manual")
        self.assertEqual(so.order_line.backorder_linked_qty, 4)
        with self.assertRaisesMsg(ValidationError, "only 6.0 are ordered"):
            self._manual(so2, po, 3)
        with self.assertRaisesMsg(ValidationError, "only 5.0 are still to deliver"):
            self._manual(so, po, 2)
        with self.assertRaisesMsg(ValidationError, "must be positive"):
            self._manual(so2, po, 0)
        with self.assertRaisesMsg(ValidationError, "must be positive"):
            self._manual(so2, po, -1)
        with self.assertRaisesMsg(ValidationError, "only 5.0 are still to deliver"):
            link.quantity = 7
        with self.assertRaisesMsg(ValidationError, "only 6.0 are ordered"):
            self._manual(so2, po, 2.5)
        self.assertEqual(link.quantity, 4)
        self.assertEqual(len(self._links()), 1, "nothing half-written")

    def test_manual_link_product_and_company_mismatch(self):
        self.company.write(
            {
                "backorder_link_on_po_confirm": False,
                "backorder_link_on_so_confirm": False,
            }
        )
        so = self._create_so([(self.product, 5)])
        po_other_product = self._create_po([(self.product_2, 6)])
        with self.assertRaisesMsg(ValidationError, "same product"):
            self._manual(so, po_other_product, 1)
        draft_po = self._create_po([(self.product, 6)], confirm=False)
        with self.assertRaisesMsg(ValidationError, "not confirmed"):
            self._manual(so, draft_po, 1)
        draft_so = self._create_so([(self.product, 5)], confirm=False)
        po = self._create_po([(self.product, 6)])
        with self.assertRaisesMsg(ValidationError, "not confirmed"):
            self._manual(draft_so, po, 1)
        other = self.env["res.company"].create({"name": "Other Co"})
        self.env.user.company_ids |= other
        other_po = (
            self.env["purchase.order"]
            .with_company(other)
            .create(
                {
                    "partner_id": self.vendor.id,
                    "company_id": other.id,
                    "order_line": [
                        Command.create(
                            {"product_id": self.product.id, "product_qty": 5}
                        )
                    ],
                }
            )
        )
        other_po.with_company(other).button_confirm()
        with self.assertRaisesMsg(ValidationError, "different companies"):
            self._manual(so, other_po, 1)
        self.assertFalse(self._links())

    def test_links_never_exceed_either_side(self):
        """Many orders and purchases: every line's links stay within it."""
        self.company.backorder_so_full_coverage_only = False
        orders = self.env["sale.order"]
        for qty in (3, 7, 2, 9, 4):
            orders |= self._create_so([(self.product, qty)])
        pos = self.env["purchase.order"]
        for qty in (5, 6, 11):
            pos |= self._create_po([(self.product, qty)])
        orders |= self._create_so([(self.product, 4)])
        for line in orders.order_line:
            self.assertLessEqual(line.backorder_linked_qty, line.product_uom_qty)
        for line in pos.order_line:
            self.assertLessEqual(line.backorder_linked_qty, line.product_qty)
        # 25 demanded in the first five, 22 supplied: all supply is promised.
        self.assertEqual(sum(pos.order_line.mapped("backorder_linked_qty")), 22)
        self.assertEqual(sum(orders.order_line.mapped("backorder_qty")), 29 - 22)

    @mute_logger("odoo.sql_db")
    def test_database_refuses_zero_quantity(self):
        so = self._create_so([(self.product, 5)])
        po = self._create_po([(self.product, 6)])
        with self.assertRaises(psycopg2.errors.CheckViolation):
            self.env.cr.execute(
                "INSERT INTO backorder_po_link (sale_line_id, purchase_line_id, "
                "quantity, state, origin, date_linked) "
                "VALUES (%s, %s, 0, 'linked', 'manual', now())",
                (so.order_line.id, po.order_line.id),
            )
