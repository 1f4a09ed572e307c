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
   a recursive query walks each product's backorders in turn and stops
   once they take the free supply;
3. matches them in the company's allocation order (oldest first by default),
   earliest supply first, in memory; a sales confirmation may take soft
   links of orders served after it where the company allows it
   (:meth:`BackorderAllocator._take_from_later`);
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
    firm: bool = False
    rank: tuple = ()
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
class SoftLink:
    """A soft link awaiting receipt that a higher-priority order may take."""

    id: int
    product_id: int
    company_id: int
    warehouse_id: int
    free: float
    rank: tuple = ()


def _rank_array(keys, order_id, sequence, line_id):
    """The allocation order's sort keys (``backorder.rules``'s
    ``_allocation_rank_sql``), then the fixed tie-break, as one array that
    Python compares in turn: ``rank[:4]`` ranks the order, ``rank[3]`` is its
    id."""
    return SQL(
        "ARRAY[%s]::float8[]",
        SQL(", ").join([*keys, order_id, sequence, line_id]),
    )


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
        plan = self._plan(**scope)
        taken = {}
        if origin == "so_confirm":
            plan, taken = self._take_from_later(plan, scope)
        links = self._write_links(plan, origin)
        links._on_created(event)
        if taken:
            self._relink_losers(taken)
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
        self.env["backorder.rules"]._flush_reads()
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
        self.env["backorder.rules"]._flush_reads()
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
        """Backordered sales lines of the scope in the order they are served
        (``backorder.rules._allocation_rank_sql``), with the figures the
        eligibility rules need. One row per sales line with a
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
                       c.backorder_firm_when_deposit_met AS firm_deposit,
                       %(rank)s,
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
                   %(allowed_wh)s AS allowed_wh, lines.same_wh,
                   COALESCE(lines.firm_deposit AND %(deposit_met)s, FALSE) AS firm,
                   %(rank_array)s AS rank
              FROM lines
              JOIN backorders ON backorders.sale_line_id = lines.id
         %(paid_join)s
          ORDER BY lines.rank_1, lines.rank_2, lines.rank_3,
                   lines.order_id, lines.sequence, lines.id
            """,
            rank=SQL(", ").join(
                SQL("%s AS %s", key, SQL.identifier(f"rank_{i}"))
                for i, key in enumerate(rules._allocation_rank_sql(), 1)
            ),
            # Read for given sales lines only, the one case that compares
            # them (a confirmation taking links, see _take_from_later).
            rank_array=SQL("NULL::float8[]")
            if scope["sale_line_ids"] is None
            else _rank_array(
                [SQL.identifier("lines", f"rank_{i}") for i in (1, 2, 3)],
                SQL("lines.order_id"),
                SQL("lines.sequence"),
                SQL("lines.id"),
            ),
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
            Demand(
                *row[:8],
                allowed_warehouse_ids=frozenset(row[8]),
                same_warehouse_only=row[9],
                firm=row[10],
                rank=tuple(row[11] or ()),
            )
            for row in self.env.execute_query(self._demand_query(scope))
        ]

    @api.model
    def _fetch_reachable_demand(self, budgets):
        """The backorders that the free supply of ``budgets`` can reach, as
        :class:`Demand` (no rule applies, see :meth:`_demand_budgets`).

        Per product and company, the backordered lines are walked in the order
        they are served (oldest first by default)
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
                                   array_agg(sol.id ORDER BY %(rank)s, so.id,
                                             sol.sequence, sol.id) AS ids
                              FROM sale_order_line sol
                              JOIN res_company c ON c.id = sol.company_id
                              -- Looked up per line: cheaper than hashing every
                              -- confirmed order for a few thousand lines.
                        CROSS JOIN LATERAL (
                                SELECT so.id, so.date_order, so.commitment_date,
                                       so.partner_id
                                  FROM sale_order so
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
                rank=SQL(", ").join(rules._allocation_rank_sql()),
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
        """Demand in its order (see :meth:`_demand_query`) takes the earliest
        compatible supply.

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
    # Giving supply to higher-priority orders
    # ------------------------------------------------------------------
    @api.model
    def _take_from_later(self, plan, scope):
        """Sales confirmation, where the company gives supply to
        higher-priority orders: what the free supply leaves a line of the
        plan short of is taken from soft links awaiting receipt of orders
        served after it (by the allocation order), those served last first;
        the lines are then planned again. Returns ``(plan, taken)``, where
        ``taken`` is ``{sale_line_id: expected date before}`` of the lines
        that lost promises."""
        pairs, demands = plan
        companies = self.env["res.company"].browse({d.company_id for d in demands})
        giving = set(companies.filtered("backorder_reallocate_to_priority").ids)
        short = [
            d
            for d in demands
            if d.company_id in giving
            and d.eligible
            and d.need - d.planned > d.rounding / 2
        ]
        if not short:
            return plan, {}
        full_only = scope.get("full_coverage_only", False)
        quantities = self._plan_taking(short, pairs, full_only)
        if not quantities:
            return plan, {}
        Link = self.env["backorder.po.link"]
        losers = Link.browse(quantities).sale_line_id
        before = self.env["sale.order.line"]._backorder_expected_dates(losers)
        Link._give_up(quantities)
        return self._plan(**dict(scope, locked=True)), before

    @api.model
    def _plan_taking(self, short, pairs, full_only):
        """``{link_id: quantity}``: what the ``short`` demands (in their
        order) take from the soft links of later orders, after the free
        supply the plan left over (``pairs`` used the rest)."""
        scope = {
            "product_ids": sorted({d.product_id for d in short}),
            "company_ids": sorted({d.company_id for d in short}),
            "purchase_line_ids": None,
        }
        used = collections.defaultdict(float)
        for _sale_id, supply_id, qty in pairs:
            used[supply_id] += qty
        leftover = self._fetch_supply(scope)
        for supply in leftover:
            supply.free -= used[supply.id]
        soft = self._fetch_soft_links(scope, {int(d.rank[3]) for d in short})
        quantities = {}
        for demand in short:
            free = [s for s in leftover if self._serves(demand, s) and s.free > 0]
            missing = demand.need - demand.planned - sum(s.free for s in free)
            half = demand.rounding / 2
            if missing <= half:
                continue
            offers = [
                link
                for link in soft
                if self._serves(demand, link)
                and link.rank[:4] > demand.rank[:4]
                and link.free > half
            ]
            if full_only and sum(link.free for link in offers) < missing - half:
                continue
            for supply in free:
                supply.free = 0.0
            for link in offers:
                if missing <= half:
                    break
                qty = _round_down(min(missing, link.free), demand.rounding)
                quantities[link.id] = quantities.get(link.id, 0.0) + qty
                link.free -= qty
                missing -= qty
        return quantities

    @api.model
    def _serves(self, demand, supply):
        return (
            supply.product_id == demand.product_id
            and supply.company_id == demand.company_id
            and demand.accepts(supply.warehouse_id)
        )

    @api.model
    def _fetch_soft_links(self, scope, order_ids):
        """The soft links awaiting receipt on confirmed supply of the scope,
        of orders other than ``order_ids``, where their company gives supply
        to higher-priority orders; those served last first. Locked: they are
        about to be taken."""
        rules = self.env["backorder.rules"]
        rows = self.env.execute_query(
            SQL(
                """
                SELECT l.id, l.product_id, l.company_id, spt.warehouse_id,
                       l.quantity::float8, %(rank)s AS rank
                  FROM backorder_po_link l
                  JOIN sale_order_line sol ON sol.id = l.sale_line_id
                  JOIN sale_order so ON so.id = sol.order_id
                  JOIN res_company c ON c.id = l.company_id
                  JOIN purchase_order po ON po.id = l.purchase_order_id
             LEFT JOIN stock_picking_type spt ON spt.id = po.picking_type_id
                 WHERE l.state = 'linked' AND l.is_firm IS NOT TRUE
                   AND l.product_id = ANY(%(product_ids)s)
                   AND l.company_id = ANY(%(company_ids)s)
                   AND c.backorder_reallocate_to_priority
                   AND so.id <> ALL(%(order_ids)s)
                   AND po.state IN ('purchase', 'done') AND %(accepts)s
              ORDER BY rank DESC, l.date_linked DESC, l.id DESC
                   FOR UPDATE OF l
                """,
                rank=_rank_array(
                    rules._allocation_rank_sql(),
                    SQL("so.id"),
                    SQL("sol.sequence"),
                    SQL("sol.id"),
                ),
                product_ids=scope["product_ids"],
                company_ids=scope["company_ids"],
                order_ids=sorted(order_ids),
                accepts=rules._accepts_backorders_sql(),
            )
        )
        return [SoftLink(*row[:5], rank=tuple(row[5])) for row in rows]

    @api.model
    def _relink_losers(self, before):
        """The lines that lost promises to a higher-priority order: linked to
        other supply where possible (their customers hear the new date), and
        their salespeople told."""
        lines = self.env["sale.order.line"].browse(sorted(before))
        self._relink(lines, self.env["purchase.order.line"])
        self.env["sale.order"]._backorder_tell_supply_change("reallocated", before)

    # ------------------------------------------------------------------
    # Writing
    # ------------------------------------------------------------------
    @api.model
    def _write_links(self, plan, origin):
        pairs, demands = plan
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
                    partner_id, vendor_id, company_id, expected_date, is_firm,
                    expected_date_linked,
                    create_uid, create_date, write_uid, write_date)
                SELECT p.sale_line_id, p.purchase_line_id, p.quantity, 'linked',
                       %(origin)s, %(now)s, sol.order_id, pol.order_id,
                       sol.product_id, so.partner_id, po.partner_id,
                       sol.company_id, pol.date_planned,
                       p.sale_line_id = ANY(%(firm_ids)s), pol.date_planned,
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
                firm_ids=[d.id for d in demands if d.firm],
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
