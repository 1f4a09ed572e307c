# Copyright 2026 backorder_po_link contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Customers who asked for no backorder emails, and their backorder priority."""

from odoo import api, fields, models


class ResPartner(models.Model):
    _inherit = "res.partner"

    backorder_no_email = fields.Boolean(
        string="No Backorder Emails",
        help="Never email this customer about backordered items.",
    )
    backorder_priority = fields.Integer(
        default=0,
        help="Where the company allocates backorders by customer priority, "
        "customers of a higher priority are served first.",
    )

    @api.model
    def _commercial_fields(self):
        # A contact orders for its company: the company's priority counts.
        return super()._commercial_fields() + ["backorder_priority"]
