# Copyright 2026 backorder_po_link contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Hooks on products: what is left to buy for backorders, and its RFQ button."""

from odoo import api, fields, models

from .backorder_series import QTY_DIGITS


class ProductProduct(models.Model):
    _inherit = "product.product"

    backorder_qty_to_purchase = fields.Float(
        string="Backorders to Purchase",
        digits=QTY_DIGITS,
        compute="_compute_backorder_qty_to_purchase",
        help="Backordered quantity that no link, free quantity on order or free "
        "stock covers, for the current company, in the product's unit.",
    )

    @api.depends_context("company")
    @api.depends(
        "stock_move_ids.state",
        "stock_move_ids.quantity",
        "stock_move_ids.product_qty",
    )
    def _compute_backorder_qty_to_purchase(self):
        groups = self.env["backorder.purchase.report"]._read_group(
            [("product_id", "in", self.ids), ("company_id", "=", self.env.company.id)],
            ["product_id"],
            ["qty_to_purchase:sum"],
        )
        qty = {product.id: total for product, total in groups}
        for product in self:
            product.backorder_qty_to_purchase = qty.get(product.id, 0.0)

    def action_backorder_create_rfq(self):
        """Create or update draft RFQs for what these products' backorders
        still need, grouped by vendor; returns the RFQs' window action."""
        self.check_access("read")
        self.env["backorder.purchase.report"]._check_rfq_rights()
        rows = self.env["backorder.purchase.report"].search(
            [
                ("product_id", "in", self.ids),
                ("company_id", "=", self.env.company.id),
                ("qty_to_purchase", ">", 0),
            ]
        )
        return rows._create_rfqs()
