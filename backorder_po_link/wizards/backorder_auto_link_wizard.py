# Copyright 2026 backorder_po_link contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models
from odoo.exceptions import UserError

REASONS = [
    ("deposit", "Minimum deposit not paid"),
    ("days_out", "Scheduled too far out"),
    ("warehouse", "Supply only in other warehouses"),
    ("opt_out", "Supply only on POs that refuse backorders"),
    ("no_supply", "No free supply on order"),
    ("kit", "Kit: its components are not linked"),
]


class BackorderAutoLinkWizard(models.TransientModel):
    """Seed 002's "Auto Reserve Utility": the batch run, with a dry run that
    shows what it would link and why other backorders stay unlinked."""

    _name = "backorder.auto.link.wizard"
    _description = "Auto-Link Backorders"

    line_ids = fields.One2many(
        "backorder.auto.link.wizard.line", "wizard_id", string="Preview", readonly=True
    )
    previewed = fields.Boolean(readonly=True)
    link_count = fields.Integer(string="Links to Create", readonly=True)
    unlinked_count = fields.Integer(string="Backorders Left Unlinked", readonly=True)

    def _linking_companies(self):
        """The selected companies that link backorders: the batch and its dry
        run leave the others alone, and say so when that is all of them."""
        companies = self.env["backorder.allocator"]._batch_companies(self.env.companies)
        if not companies:
            raise UserError(
                self.env._(
                    "None of the selected companies links backorders: switch on "
                    "Link Backorders on PO Confirmation or on Sales Confirmation "
                    "in the Purchase settings first."
                )
            )
        return companies

    def action_preview(self):
        """Dry run: fill the preview, write no link."""
        self.check_access("write")  # the wizard's rights: managers
        self.ensure_one()
        companies = self._linking_companies()
        Allocator = self.env["backorder.allocator"].sudo()
        pairs, demands, reasons = Allocator._explain(companies=companies)
        kits = Allocator._waiting_kit_lines(companies)
        self.line_ids.unlink()
        self.write(
            {
                "previewed": True,
                "link_count": len(pairs),
                "unlinked_count": len(reasons) + len(kits),
                "line_ids": [
                    fields.Command.create(
                        {
                            "sale_line_id": demand.id,
                            "backorder_qty": demand.need,
                            "planned_qty": demand.planned,
                            "reason": reasons.get(demand.id, False),
                        }
                    )
                    for demand in demands
                ]
                + [
                    fields.Command.create(
                        {
                            "sale_line_id": line_id,
                            "backorder_qty": quantity,
                            "planned_qty": 0.0,
                            "reason": "kit",
                        }
                    )
                    for line_id, quantity in sorted(kits.items())
                ],
            }
        )
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
            "name": self.env._("Auto-Link Backorders"),
        }

    def action_link(self):
        """Run the batch now and show the links it created."""
        self.check_access("write")  # the wizard's rights: managers
        links = (
            self.env["backorder.allocator"]
            .sudo()
            ._run_batch(companies=self._linking_companies())
        )
        action = self.env["ir.actions.actions"]._for_xml_id(
            "backorder_po_link.backorder_po_link_action"
        )
        action["domain"] = [("id", "in", links.ids)]
        action["context"] = {}
        return action


class BackorderAutoLinkWizardLine(models.TransientModel):
    _name = "backorder.auto.link.wizard.line"
    _description = "Auto-Link Backorders Preview Line"
    _order = "id"

    wizard_id = fields.Many2one(
        "backorder.auto.link.wizard", required=True, ondelete="cascade"
    )
    sale_line_id = fields.Many2one(
        "sale.order.line", string="Sales Line", readonly=True
    )
    sale_order_id = fields.Many2one(
        related="sale_line_id.order_id", string="Sales Order"
    )
    partner_id = fields.Many2one(
        related="sale_line_id.order_partner_id", string="Customer"
    )
    product_id = fields.Many2one(related="sale_line_id.product_id")
    backorder_qty = fields.Float(
        string="Backordered", digits="Product Unit of Measure", readonly=True
    )
    planned_qty = fields.Float(
        string="Would Link", digits="Product Unit of Measure", readonly=True
    )
    reason = fields.Selection(REASONS, string="Why Not (Fully) Linked", readonly=True)
