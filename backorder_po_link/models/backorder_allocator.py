# Copyright 2026 backorder_po_link contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The engine: the one place that decides which sales lines are promised
which supply.

PO confirmation, sales confirmation, the batch run and re-linking after a change
all call :meth:`BackorderAllocator._allocate` (re-linking through
:meth:`BackorderAllocator._reconcile`). It

1. takes a transaction-level advisory lock per product, in product order, so two
   allocations of the same product never run side by side (and cannot deadlock),
   and bumps the product's clock row, so that one whose snapshot predates the
   other's commit fails with a serialization error and is retried;
2. reads the eligible demand and the free supply in set-based queries composed
   of the rules of ``backorder.rules``, a fixed number whatever the number of
   candidates; when given purchase lines look for demand and no rule applies,
   a recursive query walks each product's backorders oldest first and stops
   once they take the free supply;
3. matches them oldest demand first, earliest supply first, in memory;
4. writes all links with one ``INSERT`` and has ``backorder.po.link`` store the
   linked quantities of both sides, whose ``UPDATE`` touches the very rows a
   concurrent allocation would touch: under Odoo's REPEATABLE READ cursors a
   transaction that read stale figures fails with a serialization error and is
   retried by Odoo instead of promising the same goods twice;
5. hands the new links to their reactions (``backorder.po.link._on_created``):
   notes, customer emails. The engine never calls up into the orders.
"""

import collections
import math
from dataclasses import dataclass, field

from odoo import api, fields, models
from odoo.tools import SQL

# Class id of our advisory locks (pg_advisory_xact_lock(int, int)); the second
# key is the product id.
ADVISORY_LOCK_CLASS = 74_210_318

# Links written in one run beyond which the table is analyzed at once.
ANALYZE_AFTER = 1000


def _round_down(value, rounding):
    """float_round(value, rounding, 'DOWN') for the hot loop: quantities are
    sums of multiples of the rounding, so a tolerance of 1e-7 units is safe."""
    return round(math.floor(value / rounding + 1e-7) * rounding, 10)


@dataclass
class Demand:
    """A backordered sales line competing for supply."""

    id: int
    product_id: int
    company_id: int
    warehouse_id: int
    need: float
    rounding: float
    deposit_ok: bool = True
    days_ok: bool = True
    allowed_warehouse_ids: frozenset = field(default_factory=frozenset)
    same_warehouse_only: bool = False
    planned: float = 0.0

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
    free: float


class BackorderAllocator(models.AbstractModel):
    _name = "backorder.allocator"
    _description = "Backorder Link Allocator"

    # ------------------------------------------------------------------
    # Entry points
    # ------------------------------------------------------------------
    @api.model
    def _allocate(self, origin, event="confirmed", **scope):
        """Link free supply to eligible backorders and return the new links.

        :param origin: value of the links' ``origin`` field
        :param event: the customer email the new links call for
        :param scope: what :meth:`_plan` takes: ``sale_lines``,
            ``purchase_lines``, ``products``, ``companies`` restrict the
            demand and the supply; ``full_coverage_only`` links a sales line
            only if its whole backordered quantity can be covered (sales
            confirmation rule); ``locked``: the caller holds the products'
            locks already
        """
        links = self._write_links(self._plan(**scope), origin)
        links._on_created(event)
        return links

    @api.model
    def _run_batch(self, companies=None, products=None):
        """All free supply against all eligible backorders (the scheduled
        action and the manual "Auto-Link Backorders" run), in the companies
        that link backorders; ``products`` restricts it (a queue job's chunk)."""
        companies = self._batch_companies(companies)
        if not companies:
            return self.env["backorder.po.link"]
        return self._allocate("batch", products=products, companies=companies)

    @api.model
    def _cron_auto_link(self):
        self._run_batch()

    @api.model
    def _batch_companies(self, companies=None):
        """The companies a batch run links: those of ``companies`` (default:
        all) that link backorders (``res.company._backorder_linking_companies``)."""
        if companies is None:
            companies = self.env["res.company"].sudo().search([])
        return companies.sudo()._backorder_linking_companies()

    @api.model
    def _reconcile(self, sale_lines=None, purchase_lines=None, supply_lines=None):
        """After a change on either side, release what a line can no longer
        hold (``backorder.po.link._release_beyond``, newest links first), then
        link the released backorders and the freed supply again by the same
        rules, in the same transaction, under one lock per product.

        :param supply_lines: purchase lines whose quantity to receive grew
            (goods returned to the vendor, who sends them again): their free
            quantity is linked too, after the released backorders."""
        sale_lines = (sale_lines or self.env["sale.order.line"]).exists()
        purchase_lines = (purchase_lines or self.env["purchase.order.line"]).exists()
        supply_lines = (supply_lines or self.env["purchase.order.line"]).exists()
        if not sale_lines and not purchase_lines and not supply_lines:
            return
        self.env.flush_all()
        products = sale_lines.product_id | purchase_lines.product_id
        self._lock_products((products | supply_lines.product_id).ids)
        released_sale_ids, freed_purchase_ids = self.env[
            "backorder.po.link"
        ]._release_beyond(sale_lines, purchase_lines)
        self._relink(
            self.env["sale.order.line"].browse(released_sale_ids),
            self.env["purchase.order.line"].browse(freed_purchase_ids) | supply_lines,
        )

    @api.model
    def _relink(self, sale_lines, purchase_lines):
        """Link the released backorders first (they keep their turn), then the
        freed supply, where the company re-links; the caller holds the
        locks."""
        sale_lines = sale_lines.filtered(
            lambda line: (
                line.order_id.state == "sale"
                and line.company_id._backorder_relink_enabled()
            )
        )
        if sale_lines:
            # Moved to another (later) purchase: the customer hears the new date.
            self._allocate(
                "batch", sale_lines=sale_lines, event="date_changed", locked=True
            )
        purchase_lines = purchase_lines.filtered(
            lambda line: (
                line.order_id.state in ("purchase", "done")
                and line.order_id.allow_backorder_link
                and line.company_id._backorder_relink_enabled()
            )
        )
        if purchase_lines:
            self._allocate("batch", purchase_lines=purchase_lines, locked=True)

    # ------------------------------------------------------------------
    # Planning: scope, locks, demand and supply, matching
    # ------------------------------------------------------------------
    @api.model
    def _plan(
        self,
        sale_lines=None,
        purchase_lines=None,
        products=None,
        companies=None,
        full_coverage_only=False,
        all_demand=False,
        locked=False,
    ):
        """Return ``(pairs, demands)`` without writing anything: ``pairs`` is a
        list of ``(sale_line_id, purchase_line_id, quantity)``. ``demands``
        holds every backorder of the scope with ``all_demand`` (or when sales
        lines are given), else at least those the free supply can reach."""
        self.env.flush_all()
        scope = self._get_scope(sale_lines, purchase_lines, products, companies)
        if not scope["product_ids"] or not scope["company_ids"]:
            return [], []
        if not locked:
            self._lock_products(scope["product_ids"])
        if (
            scope["sale_line_ids"] is not None
            or scope["purchase_line_ids"] is None
            or full_coverage_only
            or all_demand
        ):
            # Given sales lines, a whole batch or every line wanted: read the
            # demand first.
            demands = self._fetch_demand(scope)
            supplies = self._fetch_supply(scope) if demands else []
        else:
            demands, supplies = self._fetch_supply_then_demand(scope)
        pairs = self._match(demands, supplies, full_coverage_only)
        return pairs, demands

    @api.model
    def _fetch_supply_then_demand(self, scope):
        """Given purchase lines look for demand: read no more backorders than
        their supply can serve."""
        supplies = self._fetch_supply(scope)
        if not supplies:
            return [], []
        budgets = self._demand_budgets(scope, supplies)
        if budgets:
            return self._fetch_reachable_demand(budgets), supplies
        return self._fetch_demand(scope), supplies

    @api.model
    def _demand_budgets(self, scope, supplies):
        """``[(product_id, company_id, free)]``: the free supply per product
        and company, which bounds how many backorders need to be read (see
        :meth:`_fetch_reachable_demand`); ``None`` when a rule can make a
        backorder pass over supply (deposit, days out, warehouses), so that
        every backorder must be read."""
        companies = self.env["res.company"].browse(scope["company_ids"])
        if any(
            company.backorder_min_deposit_percent > 0
            or company.backorder_max_days_out > 0
            or company.backorder_same_warehouse_only
            for company in companies
        ):
            return None
        restricted = self.env.execute_query(
            SQL("SELECT EXISTS (SELECT FROM backorder_warehouse_source_rel)")
        )[0][0]
        if restricted:
            return None
        free = collections.defaultdict(float)
        for supply in supplies:
            free[(supply.product_id, supply.company_id)] += supply.free
        return [(pid, cid, qty) for (pid, cid), qty in sorted(free.items())]

    @api.model
    def _get_scope(self, sale_lines, purchase_lines, products, companies):
        sale_lines = sale_lines or self.env["sale.order.line"]
        purchase_lines = purchase_lines or self.env["purchase.order.line"]
        if products is None and (sale_lines or purchase_lines):
            products = sale_lines.product_id | purchase_lines.product_id
        if companies is None:
            companies = sale_lines.company_id | purchase_lines.company_id
            if not companies:
                companies = self.env["res.company"].sudo().search([])
        if products is None:
            product_ids = self._supplied_product_ids(companies.ids)
        else:
            product_ids = products.filtered("is_storable").ids
        return {
            "product_ids": sorted(product_ids),
            "company_ids": companies.ids,
            "sale_line_ids": sale_lines.ids if sale_lines else None,
            "purchase_line_ids": purchase_lines.ids if purchase_lines else None,
        }

    @api.model
    def _supplied_product_ids(self, company_ids):
        """Products with open supply that accepts backorders: the only ones
        a batch can link."""
        rules = self.env["backorder.rules"]
        rows = self.env.execute_query(
            SQL(
                """
                SELECT DISTINCT pol.product_id
                  FROM purchase_order_line pol
                 WHERE pol.id IN (%(supply)s)
                """,
                supply=rules._supply_line_ids_query(
                    SQL(
                        "%s AND pol.company_id = ANY(%s)"
                        " AND pol.qty_received < pol.product_qty",
                        rules._accepts_backorders_sql(),
                        company_ids,
                    )
                ),
            )
        )
        return [r[0] for r in rows]

    @api.model
    def _demanded_product_ids(self, company_ids):
        """Products some confirmed sales line still waits for."""
        rows = self.env.execute_query(
            SQL(
                """
                SELECT DISTINCT m.product_id
                  FROM stock_move m
                 WHERE m.sale_line_id IS NOT NULL
                   AND m.state IN ('confirmed', 'partially_available', 'waiting')
                   AND m.company_id = ANY(%(company_ids)s)
                   AND %(stock_move)s
                """,
                company_ids=company_ids,
                stock_move=self.env["backorder.rules"]._stock_move_sql(),
            )
        )
        return [r[0] for r in rows]

    @api.model
    def _lock_products(self, product_ids):
        """Serialize allocations per product, always in ascending product order
        so that two allocations over overlapping products cannot deadlock.

        The lock alone does not refresh what the transaction sees: under
        Odoo's REPEATABLE READ its snapshot may predate the commit of the
        allocation it waited for. So each product's row of
        ``backorder_po_link_product_clock`` is bumped too: when another
        transaction bumped it after this one's snapshot, PostgreSQL raises a
        serialization failure and Odoo retries the request with a fresh
        snapshot. Allocations of one product thus act as if one at a time."""
        self.env.cr.execute(
            SQL(
                """
                SELECT pg_advisory_xact_lock(%(cls)s, p)
                  FROM unnest(%(product_ids)s::int[]) AS p
              ORDER BY p;
                INSERT INTO backorder_po_link_product_clock AS c (product_id, version)
                SELECT p, 1 FROM unnest(%(product_ids)s::int[]) AS p ORDER BY p
                    ON CONFLICT (product_id) DO UPDATE SET version = c.version + 1
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
        figures the eligibility rules need. One row per sales line with a
        positive backordered quantity not yet linked."""
        rules = self.env["backorder.rules"]
        line_filter = SQL()
        if scope["sale_line_ids"] is not None:
            line_filter = SQL("AND sol.id = ANY(%s)", scope["sale_line_ids"])
        return SQL(
            """
            WITH lines AS (
                SELECT sol.id, sol.product_id, sol.company_id, so.warehouse_id,
                       so.id AS order_id, so.date_order, sol.sequence,
                       so.amount_total, %(scheduled_date)s AS scheduled_date,
                       COALESCE(c.backorder_min_deposit_percent, 0) AS min_deposit,
                       COALESCE(c.backorder_max_days_out, 0) AS max_days,
                       COALESCE(c.backorder_same_warehouse_only, FALSE) AS same_wh,
                       prod_uom.rounding
                  FROM sale_order_line sol
                  JOIN sale_order so ON so.id = sol.order_id
                  JOIN res_company c ON c.id = sol.company_id
                  %(units)s
                 WHERE %(sale_line)s
                   AND sol.product_id = ANY(%(product_ids)s)
                   AND sol.company_id = ANY(%(company_ids)s)
                   %(line_filter)s
            ),
            backorders AS (%(backorders)s)%(paid_cte)s
            SELECT lines.id, lines.product_id, lines.company_id, lines.warehouse_id,
                   backorders.qty::float8 AS need, lines.rounding::float8,
                   %(deposit_ok)s AS deposit_ok, %(days_ok)s AS days_ok,
                   %(allowed_wh)s AS allowed_wh, lines.same_wh
              FROM lines
              JOIN backorders ON backorders.sale_line_id = lines.id
         %(paid_join)s
          ORDER BY lines.date_order, lines.order_id, lines.sequence, lines.id
            """,
            product_ids=scope["product_ids"],
            company_ids=scope["company_ids"],
            line_filter=line_filter,
            scheduled_date=rules._scheduled_date_sql(),
            units=rules._sale_line_uom_join_sql(),
            sale_line=rules._sale_line_sql(),
            backorders=rules._backorder_qty_query(
                SQL("SELECT id FROM lines"), product_ids=scope["product_ids"]
            ),
            days_ok=rules._days_out_ok_sql(
                SQL("lines.scheduled_date"),
                SQL("lines.max_days"),
                fields.Date.context_today(self),
            ),
            allowed_wh=rules._source_warehouses_sql(SQL("lines.warehouse_id")),
            **rules._deposit_sql(scope["company_ids"]),
        )

    @api.model
    def _fetch_demand(self, scope):
        return [
            Demand(*row[:8], frozenset(row[8]), row[9])
            for row in self.env.execute_query(self._demand_query(scope))
        ]

    @api.model
    def _fetch_reachable_demand(self, budgets):
        """The backorders that the free supply of ``budgets`` can reach, as
        :class:`Demand` (no rule applies, see :meth:`_demand_budgets`).

        Per product and company, the backordered lines are walked oldest first
        (a recursive query) and each one's missing quantity, rounded down to
        the product's rounding, is added up; the walk stops once that sum
        reaches the free supply, since each line takes what it lacks when its
        turn comes and the supply is then gone for the lines after it. Only
        the walked lines have their moves and links read: a product with
        thousands of backorders costs what its supply can serve.
        """
        product_ids, company_ids, free = (
            list(col) for col in zip(*budgets, strict=True)
        )
        rules = self.env["backorder.rules"]
        rows = self.env.execute_query(
            SQL(
                """
                WITH RECURSIVE budget AS (
                    SELECT b.product_id, b.company_id, b.free,
                           prod_uom.rounding::float8 AS rounding,
                           prod_uom.factor AS prod_factor, o.ids
                      FROM unnest(%(product_ids)s::int[], %(company_ids)s::int[],
                                  %(free)s::float8[])
                           AS b(product_id, company_id, free)
                      %(budget_product)s
                      JOIN (SELECT sol.product_id, sol.company_id,
                                   array_agg(sol.id ORDER BY so.date_order, so.id,
                                             sol.sequence, sol.id) AS ids
                              FROM sale_order_line sol
                              -- Looked up per line: cheaper than hashing every
                              -- confirmed order for a few thousand lines.
                        CROSS JOIN LATERAL (
                                SELECT so.id, so.date_order FROM sale_order so
                                 WHERE so.id = sol.order_id AND so.state = 'sale'
                                 LIMIT 1) so
                             WHERE sol.product_id = ANY(%(product_ids)s)
                               AND sol.company_id = ANY(%(line_company_ids)s)
                               AND sol.display_type IS NULL
                          GROUP BY sol.product_id, sol.company_id) o
                        ON o.product_id = b.product_id
                       AND o.company_id = b.company_id
                ),
                walk AS (
                    SELECT product_id, company_id, ids, free, rounding, prod_factor,
                           1 AS i, 0::float8 AS taken,
                           NULL::int AS line_id, NULL::float8 AS need
                      FROM budget
                 UNION ALL
                    SELECT w.product_id, w.company_id, w.ids, w.free, w.rounding,
                           w.prod_factor, w.i + 1,
                           w.taken + %(rounded_need)s,
                           n.id, n.need
                      FROM walk w
                CROSS JOIN LATERAL (
                        SELECT sol.id, %(need)s::float8 AS need
                          FROM sale_order_line sol
                          %(line_uom)s
                    -- What is left to deliver reads prod_uom.factor: the budget carries
                    -- it, no per-line lookup of the product's unit.
                    CROSS JOIN LATERAL (SELECT w.prod_factor AS factor) prod_uom
                     LEFT JOIN LATERAL (%(missing)s) m ON TRUE
                     LEFT JOIN LATERAL (%(pending)s) p ON TRUE
                         WHERE sol.id = w.ids[w.i]
                    ) n
                     WHERE w.i <= cardinality(w.ids) AND w.taken < w.free
                )
                SELECT line_id, product_id, company_id, need, rounding
                  FROM walk
                 WHERE line_id IS NOT NULL
              ORDER BY product_id, company_id, i
                """,
                product_ids=product_ids,
                company_ids=company_ids,
                line_company_ids=sorted(set(company_ids)),
                free=free,
                budget_product=rules._product_uom_join_sql(SQL("b.product_id")),
                line_uom=rules._line_uom_join_sql(),
                rounded_need=rules._round_down_sql(SQL("n.need"), SQL("w.rounding")),
                need=rules._backorder_need_sql(
                    SQL("m.qty"), SQL("p.qty"), SQL("p.active_qty")
                ),
                missing=rules._missing_qty_query(SQL("sol.id")),
                pending=rules._pending_qty_query(SQL("l.sale_line_id = sol.id")),
            )
        )
        demands = []
        for lid, pid, cid, need, rounding in rows:
            need = _round_down(need, rounding)
            if need > rounding / 2:
                # No warehouse rule applies: the sales warehouse is not needed.
                demands.append(Demand(lid, pid, cid, None, need, rounding))
        return demands

    @api.model
    def _supply_query(self, scope):
        """Free supply of the purchase lines of the scope that accept
        backorders, earliest expected arrival first, then oldest purchase
        order."""
        line_filter = SQL()
        if scope["purchase_line_ids"] is not None:
            line_filter = SQL("AND pol.id = ANY(%s)", scope["purchase_line_ids"])
        rules = self.env["backorder.rules"]
        return SQL(
            """
            WITH free AS (%(free)s)
            SELECT pol.id, pol.product_id, pol.company_id,
                   spt.warehouse_id, free.free
              FROM free
              JOIN purchase_order_line pol ON pol.id = free.purchase_line_id
              JOIN purchase_order po ON po.id = pol.order_id
         LEFT JOIN stock_picking_type spt ON spt.id = po.picking_type_id
             WHERE %(accepts)s
          ORDER BY pol.date_planned, po.date_order, po.id, pol.sequence, pol.id
            """,
            accepts=rules._accepts_backorders_sql(),
            free=rules._free_supply_query(
                SQL(
                    "pol.product_id = ANY(%s) AND pol.company_id = ANY(%s) %s",
                    scope["product_ids"],
                    scope["company_ids"],
                    line_filter,
                )
            ),
        )

    @api.model
    def _fetch_supply(self, scope):
        return [
            Supply(*row) for row in self.env.execute_query(self._supply_query(scope))
        ]

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
            candidates = self._candidates(demand, by_wh, heads, key)
            half = demand.rounding / 2
            if full_coverage_only:
                available = sum(s.free for _rank, s in candidates)
                if available < demand.need - half:
                    continue
            self._take(demand, candidates, pairs)
            # Advance the heads past exhausted supply.
            for wh, queue in by_wh.items():
                idx = heads[(key, wh)]
                while idx < len(queue) and queue[idx][1].free <= half:
                    idx += 1
                heads[(key, wh)] = idx
        return pairs

    @api.model
    def _candidates(self, demand, by_wh, heads, key):
        """The supply ``demand`` accepts, not exhausted, in arrival order."""
        candidates = [
            queue[heads[(key, wh)] :]
            for wh, queue in by_wh.items()
            if demand.accepts(wh)
        ]
        if len(candidates) == 1:
            return candidates[0]
        return sorted(
            (item for queue in candidates for item in queue), key=lambda item: item[0]
        )

    @api.model
    def _take(self, demand, candidates, pairs):
        """``demand`` takes what it lacks from ``candidates`` in turn, in
        multiples of its product's rounding; appends to ``pairs``."""
        rounding = demand.rounding
        half = rounding / 2
        need = demand.need
        for _rank, supply in candidates:
            if need <= half:
                break
            qty = _round_down(min(need, supply.free), rounding)
            if qty <= half:
                continue
            pairs.append((demand.id, supply.id, qty))
            demand.planned += qty
            need -= qty
            supply.free -= qty

    # ------------------------------------------------------------------
    # Writing
    # ------------------------------------------------------------------
    @api.model
    def _write_links(self, plan, origin):
        pairs, _demands = plan
        Link = self.env["backorder.po.link"]
        if not pairs:
            return Link
        sale_ids, po_line_ids, quantities = (
            list(col) for col in zip(*pairs, strict=True)
        )
        now = fields.Datetime.now()
        uid = self.env.uid
        rows = self.env.execute_query(
            SQL(
                """
                INSERT INTO backorder_po_link (
                    sale_line_id, purchase_line_id, quantity, state, origin,
                    date_linked, sale_order_id, purchase_order_id, product_id,
                    partner_id, vendor_id, company_id, expected_date,
                    expected_date_linked,
                    create_uid, create_date, write_uid, write_date)
                SELECT p.sale_line_id, p.purchase_line_id, p.quantity, 'linked',
                       %(origin)s, %(now)s, sol.order_id, pol.order_id,
                       sol.product_id, so.partner_id, po.partner_id,
                       sol.company_id, pol.date_planned, pol.date_planned,
                       %(uid)s, %(now)s, %(uid)s, %(now)s
                  FROM unnest(%(sale_ids)s::int[], %(po_line_ids)s::int[],
                              %(quantities)s::numeric[]) WITH ORDINALITY
                       AS p(sale_line_id, purchase_line_id, quantity, seq)
                  JOIN sale_order_line sol ON sol.id = p.sale_line_id
                  JOIN sale_order so ON so.id = sol.order_id
                  JOIN purchase_order_line pol ON pol.id = p.purchase_line_id
                  JOIN purchase_order po ON po.id = pol.order_id
                 -- Says which few purchase lines: looked up, not hashed.
                 WHERE pol.id = ANY(%(po_line_set)s)
              ORDER BY p.seq
             RETURNING id
                """,
                origin=origin,
                now=now,
                uid=uid,
                sale_ids=sale_ids,
                po_line_ids=po_line_ids,
                po_line_set=sorted(set(po_line_ids)),
                quantities=quantities,
            )
        )
        links = Link.browse([r[0] for r in rows])
        if len(rows) > ANALYZE_AFTER:
            # A big batch changes the table's make-up: without fresh
            # statistics the checks at commit would pick poor plans.
            self.env.cr.execute("ANALYZE backorder_po_link")
        Link._store_linked_qty(set(sale_ids), set(po_line_ids))
        Link.invalidate_model()
        return links
