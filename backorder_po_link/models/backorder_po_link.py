# Copyright 2026 backorder_po_link contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL
from odoo.tools.misc import file_open

from .backorder_series import LINE_UOM, QTY_DIGITS, Constraint

# Stored copies of the lines' own fields whose column carries no foreign key:
# the line they are copied from holds a key to the same row, and a link goes
# with its lines (ondelete cascade). Writing a link then checks four keys
# fewer. The customer and vendor keep theirs: merging partners follows keys.
UNKEYED_COPIES = ("sale_order_id", "purchase_order_id", "product_id", "company_id")


class StoredCopy(fields.Many2one):
    """A related many2one stored without a foreign key of its own."""

    def update_db_foreign_key(self, model, column):
        return


class BackorderPoLink(models.Model):
    """A promise: this much of a purchase order line goes to this sales line.

    Quantities are in the product's unit of measure, whatever unit either line
    is expressed in. Links in ``linked`` or ``received`` state are *active*: they
    count against both lines (see :meth:`_check_invariants`).
    """

    _name = "backorder.po.link"
    _description = "Backorder Link"
    _order = "date_linked desc, id desc"
    _rec_names_search = ["sale_order_id", "purchase_order_id", "product_id"]

    sale_line_id = fields.Many2one(
        "sale.order.line",
        string="Sales Order Line",
        required=True,
        index=True,
        ondelete="cascade",
    )
    purchase_line_id = fields.Many2one(
        "purchase.order.line",
        string="Purchase Order Line",
        required=True,
        index=True,
        ondelete="cascade",
    )
    quantity = fields.Float(
        digits=QTY_DIGITS,
        required=True,
        help="Quantity promised, in the product's unit of measure.",
    )
    state = fields.Selection(
        [
            ("linked", "Awaiting Receipt"),
            ("received", "Received"),
            ("done", "Delivered"),
            ("cancel", "Cancelled"),
        ],
        default="linked",
        required=True,
    )
    origin = fields.Selection(
        [
            ("po_confirm", "Purchase Confirmation"),
            ("so_confirm", "Sales Confirmation"),
            ("batch", "Batch Auto-Link"),
            ("manual", "Manual"),
        ],
        default="manual",
        required=True,
    )
    date_linked = fields.Datetime(
        string="Linked On", default=fields.Datetime.now, required=True
    )
    sale_order_id = StoredCopy(
        related="sale_line_id.order_id", store=True, index=True, string="Sales Order"
    )
    purchase_order_id = StoredCopy(
        related="purchase_line_id.order_id",
        store=True,
        index=True,
        string="Purchase Order",
    )
    product_id = StoredCopy(related="sale_line_id.product_id", store=True)
    product_uom_id = fields.Many2one(related="product_id.uom_id", string="Unit")
    partner_id = fields.Many2one(
        related="sale_order_id.partner_id", store=True, string="Customer"
    )
    vendor_id = fields.Many2one(
        related="purchase_order_id.partner_id", store=True, string="Vendor"
    )
    company_id = StoredCopy(related="sale_line_id.company_id", store=True)
    expected_date = fields.Datetime(
        related="purchase_line_id.date_planned",
        store=True,
        string="Expected Arrival",
    )
    # Dates that learn: the promise as it was made, the goods' real arrival.
    expected_date_linked = fields.Datetime(
        string="Expected When Linked",
        readonly=True,
        help="The purchase's expected arrival when the link was made; the "
        "expected arrival itself moves with the purchase order.",
    )
    date_received = fields.Datetime(
        string="Received On",
        readonly=True,
        help="When the goods of this link were received.",
    )
    receipt_delay_days = fields.Float(
        string="Delay (Days)",
        digits=(16, 2),
        compute="_compute_receipt_delay_days",
        store=True,
        aggregator="avg",
        help="Days between the expected arrival when linked and the real "
        "receipt (negative: early).",
    )
    date_told = fields.Datetime(
        string="Date Told to Customer",
        readonly=True,
        help="The expected date the last email to the customer about this link gave.",
    )
    customer_date = fields.Datetime(
        string="Customer Expected Date",
        compute="_compute_customer_date",
        help="The date customers are told: the expected arrival, plus the "
        "vendor's learned delay when the company learns expected dates.",
    )

    is_firm = fields.Boolean(
        string="Firm",
        readonly=True,
        help="A firm promise is never taken back to serve another order: manual "
        "links, and links of orders that paid their deposit where the company "
        "says so. Soft links may go to higher-priority orders where the company "
        "allows it.",
    )

    _quantity_positive = Constraint(
        "CHECK(quantity > 0)", "The quantity of a backorder link must be positive."
    )

    def init(self):
        """A guard in the database itself (``backorder_po_link_guard.sql``):
        at commit, the active links of a sales line never exceed what it
        still has to deliver, nor those of a purchase line what it orders,
        whatever code path wrote them.

        Every statement that writes links records the lines it touched (a
        statement trigger, set-based) and, the first time in a transaction,
        a row in ``backorder_po_link_check``; the deferred constraint trigger
        of that row checks all touched lines in one query at commit: a batch
        writing 100,000 links costs one check and one trigger call, not
        100,000."""
        self._drop_copy_keys()
        self.env.cr.execute(
            SQL(
                file_open(
                    "backorder_po_link/models/backorder_po_link_guard.sql"
                ).read(),
                over_promised=self.env["backorder.rules"]._over_promised_query(
                    SQL(
                        "SELECT sale_line_id FROM backorder_po_link_touched"
                        " WHERE xact = txid_current()"
                    ),
                    SQL(
                        "SELECT purchase_line_id FROM backorder_po_link_touched"
                        " WHERE xact = txid_current()"
                    ),
                ),
                lock_purchase_lines=self._guard_lock_sql(
                    "purchase_order_line", "purchase_line_id"
                ),
                lock_sale_lines=self._guard_lock_sql("sale_order_line", "sale_line_id"),
            )
        )

    @api.model
    def _drop_copy_keys(self):
        """Drop the foreign keys that earlier versions gave the unkeyed
        copies (see ``UNKEYED_COPIES``), and Odoo's record of them."""
        names = [f"{self._table}_{column}_fkey" for column in UNKEYED_COPIES]
        for name in names:
            self.env.cr.execute(
                SQL(
                    "ALTER TABLE %s DROP CONSTRAINT IF EXISTS %s",
                    SQL.identifier(self._table),
                    SQL.identifier(name),
                )
            )
        self.env.cr.execute(
            SQL("DELETE FROM ir_model_constraint WHERE name = ANY(%s)", names)
        )

    @api.model
    def _guard_lock_sql(self, table, column):
        """The guard's lock of the touched lines of ``table`` (see the .sql
        file): written, not only locked, skipping those this transaction
        wrote already (``me``: its transaction id as ``xmin`` holds it)."""
        return SQL(
            """UPDATE %(table)s t
                  SET backorder_linked_qty = t.backorder_linked_qty
                WHERE t.id IN (
                       SELECT o.id FROM %(table)s o
                        WHERE o.id = ANY(ARRAY(
                               SELECT %(column)s FROM backorder_po_link_touched
                                WHERE xact = txid_current()))
                          AND o.xmin::text::bigint <> me
                     ORDER BY o.id FOR NO KEY UPDATE)""",
            table=SQL.identifier(table),
            column=SQL.identifier(column),
        )

    @api.depends("sale_order_id", "purchase_order_id", "product_id", "quantity")
    def _compute_display_name(self):
        for link in self:
            link.display_name = self.env._(
                "%(so)s → %(po)s: %(qty)s %(product)s",
                so=link.sale_order_id.name or "",
                po=link.purchase_order_id.name or "",
                qty=link.quantity,
                product=link.product_id.display_name or "",
            )

    @api.depends("date_received", "expected_date_linked")
    def _compute_receipt_delay_days(self):
        for link in self:
            if link.date_received and link.expected_date_linked:
                delta = link.date_received - link.expected_date_linked
                link.receipt_delay_days = delta.total_seconds() / 86400
            else:
                link.receipt_delay_days = 0.0

    @api.depends(
        "expected_date",
        "vendor_id.backorder_vendor_delay_days",
        "company_id.backorder_eta_learn",
    )
    def _compute_customer_date(self):
        for link in self:
            link.customer_date = link.company_id._backorder_customer_date(
                link.expected_date, link.vendor_id
            )

    @api.constrains("sale_line_id", "purchase_line_id", "quantity", "state")
    def _check_invariants(self):
        """Refuse links that pair different products or companies, or that
        promise more than either line holds."""
        # A positive quantity: create and write check it in words
        # (_check_quantity_vals), the database's CHECK constraint at last.
        for link in self:
            sale_line, po_line = link.sale_line_id, link.purchase_line_id
            if sale_line.product_id != po_line.product_id:
                raise ValidationError(
                    self.env._(
                        "A backorder link must join lines of the same product: "
                        "%(so)s is for %(a)s, %(po)s is for %(b)s.",
                        so=sale_line.order_id.name,
                        po=po_line.order_id.name,
                        a=sale_line.product_id.display_name,
                        b=po_line.product_id.display_name,
                    )
                )
            if sale_line.company_id != po_line.company_id:
                raise ValidationError(
                    self.env._(
                        "%(so)s and %(po)s belong to different companies and "
                        "cannot be linked.",
                        so=sale_line.order_id.name,
                        po=po_line.order_id.name,
                    )
                )
        if not self.env.context.get("backorder_link_closing"):
            # _mark_done checks the totals itself, once all links are closed.
            self._check_totals(self.sale_line_id, self.purchase_line_id)

    @api.model
    def _check_totals(self, sale_lines, purchase_lines):
        """Raise when the active links of these lines exceed what they hold
        (``backorder.rules._over_promised_query``, as the guard checks at
        commit), in words."""
        if not sale_lines and not purchase_lines:
            return
        self.env["backorder.po.link"].flush_model()
        self.env["sale.order.line"].flush_model(
            ["product_uom_qty", "qty_delivered", LINE_UOM, "state"]
        )
        self.env["purchase.order.line"].flush_model(["product_uom_qty"])
        rows = self.env.execute_query(
            self.env["backorder.rules"]._over_promised_query(
                SQL("SELECT unnest(%s::int[])", list(sale_lines.ids)),
                SQL("SELECT unnest(%s::int[])", list(purchase_lines.ids)),
            )
        )
        for side, line_id, linked, capacity, _rounding in rows[:1]:
            model = "sale.order.line" if side == "sale" else "purchase.order.line"
            line = self.env[model].browse(line_id)
            values = {
                "order": line.order_id.name,
                "product": line.product_id.display_name,
                "linked": linked,
                "capacity": capacity,
            }
            if side == "sale":
                msg = self.env._(
                    "Sales order %(order)s, line %(product)s: %(linked)s would be "
                    "promised but only %(capacity)s are still to deliver.",
                    **values,
                )
            elif not capacity and line.product_uom_qty:
                msg = self._spoken_for_message(line.order_id)
            else:
                msg = self.env._(
                    "Purchase order %(order)s, line %(product)s: %(linked)s would "
                    "be promised but only %(capacity)s are ordered.",
                    **values,
                )
            raise ValidationError(msg)

    def _check_quantity_vals(self, vals):
        """Refuse a missing, non-numeric, zero or negative quantity in words,
        before the database would refuse it in SQL."""
        if "quantity" not in vals:
            return
        quantity = vals["quantity"]
        if isinstance(quantity, bool) or not isinstance(quantity, (int, float)):
            raise ValidationError(
                self.env._(
                    "%(value)r is not a valid quantity for a backorder link.",
                    value=quantity,
                )
            )
        if quantity <= 0:
            raise ValidationError(
                self.env._("The quantity of a backorder link must be positive.")
            )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            vals.setdefault("quantity", 0)
            # A link made by hand is a firm promise.
            vals.setdefault("is_firm", vals.get("origin", "manual") == "manual")
            self._check_quantity_vals(vals)
            if vals.get("purchase_line_id") and "expected_date_linked" not in vals:
                vals["expected_date_linked"] = (
                    self.env["purchase.order.line"]
                    .browse(vals["purchase_line_id"])
                    .date_planned
                )
        links = super().create(vals_list)
        links._check_manual_lines()
        links._store_totals()
        return links

    def write(self, vals):
        self._check_quantity_vals(vals)
        before = self._lines()
        res = super().write(vals)
        if {"sale_line_id", "purchase_line_id"} & set(vals):
            self._check_manual_lines()
        if {"sale_line_id", "purchase_line_id", "quantity", "state"} & set(vals):
            self._store_totals(*before)
        return res

    def unlink(self):
        sale_lines, purchase_lines = self._lines()
        res = super().unlink()
        self.browse()._store_totals(sale_lines, purchase_lines)
        return res

    def _lines(self):
        return self.sale_line_id, self.purchase_line_id

    def _store_totals(self, sale_lines=None, purchase_lines=None):
        """Store the linked quantities of these links' lines (and of the
        given ones) after an ORM change (see :meth:`_store_linked_qty`)."""
        sale_lines = (sale_lines or self.env["sale.order.line"]) | self.sale_line_id
        purchase_lines = (
            purchase_lines or self.env["purchase.order.line"]
        ) | self.purchase_line_id
        self.flush_model()
        self._store_linked_qty(set(sale_lines.ids), set(purchase_lines.ids))

    def _check_manual_lines(self):
        """Only lines that can hold a promise: a confirmed sales order, a
        confirmed purchase order, a storable product that is not a kit, goods
        Odoo did not buy for a given destination."""
        for link in self:
            link._check_orders_confirmed()
            link._check_product_linkable()
        for model in ("stock.move", "purchase.order", "purchase.order.line"):
            self.env[model].flush_model()
        spoken_for = self.env["purchase.order.line"].browse(
            row[0]
            for row in self.env.execute_query(
                SQL(
                    "SELECT pol.id FROM purchase_order_line pol"
                    " WHERE pol.id = ANY(%s) AND %s",
                    self.purchase_line_id.ids,
                    self.env["backorder.rules"]._purchase_spoken_for_sql(),
                )
            )
        )
        if spoken_for:
            raise ValidationError(self._spoken_for_message(spoken_for.order_id))

    def _check_orders_confirmed(self):
        sale_line, po_line = self.sale_line_id, self.purchase_line_id
        if sale_line.order_id.state != "sale":
            raise ValidationError(
                self.env._(
                    "Sales order %(order)s is not confirmed: only confirmed "
                    "orders can be linked to purchases.",
                    order=sale_line.order_id.name,
                )
            )
        if po_line.order_id.state not in ("purchase", "done"):
            raise ValidationError(
                self.env._(
                    "Purchase order %(order)s is not confirmed: only "
                    "confirmed purchase orders can be linked to backorders.",
                    order=po_line.order_id.name,
                )
            )

    def _check_product_linkable(self):
        sale_line = self.sale_line_id
        if not sale_line.product_id.active:
            raise ValidationError(
                self.env._(
                    "%(product)s is archived: it can no longer be linked.",
                    product=sale_line.product_id.display_name,
                )
            )
        if not sale_line.product_id.is_storable:
            raise ValidationError(
                self.env._(
                    "%(product)s is not a tracked (storable) product: only "
                    "storable products can be backordered.",
                    product=sale_line.product_id.display_name,
                )
            )
        if sale_line.move_ids.filtered(
            lambda move, line=sale_line: move.product_id != line.product_id
        ):
            raise ValidationError(
                self.env._(
                    "%(product)s is a kit: its components are delivered, not "
                    "the kit itself, so it cannot be linked to purchases.",
                    product=sale_line.product_id.display_name,
                )
            )

    @api.model
    def _spoken_for_message(self, purchase_orders):
        return self.env._(
            "%(orders)s bought these goods for a given destination (a "
            "dropship, or on order for another delivery or production): "
            "they cannot be promised to a backorder.",
            orders=", ".join(purchase_orders.mapped("name")),
        )

    def action_cancel(self):
        """A manager takes back promises still awaiting receipt: the goods on
        order become free again and the sales line backordered, until the
        next linking run or a manual link."""
        self.check_access("write")
        received = self.filtered(lambda link: link.state != "linked")
        if received:
            raise UserError(
                self.env._(
                    "Only links awaiting receipt can be removed; %(links)s: the "
                    "goods are already received or the link is closed. Unreserve "
                    "or return the goods on the delivery instead.",
                    links=", ".join(received.mapped("display_name")),
                )
            )
        self.write({"state": "cancel"})
        for link in self:
            body = self.env._(
                "Backorder link removed by %(user)s: %(qty)s %(product)s between "
                "%(so)s and %(po)s.",
                user=self.env.user.name,
                qty=link.quantity,
                product=link.product_id.display_name,
                so=link.sale_order_id.name,
                po=link.purchase_order_id.name,
            )
            link.sale_order_id.message_post(body=body)
            link.purchase_order_id.message_post(body=body)
        return True

    @api.model
    def _count_linked_orders(self, side, other, orders):
        """``{order id: count}``: how many distinct orders of the ``other``
        side the links of ``orders`` (on ``side``) not cancelled join."""
        groups = self._read_group(
            [(side, "in", orders.ids), ("state", "!=", "cancel")],
            [side],
            [f"{other}:count_distinct"],
        )
        return {order.id: count for order, count in groups}

    def _action_view_orders(self, side, action_xmlid):
        """The window action ``action_xmlid`` on the orders of ``side``
        (``sale_order_id``, ``purchase_order_id``) of these links that are
        not cancelled (the form when there is one)."""
        orders = self.filtered(lambda link: link.state != "cancel")[side]
        action = self.env["ir.actions.actions"]._for_xml_id(action_xmlid)
        action["domain"] = [("id", "in", orders.ids)]
        action["context"] = {"create": False}
        if len(orders) == 1:
            action["views"] = [(False, "form")]
            action["res_id"] = orders.id
        return action

    def action_open_delivery(self):
        """Open the delivery that ships this backorder (validate it in full,
        or in part and keep the rest as a backorder)."""
        self.ensure_one()
        self.check_access("read")
        pickings = self.sale_line_id.move_ids.filtered(
            lambda m: m.state not in ("done", "cancel")
        ).picking_id
        return self.sale_order_id._get_action_view_picking(pickings)
