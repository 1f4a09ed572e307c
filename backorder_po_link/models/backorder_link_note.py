# Copyright 2026 backorder_po_link contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Chatter notes of backorder links, a reaction to links created or released.

Each change posts one note per sales order and per purchase order, listing a
line per link. The notes are written in bulk: one query reads the links, the
lines are formatted in Python, one ``INSERT`` writes every note (a PO
confirmation can touch hundreds of sales orders, a batch run tens of
thousands).

A note keeps what it lists as data (``mail.message.backorder_link_note``):
its ``body`` holds the note in the writer's language, for search and email
digests, while the chatter renders it again in the reader's language
(``mail.message._to_store``). Translations are applied through ``env._``,
whose fallback to the source text keeps a broken translation from breaking
the confirmation.
"""

import functools

import pytz
from markupsafe import Markup, escape

from odoo import api, fields, models
from odoo.tools import SQL
from odoo.tools.mail import generate_tracking_message_id
from odoo.tools.misc import format_date, formatLang

from .backorder_series import QTY_DIGITS, compute_author

KINDS = ("linked", "released")
# The values of a note line. The translated line is formatted once per note
# run with these names between MARK characters, then each row fills them in.
LINE_FIELDS = ("qty", "uom", "product", "other", "date")
MARK = "\x00"
MARKED_FIELDS = {field: f"{MARK}{field}{MARK}" for field in LINE_FIELDS}


def _html(text):
    """``text`` HTML-escaped, as a plain string (quicker to join than Markup)."""
    return str(escape(text))


def _html_sql(expr):
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


# strftime directives and the to_char patterns that print the same.
TO_CHAR = {"d": "DD", "m": "MM", "Y": "YYYY", "y": "YY", "H": "HH24", "M": "MI"}


def _to_char_format(date_format):
    """A ``to_char`` pattern printing as ``date_format`` (a language's
    strftime format) does; ISO dates for a directive it cannot print."""
    pattern, literal = [], ""
    parts = iter((date_format or "%Y-%m-%d").split("%"))
    literal = next(parts)
    for part in parts:
        if not part or part[0] not in TO_CHAR:
            return "YYYY-MM-DD"
        if literal:
            pattern.append('"' + literal.replace('"', "") + '"')
        pattern.append(TO_CHAR[part[0]])
        literal = part[1:]
    if literal:
        pattern.append('"' + literal.replace('"', "") + '"')
    return "".join(pattern)


def _product_label(default_code, name):
    return _html(f"[{default_code}] {name}" if default_code else name)


class BackorderLinkNote(models.AbstractModel):
    _name = "backorder.link.note"
    _description = "Chatter Notes of Backorder Links"

    # Subscribed to the links' changes (backorder.po.link._reactions).
    @api.model
    def _on_links_created(self, links, event):
        self._post_notes(dict.fromkeys(links.ids), "linked")

    @api.model
    def _on_links_released(self, released):
        self._post_notes({row[0]: row[3] for row in released}, "released")

    @api.model
    def _post_notes(self, quantities, kind):
        """One note per sales order and per purchase order of the links of
        ``quantities`` (link id: the quantity to show, None for the link's
        quantity), titled by ``kind`` ("linked" or "released"). One
        statement reads the links, renders each note in the writer's
        language (:meth:`_line_sql`) with its data for the readers, and
        inserts them all."""
        if kind not in KINDS:
            raise ValueError(f"unknown kind of backorder link note: {kind!r}")
        if not quantities:
            return
        link_ids = list(quantities)
        self.env.cr.execute(
            self._insert_sql(
                SQL(
                    """
                    WITH link_rows AS (%(rows)s),
                    sides AS (
                        SELECT 'sale.order' AS model, sale_order_id AS res_id, id,
                               qty, uom_id, product_id, po_name AS other,
                               qty_text, uom_text, product_text,
                               po_text AS other_text, date_text, expected_date
                          FROM link_rows
                     UNION ALL
                        SELECT 'purchase.order', purchase_order_id, id,
                               qty, uom_id, product_id, so_name,
                               qty_text, uom_text, product_text,
                               so_text, date_text, expected_date
                          FROM link_rows
                    )
                    SELECT model, res_id,
                           %(title)s || string_agg('<li>' || %(line)s || '</li>',
                                                   '' ORDER BY id) || '</ul>',
                           jsonb_build_object('kind', %(kind)s::text, 'rows', jsonb_agg(
                               jsonb_build_array(qty, uom_id, product_id, other,
                                   to_char(expected_date, 'YYYY-MM-DD HH24:MI:SS'))
                               ORDER BY id))
                      FROM sides
                  GROUP BY model, res_id
                  ORDER BY model DESC, res_id
                    """,
                    rows=self._link_rows_sql(
                        link_ids, [quantities[link_id] for link_id in link_ids]
                    ),
                    title=f"<p>{self._renderer_titles()[kind]}</p><ul>",
                    line=self._line_sql(),
                    kind=kind,
                )
            )
        )
        self.env["mail.message"].invalidate_model()
        self.env["sale.order"].invalidate_model(["message_ids"])
        self.env["purchase.order"].invalidate_model(["message_ids"])

    @api.model
    def _renderer_titles(self):
        return {
            "linked": _html(self.env._("Backorder links created:")),
            "released": _html(self.env._("Backorder links released:")),
        }

    @api.model
    def _line_sql(self):
        """The translated note line (:meth:`_line_parts`: escaped text
        pieces, bound, between the values' slots) as an SQL concatenation
        of the columns of ``sides``: a translation is text, never a
        format."""
        values = [
            SQL("qty_text"),
            SQL("uom_text"),
            SQL("product_text"),
            SQL("other_text"),
            SQL("date_text"),
            SQL("''"),
        ]
        return SQL(" || ").join(
            SQL("%s || %s", text, values[index]) for text, index in self._line_parts()
        )

    @api.model
    def _link_rows_sql(self, link_ids, quantities):
        """The links with what their notes show, escaped and formatted in
        this environment's language: quantities with the precision's digits
        and the language's separators, dates in its format and time zone
        (as ``formatLang`` and ``format_date`` do)."""
        lang = self.env["res.lang"]._lang_get(self.env.lang or "en_US")
        digits = self.env["decimal.precision"].precision_get(QTY_DIGITS)
        number = "FM999,999,999,990" + ("." + "0" * digits if digits else "")
        return SQL(
            """
            SELECT l.id, l.sale_order_id, l.purchase_order_id, pt.uom_id,
                   l.product_id, so.name AS so_name, po.name AS po_name,
                   l.expected_date, COALESCE(q.qty, l.quantity)::float8 AS qty,
                   replace(replace(translate(
                       to_char(COALESCE(q.qty, l.quantity), %(number)s),
                       ',.', chr(1) || chr(2)), chr(1), %(sep)s), chr(2), %(point)s)
                       AS qty_text,
                   %(uom)s AS uom_text, %(product)s AS product_text,
                   %(so_name)s AS so_text, %(po_name)s AS po_text,
                   COALESCE(to_char(
                       (l.expected_date AT TIME ZONE 'UTC') AT TIME ZONE %(tz)s,
                       %(date_format)s), '?') AS date_text
              FROM unnest(%(ids)s::int[], %(qtys)s::numeric[]) AS q(id, qty)
              JOIN backorder_po_link l ON l.id = q.id
              JOIN sale_order so ON so.id = l.sale_order_id
              JOIN purchase_order po ON po.id = l.purchase_order_id
              JOIN product_product pp ON pp.id = l.product_id
              JOIN product_template pt ON pt.id = pp.product_tmpl_id
              JOIN uom_uom uom ON uom.id = pt.uom_id
            """,
            ids=link_ids,
            qtys=quantities,
            number=number,
            sep=_html(lang.thousands_sep or ""),
            point=_html(lang.decimal_point or "."),
            uom=_html_sql(
                SQL("COALESCE(uom.name->>%s, uom.name->>'en_US')", lang.code)
            ),
            product=_html_sql(
                SQL(
                    """CASE WHEN pp.default_code IS NOT NULL
                            THEN '[' || pp.default_code || '] ' ELSE '' END
                       || COALESCE(pt.name->>%s, pt.name->>'en_US')""",
                    lang.code,
                )
            ),
            so_name=_html_sql(SQL("so.name")),
            po_name=_html_sql(SQL("po.name")),
            tz=self._writer_tz(),
            date_format=_to_char_format(lang.date_format),
        )

    @api.model
    def _writer_tz(self):
        """The time zone ``format_date`` shows dates in here."""
        tz = self.env.context.get("tz") or self.env.user.tz
        return tz if tz in pytz.all_timezones_set else "UTC"

    @api.model
    def _insert_sql(self, notes_query):
        """Insert the notes that ``notes_query`` selects (model, res_id,
        body, data): the rows ``mail.thread._message_log_batch`` writes,
        without its per-message ORM work."""
        Thread = self.env["mail.thread"]
        author_id, email_from = compute_author(Thread)
        return SQL(
            """
            INSERT INTO mail_message (
                model, res_id, body, backorder_link_note, message_type,
                subtype_id, is_internal, author_id, email_from, reply_to,
                message_id, email_add_signature, date,
                create_uid, create_date, write_uid, write_date)
            SELECT n.model, n.res_id, n.body, n.data, 'notification',
                   %(subtype)s, TRUE, %(author)s, %(email_from)s, %(reply_to)s,
                   %(message_id)s, FALSE, %(now)s,
                   %(uid)s, %(now)s, %(uid)s, %(now)s
              FROM (%(notes)s) AS n(model, res_id, body, data)
            """,
            notes=notes_query,
            subtype=self.env["ir.model.data"]._xmlid_to_res_id("mail.mt_note"),
            author=author_id,
            email_from=email_from,
            reply_to=Thread._notify_get_reply_to(default=email_from)[False],
            message_id=generate_tracking_message_id("message-notify"),
            now=fields.Datetime.now(),
            uid=self.env.uid,
        )

    @api.model
    def _render_stored(self, notes):
        """{message id: body} of ``notes`` (message id: the note's data),
        rendered in this environment's language (the reader's). A note whose
        product or unit has gone since keeps its stored body."""
        notes = {
            message_id: note
            for message_id, note in notes.items()
            if isinstance(note, dict) and note.get("kind") in KINDS
        }
        rows = [row for note in notes.values() for row in note["rows"]]
        # sudo: the names the note already shows, now in the reader's language.
        products = (
            self.env["product.product"].sudo().browse(sorted({r[2] for r in rows}))
        )
        uoms = self.env["uom.uom"].sudo().browse(sorted({r[1] for r in rows}))
        labels = {
            product.id: _product_label(product.default_code, product.name)
            for product in products.exists()
        }
        uom_names = {uom.id: _html(uom.name) for uom in uoms.exists()}
        render = self._renderer()
        return {
            message_id: Markup(render(note["kind"], note["rows"], labels, uom_names))
            for message_id, note in notes.items()
            if all(row[2] in labels and row[1] in uom_names for row in note["rows"])
        }

    @api.model
    def _renderer(self):
        """``render(kind, rows, labels, uoms)``: the HTML body of a note in
        this environment's language, ``labels`` and ``uoms`` mapping product
        and unit ids to escaped names. The translated texts and the format of
        each distinct quantity and date are worked out once per call: a batch
        run formats tens of thousands of rows."""
        env = self.env
        titles = self._renderer_titles()
        line = self._line_parts()
        number = functools.cache(
            lambda value: _html(formatLang(env, value, dp=QTY_DIGITS))
        )
        date = functools.cache(
            lambda value: _html(format_date(env, value) if value else "?")
        )
        name = functools.cache(_html)

        def render(kind, rows, labels, uoms):
            items = []
            for qty, uom_id, product_id, other, expected in rows:
                values = (
                    number(qty),
                    uoms[uom_id],
                    labels[product_id],
                    name(other),
                    date(expected),
                    "",
                )
                items.append("".join([text + values[index] for text, index in line]))
            return f"<p>{titles[kind]}</p><ul><li>{'</li><li>'.join(items)}</li></ul>"

        return render

    @api.model
    def _line_parts(self):
        """The translated note line as ``[(escaped text, index)]``: each text
        is followed by the value at ``index`` of the ``LINE_FIELDS`` (the last
        by an empty one). ``env._`` formats it once with the marked field
        names, so a translation whose placeholders don't fit falls back to the
        source text, as Odoo does, instead of breaking the note."""
        marked = self.env._(
            "%(qty)s %(uom)s %(product)s → %(other)s (expected %(date)s)",
            **MARKED_FIELDS,
        )
        parts, text = [], ""
        # Between two marks, a field name; the rest is text.
        for position, piece in enumerate(marked.split(MARK)):
            if position % 2 and piece in LINE_FIELDS:
                parts.append((_html(text), LINE_FIELDS.index(piece)))
                text = ""
            else:
                text += piece
        parts.append((_html(text), len(LINE_FIELDS)))
        return parts
