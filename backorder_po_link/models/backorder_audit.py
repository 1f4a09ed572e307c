# Copyright 2026 backorder_po_link contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The audit: every invariant of the links, checked on the whole database.

Run by managers from the menu, by ``make audit`` and after the load test and
the benchmark. It composes the same rules as the engine and the guard.
"""

from odoo import api, models
from odoo.tools import SQL

from .backorder_rules import ACTIVE_LINK_STATES


class BackorderAudit(models.AbstractModel):
    _name = "backorder.audit"
    _description = "Backorder Link Audit"

    @api.model
    def _audit(self):
        """Check every invariant of the links on the whole database; returns a
        list of ``(check, message)``, empty when all is well. Each check is a
        query of its own, so that a newcomer reads what is promised."""
        self.env.flush_all()
        checks = {
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
        problems = self._over_promised() + self._stale_linked_qty()
        rules = self.env["backorder.rules"]
        for check, query in checks.items():
            rows = self.env.execute_query(
                SQL(
                    query,
                    missing=rules._missing_qty_query(
                        SQL(
                            "SELECT sale_line_id FROM backorder_po_link"
                            " WHERE state = 'linked'"
                        )
                    ),
                    reserved=rules._reserved_qty_query(
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

    @api.model
    def _over_promised(self):
        """The guard's invariant (``backorder.rules._over_promised_query``)
        over every line with active links."""
        rows = self.env.execute_query(
            self.env["backorder.rules"]._over_promised_query(
                SQL(
                    "SELECT sale_line_id FROM backorder_po_link WHERE state IN %s",
                    ACTIVE_LINK_STATES,
                ),
                SQL(
                    "SELECT purchase_line_id FROM backorder_po_link WHERE state IN %s",
                    ACTIVE_LINK_STATES,
                ),
            )
        )
        return [
            (
                f"{side} over-promised",
                f"{side} line {line_id}: {linked:g} promised, {capacity:g} can be held",
            )
            for side, line_id, linked, capacity, _rounding in rows
        ]

    @api.model
    def _stale_linked_qty(self):
        """Lines whose stored linked quantity differs from their links'."""
        problems = []
        for label, table, column in (
            ("sales line", "sale_order_line", "sale_line_id"),
            ("purchase line", "purchase_order_line", "purchase_line_id"),
        ):
            rows = self.env.execute_query(
                SQL(
                    """
                    SELECT %(label)s || ' ' || t.id || ': stored '
                           || t.backorder_linked_qty || ', links '
                           || COALESCE(s.qty, 0)
                      FROM %(table)s t
                 LEFT JOIN (SELECT %(column)s AS line_id, SUM(quantity) AS qty
                              FROM backorder_po_link
                             WHERE state IN %(active)s
                          GROUP BY %(column)s) s ON s.line_id = t.id
                     WHERE ABS(COALESCE(t.backorder_linked_qty, 0)
                               - COALESCE(s.qty, 0)) > 0.0001
                    """,
                    label=label,
                    table=SQL.identifier(table),
                    column=SQL.identifier(column),
                    active=ACTIVE_LINK_STATES,
                )
            )
            problems += [("stored linked quantity out of date", r[0]) for r in rows]
        return problems
