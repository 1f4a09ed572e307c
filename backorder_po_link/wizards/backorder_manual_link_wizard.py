# Copyright 2026 backorder_po_link contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import float_compare

from ..models.backorder_series import QTY_DIGITS


class BackorderManualLinkWizard(models.TransientModel):
    """A manager links a backordered sales line to a purchase order line by
    hand, from either side; the link's own checks refuse what breaks a rule."""

    _name = "backorder.manual.link.wizard"
    _description = "Link a Backorder to a Purchase by Hand"

    sale_line_id = fields.Many2one(
        "sale.order.line",
        string="Sales Order Line",
        required=True,
        domain="[('order_id.state', '=', 'sale'), ('product_id', '=', product_id),"
        " ('company_id', '=', company_id)]",
    )
    purchase_line_id = fields.Many2one(
        "purchase.order.line",
        string="Purchase Order Line",
        required=True,
        domain="[('order_id.state', 'in', ('purchase', 'done')),"
        " ('product_id', '=', product_id), ('company_id', '=', company_id)]",
    )
    product_id = fields.Many2one("product.product", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    product_uom_id = fields.Many2one(related="product_id.uom_id", string="Unit")
    backorder_qty = fields.Float(
        string="Still Backordered",
        related="sale_line_id.backorder_qty",
        digits=QTY_DIGITS,
    )
    free_qty = fields.Float(
        string="Free on the Purchase",
        related="purchase_line_id.backorder_free_qty",
        digits=QTY_DIGITS,
    )
    quantity = fields.Float(
        digits=QTY_DIGITS,
        help="Quantity to promise, in the product's unit of measure.",
    )

    @api.model
    def _action_open(self, line):
        self.check_access("create")  # the wizard's rights: managers
        line.check_access("read")
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Link to a Purchase")
            if line._name == "sale.order.line"
            else self.env._("Link to a Backorder"),
            "res_model": self._name,
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
            "context": {"active_model": line._name, "active_id": line.id},
        }

    @api.model
    def default_get(self, fields_list):
        self.check_access("create")  # the wizard's rights: managers
        values = super().default_get(fields_list)
        model = self.env.context.get("active_model")
        record_id = self.env.context.get("active_id")
        if model not in ("sale.order.line", "purchase.order.line") or not record_id:
            return values
        line = self.env[model].browse(record_id)
        field = "sale_line_id" if model == "sale.order.line" else "purchase_line_id"
        values.update(
            {
                field: line.id,
                "product_id": line.product_id.id,
                "company_id": line.company_id.id,
            }
        )
        return values

    @api.onchange("sale_line_id", "purchase_line_id")
    def _onchange_lines(self):
        """Propose the most the two lines can share."""
        if self.sale_line_id and self.purchase_line_id:
            self.quantity = max(
                min(
                    self.sale_line_id.backorder_qty,
                    self.purchase_line_id.backorder_free_qty,
                ),
                0.0,
            )

    def action_link(self):
        self.check_access("create")  # the wizard's rights: managers
        self.ensure_one()
        self._check_link_quantity()
        link = self.env["backorder.po.link"].create(
            {
                "sale_line_id": self.sale_line_id.id,
                "purchase_line_id": self.purchase_line_id.id,
                "quantity": self.quantity,
                "origin": "manual",
            }
        )
        # The same reactions as the engine's links: notes, the customer email.
        link._on_created("confirmed")
        return {"type": "ir.actions.act_window_close"}

    def _check_link_quantity(self):
        """Refuse, in words, a quantity the lines cannot hold."""
        rounding = self.product_id.uom_id.rounding or 0.01
        if float_compare(self.quantity, 0, precision_rounding=rounding) <= 0:
            raise UserError(self.env._("Enter a quantity greater than zero to link."))
        if (
            float_compare(
                self.quantity,
                self.sale_line_id.backorder_qty,
                precision_rounding=rounding,
            )
            > 0
        ):
            raise UserError(
                self.env._(
                    "%(order)s still has %(qty)s %(unit)s of %(product)s backordered "
                    "without a link: you cannot promise it %(asked)s.",
                    order=self.sale_line_id.order_id.name,
                    qty=self.sale_line_id.backorder_qty,
                    unit=self.product_uom_id.name,
                    product=self.product_id.display_name,
                    asked=self.quantity,
                )
            )
        if float_compare(self.quantity, self.free_qty, precision_rounding=rounding) > 0:
            raise UserError(
                self.env._(
                    "%(order)s has only %(qty)s %(unit)s of %(product)s on order "
                    "that no backorder is promised: you cannot link %(asked)s.",
                    order=self.purchase_line_id.order_id.name,
                    qty=self.free_qty,
                    unit=self.product_uom_id.name,
                    product=self.product_id.display_name,
                    asked=self.quantity,
                )
            )
