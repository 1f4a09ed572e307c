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
import json

from markupsafe import Markup, escape

from odoo import api, fields, models
from odoo.tools import SQL
from odoo.tools.mail import generate_tracking_message_id
from odoo.tools.misc import format_date, formatLang

KINDS = ("linked", "released")
# The values of a note line. The translated line is formatted once per note
# run with these names between MARK characters, then each row fills them in.
LINE_FIELDS = ("qty", "uom", "product", "other", "date")
MARK = "\x00"
MARKED_FIELDS = {field: f"{MARK}{field}{MARK}" for field in LINE_FIELDS}


def _html(text):
    """``text`` HTML-escaped, as a plain string (quicker to join than Markup)."""
    return str(escape(text))


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
        quantity), titled by ``kind`` ("linked" or "released")."""
        if kind not in KINDS:
            raise ValueError(f"unknown kind of backorder link note: {kind!r}")
        if not quantities:
            return
        labels, uoms, dates = {}, {}, {}
        notes = {"sale.order": {}, "purchase.order": {}}
        for row in self._note_rows(quantities):
            so_id, po_id, qty, uom_id, product_id, so_name, po_name, expected = row[:8]
            if product_id not in labels:
                labels[product_id] = _product_label(row[8], row[9])
                uoms[uom_id] = _html(row[10])
            if expected not in dates:
                dates[expected] = fields.Datetime.to_string(expected) or None
            for model, res_id, other in (
                ("sale.order", so_id, po_name),
                ("purchase.order", po_id, so_name),
            ):
                notes[model].setdefault(res_id, []).append(
                    [float(qty), uom_id, product_id, other, dates[expected]]
                )
        render = self._renderer()
        self._insert_notes(
            [
                (
                    model,
                    res_id,
                    render(kind, rows, labels, uoms),
                    json.dumps({"kind": kind, "rows": rows}),
                )
                for model, by_order in notes.items()
                for res_id, rows in sorted(by_order.items())
            ]
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
        titles = {
            "linked": _html(env._("Backorder links created:")),
            "released": _html(env._("Backorder links released:")),
        }
        line = self._line_parts()
        number = functools.cache(
            lambda value: _html(formatLang(env, value, dp="Product Unit of Measure"))
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

    @api.model
    def _note_rows(self, quantities):
        """The links of ``quantities`` in link order, with the names of their
        orders and their product and unit in this environment's language."""
        link_ids = list(quantities)
        lang = self.env.lang or "en_US"
        return self.env.execute_query(
            SQL(
                """
                SELECT l.sale_order_id, l.purchase_order_id,
                       COALESCE(q.qty, l.quantity), pt.uom_id, l.product_id,
                       so.name, po.name, l.expected_date, pp.default_code,
                       COALESCE(pt.name->>%(lang)s, pt.name->>'en_US'),
                       COALESCE(uom.name->>%(lang)s, uom.name->>'en_US')
                  FROM unnest(%(ids)s::int[], %(qtys)s::numeric[]) AS q(id, qty)
                  JOIN backorder_po_link l ON l.id = q.id
                  JOIN sale_order so ON so.id = l.sale_order_id
                  JOIN purchase_order po ON po.id = l.purchase_order_id
                  JOIN product_product pp ON pp.id = l.product_id
                  JOIN product_template pt ON pt.id = pp.product_tmpl_id
                  JOIN uom_uom uom ON uom.id = pt.uom_id
              ORDER BY l.id
                """,
                ids=link_ids,
                qtys=[quantities[link_id] for link_id in link_ids],
                lang=lang,
            )
        )

    @api.model
    def _insert_notes(self, notes):
        """Write ``notes`` (model, res_id, body, JSON data) with one
        ``INSERT``: the rows ``mail.thread._message_log_batch`` writes, without
        its per-message ORM work, and each note's data for its readers."""
        Thread = self.env["mail.thread"]
        author_id, email_from = Thread._message_compute_author(
            None, None, raise_on_email=False
        )
        thread_models, res_ids, bodies, data = (
            list(column) for column in zip(*notes, strict=True)
        )
        self.env.cr.execute(
            SQL(
                """
                INSERT INTO mail_message (
                    model, res_id, body, backorder_link_note, message_type,
                    subtype_id, is_internal, author_id, email_from, reply_to,
                    message_id, email_add_signature, date,
                    create_uid, create_date, write_uid, write_date)
                SELECT n.model, n.res_id, n.body, n.data::jsonb, 'notification',
                       %(subtype)s, TRUE, %(author)s, %(email_from)s, %(reply_to)s,
                       %(message_id)s, FALSE, %(now)s,
                       %(uid)s, %(now)s, %(uid)s, %(now)s
                  FROM unnest(%(models)s::varchar[], %(res_ids)s::int[],
                              %(bodies)s::text[], %(data)s::text[])
                       WITH ORDINALITY AS n(model, res_id, body, data, seq)
              ORDER BY n.seq
                """,
                models=thread_models,
                res_ids=res_ids,
                bodies=bodies,
                data=data,
                subtype=self.env["ir.model.data"]._xmlid_to_res_id("mail.mt_note"),
                author=author_id,
                email_from=email_from,
                reply_to=Thread._notify_get_reply_to(default=email_from)[False],
                message_id=generate_tracking_message_id("message-notify"),
                now=fields.Datetime.now(),
                uid=self.env.uid,
            )
        )
        self.env["mail.message"].invalidate_model()
        self.env["sale.order"].invalidate_model(["message_ids"])
        self.env["purchase.order"].invalidate_model(["message_ids"])
