# Copyright 2026 backorder_po_link contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Customers who asked for no backorder emails and their backorder priority;
vendors' learned delays."""

from odoo import api, fields, models
from odoo.tools import SQL


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

    backorder_vendor_delay_days = fields.Float(
        string="Usual Delay (Days)",
        digits=(16, 1),
        compute="_compute_backorder_vendor_delay_days",
        help="Median delay of this vendor's receipts of goods promised to "
        "backorders in the last 90 days (0 with fewer than 5 receipts): "
        "between the expected arrival when linked and the real receipt.",
    )

    @api.model
    def _commercial_fields(self):
        # A contact orders for its company: the company's priority counts.
        return super()._commercial_fields() + ["backorder_priority"]

    def _compute_backorder_vendor_delay_days(self):
        """One query for all these partners (``backorder.rules``)."""
        ids = [partner_id for partner_id in self._origin.ids if partner_id]
        delays = {}
        if ids:
            self.env["backorder.po.link"].flush_model()
            delays = dict(
                self.env.execute_query(
                    self.env["backorder.rules"]._vendor_delay_query(
                        SQL("SELECT unnest(%s::int[])", ids), fields.Datetime.now()
                    )
                )
            )
        for partner in self:
            partner.backorder_vendor_delay_days = delays.get(partner._origin.id, 0.0)
