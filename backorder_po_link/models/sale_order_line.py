# Copyright 2026 backorder_po_link contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Hooks on sales lines: backordered quantity, status badge, quantity changes."""

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, float_compare
from odoo.tools.misc import format_date

from .backorder_rules import BACKORDER_READS
from .backorder_series import LINE_UOM, QTY_DIGITS


class SaleOrderLine(models.Model):
    _inherit = "sale.order.line"

    backorder_link_ids = fields.One2many(
        "backorder.po.link", "sale_line_id", string="Backorder Links"
    )
    backorder_linked_qty = fields.Float(
        string="Linked to Purchases",
        digits=QTY_DIGITS,
        readonly=True,
        copy=False,
        help="Quantity promised from purchase orders (awaiting receipt or "
        "received), in the product's unit of measure.",
    )
    backorder_qty = fields.Float(
        string="Backordered",
        digits=QTY_DIGITS,
        compute="_compute_backorder_qty",
        search="_search_backorder_qty",
        help="Quantity still owed to the customer that neither stock nor a "
        "purchase order link covers, in the product's unit of measure.",
    )
    backorder_expected_date = fields.Datetime(
        string="Expected Arrival",
        compute="_compute_backorder_expected_date",
        help="Latest expected arrival of the purchases linked to this line.",
    )

    backorder_status = fields.Selection(
        [
            ("backordered", "Backordered"),
            ("linked", "On Order"),
            ("ready", "Ready"),
        ],
        compute="_compute_backorder_status",
        help="Backordered: some quantity waits for goods no purchase covers. "
        "On order: the missing goods are linked to purchase orders. "
        "Ready: linked goods were received and reserved for the delivery.",
    )
    backorder_badge = fields.Char(
        string="Backorder",
        compute="_compute_backorder_status",
        help="Where the missing goods of this line stand, with the expected "
        "arrival of those on order.",
    )
    backorder_customer_date = fields.Datetime(
        string="Expected (Customer)",
        compute="_compute_backorder_customer_date",
        help="The expected arrival the customer is told: the latest of the "
        "purchases this line awaits, plus the vendor's learned delay when the "
        "company learns expected dates.",
    )
    backorder_vendor_id = fields.Many2one(
        "res.partner",
        string="Awaited Vendor",
        compute="_compute_backorder_customer_date",
        search="_search_backorder_vendor_id",
        help="The vendor of the latest expected purchase this line awaits.",
    )
    backorder_commitment_date = fields.Datetime(
        related="order_id.commitment_date", string="Commitment Date"
    )
    # The line's unit under one name on both series (views cannot switch
    # field names): Odoo's product_uom (18.0) or product_uom_id (19.0).
    backorder_uom_id = fields.Many2one(related=LINE_UOM, string="Line Unit")
    backorder_is_late = fields.Boolean(
        string="Late Backorder",
        compute="_compute_backorder_is_late",
        search="_search_backorder_is_late",
        help="Still waiting on purchases expected (as the customer is told) "
        "after the order's commitment date, or, without one, after the date "
        "the customer was last emailed.",
    )

    def write(self, vals):
        previous_qty = {}
        if "product_uom_qty" in vals:
            previous_qty = {
                line.id: line.product_uom_qty for line in self if line.state == "sale"
            }
        res = super().write(vals)
        if "product_uom_qty" in vals:
            # Odoo has changed the delivery's moves by now (sale_stock's write):
            # release what a lowered line no longer needs, then link what a
            # raised line added.
            self.env["backorder.allocator"].sudo()._reconcile(
                sale_lines=self.filtered("backorder_link_ids")
            )
            self.filtered(
                lambda line: (
                    line.id in previous_qty
                    and float_compare(
                        line.product_uom_qty,
                        previous_qty[line.id],
                        precision_rounding=line[LINE_UOM].rounding,
                    )
                    > 0
                )
            )._backorder_link_to_supply()
        return res

    def _backorder_link_to_supply(self):
        """Link what these lines of confirmed orders lack to free quantity
        already on order, by the rules of sales confirmation: the company's
        switch and full-coverage rule, the user's auto-link group (and, in the
        allocator, every eligibility rule). Returns the new links."""
        Link = self.env["backorder.po.link"]
        if not self or not self.env.user.has_group(
            "backorder_po_link.group_backorder_auto_link"
        ):
            return Link
        lines = self.filtered(
            lambda line: (
                line.order_id.state == "sale"
                and line.company_id.backorder_link_on_so_confirm
            )
        )
        Allocator = self.env["backorder.allocator"].sudo()
        for company, company_lines in lines.grouped("company_id").items():
            Link |= Allocator._allocate(
                "so_confirm",
                sale_lines=company_lines,
                full_coverage_only=company.backorder_so_full_coverage_only,
            )
        return Link

    @api.depends(
        "move_ids.state",
        "move_ids.quantity",
        "move_ids.product_qty",
        "backorder_link_ids.quantity",
        "backorder_link_ids.state",
    )
    def _compute_backorder_qty(self):
        """The one definition of a backorder (``backorder.rules``), read for
        these lines only, after flushing only what it reads."""
        ids = [line_id for line_id in self.ids if line_id]
        missing = {}
        if ids:
            self.env["backorder.rules"]._flush_reads(BACKORDER_READS)
            missing = dict(
                self.env.execute_query(
                    self.env["backorder.rules"]._backorder_qty_query(
                        SQL("SELECT unnest(%s::int[])", ids)
                    )
                )
            )
        for line in self:
            line.backorder_qty = missing.get(line.id, 0.0)

    @api.depends("backorder_qty", "backorder_link_ids.state", "backorder_expected_date")
    def _compute_backorder_status(self):
        """The first of: backordered (something no one covers), on order
        (awaiting receipt, with the expected date), ready (received)."""
        labels = dict(self._fields["backorder_status"]._description_selection(self.env))
        for line in self:
            states = set(line.backorder_link_ids.mapped("state"))
            if line.state != "sale":
                status = False
            elif line.backorder_qty > 0:
                status = "backordered"
            elif "linked" in states or line.backorder_expected_date:
                # An expected date without awaited links: the purchase Odoo
                # made for the line (on order, dropship) is still to come.
                status = "linked"
            elif "received" in states:
                status = "ready"
            else:
                status = False
            line.backorder_status = status
            label = labels.get(status, "")
            if status == "linked" and line.backorder_expected_date:
                label = line._backorder_on_order_label()
            line.backorder_badge = label

    def _backorder_on_order_label(self):
        if self.company_id.backorder_eta_learn and self.backorder_customer_date:
            return self.env._(
                "On order: expected around %(date)s",
                date=format_date(self.env, self.backorder_customer_date),
            )
        return self.env._(
            "On order: %(date)s",
            date=format_date(self.env, self.backorder_expected_date),
        )

    def action_backorder_link_purchase(self):
        """Open the manual link form with this line filled in."""
        self.ensure_one()
        return self.env["backorder.manual.link.wizard"]._action_open(self)

    def _search_backorder_qty(self, operator, value):
        """Only ``backorder_qty > 0`` (and its negation) is supported: the
        lines still waiting for goods that no link covers, in one query."""
        if (operator, value) not in ((">", 0), ("!=", 0), ("=", 0), ("<=", 0)):
            raise UserError(
                self.env._("Backordered quantity can only be searched as > 0 or = 0.")
            )
        query = SQL(
            "SELECT sale_line_id FROM (%s) backorders",
            self.env["backorder.rules"]._backorder_qty_query(),
        )
        positive = operator in (">", "!=")
        return [("id", "in" if positive else "not in", SQL("(%s)", query))]

    @api.depends(
        "backorder_link_ids.expected_date",
        "backorder_link_ids.state",
        "move_ids.state",
    )
    def _compute_backorder_expected_date(self):
        """The latest expected arrival of what the line awaits: its links, or
        the purchase Odoo made for it (on order, dropship)."""
        groups = self.env["backorder.po.link"]._read_group(
            [("sale_line_id", "in", self.ids), ("state", "=", "linked")],
            ["sale_line_id"],
            ["expected_date:max"],
        )
        dates = {line.id: date for line, date in groups}
        own = self._backorder_own_purchase_lines()
        for line in self:
            awaited = own.get(line.id, self.env["purchase.order.line"]).filtered(
                lambda pol: pol.qty_received < pol.product_qty
            )
            line.backorder_expected_date = dates.get(line.id) or max(
                awaited.mapped("date_planned"), default=False
            )

    @api.model
    def _backorder_expected_dates(self, sale_lines):
        """``{sale line id: datetime or False}``: the expected arrival each of
        ``sale_lines`` waits for now, as *Expected Arrival* shows it. Read
        before a change that may break their supply, then handed to
        ``sale.order._backorder_tell_supply_change``, which compares."""
        sale_lines = sale_lines.sudo()
        # The engine writes links in SQL: read what the database holds now.
        sale_lines.invalidate_recordset(["backorder_expected_date"])
        return {line.id: line.backorder_expected_date for line in sale_lines}

    def _backorder_own_purchase_lines(self):
        """``{sale_line_id: purchase lines}``: the confirmed purchases Odoo
        made for these lines itself (Replenish on Order, dropship). They are
        never linked, but the customer sees them as linked lines."""
        ids = [line_id for line_id in self.ids if line_id]
        if not ids:
            return {}
        for model in ("stock.move", "purchase.order", "purchase.order.line"):
            self.env[model].flush_model()
        own = {}
        PurchaseLine = self.env["purchase.order.line"].sudo()
        for sale_line_id, pol_id in self.env.execute_query(
            self.env["backorder.rules"]._own_purchase_query(sale_line_ids=ids)
        ):
            own[sale_line_id] = own.get(
                sale_line_id, PurchaseLine
            ) | PurchaseLine.browse(pol_id)
        return own

    @api.depends(
        "backorder_link_ids.customer_date",
        "backorder_link_ids.state",
        "backorder_expected_date",
    )
    def _compute_backorder_customer_date(self):
        """What the customer is told and from whom it comes: the latest link
        awaiting receipt, else Odoo's own purchase for the line."""
        own = None
        for line in self:
            links = line.backorder_link_ids.filtered(
                lambda link: link.state == "linked" and link.customer_date
            )
            if links:
                latest = links.sorted(lambda link: (link.customer_date, link.id))[-1]
                date, vendor = latest.customer_date, latest.vendor_id
            elif line.backorder_expected_date:
                if own is None:
                    own = self._backorder_own_purchase_lines()
                date, vendor = line._backorder_own_customer_date(own.get(line.id))
            else:
                date, vendor = False, self.env["res.partner"]
            line.backorder_customer_date = date
            line.backorder_vendor_id = vendor

    def _backorder_own_customer_date(self, purchase_lines):
        """``(date, vendor)`` of the latest awaited of Odoo's own purchase
        lines for this line, as the customer is told."""
        dates = [
            (
                self.company_id._backorder_customer_date(
                    pol.date_planned, pol.partner_id
                ),
                pol,
            )
            for pol in (purchase_lines or [])
            if pol.qty_received < pol.product_qty and pol.date_planned
        ]
        if not dates:
            return False, self.env["res.partner"]
        date, pol = max(dates, key=lambda pair: (pair[0], pair[1].id))
        return date, pol.partner_id

    def _field_to_sql(self, alias, fname, query=None, *args, **kwargs):
        """The late list groups by the customer-facing expected date and the
        vendor (``backorder.rules``), computed fields both. (Odoo 18.0 also
        passes ``flush``, which 19.0 dropped: passed on as given.)"""
        rules = self.env["backorder.rules"]
        if fname in ("backorder_customer_date", "backorder_vendor_id"):
            if kwargs.get("flush", args[0] if args else True):
                self.env["backorder.po.link"].flush_model()
            line_id = SQL.identifier(alias, "id")
            if fname == "backorder_vendor_id":
                return rules._line_vendor_sql(line_id)
            return rules._line_customer_date_sql(line_id, fields.Datetime.now())
        return super()._field_to_sql(alias, fname, query, *args, **kwargs)

    def _search_backorder_vendor_id(self, operator, value):
        """The lines awaiting goods of these vendors, through their links."""
        return [
            (
                "backorder_link_ids",
                "any",
                [("state", "=", "linked"), ("vendor_id", operator, value)],
            )
        ]

    def _compute_backorder_is_late(self):
        ids = [line_id for line_id in self._origin.ids if line_id]
        late = set()
        if ids:
            self.env["backorder.rules"]._flush_reads()
            late = {
                row[0]
                for row in self.env.execute_query(
                    self.env["backorder.rules"]._late_sale_line_query(
                        fields.Datetime.now(),
                        sale_line_ids=ids,
                        learn=self._backorder_any_company_learns(),
                    )
                )
            }
        for line in self:
            line.backorder_is_late = line._origin.id in late

    def _search_backorder_is_late(self, operator, value):
        """The late promises (``backorder.rules._late_sale_line_query``) in
        one query; only ``= True`` / ``= False`` (and ``!=``) are supported."""
        if operator not in ("=", "!=") or not isinstance(value, bool):
            raise UserError(
                self.env._("Late backorders can only be searched as true or false.")
            )
        self.env["backorder.rules"]._flush_reads()
        query = self.env["backorder.rules"]._late_sale_line_query(
            fields.Datetime.now(), learn=self._backorder_any_company_learns()
        )
        late = (operator == "=") == value
        return [("id", "in" if late else "not in", SQL("(%s)", query))]

    def _backorder_any_company_learns(self):
        return bool(
            self.env["res.company"]
            .sudo()
            .search_count([("backorder_eta_learn", "=", True)], limit=1)
        )
