# Copyright 2026 backorder_po_link contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from collections import defaultdict

from odoo import models
from odoo.tools import float_compare, float_is_zero


class StockMove(models.Model):
    _inherit = "stock.move"

    def _trigger_assign(self):
        """Received goods go to the deliveries they were promised to first;
        only then does Odoo hand the rest out in its usual order."""
        self._backorder_reserve_for_links()
        return super()._trigger_assign()

    def _action_assign(self, force_qty=False):
        res = super()._action_assign(force_qty=force_qty)
        context = self.env.context
        if not (
            context.get("backorder_link_receiving")
            or context.get("backorder_link_delivering")
        ):
            # Stock reserved from elsewhere: links beyond the rest are released.
            sale_lines = self.sale_line_id.filtered("backorder_linked_qty")
            if sale_lines:
                self.env["backorder.allocator"].sudo()._reconcile(sale_lines=sale_lines)
        return res

    def _action_done(self, cancel_backorder=False):
        # Before it returns, Odoo reserves the transfer's backorder and the
        # next step: the goods just delivered then count as delivered on the
        # sales line while the links they close are still received, and
        # reconciling at that point would take the links of the rest away.
        # The links follow once the delivery closed them.
        moves = (
            super(StockMove, self.with_context(backorder_link_delivering=True))
            ._action_done(cancel_backorder=cancel_backorder)
            .with_env(self.env)
        )
        moves._backorder_mark_delivered()
        moves._backorder_reconcile_after_step()
        return moves

    # ------------------------------------------------------------------
    # Receipt
    # ------------------------------------------------------------------
    def _backorder_purchase_line(self):
        """The purchase line these goods came in for, through the chain of
        moves of a multi-step receipt."""
        self.ensure_one()
        if self.purchase_line_id:
            return self.purchase_line_id
        origins = self.browse(self._rollup_move_origs())
        return origins.purchase_line_id[:1]

    def _backorder_reserve_for_links(self):
        """Reserve goods just put in stock for the deliveries of the sales
        lines linked to their purchase line, oldest link first, and mark what
        was reserved as received (splitting a link received in part)."""
        done = self.filtered(
            lambda m: m.state == "done" and m.location_dest_id.usage == "internal"
        )
        if not done:
            return
        arrivals = defaultdict(float)  # (purchase line, location) -> product qty
        for move in done:
            po_line = move._backorder_purchase_line()
            if po_line:
                arrivals[(po_line, move.location_dest_id)] += move.product_qty
        if not arrivals:
            return
        po_lines = self.env["purchase.order.line"].union(
            *(pol for pol, _loc in arrivals)
        )
        links = (
            self.env["backorder.po.link"]
            .sudo()
            .search(
                [("purchase_line_id", "in", po_lines.ids), ("state", "=", "linked")],
                order="date_linked, id",
            )
        )
        if not links:
            return
        links_by_po_line = links.grouped("purchase_line_id")
        touched_sale = self.env["sale.order.line"]
        for (po_line, location), arrived in arrivals.items():
            rounding = po_line.product_id.uom_id.rounding
            for link in links_by_po_line.get(po_line, []):
                if float_compare(arrived, 0, precision_rounding=rounding) <= 0:
                    break
                reserved = link._reserve_delivery(min(link.quantity, arrived), location)
                if float_is_zero(reserved, precision_rounding=rounding):
                    continue
                link._mark_received(reserved)
                arrived -= reserved
                touched_sale |= link.sale_line_id
        self.env["backorder.allocator"].sudo()._reconcile(
            sale_lines=touched_sale, purchase_lines=links.purchase_line_id
        )

    # ------------------------------------------------------------------
    # Delivery
    # ------------------------------------------------------------------
    def _backorder_reconcile_after_step(self):
        """A step that is not the delivery to the customer (a pick, a pack)
        done: what Odoo reserved meanwhile for its sales lines (the step's
        backorder) was not followed by the links yet."""
        sale_lines = self.filtered(
            lambda m: m.state == "done" and m.location_dest_id.usage != "customer"
        ).sale_line_id.filtered("backorder_linked_qty")
        if sale_lines:
            self.env["backorder.allocator"].sudo()._reconcile(sale_lines=sale_lines)

    def _backorder_mark_delivered(self):
        """Deliveries done: received links become done, oldest first, in the
        quantity delivered; links of lines delivered from other stock shrink."""
        delivered = self.filtered(
            lambda m: (
                m.state == "done"
                and m.sale_line_id
                and m.location_dest_id.usage == "customer"
            )
        )
        sale_lines = delivered.sale_line_id.filtered("backorder_linked_qty")
        if not sale_lines:
            return
        qty_by_line = defaultdict(float)
        for move in delivered:
            qty_by_line[move.sale_line_id] += move.product_qty
        # Whoever ships the goods closes the promises: the links are the
        # addon's bookkeeping, not the warehouse user's to write.
        for sale_line in sale_lines.sudo():
            sale_line.backorder_link_ids.filtered(
                lambda link: link.state == "received"
            ).sorted(lambda link: (link.date_linked, link.id))._mark_done(
                qty_by_line[sale_line]
            )
        self.env["backorder.allocator"].sudo()._reconcile(sale_lines=sale_lines)
