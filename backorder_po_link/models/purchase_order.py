# Copyright 2026 backorder_po_link contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Hooks on purchase orders: link on confirmation, re-link on cancel."""

from odoo import api, fields, models


class PurchaseOrder(models.Model):
    _inherit = "purchase.order"

    allow_backorder_link = fields.Boolean(
        string="Allow Backorders to Attach",
        default=True,
        copy=False,
        help="Untick to keep this order's quantity out of backorder links "
        "(for instance a floor model).",
    )
    backorder_link_ids = fields.One2many(
        "backorder.po.link", "purchase_order_id", string="Backorder Links"
    )
    backorder_sale_order_count = fields.Integer(
        string="Linked Sales Orders", compute="_compute_backorder_sale_order_count"
    )

    @api.depends("backorder_link_ids.state")
    def _compute_backorder_sale_order_count(self):
        counts = self.env["backorder.po.link"]._count_linked_orders(
            "purchase_order_id", "sale_order_id", self
        )
        for order in self:
            order.backorder_sale_order_count = counts.get(order.id, 0)

    def write(self, vals):
        cancelled = vals.get("state") and vals["state"] not in ("purchase", "done")
        before = self.order_line._backorder_supply_before() if cancelled else {}
        res = super().write(vals)
        if cancelled:
            # Cancelled or set back to draft: its promises go elsewhere.
            self.env["backorder.allocator"].sudo()._reconcile(
                purchase_lines=self.order_line.filtered("backorder_link_ids")
            )
            self.env["sale.order"]._backorder_tell_supply_change("cancelled", before)
        return res

    def button_approve(self, force=False):
        res = super().button_approve(force=force)
        self._backorder_link_on_confirm()
        self.env["sale.order"]._backorder_queue_own_purchase_notification(
            "confirmed",
            self.filtered(lambda po: po.state in ("purchase", "done")).order_line,
        )
        return res

    def _backorder_link_on_confirm(self):
        """Link the free quantity of these freshly confirmed orders to the
        oldest eligible backorders, when the company and the user allow it."""
        if not self.env.user.has_group("backorder_po_link.group_backorder_auto_link"):
            return
        orders = self.filtered(
            lambda po: (
                po.state in ("purchase", "done")
                and po.allow_backorder_link
                and po.company_id.backorder_link_on_po_confirm
            )
        )
        if not orders:
            return
        Allocator = self.env["backorder.allocator"].sudo()
        # Lines bought for given backorders serve those first (sudo: sales
        # lines the purchaser may not read, which Odoo 19.0 checks)...
        for line in orders.order_line.sudo().filtered("backorder_sale_line_ids"):
            Allocator._allocate(
                "po_confirm",
                sale_lines=line.backorder_sale_line_ids,
                purchase_lines=line,
            )
        # ...then the oldest others.
        Allocator._allocate("po_confirm", purchase_lines=orders.order_line)

    def action_view_backorder_sale_orders(self):
        self.ensure_one()
        return self.backorder_link_ids._action_view_orders(
            "sale_order_id", "sale.action_orders"
        )
