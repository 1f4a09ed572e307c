# Copyright 2026 backorder_po_link contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The one place that decides which sales lines are promised which supply.

PO confirmation, sales confirmation, the batch run and re-linking after a change
all call :meth:`BackorderAllocator._allocate`. It

1. takes a transaction-level advisory lock per product, in product order, so two
   allocations of the same product never run side by side (and cannot deadlock),
   and bumps the product's clock row, so that one whose snapshot predates the
   other's commit fails with a serialization error and is retried;
2. reads the eligible demand and the free supply in set-based queries, a fixed
   number whatever the number of candidates; when given purchase lines look for
   demand and no rule applies, a recursive query walks each product's
   backorders oldest first and stops once they take the free supply;
3. matches them oldest demand first, earliest supply first, in memory;
4. writes all links with one ``INSERT`` and bumps the stored linked quantities of
   both sides with one ``UPDATE`` each. Those updates touch the very rows a
   concurrent allocation would touch, so under Odoo's REPEATABLE READ cursors a
   transaction that read stale figures fails with a serialization error and is
   retried by Odoo instead of promising the same goods twice.
"""

import collections
import math
from dataclasses import dataclass, field

from odoo import api, fields, models
from odoo.tools import SQL, float_compare

from .backorder_rules import OPEN_MOVE_STATES, ORDERED_LEFT

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
    order_id: int
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
        event="confirmed",
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
        :param event: the customer email the new links call for
        """
        plan = self._plan(
            sale_lines=sale_lines,
            purchase_lines=purchase_lines,
            products=products,
            companies=companies,
            full_coverage_only=full_coverage_only,
        )
        links = self._write_links(plan, origin)
        self.env["sale.order"]._backorder_queue_notification(event, links)
        return links

    @api.model
    def _plan(
        self,
        sale_lines=None,
        purchase_lines=None,
        products=None,
        companies=None,
        full_coverage_only=False,
        all_demand=False,
    ):
        """Return ``(pairs, demands)`` without writing anything: ``pairs`` is a
        list of ``(sale_line_id, purchase_line_id, quantity)``. ``demands``
        holds every backorder of the scope with ``all_demand`` (or when sales
        lines are given), else at least those the free supply can reach."""
        self.env.flush_all()
        scope = self._get_scope(sale_lines, purchase_lines, products, companies)
        if not scope["product_ids"] or not scope["company_ids"]:
            return [], []
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
            if not demands:
                return [], demands
            supplies = self._fetch_supply(scope)
        else:
            # Given purchase lines look for demand: read no more backorders
            # than their supply can serve.
            supplies = self._fetch_supply(scope)
            if not supplies:
                return [], []
            budgets = self._demand_budgets(scope, supplies)
            if budgets:
                demands = self._fetch_reachable_demand(budgets)
            else:
                demands = self._fetch_demand(scope)
        pairs = self._match(demands, supplies, full_coverage_only)
        return pairs, demands

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
        """Products with open supply: the only ones a batch can link."""
        rows = self.env.execute_query(
            SQL(
                """
                SELECT DISTINCT pol.product_id
                  FROM purchase_order_line pol
                 WHERE pol.id IN (%(supply)s)
                """,
                supply=self.env["backorder.rules"]._supply_line_ids_query(
                    SQL(
                        "po.allow_backorder_link AND pol.company_id = ANY(%s)"
                        " AND pol.qty_received < pol.product_qty",
                        company_ids,
                    )
                ),
            )
        )
        return [r[0] for r in rows]

    @api.model
    def _all_demanded_product_ids(self, company_ids):
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
                       prod_uom.rounding
                  FROM sale_order_line sol
                  JOIN sale_order so ON so.id = sol.order_id
                  JOIN res_company c ON c.id = sol.company_id
                  JOIN product_product pp ON pp.id = sol.product_id
                  JOIN product_template pt ON pt.id = pp.product_tmpl_id
                  JOIN uom_uom prod_uom ON prod_uom.id = pt.uom_id
                  JOIN uom_uom line_uom ON line_uom.id = sol.product_uom
                 WHERE %(sale_line)s
                   AND sol.product_id = ANY(%(product_ids)s)
                   AND sol.company_id = ANY(%(company_ids)s)
                   %(line_filter)s
            ),
            backorders AS (%(backorders)s)%(paid_cte)s
            SELECT lines.id, lines.product_id, lines.company_id, lines.warehouse_id,
                   lines.order_id, backorders.qty::float8 AS need,
                   lines.rounding::float8,
                   %(deposit_ok)s AS deposit_ok,
                   (lines.max_days <= 0
                    OR lines.scheduled_date::date
                       <= %(today)s::date + lines.max_days) AS days_ok,
                   lines.same_wh,
                   ARRAY(SELECT rel.source_warehouse_id
                           FROM backorder_warehouse_source_rel rel
                          WHERE rel.warehouse_id = lines.warehouse_id) AS allowed_wh
              FROM lines
              JOIN backorders ON backorders.sale_line_id = lines.id
         %(paid_join)s
          ORDER BY lines.date_order, lines.order_id, lines.sequence, lines.id
            """,
            product_ids=scope["product_ids"],
            company_ids=scope["company_ids"],
            line_filter=line_filter,
            sale_line=self.env["backorder.rules"]._sale_line_sql(),
            backorders=self.env["backorder.rules"]._backorder_qty_query(
                SQL("SELECT id FROM lines"), product_ids=scope["product_ids"]
            ),
            today=fields.Date.context_today(self),
            **self._deposit_sql(scope),
        )

    @api.model
    def _deposit_sql(self, scope):
        """The pieces of the demand query for the minimum deposit rule; when no
        company of the scope has the rule, none (planning the payments part
        costs more than running the rest of the query for a sales order).

        What an order has paid, in its currency (each amount converted at the
        rate of its own date, as ``res.currency._convert`` does, see
        :meth:`_convert_sql`), is the sum of

        - its online payments (transactions authorized or done, not mere
          validations of a payment method), each less its refunds (unless
          cancelled or failed), its voided parts and the credit notes of the
          down-payment invoices it paid, never below zero;
        - its paid down-payment invoices that no such transaction paid (those
          are counted once, as the transaction), each less the posted credit
          notes that reverse it, never below zero.
        """
        companies = self.env["res.company"].browse(scope["company_ids"])
        if not any(c.backorder_min_deposit_percent > 0 for c in companies):
            return {"paid_cte": SQL(), "paid_join": SQL(), "deposit_ok": SQL("TRUE")}

        def converted(amount, currency, date):
            """``amount`` in the order's currency, rounded as Odoo rounds it."""
            return SQL(
                "ROUND((%s)::numeric, o.decimal_places)",
                self._convert_sql(
                    amount, currency, SQL("o.currency_id"), SQL("o.root_id"), date
                ),
            )

        def tx_date(alias):
            # The date Odoo books the payment at; until then, when it was
            # confirmed.
            return SQL(
                """COALESCE((SELECT pay.date FROM account_payment pay
                              WHERE pay.id = %(tx)s.payment_id),
                            %(tx)s.last_state_change::date,
                            %(tx)s.create_date::date)""",
                tx=SQL.identifier(alias),
            )

        def move_date(alias):
            return SQL(
                "COALESCE(%(am)s.invoice_date, %(am)s.date)",
                am=SQL.identifier(alias),
            )

        def credit_notes(invoice_filter):
            """What the posted credit notes reversing the invoices that
            ``invoice_filter`` (on ``inv``) selects give back of this order's
            down payments."""
            return SQL(
                """COALESCE((
                    SELECT SUM(%(amount)s)
                      FROM account_move cn
                      JOIN account_move_line cnl ON cnl.move_id = cn.id
                      JOIN sale_order_line_invoice_rel cnr
                           ON cnr.invoice_line_id = cnl.id
                      JOIN sale_order_line cndp ON cndp.id = cnr.order_line_id
                     WHERE cn.reversed_entry_id IN (
                               SELECT inv.id FROM account_move inv
                                WHERE %(invoice_filter)s)
                       AND cn.state = 'posted'
                       AND cn.move_type = 'out_refund'
                       AND cndp.is_downpayment
                       AND cndp.order_id = o.order_id), 0)""",
                amount=converted(
                    SQL("cnl.price_total"), SQL("cn.currency_id"), move_date("cn")
                ),
                invoice_filter=invoice_filter,
            )

        return {
            "paid_cte": SQL(
                """,
            deposit_orders AS (
                SELECT so.id AS order_id, so.currency_id, cur.decimal_places,
                       -- Rates live on the root company (res.company.root_id).
                       split_part(dc.parent_path, '/', 1)::int AS root_id
                  FROM sale_order so
                  JOIN res_company dc ON dc.id = so.company_id
                  JOIN res_currency cur ON cur.id = so.currency_id
                 WHERE so.id IN (SELECT order_id FROM lines WHERE min_deposit > 0)
            ),
            paid AS (
                SELECT x.order_id, SUM(x.amount) AS amount
                  FROM (
                    SELECT o.order_id, GREATEST(
                               %(tx_amount)s
                               + COALESCE((
                                   SELECT SUM(%(child_amount)s)
                                     FROM payment_transaction ch
                                    WHERE ch.source_transaction_id = tx.id
                                      AND ((ch.operation = 'refund'
                                            AND ch.state NOT IN ('cancel', 'error'))
                                        OR (ch.operation IS DISTINCT FROM 'refund'
                                            AND ch.state = 'cancel'))), 0)
                               - %(tx_credit_notes)s,
                           0) AS amount
                      FROM deposit_orders o
                      JOIN sale_order_transaction_rel rel
                           ON rel.sale_order_id = o.order_id
                      JOIN payment_transaction tx ON tx.id = rel.transaction_id
                     WHERE tx.state IN ('authorized', 'done')
                       AND COALESCE(tx.operation, '') NOT IN ('validation', 'refund')
                    UNION ALL
                    SELECT o.order_id,
                           GREATEST(SUM(%(invoice_amount)s) - %(invoice_credit_notes)s,
                                    0) AS amount
                      FROM deposit_orders o
                      JOIN sale_order_line dp
                           ON dp.order_id = o.order_id AND dp.is_downpayment
                      JOIN sale_order_line_invoice_rel r ON r.order_line_id = dp.id
                      JOIN account_move_line aml ON aml.id = r.invoice_line_id
                      JOIN account_move am ON am.id = aml.move_id
                     WHERE am.state = 'posted'
                       AND am.move_type = 'out_invoice'
                       AND am.payment_state IN ('paid', 'in_payment')
                       -- The down payment itself, not its deduction from a
                       -- final invoice.
                       AND aml.price_total > 0
                       AND NOT EXISTS (
                           SELECT FROM account_invoice_transaction_rel itr
                             JOIN sale_order_transaction_rel str
                                  ON str.transaction_id = itr.transaction_id
                             JOIN payment_transaction itx
                                  ON itx.id = itr.transaction_id
                            WHERE itr.invoice_id = am.id
                              AND str.sale_order_id = o.order_id
                              AND itx.state IN ('authorized', 'done'))
                  GROUP BY o.order_id, o.currency_id, o.decimal_places, o.root_id,
                           am.id
                  ) x
              GROUP BY x.order_id
            )""",
                tx_amount=converted(
                    SQL("tx.amount"), SQL("tx.currency_id"), tx_date("tx")
                ),
                # Refunds are negative amounts; a voided part is taken off.
                child_amount=converted(
                    SQL(
                        "CASE WHEN ch.operation = 'refund'"
                        " THEN ch.amount ELSE -ch.amount END"
                    ),
                    SQL("ch.currency_id"),
                    tx_date("ch"),
                ),
                tx_credit_notes=credit_notes(
                    SQL(
                        "inv.id IN (SELECT invoice_id"
                        " FROM account_invoice_transaction_rel"
                        " WHERE transaction_id = tx.id)"
                    )
                ),
                invoice_amount=converted(
                    SQL("aml.price_total"), SQL("am.currency_id"), move_date("am")
                ),
                invoice_credit_notes=credit_notes(SQL("inv.id = am.id")),
            ),
            "paid_join": SQL("LEFT JOIN paid ON paid.order_id = lines.order_id"),
            "deposit_ok": SQL(
                """(lines.min_deposit <= 0
                    OR COALESCE(paid.amount, 0) * 100
                       >= lines.min_deposit * lines.amount_total)"""
            ),
        }

    @api.model
    def _convert_sql(self, amount, from_currency, to_currency, company, date):
        """SQL of ``res.currency._convert`` (unrounded) of ``amount`` from
        ``from_currency`` to ``to_currency`` at ``date``, with the rates of
        ``company`` (a root company) as ``res.currency._get_rates`` reads them:
        the company's own rate before a shared one, the last one on or before
        the date, else the first one, else 1."""

        def rate(currency):
            return SQL(
                """COALESCE(
                    (SELECT r.rate FROM res_currency_rate r
                      WHERE r.currency_id = %(currency)s AND r.name <= %(date)s
                        AND (r.company_id IS NULL OR r.company_id = %(company)s)
                   ORDER BY r.company_id, r.name DESC LIMIT 1),
                    (SELECT r.rate FROM res_currency_rate r
                      WHERE r.currency_id = %(currency)s
                        AND (r.company_id IS NULL OR r.company_id = %(company)s)
                   ORDER BY r.company_id, r.name LIMIT 1),
                    1.0)""",
                currency=currency,
                date=date,
                company=company,
            )

        return SQL(
            """CASE WHEN %(from_currency)s = %(to_currency)s THEN %(amount)s
                    ELSE %(amount)s * %(to_rate)s / %(from_rate)s END""",
            amount=amount,
            from_currency=from_currency,
            to_currency=to_currency,
            to_rate=rate(to_currency),
            from_rate=rate(from_currency),
        )

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
        rows = self.env.execute_query(
            SQL(
                """
                WITH RECURSIVE budget AS (
                    SELECT b.product_id, b.company_id, b.free,
                           buom.rounding::float8 AS rounding,
                           buom.factor AS prod_factor, o.ids
                      FROM unnest(%(product_ids)s::int[], %(company_ids)s::int[],
                                  %(free)s::float8[])
                           AS b(product_id, company_id, free)
                      JOIN product_product bpp ON bpp.id = b.product_id
                      JOIN product_template bpt ON bpt.id = bpp.product_tmpl_id
                      JOIN uom_uom buom ON buom.id = bpt.uom_id
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
                           NULL::int AS line_id, NULL::int AS order_id,
                           NULL::float8 AS need
                      FROM budget
                 UNION ALL
                    SELECT w.product_id, w.company_id, w.ids, w.free, w.rounding,
                           w.prod_factor, w.i + 1,
                           w.taken + FLOOR(GREATEST(n.need, 0) / w.rounding
                                           + 0.0000001) * w.rounding,
                           n.id, n.order_id, n.need
                      FROM walk w
                CROSS JOIN LATERAL (
                        SELECT sol.id, sol.order_id, %(need)s::float8 AS need
                          FROM sale_order_line sol
                          JOIN uom_uom line_uom ON line_uom.id = sol.product_uom
                    -- ORDERED_LEFT reads prod_uom.factor: the budget carries
                    -- it, no per-line lookup of the product's unit.
                    CROSS JOIN LATERAL (SELECT w.prod_factor AS factor) prod_uom
                     LEFT JOIN LATERAL (%(missing)s) m ON TRUE
                     LEFT JOIN LATERAL (%(pending)s) p ON TRUE
                         WHERE sol.id = w.ids[w.i]
                    ) n
                     WHERE w.i <= cardinality(w.ids) AND w.taken < w.free
                )
                SELECT line_id, product_id, company_id, order_id, need, rounding
                  FROM walk
                 WHERE line_id IS NOT NULL
              ORDER BY product_id, company_id, i
                """,
                product_ids=product_ids,
                company_ids=company_ids,
                line_company_ids=sorted(set(company_ids)),
                free=free,
                need=self.env["backorder.rules"]._backorder_need_sql(
                    SQL("m.qty"), SQL("p.qty"), SQL("p.active_qty")
                ),
                missing=self._missing_qty_query(SQL("sol.id")),
                pending=self._pending_qty_query(SQL("l.sale_line_id = sol.id")),
            )
        )
        demands = []
        for lid, pid, cid, oid, need, rounding in rows:
            need = _round_down(need, rounding)
            if need > rounding / 2:
                # No warehouse rule applies: the sales warehouse is not needed.
                demands.append(Demand(lid, pid, cid, None, oid, need, rounding))
        return demands

    @api.model
    def _missing_qty_query(self, sale_line_ids_query=None, product_ids=None):
        return self.env["backorder.rules"]._missing_qty_query(
            sale_line_ids_query, product_ids=product_ids
        )

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
    def _pending_qty_query(self, line_filter):
        return self.env["backorder.rules"]._pending_qty_query(line_filter)

    @api.model
    def _fetch_demand(self, scope):
        demands = []
        for row in self.env.execute_query(self._demand_query(scope)):
            (lid, pid, cid, wid, oid, need, rounding) = row[:7]
            deposit_ok, days_ok, same_wh, allowed = row[7:]
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
    def _backordered_line_ids_query(self):
        """SQL selecting the ids of the backorders: confirmed sales lines
        with a quantity waiting for stock that no link covers."""
        query = self.env["backorder.rules"]._backorder_qty_query()
        return SQL("SELECT sale_line_id FROM (%s) backorders", query)

    @api.model
    def _supply_query(self, scope):
        """Free supply of the purchase lines of the scope that accept
        backorders, earliest expected arrival first, then oldest purchase
        order."""
        line_filter = SQL()
        if scope["purchase_line_ids"] is not None:
            line_filter = SQL("AND pol.id = ANY(%s)", scope["purchase_line_ids"])
        return SQL(
            """
            WITH free AS (%(free)s)
            SELECT pol.id, pol.product_id, pol.company_id,
                   spt.warehouse_id, po.id AS order_id, free.free
              FROM free
              JOIN purchase_order_line pol ON pol.id = free.purchase_line_id
              JOIN purchase_order po ON po.id = pol.order_id
         LEFT JOIN stock_picking_type spt ON spt.id = po.picking_type_id
             WHERE po.allow_backorder_link
          ORDER BY pol.date_planned, po.date_order, po.id, pol.sequence, pol.id
            """,
            free=self.env["backorder.rules"]._free_supply_query(
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
            candidates = []
            for wh, queue in by_wh.items():
                if demand.accepts(wh):
                    candidates.append(queue[heads[(key, wh)] :])
            if len(candidates) == 1:
                candidates = candidates[0]
            else:
                candidates = sorted(
                    (item for queue in candidates for item in queue),
                    key=lambda item: item[0],
                )
            rounding = demand.rounding
            half = rounding / 2
            if full_coverage_only:
                available = sum(s.free for _rank, s in candidates)
                if available < demand.need - half:
                    continue
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
            # Advance the heads past exhausted supply.
            for wh, queue in by_wh.items():
                idx = heads[(key, wh)]
                while idx < len(queue) and queue[idx][1].free <= half:
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
                    create_uid, create_date, write_uid, write_date)
                SELECT p.sale_line_id, p.purchase_line_id, p.quantity, 'linked',
                       %(origin)s, %(now)s, sol.order_id, pol.order_id,
                       sol.product_id, so.partner_id, po.partner_id,
                       sol.company_id, pol.date_planned,
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
        self.env["backorder.link.note"]._post_notes(dict.fromkeys(links.ids), "linked")

    # ------------------------------------------------------------------
    # Batch run and dry run
    # ------------------------------------------------------------------
    @api.model
    def _batch_companies(self, companies=None):
        """The companies a batch run links: those of ``companies`` (default:
        all) that link backorders (``res.company._backorder_linking_companies``)."""
        if companies is None:
            companies = self.env["res.company"].sudo().search([])
        return companies.sudo()._backorder_linking_companies()

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
    def _explain(self, companies=None):
        """Dry run of the batch: ``(pairs, demands, reasons)`` where ``reasons``
        maps each sales line left (partly) unlinked to why. Writes nothing.
        Like the batch, it covers the companies that link backorders only."""
        companies = self._batch_companies(companies)
        if not companies:
            return [], [], {}
        products = self.env["product.product"].browse(
            self._all_demanded_product_ids(companies.ids)
        )
        pairs, demands = self._plan(
            products=products, companies=companies, all_demand=True
        )
        reasons = {}
        unmet = [
            d
            for d in demands
            if float_compare(d.planned, d.need, precision_rounding=d.rounding) < 0
        ]
        if not unmet:
            return pairs, demands, reasons
        scope = {
            "product_ids": sorted({d.product_id for d in unmet}),
            "company_ids": sorted({d.company_id for d in unmet}),
            "purchase_line_ids": None,
        }
        # Free supply per product and company, before this run matched it.
        free_wh = collections.defaultdict(set)
        for supply in self._fetch_supply(scope):
            free_wh[(supply.product_id, supply.company_id)].add(supply.warehouse_id)
        opted_out = {
            (row[0], row[1])
            for row in self.env.execute_query(
                SQL(
                    """
                    SELECT DISTINCT pol.product_id, pol.company_id
                      FROM purchase_order_line pol
                     WHERE pol.id IN (%(supply)s)
                    """,
                    supply=self.env["backorder.rules"]._supply_line_ids_query(
                        SQL(
                            "NOT po.allow_backorder_link"
                            " AND pol.product_id = ANY(%s) AND pol.company_id = ANY(%s)"
                            " AND pol.qty_received < pol.product_qty",
                            scope["product_ids"],
                            scope["company_ids"],
                        )
                    ),
                )
            )
        }
        for demand in unmet:
            key = (demand.product_id, demand.company_id)
            if not demand.deposit_ok:
                reason = "deposit"
            elif not demand.days_ok:
                reason = "days_out"
            elif free_wh.get(key) and not any(
                demand.accepts(wh) for wh in free_wh[key]
            ):
                reason = "warehouse"
            elif key in opted_out:
                reason = "opt_out"
            else:
                reason = "no_supply"
            reasons[demand.id] = reason
        return pairs, demands, reasons

    @api.model
    def _waiting_kit_lines(self, companies):
        """``{sale_line_id: quantity}`` of the kit lines (see
        ``backorder.rules._stock_move_sql``) of ``companies`` whose component
        moves wait for stock, with what the line still has to deliver: the
        dry run says why they are never linked."""
        rows = self.env.execute_query(
            SQL(
                """
                SELECT sol.id, MAX(%(ordered_left)s)::float8
                  FROM stock_move m
                  JOIN stock_location src ON src.id = m.location_id
                  JOIN sale_order_line sol ON sol.id = m.sale_line_id
                  JOIN sale_order so ON so.id = sol.order_id
                  JOIN uom_uom line_uom ON line_uom.id = sol.product_uom
                  JOIN product_product pp ON pp.id = sol.product_id
                  JOIN product_template pt ON pt.id = pp.product_tmpl_id
                  JOIN uom_uom prod_uom ON prod_uom.id = pt.uom_id
                 WHERE m.state IN ('confirmed', 'partially_available', 'waiting')
                   AND m.procure_method = 'make_to_stock'
                   AND src.usage = 'internal'
                   AND m.product_id != sol.product_id
                   AND so.state = 'sale'
                   AND sol.company_id = ANY(%(company_ids)s)
              GROUP BY sol.id
                """,
                ordered_left=ORDERED_LEFT,
                company_ids=companies.ids,
            )
        )
        return dict(rows)

    # ------------------------------------------------------------------
    # Links follow changes
    # ------------------------------------------------------------------
    @api.model
    def _reconcile(self, sale_lines=None, purchase_lines=None, supply_lines=None):
        """After a change on either side, release what a line can no longer
        hold (newest links first), then link the released backorders and the
        freed supply again by the same rules, in the same transaction.

        :param supply_lines: purchase lines whose quantity to receive grew
            (goods returned to the vendor, who sends them again): their free
            quantity is linked too, after the released backorders."""
        sale_lines = (sale_lines or self.env["sale.order.line"]).exists()
        purchase_lines = (purchase_lines or self.env["purchase.order.line"]).exists()
        supply_lines = (supply_lines or self.env["purchase.order.line"]).exists()
        if not sale_lines and not purchase_lines and not supply_lines:
            return
        self.env.flush_all()
        self._lock_products(
            (
                sale_lines.product_id
                | purchase_lines.product_id
                | supply_lines.product_id
            ).ids
        )
        released_sale_ids, freed_purchase_ids = self._release_excess(
            sale_lines, purchase_lines
        )
        SaleLine = self.env["sale.order.line"]
        PurchaseLine = self.env["purchase.order.line"]
        relink_sale = SaleLine.browse(released_sale_ids).filtered(
            lambda line: (
                line.order_id.state == "sale"
                and line.company_id._backorder_relink_enabled()
            )
        )
        if relink_sale:
            # Moved to another (later) purchase: the customer hears the new date.
            self._allocate("batch", sale_lines=relink_sale, event="date_changed")
        relink_supply = (
            PurchaseLine.browse(freed_purchase_ids) | supply_lines
        ).filtered(
            lambda line: (
                line.order_id.state in ("purchase", "done")
                and line.order_id.allow_backorder_link
                and line.company_id._backorder_relink_enabled()
            )
        )
        if relink_supply:
            self._allocate("batch", purchase_lines=relink_supply)

    @api.model
    def _release_excess(self, sale_lines, purchase_lines):
        """Shrink or cancel active links beyond what their lines still hold,
        newest first. Returns the ids of the sales lines that lost promises
        and of the purchase lines whose supply was freed."""
        released = []  # (link id, sale line id, purchase line id, quantity)
        if purchase_lines:
            released += self._release_rows(
                "purchase_line_id",
                SQL(
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
                ),
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
            # The sales lines with the units ORDERED_LEFT reads.
            lines = SQL(
                """sale_order_line sol
                      JOIN sale_order so ON so.id = sol.order_id
                      JOIN uom_uom line_uom ON line_uom.id = sol.product_uom
                      JOIN product_product pp ON pp.id = sol.product_id
                      JOIN product_template pt ON pt.id = pp.product_tmpl_id
                      JOIN uom_uom prod_uom ON prod_uom.id = pt.uom_id"""
            )
            # Received links hold goods reserved for the delivery: beyond what
            # is still reserved (delivery unreserved, cancelled, cut short,
            # goods taken back), they go first, so that the links awaiting
            # receipt are then measured against what the delivery lacks. A
            # sales order no longer confirmed holds none.
            released += self._release_rows(
                "sale_line_id",
                SQL(
                    """
                    SELECT sol.id,
                           CASE WHEN so.state = 'sale' THEN GREATEST(LEAST(
                               COALESCE(reserved.qty, 0), %(ordered_left)s
                           ), 0) ELSE 0 END AS capacity
                      FROM %(lines)s
                 LEFT JOIN (%(reserved)s) reserved ON reserved.sale_line_id = sol.id
                     WHERE sol.id = ANY(%(ids)s)
                    """,
                    ids=sale_lines.ids,
                    lines=lines,
                    ordered_left=ORDERED_LEFT,
                    reserved=self._reserved_qty_query(
                        SQL("SELECT unnest(%s::int[])", sale_lines.ids)
                    ),
                ),
                state="received",
            )
            released += self._release_rows(
                "sale_line_id",
                SQL(
                    """
                    SELECT sol.id,
                           CASE WHEN so.state = 'sale' THEN GREATEST(LEAST(
                               COALESCE(missing.qty, 0),
                               %(ordered_left)s - COALESCE((
                                   SELECT SUM(l.quantity) FROM backorder_po_link l
                                    WHERE l.sale_line_id = sol.id
                                      AND l.state = 'received'), 0)
                           ), 0) ELSE 0 END AS capacity
                      FROM %(lines)s
                 LEFT JOIN (%(missing)s) missing ON missing.sale_line_id = sol.id
                     WHERE sol.id = ANY(%(ids)s)
                    """,
                    ids=sale_lines.ids,
                    lines=lines,
                    ordered_left=ORDERED_LEFT,
                    missing=self._missing_qty_query(
                        SQL("SELECT unnest(%s::int[])", sale_lines.ids)
                    ),
                ),
            )
        if not released:
            return [], []
        sale_ids = {row[1] for row in released}
        purchase_ids = {row[2] for row in released}
        self._refresh_linked_qty(sale_ids, purchase_ids)
        Link = self.env["backorder.po.link"]
        Link.invalidate_model()
        self._post_release_messages(released)
        return sorted(sale_ids), sorted(purchase_ids)

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

    @api.model
    def _post_release_messages(self, released):
        self.env["backorder.link.note"]._post_notes(
            {r[0]: r[3] for r in released}, "released"
        )

    # ------------------------------------------------------------------
    # Invariant audit
    # ------------------------------------------------------------------
    @api.model
    def _audit(self):
        """Check every invariant of the links on the whole database; returns a
        list of ``(check, message)``, empty when all is well."""
        self.env.flush_all()
        checks = {
            "purchase over-promised": """
                SELECT 'purchase line ' || pol.id || ': ' || SUM(l.quantity)
                       || ' promised, ' || pol.product_uom_qty || ' ordered'
                  FROM backorder_po_link l
                  JOIN purchase_order_line pol ON pol.id = l.purchase_line_id
                 WHERE l.state IN ('linked', 'received')
              GROUP BY pol.id
                HAVING SUM(l.quantity) > pol.product_uom_qty + 0.0001
            """,
            "promised what Odoo bought for a given destination": """
                SELECT 'purchase line ' || pol.id || ': ' || SUM(l.quantity)
                       || ' promised, bought on order or dropshipped'
                  FROM backorder_po_link l
                  JOIN purchase_order_line pol ON pol.id = l.purchase_line_id
                 WHERE l.state IN ('linked', 'received')
                   AND %(spoken_for)s
              GROUP BY pol.id
            """,
            "sale over-promised": """
                SELECT 'sales line ' || sol.id || ': ' || SUM(l.quantity)
                       || ' promised, ' || ROUND(%(ordered_left)s, 4)
                       || ' left to deliver'
                  FROM backorder_po_link l
                  JOIN sale_order_line sol ON sol.id = l.sale_line_id
                  JOIN uom_uom line_uom ON line_uom.id = sol.product_uom
                  JOIN product_product pp ON pp.id = sol.product_id
                  JOIN product_template pt ON pt.id = pp.product_tmpl_id
                  JOIN uom_uom prod_uom ON prod_uom.id = pt.uom_id
                 WHERE l.state IN ('linked', 'received')
              GROUP BY sol.id, line_uom.factor, prod_uom.factor
                HAVING SUM(l.quantity) > %(ordered_left)s + 0.0001
            """,
            "link of a cancelled or unconfirmed order": """
                SELECT 'link ' || l.id || ' (' || l.state || '): sales order '
                       || so.state || ', purchase order ' || po.state
                  FROM backorder_po_link l
                  JOIN sale_order so ON so.id = l.sale_order_id
                  JOIN purchase_order po ON po.id = l.purchase_order_id
                 WHERE l.state IN ('linked', 'received')
                   AND (so.state != 'sale' OR po.state NOT IN ('purchase', 'done'))
            """,
            "company or product mismatch": """
                SELECT 'link ' || l.id || ': companies ' || l.company_id || '/'
                       || sol.company_id || '/' || pol.company_id || ', products '
                       || sol.product_id || '/' || pol.product_id
                  FROM backorder_po_link l
                  JOIN sale_order_line sol ON sol.id = l.sale_line_id
                  JOIN purchase_order_line pol ON pol.id = l.purchase_line_id
                 WHERE sol.company_id != pol.company_id
                    OR l.company_id != sol.company_id
                    OR sol.product_id != pol.product_id
                    OR l.product_id != sol.product_id
            """,
            "stored linked quantity out of date": """
                SELECT 'sales line ' || sol.id || ': stored '
                       || sol.backorder_linked_qty || ', links ' || COALESCE(s.qty, 0)
                  FROM sale_order_line sol
             LEFT JOIN (SELECT sale_line_id, SUM(quantity) AS qty
                          FROM backorder_po_link
                         WHERE state IN ('linked', 'received')
                      GROUP BY sale_line_id) s
                       ON s.sale_line_id = sol.id
                 WHERE ABS(COALESCE(sol.backorder_linked_qty, 0) - COALESCE(s.qty, 0))
                       > 0.0001
             UNION ALL
                SELECT 'purchase line ' || pol.id || ': stored '
                       || pol.backorder_linked_qty || ', links ' || COALESCE(s.qty, 0)
                  FROM purchase_order_line pol
             LEFT JOIN (SELECT purchase_line_id, SUM(quantity) AS qty
                          FROM backorder_po_link
                         WHERE state IN ('linked', 'received')
                      GROUP BY purchase_line_id) s
                       ON s.purchase_line_id = pol.id
                 WHERE ABS(COALESCE(pol.backorder_linked_qty, 0) - COALESCE(s.qty, 0))
                       > 0.0001
            """,
            "awaiting link beyond what the delivery lacks": """
                SELECT 'sales line ' || l.sale_line_id || ': ' || SUM(l.quantity)
                       || ' awaiting receipt, delivery lacks '
                       || COALESCE(MAX(m.qty), 0)
                  FROM backorder_po_link l
             LEFT JOIN (%(missing)s) m ON m.sale_line_id = l.sale_line_id
                 WHERE l.state = 'linked'
              GROUP BY l.sale_line_id
                HAVING SUM(l.quantity) > COALESCE(MAX(m.qty), 0) + 0.0001
            """,
            "received link without reserved goods": """
                SELECT 'sales line ' || l.sale_line_id || ': ' || SUM(l.quantity)
                       || ' received, ' || COALESCE(MAX(r.qty), 0) || ' reserved'
                  FROM backorder_po_link l
             LEFT JOIN (%(reserved)s) r ON r.sale_line_id = l.sale_line_id
                 WHERE l.state = 'received'
              GROUP BY l.sale_line_id
                HAVING SUM(l.quantity) > COALESCE(MAX(r.qty), 0) + 0.0001
            """,
        }
        problems = []
        for check, query in checks.items():
            rows = self.env.execute_query(
                SQL(
                    query,
                    ordered_left=ORDERED_LEFT,
                    spoken_for=self.env["backorder.rules"]._purchase_spoken_for_sql(),
                    missing=self._missing_qty_query(
                        SQL(
                            "SELECT sale_line_id FROM backorder_po_link"
                            " WHERE state = 'linked'"
                        )
                    ),
                    reserved=self._reserved_qty_query(
                        SQL(
                            "SELECT sale_line_id FROM backorder_po_link"
                            " WHERE state = 'received'"
                        )
                    ),
                )
            )
            problems += [(check, row[0]) for row in rows]
        return problems

    @api.model
    def action_audit(self):
        """Menu action for managers: run the audit and say what it found."""
        # For those who may correct links by hand: write access to links.
        self.env["backorder.po.link"].check_access("write")
        problems = self.sudo()._audit()
        message = (
            self.env._("All backorder link invariants hold.")
            if not problems
            else "\n".join(f"{check}: {detail}" for check, detail in problems[:50])
        )
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success" if not problems else "danger",
                "sticky": bool(problems),
                "title": self.env._(
                    "Backorder link audit: %s problem(s)", len(problems)
                ),
                "message": message,
            },
        }
