# Copyright 2026 backorder_po_link contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from collections import defaultdict

from odoo import Command, api, fields, models, tools
from odoo.exceptions import UserError
from odoo.tools import SQL

from .backorder_series import LINE_UOM, QTY_DIGITS, UOM_DEPENDS, purchase_unit


class BackorderPurchaseReport(models.Model):
    """Backorders to Purchase: per product and warehouse, what customers wait
    for that no link covers, what is already on order and free, what is in
    stock and free, and so what is left to buy. A table query (one SQL
    statement, set-based, built at each search like Odoo's own reports),
    composed of the rules of ``backorder.rules``."""

    _name = "backorder.purchase.report"
    _description = "Backorders to Purchase"
    _auto = False
    _order = "qty_to_purchase desc, product_id"
    _rec_name = "product_id"
    # Every field the query reads, directly or through backorder.rules: Odoo
    # flushes exactly these before it searches or reads the report.
    _depends = {
        "backorder.po.link": ["sale_line_id", "purchase_line_id", "quantity", "state"],
        "product.product": ["active", "product_tmpl_id"],
        "product.template": ["is_storable", "uom_id"],
        "purchase.order": ["state", "picking_type_id", "allow_backorder_link"],
        "purchase.order.line": [
            "order_id",
            "product_id",
            "company_id",
            "display_type",
            "product_qty",
            "product_uom_qty",
            "qty_received",
            "move_dest_ids",
        ],
        "sale.order": ["state", "warehouse_id"],
        "sale.order.line": [
            "order_id",
            "product_id",
            "company_id",
            "display_type",
            LINE_UOM,
            "product_uom_qty",
            "qty_delivered",
        ],
        "stock.location": ["usage", "warehouse_id"],
        "stock.move": [
            "sale_line_id",
            "purchase_line_id",
            "product_id",
            "state",
            "procure_method",
            "location_id",
            "location_dest_id",
            "product_qty",
            "product_uom_qty",
            "quantity",
            "move_dest_ids",
            "move_orig_ids",
            "created_purchase_line_ids",
        ],
        "stock.picking.type": ["code", "warehouse_id"],
        "stock.quant": [
            "product_id",
            "location_id",
            "company_id",
            "quantity",
            "reserved_quantity",
        ],
        **UOM_DEPENDS,
    }

    product_id = fields.Many2one("product.product", readonly=True)
    product_tmpl_id = fields.Many2one("product.template", readonly=True)
    product_uom_id = fields.Many2one(related="product_id.uom_id", string="Unit")
    warehouse_id = fields.Many2one("stock.warehouse", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    backorder_qty = fields.Float(
        string="Uncovered Backorders", digits=QTY_DIGITS, readonly=True
    )
    free_supply_qty = fields.Float(
        string="Free on Order", digits=QTY_DIGITS, readonly=True
    )
    free_stock_qty = fields.Float(
        string="Free in Stock", digits=QTY_DIGITS, readonly=True
    )
    qty_to_purchase = fields.Float(
        string="To Purchase", digits=QTY_DIGITS, readonly=True
    )

    # ------------------------------------------------------------------
    # The query
    # ------------------------------------------------------------------
    @property
    def _table_query(self):
        """The report's rows, built at each search as Odoo does for its own
        reports; wrapped by Odoo as ``(...) AS backorder_purchase_report``."""
        return SQL(
            "%s %s %s %s", self._with(), self._select(), self._from(), self._where()
        )

    def _with(self):
        """``WITH`` the named queries of :meth:`_with_queries`."""
        return SQL(
            "WITH %s",
            SQL(", ").join(
                SQL("%s AS (%s)", SQL.identifier(name), query)
                for name, query in self._with_queries()
            ),
        )

    def _with_queries(self):
        """``[(name, query)]``, in the order they read each other: the
        backorders and the free supply are ``backorder.rules``' own
        definitions; the others total them, and the free stock, per product,
        warehouse and company."""
        rules = self.env["backorder.rules"]
        return [
            ("backorders", rules._backorder_qty_query()),
            ("demand", self._demand_query()),
            ("free", rules._free_supply_query(self._supply_line_filter())),
            ("supply", self._supply_query()),
            ("stock", self._stock_query()),
        ]

    def _demand_query(self):
        """``demand``: the backorders per product, warehouse and company; the
        row's id is the lowest id of its backordered sales lines: it names the
        same row from one search to the next (a row number would name another
        product once a backorder appears or goes)."""
        return SQL(
            """
            SELECT MIN(sol.id) AS id, sol.product_id, so.warehouse_id,
                   sol.company_id, SUM(backorders.qty) AS qty
              FROM backorders
              JOIN sale_order_line sol ON sol.id = backorders.sale_line_id
              JOIN sale_order so ON so.id = sol.order_id
          GROUP BY sol.product_id, so.warehouse_id, sol.company_id
            """
        )

    def _supply_line_filter(self):
        """Condition on ``pol``: the purchase lines whose free supply counts,
        those of products with backorders."""
        return SQL("pol.product_id IN (SELECT product_id FROM demand)")

    def _supply_query(self):
        """``supply``: the free supply per product, warehouse (of the
        order's receipt) and company, of orders that allow links."""
        return SQL(
            """
            SELECT pol.product_id, spt.warehouse_id, pol.company_id,
                   SUM(free.free) AS qty
              FROM free
              JOIN purchase_order_line pol ON pol.id = free.purchase_line_id
              JOIN purchase_order po ON po.id = pol.order_id
              JOIN stock_picking_type spt ON spt.id = po.picking_type_id
             WHERE %s
          GROUP BY pol.product_id, spt.warehouse_id, pol.company_id
            """,
            self.env["backorder.rules"]._accepts_backorders_sql(),
        )

    def _stock_query(self):
        """``stock``: what is on hand and not reserved per product, warehouse
        and company, for the products with backorders."""
        return SQL(
            """
            SELECT q.product_id, loc.warehouse_id, q.company_id,
                   SUM(q.quantity - q.reserved_quantity) AS qty
              FROM stock_quant q
              JOIN stock_location loc ON loc.id = q.location_id
             WHERE loc.usage = 'internal'
               AND loc.warehouse_id IS NOT NULL
               AND q.product_id IN (SELECT product_id FROM demand)
          GROUP BY q.product_id, loc.warehouse_id, q.company_id
            """
        )

    def _select(self):
        """The report's columns: backorders less free supply less free stock
        (never below zero) is what to purchase."""
        return SQL(
            """
            SELECT d.id, d.product_id, pp.product_tmpl_id, d.warehouse_id,
                   d.company_id,
                   d.qty AS backorder_qty,
                   COALESCE(s.qty, 0) AS free_supply_qty,
                   GREATEST(COALESCE(st.qty, 0), 0) AS free_stock_qty,
                   GREATEST(d.qty - COALESCE(s.qty, 0)
                            - GREATEST(COALESCE(st.qty, 0), 0), 0) AS qty_to_purchase
            """
        )

    def _from(self):
        """Each product, warehouse and company with backorders, beside its
        free supply and free stock there."""
        return SQL(
            """
              FROM demand d
              JOIN product_product pp ON pp.id = d.product_id
         LEFT JOIN supply s ON s.product_id = d.product_id
                           AND s.warehouse_id = d.warehouse_id
                           AND s.company_id = d.company_id
         LEFT JOIN stock st ON st.product_id = d.product_id
                           AND st.warehouse_id = d.warehouse_id
                           AND st.company_id = d.company_id
            """
        )

    def _where(self):
        """Only what customers still wait for."""
        return SQL("WHERE d.qty > 0")

    def init(self):
        # Up to now the report was a view of this name: a table query makes
        # Odoo create nothing, so an upgraded database would keep the view.
        tools.drop_view_if_exists(self.env.cr, self._table)

    def action_view_sale_lines(self):
        """Drill down to the backordered sales lines of this row."""
        self.ensure_one()
        self.check_access("read")
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Backordered Lines: %s", self.product_id.display_name),
            "res_model": "sale.order.line",
            "view_mode": "list,form",
            "views": [
                (
                    self.env.ref(
                        "backorder_po_link.sale_order_line_view_list_backorder"
                    ).id,
                    "list",
                ),
                (False, "form"),
            ],
            "domain": [
                ("product_id", "=", self.product_id.id),
                ("order_id.warehouse_id", "=", self.warehouse_id.id),
                ("company_id", "=", self.company_id.id),
                ("backorder_qty", ">", 0),
            ],
            "context": {"create": False},
        }

    def action_create_rfq(self):
        """Purchasers turn these rows into draft RFQs."""
        self._check_rfq_rights()
        return self._create_rfqs()

    @api.model
    def _check_rfq_rights(self):
        """Only users who may read this report and create purchase orders
        (purchasers) turn backorders into RFQs."""
        self.check_access("read")
        self.env["purchase.order"].check_access("create")

    # ------------------------------------------------------------------
    # RFQ creation
    # ------------------------------------------------------------------
    def _select_vendor(self, product, company, quantity, uom, params=False):
        """The vendor pricelist line (``product.supplierinfo``) Odoo's buy
        rule (``stock.rule._run_buy``) picks to replenish ``quantity``
        ``uom`` of ``product`` for ``company`` today, no vendor imposed:
        ``_select_seller``, i.e. among the company's lines valid today whose
        minimum quantity the need reaches, those of the first vendor in
        sequence, the cheapest of them. When no line passes, the buy rule
        falls back on the company's first line in sequence whatever its dates
        and minimum (an RFQ to check rather than none); so does this."""
        product = product.with_company(company)
        seller = product._select_seller(
            quantity=quantity,
            date=fields.Date.context_today(self),
            uom_id=uom,
            params=params,
        )
        return (
            seller
            or product._prepare_sellers(params).filtered(
                lambda s: not s.company_id or s.company_id == company
            )[:1]
        )

    def _create_rfqs(self, raise_if_none=True):
        """Draft RFQs for these rows, one per vendor and warehouse, reusing an
        open draft RFQ of that vendor and warehouse. Returns the window action
        of the RFQs created or updated (wrapped in a notification naming the
        products left out for want of a vendor)."""
        grouped, no_vendor = self._group_by_vendor()
        touched = self.env["purchase.order"]
        for (vendor, warehouse, company), items in grouped.items():
            order = self._find_or_create_rfq(vendor, warehouse, company)
            for row, seller in items:
                self._add_rfq_line(order, row, seller)
            touched |= order
        if not touched and no_vendor and raise_if_none:
            raise UserError(
                self.env._(
                    "No RFQ was created: these products have no vendor for this "
                    "company: %(products)s. Add a vendor on their Purchase tab.",
                    products=", ".join(no_vendor.mapped("display_name")),
                )
            )
        action = self.env["ir.actions.actions"]._for_xml_id("purchase.purchase_rfq")
        action["domain"] = [("id", "in", touched.ids)]
        action["context"] = {}
        if len(touched) == 1:
            action["views"] = [(False, "form")]
            action["res_id"] = touched.id
        if no_vendor:
            return {
                "type": "ir.actions.client",
                "tag": "display_notification",
                "params": {
                    "type": "warning",
                    "sticky": True,
                    "title": self.env._("Some products have no vendor"),
                    "message": self.env._(
                        "No RFQ for %(products)s: add a vendor on their Purchase tab.",
                        products=", ".join(no_vendor.mapped("display_name")),
                    ),
                    "next": action,
                    "no_vendor_product_ids": no_vendor.ids,
                },
            }
        return action

    def _group_by_vendor(self):
        """``({(vendor, warehouse, company): [(row, seller)]}, products)``:
        the rows with something to purchase by the vendor
        :meth:`_select_vendor` picks for them, and the products of those
        that have none."""
        grouped = defaultdict(list)
        no_vendor = self.env["product.product"]
        for row in self.filtered(lambda row: row.qty_to_purchase > 0):
            seller = self._select_vendor(
                row.product_id,
                row.company_id,
                row.qty_to_purchase,
                row.product_id.uom_id,
            )
            if seller:
                key = (seller.partner_id, row.warehouse_id, row.company_id)
                grouped[key].append((row, seller))
            else:
                no_vendor |= row.product_id
        return grouped, no_vendor

    def _find_or_create_rfq(self, vendor, warehouse, company):
        PurchaseOrder = self.env["purchase.order"].with_company(company)
        picking_type = warehouse.in_type_id
        order = PurchaseOrder.search(
            [
                ("state", "=", "draft"),
                ("partner_id", "=", vendor.id),
                ("company_id", "=", company.id),
                ("picking_type_id", "=", picking_type.id),
            ],
            order="id",
            limit=1,
        )
        if order:
            return order
        return PurchaseOrder.create(
            {
                "partner_id": vendor.id,
                "company_id": company.id,
                "picking_type_id": picking_type.id,
                "origin": self.env._("Backorders"),
            }
        )

    def _add_rfq_line(self, order, row, seller):
        """Order what the row lacks, in the vendor's purchase unit, at least
        the vendor's minimum quantity, remembering the backorders it is for."""
        product = row.product_id
        purchase_uom = purchase_unit(product, seller)
        qty = product.uom_id._compute_quantity(
            row.qty_to_purchase, purchase_uom, rounding_method="UP"
        )
        # The backorders behind the row, whoever's orders they are: purchasers
        # buy for every customer without reading sales orders.
        sale_lines = (
            self.env["sale.order.line"]
            .sudo()
            .search(
                [
                    ("product_id", "=", product.id),
                    ("order_id.warehouse_id", "=", row.warehouse_id.id),
                    ("company_id", "=", row.company_id.id),
                    ("backorder_qty", ">", 0),
                ]
            )
        )
        line = order.order_line.filtered(
            lambda pol: pol.product_id == product and pol[LINE_UOM] == purchase_uom
        )[:1]
        if line:
            # Already on this RFQ: what the report counts as "to purchase"
            # does not include draft RFQs, so the line grows to the new need.
            line.product_qty = max(line.product_qty, qty, seller.min_qty)
            line.sudo().backorder_sale_line_ids = [
                Command.link(sl.id) for sl in sale_lines
            ]
            return line
        line = self.env["purchase.order.line"].create(
            {
                "order_id": order.id,
                "product_id": product.id,
                "product_qty": max(qty, seller.min_qty),
                LINE_UOM: purchase_uom.id,
            }
        )
        # sudo: the lines it is for are sales lines the purchaser may not
        # read (Odoo 19.0 checks read access on a many2many's records).
        line.sudo().backorder_sale_line_ids = [Command.set(sale_lines.ids)]
        # Created without a price, the line takes the one of the quantity
        # Odoo suggests (the first vendor line's minimum): price it again for
        # the quantity ordered, as editing the quantity would.
        line._compute_price_unit_and_date_planned_and_name()
        return line

    def _cron_create_rfqs(self):
        """Automatic mode: companies that switched it on get their draft RFQs
        created or updated."""
        for company in self.env["res.company"].search(
            [("backorder_auto_rfq", "=", True)]
        ):
            self._auto_create_rfqs(company)

    @api.model
    def _auto_create_rfqs(self, company, products=None):
        """Draft RFQs for what ``company`` still has to buy, restricted to
        ``products`` when given (one chunk of the automatic run)."""
        domain = [("company_id", "=", company.id), ("qty_to_purchase", ">", 0)]
        if products is not None:
            domain.append(("product_id", "in", products.ids))
        rows = self.search(domain)
        rows.with_company(company)._create_rfqs(raise_if_none=False)
