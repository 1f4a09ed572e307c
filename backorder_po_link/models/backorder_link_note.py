# Copyright 2026 backorder_po_link contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Chatter notes: a reaction to the links' changes."""

from markupsafe import escape

from odoo import api, fields, models
from odoo.tools import SQL
from odoo.tools.mail import generate_tracking_message_id


def _html_escape(expr):
    """SQL for ``markupsafe.escape`` of a text expression."""
    for char, entity in (
        ("&", "&amp;"),
        ("<", "&lt;"),
        (">", "&gt;"),
        ('"', "&#34;"),
        ("'", "&#39;"),
    ):
        expr = SQL("replace(%s, %s, %s)", expr, char, entity)
    return expr


class BackorderLinkNote(models.AbstractModel):
    _name = "backorder.link.note"
    _description = "Backorder Link Notes"

    @api.model
    def _on_links_created(self, links, event):
        self._post_notes(dict.fromkeys(links.ids), "linked")

    @api.model
    def _on_links_released(self, released):
        self._post_notes({row[0]: row[3] for row in released}, "released")

    @api.model
    def _post_notes(self, quantities, kind):
        """One note per sales order and per purchase order: a title for
        ``kind`` (``linked``, ``released``) and a line per link.
        ``quantities`` maps link ids to the quantity to show (None: the
        link's quantity).

        The notes are the rows ``mail.thread._message_log_batch`` writes, built
        and inserted by one statement without the per-message ORM work: a PO
        confirmation can touch hundreds of sales orders, a batch run tens of
        thousands. Every value is HTML-escaped in SQL."""
        if not quantities:
            return
        title = (
            self.env._("Backorder links created:")
            if kind == "linked"
            else self.env._("Backorder links released:")
        )
        Thread = self.env["mail.thread"]
        author_id, email_from = Thread._message_compute_author(
            None, None, raise_on_email=False
        )
        lang = self.env.lang or "en_US"
        # The translated line, its named placeholders made positional for
        # PostgreSQL's format(); the text itself is escaped once, here.
        line_format = str(
            escape(
                self.env._(
                    "%(qty)s %(uom)s %(product)s → %(other)s (expected %(date)s)"
                )
            )
        )
        for position, name in enumerate(
            ("qty", "uom", "product", "other", "date"), start=1
        ):
            line_format = line_format.replace(f"%({name})s", f"%{position}$s")
        common = {
            "header": f"<p>{escape(title)}</p><ul>",
            "line_format": line_format,
            "subtype": self.env["ir.model.data"]._xmlid_to_res_id("mail.mt_note"),
            "author": author_id,
            "email_from": email_from,
            "reply_to": Thread._notify_get_reply_to(default=email_from)[False],
            "message_id": generate_tracking_message_id("message-notify"),
            "now": fields.Datetime.now(),
            "uid": self.env.uid,
        }

        def note(model, res_id, other):
            """The notes of one side: a row per order of ``res_id``."""
            return SQL(
                """
                SELECT %(model)s, grouped.res_id,
                       %(header)s || string_agg(grouped.item, '' ORDER BY grouped.id)
                       || '</ul>',
                       'notification', %(subtype)s, TRUE, %(author)s,
                       %(email_from)s, %(reply_to)s, %(message_id)s, FALSE,
                       %(now)s, %(uid)s, %(now)s, %(uid)s, %(now)s
                  FROM (SELECT id, %(res_id)s AS res_id,
                               '<li>' || format(%(line_format)s, qty, uom, product,
                                                %(other)s, date) || '</li>' AS item
                          FROM link_rows) grouped
              GROUP BY grouped.res_id
                """,
                model=model,
                res_id=SQL.identifier(res_id),
                other=SQL.identifier(other),
                **common,
            )

        columns = SQL(
            """mail_message (
                    model, res_id, body, message_type, subtype_id, is_internal,
                    author_id, email_from, reply_to, message_id,
                    email_add_signature, date,
                    create_uid, create_date, write_uid, write_date)"""
        )
        link_ids = list(quantities)
        self.env.cr.execute(
            SQL(
                """
                WITH link_rows AS (
                    SELECT l.id, l.sale_order_id, l.purchase_order_id,
                           COALESCE(q.qty, l.quantity)::float8::text AS qty,
                           %(uom)s AS uom, %(product)s AS product,
                           %(so_name)s AS so_name, %(po_name)s AS po_name,
                           COALESCE(to_char(l.expected_date, 'YYYY-MM-DD'), '?')
                               AS date
                      FROM unnest(%(ids)s::int[], %(qtys)s::numeric[]) AS q(id, qty)
                      JOIN backorder_po_link l ON l.id = q.id
                      JOIN sale_order so ON so.id = l.sale_order_id
                      JOIN purchase_order po ON po.id = l.purchase_order_id
                      JOIN product_product pp ON pp.id = l.product_id
                      JOIN product_template pt ON pt.id = pp.product_tmpl_id
                      JOIN uom_uom uom ON uom.id = pt.uom_id
                ),
                sale_notes AS (INSERT INTO %(columns)s %(sale_note)s)
                INSERT INTO %(columns)s %(purchase_note)s
                """,
                ids=link_ids,
                qtys=[quantities[link_id] for link_id in link_ids],
                uom=_html_escape(
                    SQL("COALESCE(uom.name->>%s, uom.name->>'en_US')", lang)
                ),
                product=_html_escape(
                    SQL(
                        """CASE WHEN pp.default_code IS NOT NULL
                                THEN '[' || pp.default_code || '] ' ELSE '' END
                           || COALESCE(pt.name->>%s, pt.name->>'en_US')""",
                        lang,
                    )
                ),
                so_name=_html_escape(SQL("so.name")),
                po_name=_html_escape(SQL("po.name")),
                columns=columns,
                sale_note=note("sale.order", "sale_order_id", "po_name"),
                purchase_note=note("purchase.order", "purchase_order_id", "so_name"),
            )
        )
        self.env["mail.message"].invalidate_model()
        self.env["sale.order"].invalidate_model(["message_ids"])
        self.env["purchase.order"].invalidate_model(["message_ids"])
