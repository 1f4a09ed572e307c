# Copyright 2026 backorder_po_link contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Customers who asked for no backorder emails."""

from odoo import fields, models


class ResPartner(models.Model):
    _inherit = "res.partner"

    backorder_no_email = fields.Boolean(
        string="No Backorder Emails",
        help="Never email this customer about backordered items.",
    )
