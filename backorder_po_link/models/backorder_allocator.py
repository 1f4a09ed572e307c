# Copyright 2026 backorder_po_link contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The one place that decides which sales lines are promised which supply.

PO confirmation, sales confirmation, the batch run and re-linking after a change
all call :meth:`BackorderAllocator._allocate`. It

1. takes a transaction-level advisory lock per product, in product order, so two
   allocations of the same product never run side by side (and cannot deadlock);
2. reads the eligible demand and the free supply in two set-based queries, whatever
   the number of candidates;
3. matches them oldest demand first, earliest supply first, in memory;
4. writes all links with one ``INSERT`` and bumps the stored linked quantities of
   both sides with one ``UPDATE`` each. Those updates touch the very rows a
   concurrent allocation would touch, so under Odoo's REPEATABLE READ cursors a
   transaction that read stale figures fails with a serialization error and is
   retried by Odoo instead of promising the same goods twice.
"""

import collections
from dataclasses import dataclass, field

from markupsafe import Markup, escape

from odoo import api, fields, models
from odoo.tools import SQL, float_compare, float_round

# Class id of our advisory locks (pg_advisory_xact_lock(int, int)); the second
# key is the product id.
ADVISORY_LOCK_CLASS = 74_210_318

OPEN_MOVE_STATES = ("waiting", "confirmed", "partially_available", "assigned")


@dataclass
class Demand:
    """A backordered sales line competing for supply."""

    id: int
    product_id: int
    company_id: int
    warehouse_id: int
    order_id: int
    need: float
    rounding: float
    deposit_ok: bool = True
    days_ok: bool = True
    allowed_warehouse_ids: frozenset = field(default_factory=frozenset)
    same_warehouse_only: bool = False

    @property
    def eligible(self):
        return self.deposit_ok and self.days_ok

    def accepts(self, warehouse_id):
        """Whether supply delivered to ``warehouse_id`` may serve this line:
        the sales warehouse's allowed sources when it has some, else its own
        warehouse when the company says so, else any warehouse."""
        if self.allowed_warehouse_ids:
            return warehouse_id in self.allowed_warehouse_ids
        if self.same_warehouse_only:
            return warehouse_id == self.warehouse_id
        return True


@dataclass
class Supply:
    """Free quantity of a confirmed purchase order line."""

    id: int
    product_id: int
    company_id: int
    warehouse_id: int
    order_id: int
    free: float


class BackorderAllocator(models.AbstractModel):
    _name = "backorder.allocator"
    _description = "Backorder Link Allocator"

    # ------------------------------------------------------------------
    # Entry point
    # ------------------------------------------------------------------
    @api.model
    def _allocate(
        self,
        origin,
        sale_lines=None,
        purchase_lines=None,
        products=None,
        companies=None,
        full_coverage_only=False,
    ):
        """Link free supply to eligible backorders and return the new links.

        :param origin: value of the links' ``origin`` field
        :param sale_lines: restrict the demand to these sales lines
        :param purchase_lines: restrict the supply to these purchase lines
        :param products: restrict both sides to these products (default: the
            products of the given lines; all products when no line is given)
        :param companies: restrict to these companies (default: the lines' ones)
        :param full_coverage_only: a sales line is linked only if its whole
            backordered quantity can be covered (sales confirmation rule)
        """
        plan = self._plan(
            sale_lines=sale_lines,
            purchase_lines=purchase_lines,
            products=products,
            companies=companies,
            full_coverage_only=full_coverage_only,
        )
        return self._write_links(plan, origin)

    @api.model
    def _plan(
        self,
        sale_lines=None,
        purchase_lines=None,
        products=None,
        companies=None,
        full_coverage_only=False,
    ):
        """Return ``(pairs, demands)`` without writing anything: ``pairs`` is a
        list of ``(sale_line_id, purchase_line_id, quantity)``."""
        self.env.flush_all()
        scope = self._get_scope(sale_lines, purchase_lines, products, companies)
        if not scope["product_ids"] or not scope["company_ids"]:
            return [], []
        self._lock_products(scope["product_ids"])
        demands = self._fetch_demand(scope)
        supplies = self._fetch_supply(scope)
        pairs = self._match(demands, supplies, full_coverage_only)
        return pairs, demands

    # ------------------------------------------------------------------
    # Scope and locks
    # ------------------------------------------------------------------
    @api.model
    def _get_scope(self, sale_lines, purchase_lines, products, companies):
        sale_lines = sale_lines or self.env["sale.order.line"]
        purchase_lines = purchase_lines or self.env["purchase.order.line"]
        if products is None:
            products = sale_lines.product_id | purchase_lines.product_id
            if not sale_lines and not purchase_lines:
                products = None
        if companies is None:
            companies = sale_lines.company_id | purchase_lines.company_id
            if not companies:
                companies = self.env["res.company"].sudo().search([])
        if products is None:
            product_ids = self._all_backordered_product_ids(companies.ids)
        else:
            product_ids = products.filtered("is_storable").ids
        return {
            "product_ids": sorted(product_ids),
            "company_ids": companies.ids,
            "sale_line_ids": sale_lines.ids if sale_lines else None,
            "purchase_line_ids": purchase_lines.ids if purchase_lines else None,
        }

    @api.model
    def _all_backordered_product_ids(self, company_ids):
        """Products with at least one confirmed purchase line (open supply)."""
        rows = self.env.execute_query(
            SQL(
                """
                SELECT DISTINCT pol.product_id
                  FROM purchase_order_line pol
                  JOIN purchase_order po ON po.id = pol.order_id
                 WHERE po.state IN ('purchase', 'done')
                   AND po.allow_backorder_link
                   AND pol.company_id = ANY(%(company_ids)s)
                   AND pol.product_id IS NOT NULL
                   AND pol.qty_received < pol.product_qty
                """,
                company_ids=company_ids,
            )
        )
        return [r[0] for r in rows]

    @api.model
    def _lock_products(self, product_ids):
        """Serialize allocations per product, always in ascending product order
        so that two allocations over overlapping products cannot deadlock."""
        self.env.cr.execute(
            SQL(
                """
                SELECT pg_advisory_xact_lock(%(cls)s, p)
                  FROM unnest(%(product_ids)s::int[]) AS p
              ORDER BY p
                """,
                cls=ADVISORY_LOCK_CLASS,
                product_ids=product_ids,
            )
        )

    # ------------------------------------------------------------------
    # Demand and supply, each in one query
    # ------------------------------------------------------------------
    @api.model
    def _demand_query(self, scope):
        """Backordered sales lines of the scope, oldest first, with the
        figures the rules need. One row per sales line with a positive
        backordered quantity not yet linked."""
        line_filter = SQL()
        if scope["sale_line_ids"] is not None:
            line_filter = SQL("AND sol.id = ANY(%s)", scope["sale_line_ids"])
        return SQL(
            """
            WITH lines AS (
                SELECT sol.id, sol.product_id, sol.company_id, so.warehouse_id,
                       so.id AS order_id, so.date_order, sol.sequence,
                       so.amount_total,
                       COALESCE(so.commitment_date,
                                so.date_order + sol.customer_lead * INTERVAL '1 day')
                           AS scheduled_date,
                       COALESCE(c.backorder_min_deposit_percent, 0) AS min_deposit,
                       COALESCE(c.backorder_max_days_out, 0) AS max_days,
                       COALESCE(c.backorder_same_warehouse_only, FALSE) AS same_wh,
                       uom.rounding
                  FROM sale_order_line sol
                  JOIN sale_order so ON so.id = sol.order_id
                  JOIN res_company c ON c.id = sol.company_id
                  JOIN product_product pp ON pp.id = sol.product_id
                  JOIN product_template pt ON pt.id = pp.product_tmpl_id
                  JOIN uom_uom uom ON uom.id = pt.uom_id
                 WHERE so.state = 'sale'
                   AND pt.is_storable
                   AND sol.display_type IS NULL
                   AND sol.product_id = ANY(%(product_ids)s)
                   AND sol.company_id = ANY(%(company_ids)s)
                   %(line_filter)s
            ),
            missing AS (
                SELECT m.sale_line_id,
                       SUM(m.product_qty - CASE WHEN m.product_uom_qty > 0
                            THEN m.quantity * m.product_qty / m.product_uom_qty
                            ELSE 0 END) AS qty
                  FROM stock_move m
                  JOIN lines ON lines.id = m.sale_line_id
                  JOIN stock_location src ON src.id = m.location_id
                 WHERE m.state IN %(move_states)s
                   AND m.procure_method = 'make_to_stock'
                   AND src.usage = 'internal'
              GROUP BY m.sale_line_id
            ),
            pending AS (
                SELECT l.sale_line_id, SUM(l.quantity) AS qty
                  FROM backorder_po_link l
                  JOIN lines ON lines.id = l.sale_line_id
                 WHERE l.state = 'linked'
              GROUP BY l.sale_line_id
            ),
            paid AS (
                SELECT x.order_id, SUM(x.amount) AS amount
                  FROM (
                    SELECT rel.sale_order_id AS order_id, tx.amount
                      FROM sale_order_transaction_rel rel
                      JOIN payment_transaction tx ON tx.id = rel.transaction_id
                     WHERE tx.state IN ('authorized', 'done')
                       AND rel.sale_order_id IN (
                           SELECT order_id FROM lines WHERE min_deposit > 0)
                    UNION ALL
                    SELECT dp.order_id, aml.price_total
                      FROM sale_order_line dp
                      JOIN sale_order_line_invoice_rel r ON r.order_line_id = dp.id
                      JOIN account_move_line aml ON aml.id = r.invoice_line_id
                      JOIN account_move am ON am.id = aml.move_id
                     WHERE dp.is_downpayment
                       AND am.state = 'posted'
                       AND am.move_type = 'out_invoice'
                       AND am.payment_state IN ('paid', 'in_payment')
                       AND dp.order_id IN (
                           SELECT order_id FROM lines WHERE min_deposit > 0)
                  ) x
              GROUP BY x.order_id
            )
            SELECT lines.id, lines.product_id, lines.company_id, lines.warehouse_id,
                   lines.order_id,
                   missing.qty - COALESCE(pending.qty, 0) AS need,
                   lines.rounding,
                   (lines.min_deposit <= 0
                    OR COALESCE(paid.amount, 0) * 100
                       >= lines.min_deposit * lines.amount_total) AS deposit_ok,
                   (lines.max_days <= 0
                    OR lines.scheduled_date::date
                       <= %(today)s::date + lines.max_days) AS days_ok,
                   lines.same_wh,
                   ARRAY(SELECT rel.source_warehouse_id
                           FROM backorder_warehouse_source_rel rel
                          WHERE rel.warehouse_id = lines.warehouse_id) AS allowed_wh
              FROM lines
              JOIN missing ON missing.sale_line_id = lines.id
         LEFT JOIN pending ON pending.sale_line_id = lines.id
         LEFT JOIN paid ON paid.order_id = lines.order_id
             WHERE missing.qty - COALESCE(pending.qty, 0) > 0
          ORDER BY lines.date_order, lines.order_id, lines.sequence, lines.id
            """,
            product_ids=scope["product_ids"],
            company_ids=scope["company_ids"],
            line_filter=line_filter,
            move_states=OPEN_MOVE_STATES,
            today=fields.Date.context_today(self),
        )

    @api.model
    def _fetch_demand(self, scope):
        demands = []
        for row in self.env.execute_query(self._demand_query(scope)):
            (lid, pid, cid, wid, oid, need, rounding) = row[:7]
            deposit_ok, days_ok, same_wh, allowed = row[7:]
            need = float_round(need, precision_rounding=rounding, rounding_method="DOWN")
            if need <= 0:
                continue
            demands.append(
                Demand(
                    id=lid,
                    product_id=pid,
                    company_id=cid,
                    warehouse_id=wid,
                    order_id=oid,
                    need=need,
                    rounding=rounding,
                    deposit_ok=deposit_ok,
                    days_ok=days_ok,
                    same_warehouse_only=same_wh,
                    allowed_warehouse_ids=frozenset(allowed),
                )
            )
        return demands

    @api.model
    def _get_unlinked_backorder_qty(self, sale_lines):
        """``{sale_line_id: quantity}`` still backordered and not linked, in
        the product's unit, for lines with such a quantity. Same query as the
        allocation reads, without its locks."""
        if not sale_lines:
            return {}
        self.env.flush_all()
        scope = {
            "product_ids": sale_lines.product_id.ids,
            "company_ids": sale_lines.company_id.ids,
            "sale_line_ids": sale_lines.ids,
        }
        return {demand.id: demand.need for demand in self._fetch_demand(scope)}

    @api.model
    def _supply_query(self, scope):
        """Free supply of confirmed purchase lines of the scope, earliest
        expected arrival first, then oldest purchase order."""
        line_filter = SQL()
        if scope["purchase_line_ids"] is not None:
            line_filter = SQL("AND pol.id = ANY(%s)", scope["purchase_line_ids"])
        return SQL(
            """
            WITH supply AS (
                SELECT pol.id, pol.product_id, pol.company_id,
                       spt.warehouse_id, po.id AS order_id, pol.date_planned,
                       po.date_order, pol.sequence,
                       pol.product_uom_qty - CASE WHEN pol.product_qty > 0
                           THEN pol.qty_received * pol.product_uom_qty / pol.product_qty
                           ELSE 0 END AS open_qty
                  FROM purchase_order_line pol
                  JOIN purchase_order po ON po.id = pol.order_id
                  JOIN product_product pp ON pp.id = pol.product_id
                  JOIN product_template pt ON pt.id = pp.product_tmpl_id
             LEFT JOIN stock_picking_type spt ON spt.id = po.picking_type_id
                 WHERE po.state IN ('purchase', 'done')
                   AND po.allow_backorder_link
                   AND pt.is_storable
                   AND pol.display_type IS NULL
                   AND pol.product_id = ANY(%(product_ids)s)
                   AND pol.company_id = ANY(%(company_ids)s)
                   %(line_filter)s
            ),
            pending AS (
                SELECT l.purchase_line_id, SUM(l.quantity) AS qty
                  FROM backorder_po_link l
                  JOIN supply ON supply.id = l.purchase_line_id
                 WHERE l.state = 'linked'
              GROUP BY l.purchase_line_id
            )
            SELECT supply.id, supply.product_id, supply.company_id,
                   supply.warehouse_id, supply.order_id,
                   supply.open_qty - COALESCE(pending.qty, 0) AS free
              FROM supply
         LEFT JOIN pending ON pending.purchase_line_id = supply.id
             WHERE supply.open_qty - COALESCE(pending.qty, 0) > 0
          ORDER BY supply.date_planned, supply.date_order, supply.order_id,
                   supply.sequence, supply.id
            """,
            product_ids=scope["product_ids"],
            company_ids=scope["company_ids"],
            line_filter=line_filter,
        )

    @api.model
    def _fetch_supply(self, scope):
        return [Supply(*row) for row in self.env.execute_query(self._supply_query(scope))]

    # ------------------------------------------------------------------
    # Matching
    # ------------------------------------------------------------------
    @api.model
    def _match(self, demands, supplies, full_coverage_only=False):
        """Oldest demand first takes the earliest compatible supply.

        Supply of one product and company is kept per destination warehouse in
        arrival order; a demand looks only at the warehouses it accepts, so the
        work is linear in demand and supply when no warehouse rule applies.
        """
        queues = collections.defaultdict(lambda: collections.defaultdict(list))
        for rank, supply in enumerate(supplies):
            key = (supply.product_id, supply.company_id)
            queues[key][supply.warehouse_id].append([rank, supply])
        heads = collections.defaultdict(int)  # (key, warehouse) -> index
        pairs = []
        for demand in demands:
            if not demand.eligible:
                continue
            key = (demand.product_id, demand.company_id)
            by_wh = queues.get(key)
            if not by_wh:
                continue
            candidates = []
            for wh, queue in by_wh.items():
                if not demand.accepts(wh):
                    continue
                start = heads[(key, wh)]
                candidates.extend(queue[start:])
            candidates.sort(key=lambda item: item[0])
            rounding = demand.rounding
            if full_coverage_only:
                available = sum(s.free for _rank, s in candidates)
                if float_compare(available, demand.need, precision_rounding=rounding) < 0:
                    continue
            need = demand.need
            for _rank, supply in candidates:
                if float_compare(need, 0, precision_rounding=rounding) <= 0:
                    break
                qty = float_round(
                    min(need, supply.free),
                    precision_rounding=rounding,
                    rounding_method="DOWN",
                )
                if qty <= 0:
                    continue
                pairs.append((demand.id, supply.id, qty))
                need -= qty
                supply.free -= qty
            # Advance the heads past exhausted supply.
            for wh, queue in by_wh.items():
                idx = heads[(key, wh)]
                while idx < len(queue) and float_compare(
                    queue[idx][1].free, 0, precision_rounding=rounding
                ) <= 0:
                    idx += 1
                heads[(key, wh)] = idx
        return pairs

    # ------------------------------------------------------------------
    # Writing
    # ------------------------------------------------------------------
    @api.model
    def _write_links(self, plan, origin):
        pairs, _demands = plan
        Link = self.env["backorder.po.link"]
        if not pairs:
            return Link
        sale_ids, po_line_ids, quantities = (list(col) for col in zip(*pairs))
        now = fields.Datetime.now()
        uid = self.env.uid
        rows = self.env.execute_query(
            SQL(
                """
                INSERT INTO backorder_po_link (
                    sale_line_id, purchase_line_id, quantity, state, origin,
                    date_linked, sale_order_id, purchase_order_id, product_id,
                    partner_id, vendor_id, company_id, expected_date,
                    create_uid, create_date, write_uid, write_date)
                SELECT p.sale_line_id, p.purchase_line_id, p.quantity, 'linked',
                       %(origin)s, %(now)s, sol.order_id, pol.order_id,
                       sol.product_id, so.partner_id, po.partner_id,
                       sol.company_id, pol.date_planned,
                       %(uid)s, %(now)s, %(uid)s, %(now)s
                  FROM unnest(%(sale_ids)s::int[], %(po_line_ids)s::int[],
                              %(quantities)s::numeric[])
                       AS p(sale_line_id, purchase_line_id, quantity)
                  JOIN sale_order_line sol ON sol.id = p.sale_line_id
                  JOIN sale_order so ON so.id = sol.order_id
                  JOIN purchase_order_line pol ON pol.id = p.purchase_line_id
                  JOIN purchase_order po ON po.id = pol.order_id
             RETURNING id
                """,
                origin=origin,
                now=now,
                uid=uid,
                sale_ids=sale_ids,
                po_line_ids=po_line_ids,
                quantities=quantities,
            )
        )
        links = Link.browse([r[0] for r in rows])
        self._refresh_linked_qty(set(sale_ids), set(po_line_ids))
        Link.invalidate_model()
        self._post_link_messages(links)
        return links

    @api.model
    def _refresh_linked_qty(self, sale_line_ids, purchase_line_ids):
        """Store the active linked quantity of both sides, in SQL.

        Besides keeping the stored fields right, the ``UPDATE`` takes the row
        lock of every line that was promised something: the conflict a
        concurrent allocation of the same lines runs into.
        """
        for table, column, ids in (
            ("sale_order_line", "sale_line_id", sorted(sale_line_ids)),
            ("purchase_order_line", "purchase_line_id", sorted(purchase_line_ids)),
        ):
            if not ids:
                continue
            self.env.cr.execute(
                SQL(
                    """
                    UPDATE %(table)s t
                       SET backorder_linked_qty = COALESCE((
                           SELECT SUM(l.quantity) FROM backorder_po_link l
                            WHERE l.%(column)s = t.id
                              AND l.state IN ('linked', 'received')), 0)
                     WHERE t.id = ANY(%(ids)s)
                    """,
                    table=SQL.identifier(table),
                    column=SQL.identifier(column),
                    ids=ids,
                )
            )
        self.env["sale.order.line"].invalidate_model(
            ["backorder_linked_qty", "backorder_link_ids"]
        )
        self.env["purchase.order.line"].invalidate_model(
            ["backorder_linked_qty", "backorder_link_ids"]
        )

    # ------------------------------------------------------------------
    # Messages
    # ------------------------------------------------------------------
    @api.model
    def _post_link_messages(self, links):
        """One chatter note per order and run, listing what was linked."""
        if not links:
            return
        links = links.sudo()
        for model, order_field, other_field in (
            ("sale.order", "sale_order_id", "purchase_order_id"),
            ("purchase.order", "purchase_order_id", "sale_order_id"),
        ):
            by_order = links.grouped(order_field)
            orders = self.env[model].browse([o.id for o in by_order])
            bodies = {}
            for order, order_links in by_order.items():
                items = Markup("").join(
                    Markup("<li>%s</li>")
                    % self.env._(
                        "%(qty)s %(uom)s %(product)s → %(other)s (expected %(date)s)",
                        qty=link.quantity,
                        uom=link.product_uom_id.name,
                        product=link.product_id.display_name,
                        other=link[other_field].name,
                        date=fields.Date.to_string(link.expected_date) or "?",
                    )
                    for link in order_links
                )
                bodies[order.id] = Markup("<p>%s</p><ul>%s</ul>") % (
                    escape(self.env._("Backorder links created:")),
                    items,
                )
            orders._message_log_batch(bodies=bodies)
