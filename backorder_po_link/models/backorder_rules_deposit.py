# Copyright 2026 backorder_po_link contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The minimum deposit rule: what a sales order has paid, in SQL.

A piece of the vocabulary (``backorder.rules``) of its own, since it reads
payments, invoices and currency rates that no other rule needs.
"""

from odoo import api, models
from odoo.tools import SQL


class BackorderRules(models.AbstractModel):
    _inherit = "backorder.rules"

    @api.model
    def _deposit_sql(self, company_ids):
        """The pieces of the demand query for the minimum deposit rule
        (``deposit_ok``: the line may be linked; ``deposit_met``: the order
        paid a minimum deposit that its company asks for); when no
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
        companies = self.env["res.company"].browse(company_ids)
        if not any(c.backorder_min_deposit_percent > 0 for c in companies):
            return {
                "paid_cte": SQL(),
                "paid_join": SQL(),
                "deposit_ok": SQL("TRUE"),
                "deposit_met": SQL("FALSE"),
            }

        return {
            "paid_cte": self._paid_cte_sql(),
            "paid_join": SQL("LEFT JOIN paid ON paid.order_id = lines.order_id"),
            "deposit_ok": SQL(
                """(lines.min_deposit <= 0
                    OR COALESCE(paid.amount, 0) * 100
                       >= lines.min_deposit * lines.amount_total)"""
            ),
            # Met, not merely passed: a company without the rule has nothing
            # to meet (what makes links firm, see backorder_firm_when_deposit_met).
            "deposit_met": SQL(
                """(lines.min_deposit > 0
                    AND COALESCE(paid.amount, 0) * 100
                        >= lines.min_deposit * lines.amount_total)"""
            ),
        }

    @api.model
    def _paid_cte_sql(self):
        """The CTEs ``deposit_orders`` and ``paid``: what each order of the
        demand query's ``lines`` with the rule has paid (see
        :meth:`_deposit_sql`)."""
        converted = self._order_amount_sql
        tx_date = self._payment_date_sql
        move_date = self._move_date_sql
        credit_notes = self._down_payment_credit_notes_sql
        return SQL(
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
            tx_amount=converted(SQL("tx.amount"), SQL("tx.currency_id"), tx_date("tx")),
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
        )

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
    def _order_amount_sql(self, amount, currency, date):
        """``amount`` in the order's currency, rounded as Odoo rounds it."""
        return SQL(
            "ROUND((%s)::numeric, o.decimal_places)",
            self._convert_sql(
                amount, currency, SQL("o.currency_id"), SQL("o.root_id"), date
            ),
        )

    @api.model
    def _payment_date_sql(self, alias):
        """The date of transaction ``alias``: the date Odoo books its payment
        at; until then, when it was confirmed."""
        return SQL(
            """COALESCE((SELECT pay.date FROM account_payment pay
                          WHERE pay.id = %(tx)s.payment_id),
                        %(tx)s.last_state_change::date,
                        %(tx)s.create_date::date)""",
            tx=SQL.identifier(alias),
        )

    @api.model
    def _move_date_sql(self, alias):
        """The date of invoice or credit note ``alias``."""
        return SQL(
            "COALESCE(%(am)s.invoice_date, %(am)s.date)",
            am=SQL.identifier(alias),
        )

    @api.model
    def _down_payment_credit_notes_sql(self, invoice_filter):
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
            amount=self._order_amount_sql(
                SQL("cnl.price_total"), SQL("cn.currency_id"), self._move_date_sql("cn")
            ),
            invoice_filter=invoice_filter,
        )
