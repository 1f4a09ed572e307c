# Copyright 2026 backorder_po_link contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models


class PurchaseOrderLine(models.Model):
    _inherit = "purchase.order.line"

    backorder_link_ids = fields.One2many(
        "backorder.po.link", "purchase_line_id", string="Backorder Links"
    )
    backorder_linked_qty = fields.Float(
        string="Linked to Backorders",
        digits="Product Unit of Measure",
        compute="_compute_backorder_linked_qty",
        store=True,
        help="Quantity promised to backordered sales lines (awaiting receipt or "
        "received), in the product's unit of measure.",
    )
    backorder_free_qty = fields.Float(
        string="Free for Backorders",
        digits="Product Unit of Measure",
        compute="_compute_backorder_free_qty",
        help="Quantity still to receive that no backorder is promised, in the "
        "product's unit of measure.",
    )

    def write(self, vals):
        res = super().write(vals)
        if {"product_qty", "product_uom", "qty_received"} & set(vals):
            self.env["backorder.allocator"].sudo()._reconcile(
                purchase_lines=self.filtered("backorder_link_ids")
            )
        return res

    def unlink(self):
        links = self.sudo().backorder_link_ids
        sale_lines = links.sale_line_id
        links.unlink()
        res = super().unlink()
        self.env["backorder.allocator"].sudo()._reconcile(sale_lines=sale_lines)
        return res

    @api.depends("backorder_link_ids.quantity", "backorder_link_ids.state")
    def _compute_backorder_linked_qty(self):
        groups = self.env["backorder.po.link"]._read_group(
            [
                ("purchase_line_id", "in", self.ids),
                ("state", "in", ("linked", "received")),
            ],
            ["purchase_line_id"],
            ["quantity:sum"],
        )
        linked = {line.id: qty for line, qty in groups}
        for line in self:
            line.backorder_linked_qty = linked.get(line.id, 0.0)

    @api.depends(
        "product_uom_qty",
        "product_qty",
        "qty_received",
        "backorder_link_ids.quantity",
        "backorder_link_ids.state",
        "order_id.state",
    )
    def _compute_backorder_free_qty(self):
        groups = self.env["backorder.po.link"]._read_group(
            [("purchase_line_id", "in", self.ids), ("state", "=", "linked")],
            ["purchase_line_id"],
            ["quantity:sum"],
        )
        pending = {line.id: qty for line, qty in groups}
        for line in self:
            if line.order_id.state not in ("purchase", "done") or not line.product_qty:
                line.backorder_free_qty = 0.0
                continue
            received = line.qty_received * line.product_uom_qty / line.product_qty
            free = line.product_uom_qty - received - pending.get(line.id, 0.0)
            line.backorder_free_qty = max(free, 0.0)
