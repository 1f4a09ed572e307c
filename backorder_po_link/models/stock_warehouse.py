# Copyright 2026 backorder_po_link contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Which warehouses' receipts may serve a warehouse's backorders."""

from odoo import fields, models


class StockWarehouse(models.Model):
    _inherit = "stock.warehouse"

    backorder_source_warehouse_ids = fields.Many2many(
        "stock.warehouse",
        "backorder_warehouse_source_rel",
        "warehouse_id",
        "source_warehouse_id",
        string="Backorders From",
        domain="[('company_id', '=', company_id)]",
        help="When set, backordered sales from this warehouse are linked only to "
        "purchase orders delivering to these warehouses.",
    )
