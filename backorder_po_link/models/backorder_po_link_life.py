# Copyright 2026 backorder_po_link contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The life of a link: it follows the goods.

Received (the goods reserved for the delivery), delivered, released when a
line can no longer hold it (cancelled, cut, unreserved, returned). Each change
is told to the reactions listed in :meth:`_reactions`: the chatter notes
(``backorder_link_note.py``) and the customer emails (``sale_order.py``).
This file also holds the one writer of the lines' stored linked quantities.
"""

from odoo import api, fields, models
from odoo.tools import SQL, float_compare

from .backorder_rules import OPEN_MOVE_STATES


class BackorderPoLink(models.Model):
    _inherit = "backorder.po.link"

    # ------------------------------------------------------------------
    # Reactions: the models that subscribe to the links' changes
    # ------------------------------------------------------------------
    @api.model
    def _reactions(self):
        """Models reacting to link changes, with any of the methods
        ``_on_links_created(links, event)``, ``_on_links_received(links)``
        and ``_on_links_released(released)``. Another addon subscribes by
        extending this list."""
        return ["backorder.link.note", "sale.order"]

    def _react(self, method, *args):
        for model in self._reactions():
            reaction = getattr(self.env[model], method, None)
            if reaction:
                reaction(*args)

    def _on_created(self, event):
        """These links were just made; ``event`` names the customer email
        they call for (``confirmed``, ``date_changed``)."""
        if self:
            self._react("_on_links_created", self, event)

    def _on_received(self):
        """The goods of these links were received and reserved."""
        if self:
            self._react("_on_links_received", self)

    @api.model
    def _on_released(self, released):
        """Links were cut or cancelled: ``released`` holds rows ``(link id,
        sale line id, purchase line id, quantity released)``."""
        self._react("_on_links_released", released)

    # ------------------------------------------------------------------
    # Receipt and delivery
    # ------------------------------------------------------------------
    def _split_off(self, quantity, state):
        """Move ``quantity`` of this link into a new link in ``state`` (or the
        whole link when it holds no more). Returns the link in ``state``."""
        self.ensure_one()
        rounding = self.product_uom_id.rounding or 0.01
        if float_compare(quantity, self.quantity, precision_rounding=rounding) >= 0:
            self.state = state
            return self
        self.quantity -= quantity
        return self.copy({"quantity": quantity, "state": state})

    def _mark_received(self, quantity):
        received = self._split_off(quantity, "received")
        received.date_received = fields.Datetime.now()
        # What the vendor's receipts taught is read again.
        self.env["res.partner"].invalidate_model(["backorder_vendor_delay_days"])
        self.invalidate_model(["customer_date"])
        received._on_received()
        return received

    def _mark_told(self):
        """The customer was just emailed the date of these links (those
        still awaiting receipt): remember it, the date a late promise is
        measured against when the order has no commitment date."""
        for link in self.filtered(lambda link: link.state == "linked"):
            link.date_told = link.customer_date
        self.flush_recordset(["date_told"])

    def _mark_done(self, quantity):
        """Links (oldest first) delivered in ``quantity``, partly for the last.

        The delivered goods already count in the sales line's delivered
        quantity: closed one at a time, the links still received would exceed
        what is left to deliver in between. So the totals are checked once,
        when all of them are closed (the commit-time guard checks them too)."""
        for link in self.with_context(backorder_link_closing=True):
            rounding = link.product_uom_id.rounding or 0.01
            if float_compare(quantity, 0, precision_rounding=rounding) <= 0:
                break
            take = min(link.quantity, quantity)
            link._split_off(take, "done")
            quantity -= take
        self._check_totals(self.sale_line_id, self.purchase_line_id)

    def _reserve_delivery(self, quantity, location):
        """Reserve up to ``quantity`` (product unit) at ``location`` for the
        outgoing moves of this link's sales line; returns what was reserved."""
        self.ensure_one()
        product = self.product_id
        rounding = product.uom_id.rounding
        moves = self.sale_line_id.move_ids.filtered(
            lambda m: (
                m.state in OPEN_MOVE_STATES
                and m.procure_method == "make_to_stock"
                and m.location_id.usage == "internal"
                and location.parent_path.startswith(m.location_id.parent_path)
            )
        )
        reserved = 0.0
        for move in moves.sorted("id"):
            want = quantity - reserved
            if float_compare(want, 0, precision_rounding=rounding) <= 0:
                break
            before = move.product_uom._compute_quantity(move.quantity, product.uom_id)
            want = min(want, move.product_qty - before)
            if float_compare(want, 0, precision_rounding=rounding) <= 0:
                continue
            # The caller reconciles the sales line once all is reserved.
            move._backorder_deferring()._action_assign(
                force_qty=product.uom_id._compute_quantity(want, move.product_uom)
            )
            # A forced reservation marks the move assigned even when it is
            # still short: let Odoo tell partially available from assigned.
            move._recompute_state()
            after = move.product_uom._compute_quantity(move.quantity, product.uom_id)
            reserved += after - before
        return reserved

    # ------------------------------------------------------------------
    # Release: links beyond what their lines hold
    # ------------------------------------------------------------------
    @api.model
    def _release_beyond(self, sale_lines, purchase_lines):
        """Shrink or cancel active links beyond what their lines still hold,
        newest first, and tell the reactions. Returns the ids of the sales
        lines that lost promises and of the purchase lines whose supply was
        freed."""
        released = []  # (link id, sale line id, purchase line id, quantity)
        if purchase_lines:
            released += self._release_rows(
                "purchase_line_id", self._purchase_capacity_query(purchase_lines)
            )
            # A PO that is no longer confirmed takes its received links along.
            released += self._cancel_received(
                SQL(
                    """
                    SELECT l.id FROM backorder_po_link l
                      JOIN purchase_order po ON po.id = l.purchase_order_id
                     WHERE l.purchase_line_id = ANY(%s) AND l.state = 'received'
                       AND po.state NOT IN ('purchase', 'done')
                    """,
                    purchase_lines.ids,
                )
            )
        if sale_lines:
            # Received links hold goods reserved for the delivery: beyond what
            # is still reserved (delivery unreserved, cancelled, cut short,
            # goods taken back), they go first, so that the links awaiting
            # receipt are then measured against what the delivery lacks.
            released += self._release_rows(
                "sale_line_id",
                self._received_capacity_query(sale_lines),
                state="received",
            )
            released += self._release_rows(
                "sale_line_id", self._awaiting_capacity_query(sale_lines)
            )
        if not released:
            return [], []
        sale_ids = {row[1] for row in released}
        purchase_ids = {row[2] for row in released}
        self._store_linked_qty(sale_ids, purchase_ids)
        self.invalidate_model()
        self._on_released(released)
        return sorted(sale_ids), sorted(purchase_ids)

    @api.model
    def _purchase_capacity_query(self, purchase_lines):
        """``(id, capacity)``: what the links awaiting receipt of these
        purchase lines may still hold: what they order less what was received
        for backorders; nothing once the order is no longer confirmed."""
        return SQL(
            """
            SELECT pol.id,
                   CASE WHEN po.state IN ('purchase', 'done') THEN
                       GREATEST(pol.product_uom_qty - COALESCE((
                           SELECT SUM(l.quantity) FROM backorder_po_link l
                            WHERE l.purchase_line_id = pol.id
                              AND l.state IN ('received', 'done')), 0), 0)
                   ELSE 0 END AS capacity
              FROM purchase_order_line pol
              JOIN purchase_order po ON po.id = pol.order_id
             WHERE pol.id = ANY(%s)
            """,
            purchase_lines.ids,
        )

    @api.model
    def _received_capacity_query(self, sale_lines):
        """``(id, capacity)``: what the received links of these sales lines
        may hold: the goods still reserved for their deliveries, at most what
        is left to deliver."""
        return self._sale_capacity_query(
            sale_lines,
            self.env["backorder.rules"]._reserved_qty_query,
            held=SQL("0"),
        )

    @api.model
    def _awaiting_capacity_query(self, sale_lines):
        """``(id, capacity)``: what the links awaiting receipt of these sales
        lines may hold: what their deliveries still lack, at most what is
        left to deliver less what the received links hold."""
        return self._sale_capacity_query(
            sale_lines,
            self.env["backorder.rules"]._missing_qty_query,
            held=SQL(
                """COALESCE((SELECT SUM(l.quantity) FROM backorder_po_link l
                              WHERE l.sale_line_id = sol.id
                                AND l.state = 'received'), 0)"""
            ),
        )

    @api.model
    def _sale_capacity_query(self, sale_lines, bound_query, held):
        """``(id, capacity)`` of these sales lines: what ``bound_query`` (a
        rule giving ``(sale_line_id, qty)``) allows, at most what is left to
        deliver less ``held``; nothing once the order is no longer
        confirmed."""
        rules = self.env["backorder.rules"]
        return SQL(
            """
            SELECT sol.id,
                   CASE WHEN so.state = 'sale' THEN GREATEST(LEAST(
                       COALESCE(bound.qty, 0), %(ordered_left)s - %(held)s
                   ), 0) ELSE 0 END AS capacity
              FROM sale_order_line sol
              JOIN sale_order so ON so.id = sol.order_id
              %(units)s
         LEFT JOIN (%(bound)s) bound ON bound.sale_line_id = sol.id
             WHERE sol.id = ANY(%(ids)s)
            """,
            ids=sale_lines.ids,
            units=rules._sale_line_uom_join_sql(),
            ordered_left=rules._ordered_left_sql(),
            held=held,
            bound=bound_query(SQL("SELECT unnest(%s::int[])", sale_lines.ids)),
        )

    @api.model
    def _release_rows(self, side_column, capacity_query, state="linked"):
        """Cut the links in ``state`` of each line (``side_column``) down to
        the line's capacity, keeping the oldest links whole. One statement."""
        return self.env.execute_query(
            SQL(
                """
                WITH cap AS (%(capacity)s),
                ranked AS (
                    SELECT l.id, l.quantity, cap.capacity,
                           COALESCE(SUM(l.quantity) OVER (
                               PARTITION BY l.%(side)s ORDER BY l.date_linked, l.id
                               ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
                           ), 0) AS before
                      FROM backorder_po_link l
                      JOIN cap ON cap.id = l.%(side)s
                     WHERE l.state = %(state)s
                ),
                cut AS (
                    SELECT id, quantity,
                           LEAST(quantity, GREATEST(capacity - before, 0)) AS keep
                      FROM ranked
                )
                UPDATE backorder_po_link l
                   SET quantity = CASE WHEN cut.keep > %(eps)s
                                       THEN ROUND(cut.keep::numeric, 6)
                                       ELSE l.quantity END,
                       state = CASE WHEN cut.keep > %(eps)s
                                    THEN %(state)s ELSE 'cancel' END,
                       write_date = now() AT TIME ZONE 'UTC',
                       write_uid = %(uid)s
                  FROM cut
                 WHERE cut.id = l.id AND cut.keep < cut.quantity - %(eps)s
             RETURNING l.id, l.sale_line_id, l.purchase_line_id,
                       CASE WHEN cut.keep > %(eps)s
                            THEN cut.quantity - cut.keep ELSE cut.quantity END
                """,
                capacity=capacity_query,
                side=SQL.identifier(side_column),
                state=state,
                eps=0.000001,
                uid=self.env.uid,
            )
        )

    @api.model
    def _give_up(self, quantities):
        """Take ``quantities`` (``{link id: quantity}``) back from links
        awaiting receipt, for a higher-priority order: each link is cut by
        its quantity, or cancelled when none is left; the reactions are
        told. One statement."""
        released = self.env.execute_query(
            SQL(
                """
                UPDATE backorder_po_link l
                   SET quantity = CASE WHEN l.quantity - t.qty > %(eps)s
                                       THEN ROUND((l.quantity - t.qty)::numeric, 6)
                                       ELSE l.quantity END,
                       state = CASE WHEN l.quantity - t.qty > %(eps)s
                                    THEN l.state ELSE 'cancel' END,
                       write_date = now() AT TIME ZONE 'UTC',
                       write_uid = %(uid)s
                  FROM unnest(%(ids)s::int[], %(qtys)s::float8[]) AS t(id, qty)
                 WHERE l.id = t.id AND l.state = 'linked'
             RETURNING l.id, l.sale_line_id, l.purchase_line_id,
                       CASE WHEN l.state = 'cancel' THEN l.quantity ELSE t.qty END
                """,
                ids=list(quantities),
                qtys=list(quantities.values()),
                eps=0.000001,
                uid=self.env.uid,
            )
        )
        if released:
            self._store_linked_qty(
                {row[1] for row in released}, {row[2] for row in released}
            )
            self.invalidate_model()
            self._on_released(released)
        return released

    @api.model
    def _cancel_received(self, link_ids_query):
        return self.env.execute_query(
            SQL(
                """
                UPDATE backorder_po_link l
                   SET state = 'cancel', write_date = now() AT TIME ZONE 'UTC',
                       write_uid = %(uid)s
                 WHERE l.id IN (%(ids)s)
             RETURNING l.id, l.sale_line_id, l.purchase_line_id, l.quantity
                """,
                ids=link_ids_query,
                uid=self.env.uid,
            )
        )

    # ------------------------------------------------------------------
    # Stored totals
    # ------------------------------------------------------------------
    @api.model
    def _store_linked_qty(self, sale_line_ids, purchase_line_ids):
        """Store the active linked quantity of both sides, in SQL: the one
        writer of ``backorder_linked_qty`` on sales and purchase lines.

        Besides keeping the stored fields right, the ``UPDATE`` takes the row
        lock of every line that was promised something: the conflict a
        concurrent allocation of the same lines runs into.
        """
        updates = [
            self._linked_qty_update_sql(table, column, sorted(ids))
            for table, column, ids in (
                ("purchase_order_line", "purchase_line_id", purchase_line_ids),
                ("sale_order_line", "sale_line_id", sale_line_ids),
            )
            if ids
        ]
        if len(updates) == 2:
            # One statement: the purchase lines' update, then (PostgreSQL runs
            # a data-modifying WITH after the main statement) the sales
            # lines', the order the guard locks them in.
            updates = [SQL("WITH sale_lines AS (%s) %s", updates[1], updates[0])]
        for update in updates:
            self.env.cr.execute(update)
        self.env["sale.order.line"].invalidate_model(
            ["backorder_linked_qty", "backorder_link_ids"]
        )
        self.env["purchase.order.line"].invalidate_model(
            ["backorder_linked_qty", "backorder_link_ids"]
        )

    @api.model
    def _linked_qty_update_sql(self, table, column, ids):
        """The ``UPDATE`` storing the active linked quantity of lines ``ids``
        of ``table`` (their links' ``column``), where it changed."""
        return SQL(
            """
            UPDATE %(table)s t
               SET backorder_linked_qty = COALESCE(agg.qty, 0)
              FROM unnest(%(ids)s::int[]) AS u(id)
         LEFT JOIN (SELECT l.%(column)s AS line_id, SUM(l.quantity) AS qty
                      FROM backorder_po_link l
                     WHERE l.%(column)s = ANY(%(ids)s)
                       AND l.state IN ('linked', 'received')
                  GROUP BY l.%(column)s) agg ON agg.line_id = u.id
             WHERE t.id = u.id
               AND t.backorder_linked_qty IS DISTINCT FROM COALESCE(agg.qty, 0)
            """,
            table=SQL.identifier(table),
            column=SQL.identifier(column),
            ids=ids,
        )
