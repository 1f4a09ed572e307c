# Copyright 2026 backorder_po_link contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The company's rules, in the flows of a real Odoo: a confirmed line's
quantity changed, the batch in several companies, the minimum deposit."""

from odoo.tests import Form, tagged

from .common import BackorderCommon


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
