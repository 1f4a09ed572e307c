# Copyright 2026 backorder_po_link contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Hooks on stock moves: the links follow the goods through receipts,
deliveries, cancellations and returns.
"""

from collections import defaultdict

from odoo import models
from odoo.tools import float_compare, float_is_zero

from .backorder_rules import OPEN_MOVE_STATES

# Context key: ids of the sales lines whose links an operation in progress
# (validating, cancelling, changing the demand) reconciles once it is over;
# the hooks that Odoo's own steps trigger inside it leave them alone.
DEFERRED_KEY = "backorder_link_deferred_sale_line_ids"


class StockMove(models.Model):
    _inherit = "stock.move"

    def write(self, vals):
        if "product_uom_qty" not in vals:
            return super().write(vals)
        reserved = {move: move.quantity for move in self}
        res = super(StockMove, self._backorder_deferring()).write(vals)
        # Demand lowered (on the delivery, or through the sales line): Odoo
        # unreserves a move whose reservation exceeds its new demand; the
        # goods received for it are reserved again, up to the new demand,
        # then the links beyond it released.
        self.filtered(
            lambda m: m.state not in ("done", "cancel") and m.quantity < reserved[m]
        )._backorder_reserve_received()
        self._backorder_reconcile()
        return res

    def _action_confirm(self, merge=True, merge_into=False, **kwargs):
        # kwargs: what else Odoo passes (19.0 added create_proc).
        sale_lines = self.sale_line_id
        # Merging moves goes through states that mean nothing (a sales line
        # lowered adds a negative move, then absorbs it): measure after.
        moves = super(StockMove, self._backorder_deferring())._action_confirm(
            merge=merge, merge_into=merge_into, **kwargs
        )
        self.browse()._backorder_reconcile(sale_lines)
        return moves.with_env(self.env)

    def _trigger_assign(self):
        """Received goods go to the deliveries they were promised to first;
        only then does Odoo hand the rest out in its usual order."""
        self._backorder_reserve_for_links()
        return super()._trigger_assign()

    def _action_assign(self, force_qty=False):
        res = super()._action_assign(force_qty=force_qty)
        # Stock reserved from elsewhere: links beyond the rest are released
        # (a link's own reservation defers its sales line to its caller).
        self._backorder_reconcile()
        return res

    def _do_unreserve(self):
        res = super()._do_unreserve()
        # Unreserved: received links no longer hold goods.
        self._backorder_reconcile()
        return res

    def _action_cancel(self):
        res = super(StockMove, self._backorder_deferring())._action_cancel()
        # A cancelled delivery waits for nothing: its links go.
        self._backorder_reconcile()
        return res

    def _action_done(self, cancel_backorder=False):
        returned = self._backorder_returned_purchase_lines()
        # Received links are closed once the goods have left: Odoo's own
        # steps in between (backorder, reservation of what is left, moves
        # cancelled by "No Backorder") must not release them before.
        waiting = (
            self.env["backorder.po.link"]
            .sudo()
            .search(
                [("purchase_line_id", "in", returned.ids), ("state", "=", "received")]
            )
            .sale_line_id
            if returned
            else self.env["sale.order.line"]
        )
        moves = super(StockMove, self._backorder_deferring(waiting))._action_done(
            cancel_backorder=cancel_backorder
        )
        moves = moves.with_env(self.env)
        moves._backorder_mark_delivered()
        # Goods returned to the vendor are awaited again: the lines they were
        # promised to are linked first, then the oldest other backorders.
        self._backorder_reconcile(waiting, purchase_lines=returned)
        return moves

    # ------------------------------------------------------------------
    # Reconciling after changes
    # ------------------------------------------------------------------
    def _backorder_deferring(self, sale_lines=None):
        """These moves with their sales lines (and ``sale_lines``) left to the
        operation about to run, which reconciles them when it is done."""
        deferred = set(self.env.context.get(DEFERRED_KEY, ()))
        deferred.update(self.sale_line_id.ids)
        if sale_lines:
            deferred.update(sale_lines.ids)
        return self.with_context(**{DEFERRED_KEY: tuple(sorted(deferred))})

    def _backorder_reconcile(self, sale_lines=None, purchase_lines=None):
        """Release the links of these moves' sales lines (and ``sale_lines``)
        beyond what they still hold, unless an operation in progress will;
        ``purchase_lines`` had goods returned to the vendor."""
        sale_lines = self._backorder_sale_lines(sale_lines)
        if sale_lines or purchase_lines:
            self.env["backorder.allocator"].sudo()._reconcile(
                sale_lines=sale_lines,
                purchase_lines=purchase_lines,
                supply_lines=purchase_lines,
            )

    def _backorder_sale_lines(self, sale_lines=None):
        """The linked sales lines of these moves (and ``sale_lines``) that no
        operation in progress has taken charge of."""
        if sale_lines:
            sale_lines |= self.sale_line_id
        else:
            sale_lines = self.sale_line_id
        deferred = self.env.context.get(DEFERRED_KEY, ())
        return sale_lines.sudo().filtered(
            lambda line: line.backorder_linked_qty and line.id not in deferred
        )

    def _backorder_returned_purchase_lines(self):
        """The purchase lines whose goods these moves send back to the vendor."""
        return self.filtered(
            lambda m: (
                m.purchase_line_id
                and m.state not in ("done", "cancel")
                and m._is_purchase_return()
            )
        ).purchase_line_id.sudo()

    def _backorder_reserve_received(self):
        """Reserve again the goods received for these moves' sales lines that
        are no longer reserved, up to the moves' demand."""
        for sale_line in self.sale_line_id.sudo():
            received = sale_line.backorder_link_ids.filtered(
                lambda link: link.state == "received"
            )
            if not received:
                continue
            moves = sale_line.move_ids.filtered(
                lambda m: (
                    m.state in OPEN_MOVE_STATES and m.location_id.usage == "internal"
                )
            )
            uom = sale_line.product_id.uom_id
            reserved = sum(
                m.product_uom._compute_quantity(m.quantity, uom) for m in moves
            )
            lacking = sum(received.mapped("quantity")) - reserved
            if float_compare(lacking, 0, precision_rounding=uom.rounding) > 0:
                received[:1]._reserve_delivery(lacking, moves.location_id[:1])

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
        arrivals = self._backorder_arrivals()
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

    def _backorder_arrivals(self):
        """``{(purchase line, location): quantity}``: the goods of these moves
        put in stock, per purchase line they came in for, in its product's
        unit."""
        arrivals = defaultdict(float)
        for move in self.filtered(
            lambda m: m.state == "done" and m.location_dest_id.usage == "internal"
        ):
            po_line = move._backorder_purchase_line()
            if po_line:
                arrivals[(po_line, move.location_dest_id)] += move.product_qty
        return arrivals

    # ------------------------------------------------------------------
    # Delivery
    # ------------------------------------------------------------------
    def _backorder_mark_delivered(self):
        """Deliveries done: received links become done, oldest first, in the
        quantity delivered (``_action_done`` then releases what is left
        beyond the rest of the lines)."""
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
            # What left, not the demand: "No Backorder" leaves the move's
            # demand as it was.
            qty_by_line[move.sale_line_id] += move.product_uom._compute_quantity(
                move.quantity, move.product_id.uom_id
            )
        # Whoever ships the goods closes the promises: the links are the
        # addon's bookkeeping, not the warehouse user's to write.
        for sale_line in sale_lines.sudo():
            sale_line.backorder_link_ids.filtered(
                lambda link: link.state == "received"
            ).sorted(lambda link: (link.date_linked, link.id))._mark_done(
                qty_by_line[sale_line]
            )
