# Copyright 2026 backorder_po_link contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The company's rules, in the flows of a real Odoo: a confirmed line's
quantity changed, the batch in several companies, the minimum deposit."""

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import Form, tagged

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
        self.assertEqual(self.env["backorder.allocator"]._audit(), [])

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
        self.assertEqual(self.env["backorder.allocator"]._audit(), [])

    def test_raised_quantity_not_linked_when_sales_linking_is_off(self):
        po = self._create_po([(self.product, 10)])
        so = self._create_so([(self.product, 5)])
        self.company.backorder_link_on_so_confirm = False
        self._set_line_qty(so, 8)
        self.assertEqual(self._demand(so), 8)
        self.assertLinks(self._active(so), [(so, po, 5)])
        self.assertEqual(so.order_line.backorder_qty, 3)
        self.assertEqual(po.order_line.backorder_free_qty, 5)
        self.assertEqual(self.env["backorder.allocator"]._audit(), [])

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
        self.assertEqual(self.env["backorder.allocator"]._audit(), [])

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
        self.assertEqual(self.env["backorder.allocator"]._audit(), [])

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
        self.assertEqual(self.env["backorder.allocator"]._audit(), [])


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
        cron.method_direct_trigger()
        self.assertLinks(self._links(state="linked"), [(self.so, self.po, 3)])
        self.assertFalse(self.other_so.backorder_link_ids)
        self.assertEqual(self.other_so.order_line.backorder_qty, 2)
        self.assertEqual(self.other_po.order_line.backorder_free_qty, 4)
        self.assertEqual(self.env["backorder.allocator"]._audit(), [])
        # Switched on, the other company is linked by the next run.
        self.other.backorder_link_on_so_confirm = True
        cron.method_direct_trigger()
        self.assertLinks(
            self._links(state="linked"),
            [(self.so, self.po, 3), (self.other_so, self.other_po, 2)],
        )
        self.assertEqual(self.env["backorder.allocator"]._audit(), [])

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
        self.assertEqual(self.env["backorder.allocator"]._audit(), [])

    def test_wizard_in_a_company_with_every_switch_off_says_so(self):
        wizard = self._wizard(self.other)
        with self.assertRaisesMsg(UserError, "None of the selected companies"):
            wizard.action_preview()
        with self.assertRaisesMsg(UserError, "None of the selected companies"):
            wizard.action_link()
        self.assertFalse(self._links())
