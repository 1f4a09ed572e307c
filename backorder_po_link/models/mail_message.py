# Copyright 2026 backorder_po_link contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Chatter notes of backorder links keep their data, so that each reader sees
them in their own language."""

from odoo import fields, models
from odoo.tools import SQL


class MailMessage(models.Model):
    _inherit = "mail.message"

    backorder_link_note = fields.Json(
        readonly=True,
        copy=False,
        help="What a chatter note of backorder links lists (its kind and rows), "
        "so that each reader sees it in their own language.",
    )

    def _to_store(self, store, *args, **kwargs):
        """The chatter's read path: notes of backorder links get their body
        rendered in the reader's language (``backorder.link.note``). The
        fields asked for come by keyword on Odoo 18.0 (none: all of them),
        first after the store on 19.0, which also changes the list."""
        wanted = args[0] if args else kwargs.get("fields")
        reads_body = wanted is None or "body" in wanted
        super()._to_store(store, *args, **kwargs)
        if not self or not reads_body:
            return
        # Read in SQL: the ORM deep-copies a Json value on every access, a
        # cost that shows on notes of thousands of lines.
        notes = dict(
            self.env.execute_query(
                SQL(
                    """SELECT id, backorder_link_note FROM mail_message
                        WHERE id = ANY(%s) AND backorder_link_note IS NOT NULL""",
                    self.ids,
                )
            )
        )
        if not notes:
            return
        bodies = self.env["backorder.link.note"]._render_stored(notes)
        for message_id, body in bodies.items():
            store.add(self.browse(message_id), {"body": body})
