# Copyright 2026 backorder_po_link contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Hooks on purchase lines: free quantity, date changes, quantity cuts."""

from odoo import api, fields, models
from odoo.tools import SQL

from .backorder_series import LINE_UOM, QTY_DIGITS


class PurchaseOrderLine(models.Model):
    _inherit = "purchase.order.line"

    backorder_link_ids = fields.One2many(
        "backorder.po.link", "purchase_line_id", string="Backorder Links"
    )
    backorder_linked_qty = fields.Float(
        string="Linked to Backorders",
        digits=QTY_DIGITS,
        readonly=True,
        copy=False,
        help="Quantity promised to backordered sales lines (awaiting receipt or "
        "received), in the product's unit of measure.",
    )
    backorder_sale_line_ids = fields.Many2many(
        "sale.order.line",
        "backorder_pol_sale_line_rel",
        "purchase_line_id",
        "sale_line_id",
        string="Ordered For",
        copy=False,
        help="Backordered sales lines this line was ordered for: confirming the "
        "order links them first.",
    )
    backorder_free_qty = fields.Float(
        string="Free for Backorders",
        digits=QTY_DIGITS,
        compute="_compute_backorder_free_qty",
        help="Quantity still to receive that no backorder is promised, in the "
        "product's unit of measure.",
    )

    def action_backorder_link_sale(self):
        """Open the manual link form with this line filled in."""
        self.ensure_one()
        return self.env["backorder.manual.link.wizard"]._action_open(self)

    def write(self, vals):
        old_dates = {}
        if "date_planned" in vals:
            old_dates = {line.id: line.date_planned for line in self}
        cut = bool({"product_qty", LINE_UOM} & set(vals))
        before = self._backorder_supply_before() if cut or old_dates else {}
        res = super().write(vals)
        if old_dates:
            self._backorder_notify_date_change(old_dates, before)
        if {"product_qty", LINE_UOM, "qty_received"} & set(vals):
            self.env["backorder.allocator"].sudo()._reconcile(
                purchase_lines=self.filtered("backorder_link_ids")
            )
            if cut:
                self.env["sale.order"]._backorder_tell_supply_change("cut", before)
        return res

    def _backorder_supply_before(self):
        """The expected dates of the sales lines linked to these lines, read
        before a change that may break their supply, in the companies that
        tell salespeople (``sale.order._backorder_tell_supply_change``)."""
        lines = self.filtered(lambda line: line.company_id.backorder_notify_salesperson)
        if not lines:
            return {}
        return self.env["sale.order.line"]._backorder_expected_dates(
            lines.sudo()
            .backorder_link_ids.filtered(lambda link: link.state == "linked")
            .sale_line_id
        )

    def _backorder_notify_date_change(self, old_dates, before=None):
        """Tell the customers of linked backorders, and of the lines Odoo
        bought these goods for, when the expected date moved by more than
        their company's threshold; and the salespeople of the linked lines
        (``before``: their expected dates before) when it moved later."""
        moved = self.filtered(
            lambda line: (
                old_dates.get(line.id)
                and line.date_planned
                and abs((line.date_planned - old_dates[line.id]).total_seconds())
                > line.company_id.backorder_date_change_threshold * 86400
            )
        )
        links = moved.sudo().backorder_link_ids.filtered(
            lambda link: link.state == "linked"
        )
        SaleOrder = self.env["sale.order"]
        SaleOrder._backorder_queue_notification("date_changed", links)
        SaleOrder._backorder_queue_own_purchase_notification("date_changed", moved)
        later = moved.filtered(lambda line: line.date_planned > old_dates[line.id])
        if before and later:
            late = links.filtered(lambda link: link.purchase_line_id in later)
            SaleOrder._backorder_tell_supply_change(
                "late",
                {
                    line_id: before[line_id]
                    for line_id in late.sale_line_id.ids
                    if line_id in before
                },
            )

    def unlink(self):
        self.check_access("unlink")
        links = self.sudo().backorder_link_ids
        sale_lines = links.sale_line_id
        links.unlink()
        res = super().unlink()
        self.env["backorder.allocator"].sudo()._reconcile(sale_lines=sale_lines)
        return res

    @api.depends(
        "product_uom_qty",
        "product_qty",
        "qty_received",
        "backorder_link_ids.quantity",
        "backorder_link_ids.state",
        "order_id.state",
        "move_dest_ids.state",
    )
    def _compute_backorder_free_qty(self):
        """What backorders may still be promised of these lines: the free
        supply of ``backorder.rules`` (nothing for lines Odoo bought for a
        given destination: on order, dropship)."""
        ids = [line_id for line_id in self._origin.ids if line_id]
        free = {}
        if ids:
            for model in ("purchase.order.line", "purchase.order", "stock.move"):
                self.env[model].flush_model()
            self.env["backorder.po.link"].flush_model()
            free = dict(
                self.env.execute_query(
                    self.env["backorder.rules"]._free_supply_query(
                        SQL("pol.id = ANY(%s)", ids)
                    )
                )
            )
        for line in self:
            line.backorder_free_qty = free.get(line._origin.id, 0.0)
