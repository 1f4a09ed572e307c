# Copyright 2026 backorder_po_link contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The vocabulary: every rule of the addon as a small SQL piece, written once.

The allocator, Backorders to Purchase, the lines' fields, the manual link's
checks, the audit and the database guard compose these pieces; none of them
spells a rule out again. Each piece takes the table aliases it applies to, so
that a caller can use it inside its own query. Every expression that depends
on Odoo's own schema (units of measure, their field names) lives in this file
and in ``backorder_rules_deposit.py``; what differs between Odoo 18.0 and 19.0
comes from ``backorder_series.py``.
"""

from datetime import timedelta

from odoo import api, models
from odoo.tools import SQL

from .backorder_series import LINE_UOM, uom_table_sql

# Moves that still have to happen (not done, not cancelled).
OPEN_MOVE_STATES = ("waiting", "confirmed", "partially_available", "assigned")

# Links that count against both lines: awaiting receipt, or received.
ACTIVE_LINK_STATES = ("linked", "received")

# Expected dates that learn: a vendor's receipts of the last days, and how
# many of them it takes before its median delay counts.
ETA_LEARN_DAYS = 90
ETA_LEARN_MIN_RECEIPTS = 5

# The models whose tables the pieces below read: what a query composing them
# flushes first (flushing every model would also recompute stored fields of
# models it never reads, such as reordering rules, earlier than Odoo would).
RULES_READ = (
    "account.move",
    "account.move.line",
    "account.payment",
    "backorder.po.link",
    "decimal.precision",
    "payment.transaction",
    "product.product",
    "product.template",
    "purchase.order",
    "purchase.order.line",
    "res.company",
    "res.currency",
    "res.currency.rate",
    "res.partner",
    "sale.order",
    "sale.order.line",
    "stock.location",
    "stock.move",
    "stock.picking",
    "stock.picking.type",
    "stock.quant",
    "stock.warehouse",
    "uom.uom",
)

# Of those, what the definition of a backorder reads (``_backorder_qty_query``):
# all that the lines' Backordered field flushes when it is read.
BACKORDER_READS = (
    "stock.move",
    "sale.order",
    "sale.order.line",
    "backorder.po.link",
    "product.product",
    "product.template",
)

# Quantities are compared and linked in multiples of the product's rounding;
# sums of such multiples may carry float noise below this.
ROUNDING_NOISE = 0.0000001


class BackorderRules(models.AbstractModel):
    _name = "backorder.rules"
    _description = "Backorder Link Rules"

    @api.model
    def _flush_reads(self, models=RULES_READ):
        """Flush what the rules read (``RULES_READ``, or the ``models`` one
        query reads) before a query."""
        for model in models:
            if model in self.env:
                self.env[model].flush_model()

    # ------------------------------------------------------------------
    # Units
    # ------------------------------------------------------------------
    @api.model
    def _round_down_sql(self, quantity, rounding):
        """``quantity`` rounded down to a multiple of ``rounding`` (never
        below zero): what can be promised of it."""
        return SQL(
            "FLOOR(GREATEST(%s, 0) / %s + %s) * %s",
            quantity,
            rounding,
            ROUNDING_NOISE,
            rounding,
        )

    @api.model
    def _product_uom_join_sql(self, product_id):
        """Joins giving the product ``product_id`` (an SQL expression) as
        ``pp``, its template ``pt`` and its unit ``prod_uom`` (whose
        ``rounding`` every quantity is a multiple of, and ``factor``)."""
        return SQL(
            """JOIN product_product pp ON pp.id = %s
               JOIN product_template pt ON pt.id = pp.product_tmpl_id
               JOIN %s prod_uom ON prod_uom.id = pt.uom_id""",
            product_id,
            uom_table_sql(),
        )

    @api.model
    def _line_uom_join_sql(self, sol="sol"):
        """Join giving the unit of sales line ``sol`` as ``line_uom``."""
        return SQL(
            "JOIN %s line_uom ON line_uom.id = %s",
            uom_table_sql(),
            SQL.identifier(sol, LINE_UOM),
        )

    @api.model
    def _sale_line_uom_join_sql(self, sol="sol"):
        """Joins giving the unit of sales line ``sol`` (``line_uom``), then
        its product as :meth:`_product_uom_join_sql` does."""
        return SQL(
            "%s %s",
            self._line_uom_join_sql(sol),
            self._product_uom_join_sql(SQL("%s.product_id", SQL.identifier(sol))),
        )

    @api.model
    def _to_product_uom_sql(self, quantity):
        """``quantity`` of a sales line's unit (``line_uom``) in its
        product's unit (``prod_uom``)."""
        return SQL("%s / line_uom.factor * prod_uom.factor", quantity)

    @api.model
    def _ordered_left_sql(self):
        """What sales line ``sol`` still has to deliver, in its product's unit
        (aliases of :meth:`_sale_line_uom_join_sql`)."""
        return self._to_product_uom_sql(
            SQL("GREATEST(sol.product_uom_qty - sol.qty_delivered, 0)")
        )

    @api.model
    def _po_open_qty_sql(self):
        """What purchase line ``pol`` still has to receive, in its product's
        unit."""
        return SQL(
            "pol.product_uom_qty - CASE WHEN pol.product_qty > 0"
            " THEN pol.qty_received * pol.product_uom_qty / pol.product_qty"
            " ELSE 0 END"
        )

    # ------------------------------------------------------------------
    # Supply
    # ------------------------------------------------------------------
    @api.model
    def _spoken_for_query(self, purchase_line_ids_query):
        """Ids of the purchase lines among ``purchase_line_ids_query`` whose
        goods Odoo itself bought for a given destination, so that they are
        nobody else's to promise: a dropship (the vendor ships to the
        customer, the goods never enter a warehouse) or a purchase on order
        (a move waits for exactly these goods: a delivery on Replenish on
        Order, a manufacturing order, another warehouse's resupply), until
        that move is cancelled. Before the order is confirmed Odoo keeps that
        move on the line (``move_dest_ids``); after, the line's receipt is
        chained to it (``move_dest_ids`` of the moves), through the steps of
        multi-step receipts and deliveries, to a move that leaves the
        warehouse. Set-based: one walk for all the lines."""
        return SQL(
            """
            SELECT dpol.id
              FROM purchase_order_line dpol
              JOIN purchase_order dpo ON dpo.id = dpol.order_id
              JOIN stock_picking_type dspt ON dspt.id = dpo.picking_type_id
             WHERE dpol.id IN (%(ids)s) AND dspt.code != 'incoming'
             UNION
            SELECT dest.created_purchase_line_id
              FROM stock_move_created_purchase_line_rel dest
              JOIN stock_move dm ON dm.id = dest.move_id
             WHERE dest.created_purchase_line_id IN (%(ids)s)
               AND dm.state != 'cancel'
             UNION
            SELECT leaving.line_id FROM (
                WITH RECURSIVE chain(line_id, move_id) AS (
                    SELECT rm.purchase_line_id, rm.id FROM stock_move rm
                     WHERE rm.purchase_line_id IN (%(ids)s) AND rm.state != 'cancel'
                 UNION
                    SELECT chain.line_id, rel.move_dest_id FROM chain
                      JOIN stock_move_move_rel rel ON rel.move_orig_id = chain.move_id
                )
                SELECT chain.line_id FROM chain
                  JOIN stock_move cm ON cm.id = chain.move_id
                  JOIN stock_location cl ON cl.id = cm.location_dest_id
                 WHERE cm.state != 'cancel'
                   AND cm.purchase_line_id IS NULL
                   AND cl.usage IN ('customer', 'production', 'transit')
            ) leaving
            """,
            ids=purchase_line_ids_query,
        )

    @api.model
    def _purchase_spoken_for_sql(self, pol="pol"):
        """Condition: Odoo bought the goods of purchase line ``pol`` for a
        given destination (see :meth:`_spoken_for_query`), for the checks
        of a few lines (the guard, the audit, a manual link)."""
        pol = SQL.identifier(pol)
        return SQL(
            "%s.id IN (%s)", pol, self._spoken_for_query(SQL("SELECT %s.id", pol))
        )

    @api.model
    def _supply_line_ids_query(self, line_filter):
        """Ids of the purchase lines that ``line_filter`` (a condition on
        ``pol``, ``po``) selects and that are supply backorders may be
        promised: the order is confirmed, the product active and storable,
        and Odoo did not buy the goods for a given destination."""
        return SQL(
            """
            WITH candidate AS (
                SELECT pol.id
                  FROM purchase_order_line pol
                  JOIN purchase_order po ON po.id = pol.order_id
                  %(product)s
                 WHERE %(line_filter)s
                   AND po.state IN ('purchase', 'done')
                   AND pp.active AND pt.is_storable
                   AND pol.display_type IS NULL
            )
            SELECT candidate.id FROM candidate
             WHERE candidate.id NOT IN (%(spoken_for)s)
            """,
            line_filter=line_filter,
            product=self._product_uom_join_sql(SQL("pol.product_id")),
            spoken_for=self._spoken_for_query(SQL("SELECT id FROM candidate")),
        )

    @api.model
    def _free_supply_query(self, line_filter):
        """``(purchase_line_id, free)``: the free supply of the purchase lines
        that ``line_filter`` (a condition on ``pol``, ``po``) selects: what
        each supply line (:meth:`_supply_line_ids_query`) still has to
        receive that no backorder awaits."""
        return SQL(
            """
            WITH supply AS (%(supply)s),
            pending AS (
                SELECT l.purchase_line_id, SUM(l.quantity) AS qty
                  FROM backorder_po_link l
                 WHERE l.purchase_line_id = ANY(ARRAY(SELECT id FROM supply))
                   AND l.state = 'linked'
              GROUP BY l.purchase_line_id
            )
            SELECT pol.id AS purchase_line_id,
                   (%(open_qty)s - COALESCE(pending.qty, 0))::float8 AS free
              FROM supply
              JOIN purchase_order_line pol ON pol.id = supply.id
         LEFT JOIN pending ON pending.purchase_line_id = pol.id
             WHERE %(open_qty)s - COALESCE(pending.qty, 0) > 0
            """,
            supply=self._supply_line_ids_query(line_filter),
            open_qty=self._po_open_qty_sql(),
        )

    @api.model
    def _own_purchase_query(self, sale_line_ids=None, purchase_line_ids=None):
        """``(sale_line_id, purchase_line_id)``: the confirmed purchase lines
        Odoo made for given sales lines (on order or dropship): those whose
        moves lead, through ``move_dest_ids``, to the sales line's moves.
        Given sales lines, the chains are walked up from their moves; given
        purchase lines, down from their receipts."""
        if sale_line_ids is not None:
            start = SQL(
                "SELECT m.sale_line_id, m.id FROM stock_move m"
                " WHERE %s AND m.state != 'cancel'",
                # The ids, or a query selecting them.
                SQL("m.sale_line_id IN (%s)", sale_line_ids)
                if isinstance(sale_line_ids, SQL)
                else SQL("m.sale_line_id = ANY(%s)", list(sale_line_ids)),
            )
            step = SQL(
                "SELECT chain.line_id, rel.move_orig_id FROM chain"
                " JOIN stock_move_move_rel rel ON rel.move_dest_id = chain.move_id"
            )
            pair = SQL("chain.line_id, cm.purchase_line_id")
            found = SQL("cm.purchase_line_id IS NOT NULL")
        else:
            start = SQL(
                "SELECT m.purchase_line_id, m.id FROM stock_move m"
                " WHERE m.purchase_line_id = ANY(%s) AND m.state != 'cancel'",
                list(purchase_line_ids),
            )
            step = SQL(
                "SELECT chain.line_id, rel.move_dest_id FROM chain"
                " JOIN stock_move_move_rel rel ON rel.move_orig_id = chain.move_id"
            )
            pair = SQL("cm.sale_line_id, chain.line_id")
            found = SQL("cm.sale_line_id IS NOT NULL")
        return SQL(
            """
            WITH RECURSIVE chain(line_id, move_id) AS (%(start)s UNION %(step)s)
            SELECT DISTINCT %(pair)s
              FROM chain
              JOIN stock_move cm ON cm.id = chain.move_id
              JOIN purchase_order_line pol ON pol.id = %(pol_id)s
              JOIN purchase_order po ON po.id = pol.order_id
             WHERE %(found)s
               AND cm.state != 'cancel'
               AND po.state IN ('purchase', 'done')
               AND %(spoken_for)s
            """,
            start=start,
            step=step,
            pair=pair,
            pol_id=SQL("cm.purchase_line_id")
            if sale_line_ids is not None
            else SQL("chain.line_id"),
            found=found,
            spoken_for=self._purchase_spoken_for_sql(),
        )

    # ------------------------------------------------------------------
    # Backorders
    # ------------------------------------------------------------------
    @api.model
    def _stock_move_sql(self, move="m"):
        """Condition: ``move`` takes goods out of stock for its sales line
        (``make_to_stock``, from an internal location: the first step of a
        multi-step delivery, the only one of a one-step one) and still has
        to happen."""
        return SQL(
            """(
                %(move)s.state IN %(states)s
                AND %(move)s.procure_method = 'make_to_stock'
                AND %(move)s.location_id IN (
                    SELECT msrc.id FROM stock_location msrc
                     WHERE msrc.usage = 'internal')
            )""",
            move=SQL.identifier(move),
            states=OPEN_MOVE_STATES,
        )

    @api.model
    def _missing_qty_sql(self, move="m", line_product=None):
        """What ``move`` still lacks in reservation, in the product's unit;
        nothing for a move of another product than its sales line's
        (``line_product``, default ``msol.product_id``): the components of a
        kit (``mrp``'s phantom bills of materials) carry the kit's sales
        line, but their quantities are not kit units, so kit lines are never
        backorders to link."""
        return SQL(
            "CASE WHEN %(m)s.product_id = %(line_product)s"
            " THEN %(m)s.product_qty - CASE WHEN %(m)s.product_uom_qty > 0"
            " THEN %(m)s.quantity * %(m)s.product_qty / %(m)s.product_uom_qty"
            " ELSE 0 END END",
            m=SQL.identifier(move),
            line_product=line_product or SQL("msol.product_id"),
        )

    @api.model
    def _missing_qty_query(self, sale_line_ids_query=None, product_ids=None):
        """``(sale_line_id, qty)``: what the open stock moves of these sales
        lines (all when ``None``) still lack in reservation, in the product's
        unit. ``product_ids`` lets the planner start from those products'
        moves (indexed) rather than from every open move."""
        return SQL(
            """
            SELECT m.sale_line_id, SUM(%(missing_qty)s) AS qty
              FROM stock_move m
              JOIN sale_order_line msol ON msol.id = m.sale_line_id
             WHERE %(line_filter)s
               %(product_filter)s
               AND %(stock_move)s
          GROUP BY m.sale_line_id
            """,
            missing_qty=self._missing_qty_sql(),
            line_filter=SQL("m.sale_line_id IN (%s)", sale_line_ids_query)
            if sale_line_ids_query is not None
            else SQL("m.sale_line_id IS NOT NULL"),
            product_filter=SQL("AND m.product_id = ANY(%s)", product_ids)
            if product_ids is not None
            else SQL(),
            stock_move=self._stock_move_sql(),
        )

    @api.model
    def _sale_line_sql(self):
        """Condition: sales line ``sol`` (of order ``so``, product ``pp`` of
        template ``pt``) can be a backorder: the order is confirmed, the line
        sells an active storable product."""
        return SQL(
            "(sol.display_type IS NULL AND so.state = 'sale'"
            " AND pp.active AND pt.is_storable)"
        )

    @api.model
    def _backorder_need_sql(self, missing, pending, active):
        """What sales line ``sol`` still waits for that no link covers, in the
        product's unit, before rounding: what its open stock moves lack
        (``missing``) less what its links await (``pending``), and never more
        than it still has to deliver less all it holds (``active``)."""
        return SQL(
            "LEAST(COALESCE(%s, 0) - COALESCE(%s, 0), %s - COALESCE(%s, 0))",
            missing,
            pending,
            self._ordered_left_sql(),
            active,
        )

    @api.model
    def _waiting_kit_line_query(self, company_ids):
        """``(sale_line_id, qty)``: the kit lines (see
        :meth:`_missing_qty_sql`) of confirmed orders of ``company_ids``
        whose component moves wait for stock, with what each still has to
        deliver: never backorders, but the dry run says why."""
        return SQL(
            """
            SELECT sol.id, MAX(%(ordered_left)s)::float8
              FROM stock_move m
              JOIN sale_order_line sol ON sol.id = m.sale_line_id
              JOIN sale_order so ON so.id = sol.order_id
              %(units)s
             WHERE %(stock_move)s
               AND m.state != 'assigned'
               AND m.product_id != sol.product_id
               AND so.state = 'sale'
               AND sol.company_id = ANY(%(company_ids)s)
          GROUP BY sol.id
            """,
            ordered_left=self._ordered_left_sql(),
            units=self._sale_line_uom_join_sql(),
            stock_move=self._stock_move_sql(),
            company_ids=company_ids,
        )

    @api.model
    def _backorder_qty_query(self, sale_line_ids_query=None, product_ids=None):
        """``(sale_line_id, qty)``: the backorders among the sales lines that
        ``sale_line_ids_query`` selects (all when ``None``), with what each
        still waits for from stock that no link covers, rounded down to the
        product's rounding: the one definition of a backorder.
        ``product_ids`` narrows the moves read (the planner then starts from
        those products' moves)."""
        return SQL(
            """
            WITH bo_missing AS (%(missing)s),
            bo_pending AS (%(pending)s)
            SELECT sol.id AS sale_line_id, bo.qty::float8 AS qty
              FROM bo_missing
              JOIN sale_order_line sol ON sol.id = bo_missing.sale_line_id
              JOIN sale_order so ON so.id = sol.order_id
              %(units)s
         LEFT JOIN bo_pending pending ON pending.sale_line_id = sol.id
        CROSS JOIN LATERAL (SELECT %(rounded)s AS qty) bo
             WHERE %(sale_line)s
               AND bo.qty > prod_uom.rounding / 2
            """,
            missing=self._missing_qty_query(sale_line_ids_query, product_ids),
            pending=self._pending_qty_query(
                SQL("l.sale_line_id IN (SELECT sale_line_id FROM bo_missing)")
            ),
            rounded=self._round_down_sql(
                self._backorder_need_sql(
                    SQL("bo_missing.qty"),
                    SQL("pending.qty"),
                    SQL("pending.active_qty"),
                ),
                SQL("prod_uom.rounding"),
            ),
            sale_line=self._sale_line_sql(),
            units=self._sale_line_uom_join_sql(),
        )

    @api.model
    def _pending_qty_query(self, line_filter):
        """``(sale_line_id, qty, active_qty)`` of the sales lines that
        ``line_filter`` (on ``l``) selects: what their links still await
        (``linked``) and what they hold in all (``linked`` and ``received``)."""
        return SQL(
            """
            SELECT l.sale_line_id,
                   SUM(l.quantity) FILTER (WHERE l.state = 'linked') AS qty,
                   SUM(l.quantity) AS active_qty
              FROM backorder_po_link l
             WHERE %s
               AND l.state IN ('linked', 'received')
          GROUP BY l.sale_line_id
            """,
            line_filter,
        )

    # ------------------------------------------------------------------
    # Eligibility: which backorder may take which supply
    # ------------------------------------------------------------------
    @api.model
    def _accepts_backorders_sql(self, po="po"):
        """Condition: purchase order ``po`` lets backorders take its goods
        (a floor model's order may refuse)."""
        return SQL("%s.allow_backorder_link", SQL.identifier(po))

    @api.model
    def _scheduled_date_sql(self):
        """When sales line ``sol`` of order ``so`` is due: the commitment
        date, else the order date plus the line's lead time."""
        return SQL(
            "COALESCE(so.commitment_date,"
            " so.date_order + sol.customer_lead * INTERVAL '1 day')"
        )

    @api.model
    def _allocation_rank_sql(self, so="so", company="c"):
        """The sort keys of the allocation order of company ``company`` for
        the lines of sales order ``so``, as numbers, served first sorting first: the
        customer's backorder priority (higher first) and a starred delivery,
        where the company allocates by priority; then the requested date
        (commitment date, else order date) or the order date. Callers end
        with the fixed tie-break: order id, line sequence, line id."""
        so, company = SQL.identifier(so), SQL.identifier(company)
        by_priority = SQL("%s.backorder_allocation_order = 'priority'", company)
        return [
            SQL(
                """CASE WHEN %(by_priority)s THEN -COALESCE((
                       SELECT rp.backorder_priority FROM res_partner rp
                        WHERE rp.id = %(so)s.partner_id), 0) ELSE 0 END""",
                by_priority=by_priority,
                so=so,
            ),
            SQL(
                """CASE WHEN NOT %(by_priority)s THEN 0
                        WHEN EXISTS (
                            SELECT FROM stock_picking sp
                             WHERE sp.sale_id = %(so)s.id AND sp.priority = '1'
                               AND sp.state NOT IN ('done', 'cancel')) THEN 0
                        ELSE 1 END""",
                by_priority=by_priority,
                so=so,
            ),
            SQL(
                """extract(epoch FROM CASE
                       WHEN %(company)s.backorder_allocation_order = 'requested_date'
                       THEN COALESCE(%(so)s.commitment_date, %(so)s.date_order)
                       ELSE %(so)s.date_order END)""",
                company=company,
                so=so,
            ),
        ]

    @api.model
    def _days_out_ok_sql(self, scheduled_date, max_days, today):
        """Condition: a line due on ``scheduled_date`` is due within
        ``max_days`` (the company's "maximum days out", 0: no limit) of
        ``today``."""
        return SQL(
            "(%(max_days)s <= 0 OR %(date)s::date <= %(today)s::date + %(max_days)s)",
            max_days=max_days,
            date=scheduled_date,
            today=today,
        )

    @api.model
    def _source_warehouses_sql(self, warehouse_id):
        """The warehouses whose receipts may serve the sales of
        ``warehouse_id`` (empty: no restriction), as an array."""
        return SQL(
            "ARRAY(SELECT rel.source_warehouse_id"
            " FROM backorder_warehouse_source_rel rel"
            " WHERE rel.warehouse_id = %s)",
            warehouse_id,
        )

    # ------------------------------------------------------------------
    # What a line may hold
    # ------------------------------------------------------------------
    @api.model
    def _reserved_qty_query(self, sale_line_ids_query):
        """``(sale_line_id, qty)``: the goods reserved in stock for the open
        moves of these sales lines, in the product's unit: what their
        received links may hold. Moves from outside the warehouse (a
        customer's return) reserve nothing there."""
        return SQL(
            """
            SELECT m.sale_line_id,
                   SUM(CASE WHEN m.product_uom_qty > 0
                       THEN m.quantity * m.product_qty / m.product_uom_qty
                       ELSE 0 END) AS qty
              FROM stock_move m
              JOIN stock_location src ON src.id = m.location_id
             WHERE m.sale_line_id IN (%(line_ids)s)
               AND m.state IN %(move_states)s
               AND src.usage = 'internal'
          GROUP BY m.sale_line_id
            """,
            line_ids=sale_line_ids_query,
            move_states=OPEN_MOVE_STATES,
        )

    @api.model
    def _over_promised_query(self, sale_line_ids_query, purchase_line_ids_query):
        """``(side, line_id, linked, capacity, rounding)``: the lines among
        those the two queries select whose active links exceed what they can
        hold: a sales line what it still has to deliver, a purchase line
        what it orders (nothing when Odoo bought its goods for a given
        destination), both in the product's unit. The one invariant that the
        database guard, the links' constraint and the audit check."""
        return SQL(
            """
            WITH linked_pol AS (
                SELECT l.purchase_line_id AS id, SUM(l.quantity) AS linked
                  FROM backorder_po_link l
                 WHERE l.purchase_line_id = ANY(ARRAY(%(purchase_ids)s))
                   AND l.state IN %(active)s
              GROUP BY l.purchase_line_id
            ),
            linked_sol AS (
                SELECT l.sale_line_id AS id, SUM(l.quantity) AS linked
                  FROM backorder_po_link l
                 WHERE l.sale_line_id = ANY(ARRAY(%(sale_ids)s))
                   AND l.state IN %(active)s
              GROUP BY l.sale_line_id
            )
            -- The product's unit through a lateral lookup: PostgreSQL
            -- memoizes it per product instead of joining per line.
            SELECT 'sale' AS side, sol.id AS line_id, s.linked::float8,
                   capacity.qty::float8 AS capacity, prod_uom.rounding::float8
              FROM linked_sol s
              JOIN sale_order_line sol ON sol.id = s.id
              %(line_uom)s
        CROSS JOIN LATERAL (
                    SELECT prod_uom.rounding, prod_uom.factor
                      FROM (SELECT) one %(sale_product)s LIMIT 1) prod_uom
        CROSS JOIN LATERAL (SELECT %(ordered_left)s AS qty) capacity
             WHERE s.linked > capacity.qty + prod_uom.rounding / 2
         UNION ALL
            SELECT 'purchase', pol.id, s.linked::float8, capacity.qty::float8,
                   prod_uom.rounding::float8
              FROM linked_pol s
              JOIN purchase_order_line pol ON pol.id = s.id
        CROSS JOIN LATERAL (
                    SELECT prod_uom.rounding
                      FROM (SELECT) one %(purchase_product)s LIMIT 1) prod_uom
        CROSS JOIN LATERAL (
                    SELECT CASE WHEN %(spoken_for)s THEN 0
                                ELSE pol.product_uom_qty END AS qty) capacity
             WHERE s.linked > capacity.qty + prod_uom.rounding / 2
            """,
            sale_ids=sale_line_ids_query,
            purchase_ids=purchase_line_ids_query,
            active=ACTIVE_LINK_STATES,
            spoken_for=self._purchase_spoken_for_sql(),
            ordered_left=self._ordered_left_sql(),
            line_uom=self._line_uom_join_sql(),
            sale_product=self._product_uom_join_sql(SQL("sol.product_id")),
            purchase_product=self._product_uom_join_sql(SQL("pol.product_id")),
        )

    # ------------------------------------------------------------------
    # Dates: what customers are told, late promises, vendors' delays
    # ------------------------------------------------------------------
    @api.model
    def _vendor_delay_query(self, vendor_ids_query, today):
        """``(vendor_id, delay)``: for the vendors ``vendor_ids_query``
        selects, the median delay in days (``receipt_delay_days``) of their
        links received in the ``ETA_LEARN_DAYS`` days before ``today``;
        vendors with fewer than ``ETA_LEARN_MIN_RECEIPTS`` receipts are left
        out (nothing learned). A receipt is a purchase line received at one
        moment against one promised date: the parts a link is split into
        (delivered in part) count once, so do the backorders it served."""
        return SQL(
            """
            SELECT r.vendor_id,
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY r.delay)::float8 AS delay
              FROM (SELECT DISTINCT rl.vendor_id, rl.purchase_line_id,
                           rl.expected_date_linked, rl.date_received,
                           rl.receipt_delay_days AS delay
                      FROM backorder_po_link rl
                     WHERE rl.vendor_id IN (%(vendor_ids)s)
                       AND rl.date_received > %(since)s
                       AND rl.date_received <= %(today)s
                       AND rl.expected_date_linked IS NOT NULL) r
          GROUP BY r.vendor_id
            HAVING COUNT(*) >= %(min_receipts)s
            """,
            vendor_ids=vendor_ids_query,
            since=today - timedelta(days=ETA_LEARN_DAYS),
            today=today,
            min_receipts=ETA_LEARN_MIN_RECEIPTS,
        )

    @api.model
    def _customer_date_sql(self, expected, delay, learn):
        """The date customers are told for goods expected on ``expected``:
        that date, plus the vendor's learned ``delay`` in days (never less)
        when ``learn`` (the company's ``backorder_eta_learn``) holds.
        ``res.company._backorder_customer_date`` in Python."""
        return SQL(
            "(%(expected)s + CASE WHEN %(learn)s"
            " THEN GREATEST(COALESCE(%(delay)s, 0), 0) * INTERVAL '1 day'"
            " ELSE INTERVAL '0 days' END)",
            expected=expected,
            delay=delay,
            learn=learn,
        )

    @api.model
    def _line_customer_date_sql(self, sale_line_id, today):
        """The latest date the customer is told for what sales line
        ``sale_line_id`` (an SQL expression) awaits from its links, as an
        expression (the late list's graph groups by its week)."""
        return SQL(
            """(SELECT MAX(%(customer_date)s)
                  FROM backorder_po_link l
                  JOIN res_company c ON c.id = l.company_id
                 WHERE l.sale_line_id = %(line)s AND l.state = 'linked')""",
            customer_date=self._customer_date_sql(
                SQL("l.expected_date"),
                SQL(
                    "(SELECT vd.delay FROM (%s) vd(vendor_id, delay))",
                    self._vendor_delay_query(SQL("SELECT l.vendor_id"), today),
                ),
                SQL("c.backorder_eta_learn"),
            ),
            line=sale_line_id,
        )

    @api.model
    def _line_vendor_sql(self, sale_line_id):
        """The vendor of the latest expected link awaiting receipt of sales
        line ``sale_line_id`` (an SQL expression), as an expression (the late
        list groups by it)."""
        return SQL(
            """(SELECT l.vendor_id FROM backorder_po_link l
                 WHERE l.sale_line_id = %s AND l.state = 'linked'
              ORDER BY l.expected_date DESC NULLS LAST, l.id DESC LIMIT 1)""",
            sale_line_id,
        )

    @api.model
    def _late_sale_line_query(self, today, sale_line_ids=None, learn=True):
        """``(sale_line_id)``: the late promises among the sales lines of
        confirmed orders (those of ``sale_line_ids`` when given): a line
        still waiting on links (awaiting receipt) or on Odoo's own purchase
        for it (on order, dropship) whose customer-facing expected date
        falls on a later day than the order's commitment date, else than the
        date the customer was last told by email (kept on the link,
        ``date_told``; none for Odoo's own purchases). ``learn`` false: no
        company learns expected dates, no vendor delay is read."""
        ids = list(sale_line_ids) if sale_line_ids is not None else None
        return SQL(
            """
            WITH waiting AS (
                SELECT l.sale_line_id, l.expected_date AS expected,
                       l.vendor_id, l.company_id, l.date_told AS told
                  FROM backorder_po_link l
                 WHERE l.state = 'linked' %(link_filter)s
             UNION ALL
                SELECT own.sale_line_id, pol.date_planned, po.partner_id,
                       pol.company_id, NULL
                  FROM (%(own)s) own(sale_line_id, purchase_line_id)
                  JOIN purchase_order_line pol ON pol.id = own.purchase_line_id
                  JOIN purchase_order po ON po.id = pol.order_id
                 WHERE pol.qty_received < pol.product_qty
            ),
            delays AS (%(delays)s)
            SELECT DISTINCT w.sale_line_id
              FROM waiting w
              JOIN sale_order_line sol ON sol.id = w.sale_line_id
              JOIN sale_order so ON so.id = sol.order_id
              JOIN res_company c ON c.id = w.company_id
         LEFT JOIN delays d ON d.vendor_id = w.vendor_id
             WHERE so.state = 'sale'
               AND %(customer_date)s::date
                   > COALESCE(so.commitment_date, w.told)::date
            """,
            link_filter=SQL("AND l.sale_line_id = ANY(%s)", ids)
            if ids is not None
            else SQL(),
            own=self._own_purchase_query(
                sale_line_ids=SQL(
                    """SELECT osol.id FROM sale_order_line osol
                         JOIN sale_order oso ON oso.id = osol.order_id
                        WHERE oso.state = 'sale'
                          AND oso.commitment_date IS NOT NULL %s""",
                    SQL("AND osol.id = ANY(%s)", ids) if ids is not None else SQL(),
                )
            ),
            delays=self._vendor_delay_query(
                SQL("SELECT DISTINCT vendor_id FROM waiting"), today
            )
            if learn
            else SQL("SELECT NULL::int AS vendor_id, NULL::float8 AS delay"),
            customer_date=self._customer_date_sql(
                SQL("w.expected"), SQL("d.delay"), SQL("c.backorder_eta_learn")
            ),
        )
