# Copyright 2026 backorder_po_link contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""What a backorder is and what free supply is, each written once.

The allocator, Backorders to Purchase, the lines' fields, the manual link's
checks, the audit and the database guard compose these SQL pieces; none of
them spells the rules out again. Each piece takes the table aliases it
applies to, so that a caller can use it inside its own query.
"""

from odoo import api, models
from odoo.tools import SQL

# Moves that still have to happen (not done, not cancelled).
OPEN_MOVE_STATES = ("waiting", "confirmed", "partially_available", "assigned")

ORDERED_LEFT = SQL(
    "GREATEST(sol.product_uom_qty - sol.qty_delivered, 0)"
    " / line_uom.factor * prod_uom.factor"
)

PO_OPEN_QTY = SQL(
    "pol.product_uom_qty - CASE WHEN pol.product_qty > 0"
    " THEN pol.qty_received * pol.product_uom_qty / pol.product_qty ELSE 0 END"
)

# Quantities are compared and linked in multiples of the product's rounding;
# sums of such multiples may carry float noise below this.
ROUNDING_NOISE = 0.0000001


class BackorderRules(models.AbstractModel):
    _name = "backorder.rules"
    _description = "Backorder Link Rules"

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
    def _ordered_left_sql(self):
        """What sales line ``sol`` still has to deliver, in its product's unit
        (aliases ``sol``, ``line_uom``: its unit, ``prod_uom``: the
        product's)."""
        return ORDERED_LEFT

    @api.model
    def _po_open_qty_sql(self):
        """What purchase line ``pol`` still has to receive, in its product's
        unit."""
        return PO_OPEN_QTY

    # ------------------------------------------------------------------
    # Supply
    # ------------------------------------------------------------------
    @api.model
    def _purchase_spoken_for_sql(self, pol="pol"):
        """Condition: Odoo itself bought the goods of purchase line ``pol``
        for a given destination, so they are nobody else's to promise: a
        dropship (the vendor ships to the customer, the goods never enter a
        warehouse) or a purchase on order (a move that waits for exactly
        these goods: a delivery on Replenish on Order, a manufacturing order,
        another warehouse's resupply), until that move is cancelled. Before
        the order is confirmed Odoo keeps that move on the line
        (``move_dest_ids``), after it on the line's receipt."""
        return SQL(
            """(
                EXISTS (SELECT FROM purchase_order spo
                          JOIN stock_picking_type sspt
                            ON sspt.id = spo.picking_type_id
                         WHERE spo.id = %(pol)s.order_id AND sspt.code != 'incoming')
                OR EXISTS (SELECT FROM stock_move_created_purchase_line_rel dest
                             JOIN stock_move dm ON dm.id = dest.move_id
                            WHERE dest.created_purchase_line_id = %(pol)s.id
                              AND dm.state != 'cancel')
                OR EXISTS (
                    -- Confirmed, the line's receipt is chained (move_dest_ids)
                    -- to the moves it was bought for: through the steps of a
                    -- multi-step receipt or delivery to one that leaves the
                    -- warehouse (a customer, production, transit).
                    WITH RECURSIVE chain(id) AS (
                        SELECT rm.id FROM stock_move rm
                         WHERE rm.purchase_line_id = %(pol)s.id
                           AND rm.state != 'cancel'
                     UNION
                        SELECT rel.move_dest_id FROM chain
                          JOIN stock_move_move_rel rel ON rel.move_orig_id = chain.id
                    )
                    SELECT FROM chain
                      JOIN stock_move cm ON cm.id = chain.id
                      JOIN stock_location cl ON cl.id = cm.location_dest_id
                     WHERE cm.state != 'cancel'
                       AND cm.purchase_line_id IS NULL
                       AND cl.usage IN ('customer', 'production', 'transit'))
            )""",
            pol=SQL.identifier(pol),
        )

    @api.model
    def _supply_line_sql(self, pol="pol"):
        """Condition: purchase line ``pol`` is supply that backorders may be
        promised: its order is confirmed, its product active and storable,
        and Odoo did not buy it for a given destination."""
        return SQL(
            """(
                EXISTS (SELECT FROM purchase_order spo
                         WHERE spo.id = %(pol)s.order_id
                           AND spo.state IN ('purchase', 'done'))
                AND EXISTS (SELECT FROM product_product spp
                              JOIN product_template stpl
                                ON stpl.id = spp.product_tmpl_id
                             WHERE spp.id = %(pol)s.product_id
                               AND spp.active AND stpl.is_storable)
                AND %(pol)s.display_type IS NULL
                AND NOT %(spoken_for)s
            )""",
            pol=SQL.identifier(pol),
            spoken_for=self._purchase_spoken_for_sql(pol),
        )

    @api.model
    def _free_supply_query(self, line_filter):
        """``(purchase_line_id, free)``: the free supply of the purchase lines
        that ``line_filter`` (a condition on ``pol``) selects: what each still
        has to receive that no backorder awaits, for lines that are supply."""
        return SQL(
            """
            SELECT pol.id AS purchase_line_id,
                   (%(open_qty)s - COALESCE(pending.qty, 0))::float8 AS free
              FROM purchase_order_line pol
         LEFT JOIN LATERAL (
                    SELECT SUM(l.quantity) AS qty FROM backorder_po_link l
                     WHERE l.purchase_line_id = pol.id AND l.state = 'linked'
                   ) pending ON TRUE
             WHERE %(line_filter)s
               AND %(supply)s
               AND %(open_qty)s - COALESCE(pending.qty, 0) > 0
            """,
            open_qty=self._po_open_qty_sql(),
            line_filter=line_filter,
            supply=self._supply_line_sql(),
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
                " WHERE m.sale_line_id = ANY(%s) AND m.state != 'cancel'",
                list(sale_line_ids),
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
        multi-step delivery, the only one of a one-step one), still has to
        happen, and moves the line's own product. Moves of a kit's
        components (``mrp``'s phantom bills of materials) carry the kit's
        sales line but another product: their quantities are not kit units,
        so kit lines are never backorders to link."""
        return SQL(
            """(
                %(move)s.state IN %(states)s
                AND %(move)s.procure_method = 'make_to_stock'
                AND EXISTS (SELECT FROM stock_location msrc
                             WHERE msrc.id = %(move)s.location_id
                               AND msrc.usage = 'internal')
                AND EXISTS (SELECT FROM sale_order_line msol
                             WHERE msol.id = %(move)s.sale_line_id
                               AND msol.product_id = %(move)s.product_id)
            )""",
            move=SQL.identifier(move),
            states=OPEN_MOVE_STATES,
        )

    @api.model
    def _missing_qty_sql(self, move="m"):
        """What ``move`` still lacks in reservation, in the product's unit."""
        return SQL(
            "%(m)s.product_qty - CASE WHEN %(m)s.product_uom_qty > 0"
            " THEN %(m)s.quantity * %(m)s.product_qty / %(m)s.product_uom_qty"
            " ELSE 0 END",
            m=SQL.identifier(move),
        )

    @api.model
    def _sale_line_sql(self, sol="sol"):
        """Condition: sales line ``sol`` can be a backorder: its order is
        confirmed, it sells an active storable product."""
        return SQL(
            """(
                %(sol)s.display_type IS NULL
                AND EXISTS (SELECT FROM sale_order sso
                             WHERE sso.id = %(sol)s.order_id AND sso.state = 'sale')
                AND EXISTS (SELECT FROM product_product spp
                              JOIN product_template stpl
                                ON stpl.id = spp.product_tmpl_id
                             WHERE spp.id = %(sol)s.product_id
                               AND spp.active AND stpl.is_storable)
            )""",
            sol=SQL.identifier(sol),
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
    def _backorder_qty_query(self, sale_line_ids_query, product_ids=None):
        """``(sale_line_id, qty)``: the backorders among the sales lines that
        ``sale_line_ids_query`` selects, with what each still waits for from
        stock that no link covers, rounded down to the product's rounding:
        the one definition of a backorder. ``product_ids`` narrows the moves
        read (the planner then starts from those products' moves)."""
        return SQL(
            """
            WITH bo_missing AS (
                SELECT m.sale_line_id, SUM(%(missing_qty)s) AS qty
                  FROM stock_move m
                 WHERE m.sale_line_id IN (%(line_ids)s)
                   %(product_filter)s
                   AND %(stock_move)s
              GROUP BY m.sale_line_id
            )
            SELECT sol.id AS sale_line_id, bo.qty::float8 AS qty
              FROM bo_missing
              JOIN sale_order_line sol ON sol.id = bo_missing.sale_line_id
              JOIN uom_uom line_uom ON line_uom.id = sol.product_uom
              JOIN product_product pp ON pp.id = sol.product_id
              JOIN product_template pt ON pt.id = pp.product_tmpl_id
              JOIN uom_uom prod_uom ON prod_uom.id = pt.uom_id
         LEFT JOIN LATERAL (%(pending)s) pending ON TRUE
        CROSS JOIN LATERAL (SELECT %(rounded)s AS qty) bo
             WHERE %(sale_line)s
               AND bo.qty > prod_uom.rounding / 2
            """,
            missing_qty=self._missing_qty_sql(),
            line_ids=sale_line_ids_query,
            product_filter=SQL("AND m.product_id = ANY(%s)", product_ids)
            if product_ids is not None
            else SQL(),
            stock_move=self._stock_move_sql(),
            pending=self._pending_qty_query(SQL("l.sale_line_id = sol.id")),
            rounded=self._round_down_sql(
                self._backorder_need_sql(
                    SQL("bo_missing.qty"),
                    SQL("pending.qty"),
                    SQL("pending.active_qty"),
                ),
                SQL("prod_uom.rounding"),
            ),
            sale_line=self._sale_line_sql(),
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
