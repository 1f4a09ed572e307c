# Copyright 2026 backorder_po_link contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import collections

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, float_compare

from ..models.backorder_series import QTY_DIGITS

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
    allocation_order = fields.Text(
        string="Served In This Order",
        readonly=True,
        help="The allocation order of each company (Purchase settings); the "
        "preview lists the backorders in that order.",
    )

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
        pairs, demands, reasons = self.sudo()._explain(companies)
        kits = dict(
            self.env.execute_query(
                self.env["backorder.rules"]._waiting_kit_line_query(companies.ids)
            )
        )
        self.line_ids.unlink()
        self.write(
            {
                "previewed": True,
                "link_count": len(pairs),
                "unlinked_count": len(reasons) + len(kits),
                "allocation_order": self._allocation_order_text(companies),
                "line_ids": self._preview_lines(demands, reasons, kits),
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

    @api.model
    def _allocation_order_text(self, companies):
        """The allocation order of each company, in words."""
        words = {
            "order_date": self.env._("oldest order first"),
            "requested_date": self.env._(
                "earliest requested date first (commitment date, else order "
                "date), then oldest order"
            ),
            "priority": self.env._(
                "highest customer priority first, then starred deliveries, "
                "then oldest order"
            ),
        }
        if len(companies) == 1:
            return words[companies.backorder_allocation_order]
        return "\n".join(
            f"{company.name}: {words[company.backorder_allocation_order]}"
            for company in companies
        )

    @api.model
    def _preview_lines(self, demands, reasons, kits):
        """Commands creating a preview line per backorder, in the order they
        are served (their turn per product), then per kit line waiting for
        components."""
        Command = fields.Command
        turns = collections.Counter()
        lines = []
        for demand in demands:
            turns[(demand.product_id, demand.company_id)] += 1
            lines.append(
                Command.create(
                    {
                        "sale_line_id": demand.id,
                        "turn": turns[(demand.product_id, demand.company_id)],
                        "backorder_qty": demand.need,
                        "planned_qty": demand.planned,
                        "reason": reasons.get(demand.id, False),
                    }
                )
            )
        return lines + [
            Command.create(
                {
                    "sale_line_id": line_id,
                    "backorder_qty": quantity,
                    "planned_qty": 0.0,
                    "reason": "kit",
                }
            )
            for line_id, quantity in sorted(kits.items())
        ]

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

    # ------------------------------------------------------------------
    # The dry run's explanations
    # ------------------------------------------------------------------
    @api.model
    def _explain(self, companies):
        """Dry run of the batch: ``(pairs, demands, reasons)`` where ``reasons``
        maps each sales line left (partly) unlinked to why. Writes nothing.
        Like the batch, it covers the companies that link backorders only."""
        Allocator = self.env["backorder.allocator"]
        products = self.env["product.product"].browse(
            Allocator._demanded_product_ids(companies.ids)
        )
        pairs, demands = Allocator._plan(
            products=products, companies=companies, all_demand=True
        )
        unmet = [
            d
            for d in demands
            if float_compare(d.planned, d.need, precision_rounding=d.rounding) < 0
        ]
        if not unmet:
            return pairs, demands, {}
        scope = {
            "product_ids": sorted({d.product_id for d in unmet}),
            "company_ids": sorted({d.company_id for d in unmet}),
            "purchase_line_ids": None,
        }
        # Where free supply is, per product and company, before the run.
        free_wh = collections.defaultdict(set)
        for supply in Allocator._fetch_supply(scope):
            free_wh[(supply.product_id, supply.company_id)].add(supply.warehouse_id)
        opted_out = self._opted_out_supply(scope)
        reasons = {
            demand.id: self._reason(demand, free_wh, opted_out) for demand in unmet
        }
        return pairs, demands, reasons

    @api.model
    def _reason(self, demand, free_wh, opted_out):
        """Why ``demand`` stays (partly) unlinked: the first rule it fails."""
        key = (demand.product_id, demand.company_id)
        if not demand.deposit_ok:
            return "deposit"
        if not demand.days_ok:
            return "days_out"
        if free_wh.get(key) and not any(demand.accepts(wh) for wh in free_wh[key]):
            return "warehouse"
        if key in opted_out:
            return "opt_out"
        return "no_supply"

    @api.model
    def _opted_out_supply(self, scope):
        """``{(product_id, company_id)}`` with open supply on purchase orders
        that refuse backorders."""
        rules = self.env["backorder.rules"]
        rows = self.env.execute_query(
            SQL(
                """
                SELECT DISTINCT pol.product_id, pol.company_id
                  FROM purchase_order_line pol
                 WHERE pol.id IN (%(supply)s)
                """,
                supply=rules._supply_line_ids_query(
                    SQL(
                        "NOT %s AND pol.product_id = ANY(%s)"
                        " AND pol.company_id = ANY(%s)"
                        " AND pol.qty_received < pol.product_qty",
                        rules._accepts_backorders_sql(),
                        scope["product_ids"],
                        scope["company_ids"],
                    )
                ),
            )
        )
        return {tuple(row) for row in rows}


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
    turn = fields.Integer(
        readonly=True,
        help="Its place among the backorders of its product, in the company's "
        "allocation order.",
    )
    backorder_qty = fields.Float(string="Backordered", digits=QTY_DIGITS, readonly=True)
    planned_qty = fields.Float(string="Would Link", digits=QTY_DIGITS, readonly=True)
    reason = fields.Selection(REASONS, string="Why Not (Fully) Linked", readonly=True)
