# Copyright 2026 backorder_po_link contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The settings screen: each automation and rule in the Purchase settings."""

from odoo import fields, models
from odoo.exceptions import AccessError


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    backorder_link_on_po_confirm = fields.Boolean(
        related="company_id.backorder_link_on_po_confirm", readonly=False
    )
    backorder_link_on_so_confirm = fields.Boolean(
        related="company_id.backorder_link_on_so_confirm", readonly=False
    )
    backorder_so_full_coverage_only = fields.Boolean(
        related="company_id.backorder_so_full_coverage_only", readonly=False
    )
    backorder_min_deposit_percent = fields.Float(
        related="company_id.backorder_min_deposit_percent", readonly=False
    )
    backorder_max_days_out = fields.Integer(
        related="company_id.backorder_max_days_out", readonly=False
    )
    backorder_same_warehouse_only = fields.Boolean(
        related="company_id.backorder_same_warehouse_only", readonly=False
    )
    backorder_allocation_order = fields.Selection(
        related="company_id.backorder_allocation_order", readonly=False
    )
    backorder_firm_when_deposit_met = fields.Boolean(
        related="company_id.backorder_firm_when_deposit_met", readonly=False
    )
    backorder_reallocate_to_priority = fields.Boolean(
        related="company_id.backorder_reallocate_to_priority", readonly=False
    )
    backorder_notify_customer = fields.Boolean(
        related="company_id.backorder_notify_customer", readonly=False
    )
    backorder_notify_ready = fields.Boolean(
        related="company_id.backorder_notify_ready", readonly=False
    )
    backorder_date_change_threshold = fields.Integer(
        related="company_id.backorder_date_change_threshold", readonly=False
    )
    backorder_notify_salesperson = fields.Boolean(
        related="company_id.backorder_notify_salesperson", readonly=False
    )
    backorder_confirmed_template_id = fields.Many2one(
        related="company_id.backorder_confirmed_template_id", readonly=False
    )
    backorder_date_changed_template_id = fields.Many2one(
        related="company_id.backorder_date_changed_template_id", readonly=False
    )
    backorder_ready_template_id = fields.Many2one(
        related="company_id.backorder_ready_template_id", readonly=False
    )
    backorder_auto_rfq = fields.Boolean(
        related="company_id.backorder_auto_rfq", readonly=False
    )
    backorder_eta_learn = fields.Boolean(
        related="company_id.backorder_eta_learn", readonly=False
    )

    backorder_auto_link_nightly = fields.Boolean(
        string="Auto-Link Backorders Every Night",
        help="Switch on the daily batch run that links all free quantity on "
        "order to all eligible backorders, in every company that links "
        "backorders (the scheduled action 'Backorders: auto-link to purchase "
        "orders').",
    )

    def _backorder_auto_link_cron(self):
        return self.env.ref(
            "backorder_po_link.ir_cron_backorder_auto_link", raise_if_not_found=False
        )

    def _check_settings_rights(self):
        """Settings are for administrators, as core's ``execute`` says; its
        ``get_values``/``set_values`` read and write with sudo, and are
        callable over RPC by any logged-in user."""
        if not self.env.is_admin():
            raise AccessError(self.env._("Only administrators can change the settings"))

    def get_values(self):
        self._check_settings_rights()
        res = super().get_values()
        cron = self._backorder_auto_link_cron()
        res["backorder_auto_link_nightly"] = bool(cron and cron.sudo().active)
        return res

    def set_values(self):
        self._check_settings_rights()
        res = super().set_values()
        cron = self._backorder_auto_link_cron()
        if cron and cron.sudo().active != self.backorder_auto_link_nightly:
            cron.sudo().active = self.backorder_auto_link_nightly
        return res
