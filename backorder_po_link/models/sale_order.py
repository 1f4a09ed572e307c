# Copyright 2026 backorder_po_link contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models


class SaleOrder(models.Model):
    _inherit = "sale.order"

    backorder_link_ids = fields.One2many(
        "backorder.po.link", "sale_order_id", string="Backorder Links"
    )
    backorder_purchase_order_count = fields.Integer(
        string="Linked Purchase Orders",
        compute="_compute_backorder_purchase_order_count",
    )

    @api.depends("backorder_link_ids.state")
    def _compute_backorder_purchase_order_count(self):
        groups = self.env["backorder.po.link"]._read_group(
            [("sale_order_id", "in", self.ids), ("state", "!=", "cancel")],
            ["sale_order_id"],
            ["purchase_order_id:count_distinct"],
        )
        counts = {order.id: count for order, count in groups}
        for order in self:
            order.backorder_purchase_order_count = counts.get(order.id, 0)

    def _action_confirm(self):
        res = super()._action_confirm()
        self._backorder_link_on_confirm()
        return res

    def _action_cancel(self):
        res = super()._action_cancel()
        self.env["backorder.allocator"].sudo()._reconcile(
            sale_lines=self.order_line.filtered("backorder_link_ids")
        )
        return res

    def _backorder_link_on_confirm(self):
        """Link the lines Odoo could not reserve to free quantity already on
        order, when the company and the user allow it."""
        if not self.env.user.has_group("backorder_po_link.group_backorder_auto_link"):
            return
        Allocator = self.env["backorder.allocator"].sudo()
        orders = self.filtered(
            lambda so: so.state == "sale" and so.company_id.backorder_link_on_so_confirm
        )
        for company, company_orders in orders.grouped("company_id").items():
            Allocator._allocate(
                "so_confirm",
                sale_lines=company_orders.order_line,
                full_coverage_only=company.backorder_so_full_coverage_only,
            )

    def action_view_backorder_purchase_orders(self):
        self.ensure_one()
        orders = self.backorder_link_ids.filtered(
            lambda link: link.state != "cancel"
        ).purchase_order_id
        action = self.env["ir.actions.actions"]._for_xml_id("purchase.purchase_form_action")
        action["domain"] = [("id", "in", orders.ids)]
        action["context"] = {"create": False}
        if len(orders) == 1:
            action["views"] = [(False, "form")]
            action["res_id"] = orders.id
        return action
