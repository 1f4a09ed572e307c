# Copyright 2026 backorder_po_link contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import date, datetime, time, timedelta

from odoo.tests import HttpCase, tagged
from odoo.tools.misc import ReadonlyDict
from odoo.tools.translate import code_translations

from .common import BackorderCommon

MODULE = "backorder_po_link"
LINE = "%(qty)s %(uom)s %(product)s → %(other)s (expected %(date)s)"
# Salespeople and purchasers whose confirmations link backorders.
ROLES = (
    "sales_team.group_sale_salesman_all_leads,purchase.group_purchase_user,"
    "backorder_po_link.group_backorder_auto_link"
)


@tagged("post_install", "-at_install")
class TestLinkNotes(BackorderCommon, HttpCase):
    """The chatter notes of links, in the language of whoever opens the
    chatter, whatever a translator wrote."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("fr_FR")
        cls.product.with_context(lang="fr_FR").name = "Chaise & <b>chêne</b>"
        cls.uom_unit.with_context(lang="fr_FR").name = "Unités"
        cls.french = cls._new_user("bo_note_fr", ROLES, lang="fr_FR", tz="Europe/Paris")
        cls.english = cls._new_user(
            "bo_note_en", ROLES, lang="en_US", tz="Europe/Paris"
        )
        # The 20th at noon UTC: the same day for every reader, and told
        # apart in day/month and month/day order.
        cls.expected = (date.today() + timedelta(days=40)).replace(day=20)
        cls.fr_date = cls.expected.strftime("%d/%m/%Y")
        cls.en_date = cls.expected.strftime("%m/%d/%Y")

    def _confirm_po(self, user, quantity):
        """A purchase order of ``quantity`` chairs expected on
        ``self.expected``, confirmed by ``user`` in their language."""
        po = self._create_po([(self.product, quantity)], confirm=False)
        po.order_line.date_planned = datetime.combine(self.expected, time(12))
        po.with_user(user).with_context(lang=user.lang).button_confirm()
        self.assertEqual(po.state, "purchase")
        return po

    def _chatter(self, user, order, title):
        """The bodies of ``order``'s notes starting with ``title``, as the
        chatter of ``user`` receives them (/mail/thread/messages)."""
        self.authenticate(user.login, user.login)
        result = self.make_jsonrpc_request(
            "/mail/thread/messages",
            {"thread_model": order._name, "thread_id": order.id},
        )
        # An HTML body comes as a string (18.0) or as ["markup", html] (19.0).
        bodies = (
            message.get("body") or "" for message in result["data"]["mail.message"]
        )
        bodies = (body[-1] if isinstance(body, list) else body for body in bodies)
        return [body for body in bodies if body.startswith(f"<p>{title}</p>")]

    def _note(self, order, title):
        return order.message_ids.filtered(
            lambda m: (m.body or "").startswith(f"<p>{title}</p>")
        )

    def _fr(self, qty, other, expected="prévu le"):
        """A note line as a French reader reads it."""
        return (
            f"<li>{qty} Unités Chaise &amp; &lt;b&gt;chêne&lt;/b&gt; → "
            f"{other.name} ({expected} {self.fr_date})</li>"
        )

    def _en(self, qty, other):
        """A note line as an English reader reads it."""
        return (
            f"<li>{qty} Units Oak Chair → {other.name} (expected {self.en_date})</li>"
        )

    def test_readers_see_quantities_dates_and_names_in_their_language(self):
        so = self._create_so([(self.product, 2.5)])
        po = self._confirm_po(self.english, 4)
        self.assertIn(
            self._en("2.50", po), self._note(so, "Backorder links created:").body
        )
        title = "Liens de reliquat créés :"
        self.assertEqual(
            self._chatter(self.french, so, title),
            [f"<p>{title}</p><ul>{self._fr('2,50', po)}</ul>"],
        )
        self.assertEqual(
            self._chatter(self.french, po, title),
            [f"<p>{title}</p><ul>{self._fr('2,50', so)}</ul>"],
        )
        title = "Backorder links created:"
        self.assertEqual(
            self._chatter(self.english, so, title),
            [f"<p>{title}</p><ul>{self._en('2.50', po)}</ul>"],
        )

    def test_french_writer_stores_the_note_in_french(self):
        """The stored body (search, email digests) is in the writer's
        language; an English reader still gets it in English."""
        so = self._create_so([(self.product, 2.5)])
        po = self._confirm_po(self.french, 4)
        self.assertIn(
            self._fr("2,50", po), self._note(so, "Liens de reliquat créés :").body
        )
        title = "Backorder links created:"
        self.assertEqual(
            self._chatter(self.english, so, title),
            [f"<p>{title}</p><ul>{self._en('2.50', po)}</ul>"],
        )

    def test_broken_translation_of_the_line_falls_back_to_english(self):
        """A French translation of the line with a lone % or a wrong
        placeholder neither stops a French purchaser's confirmation nor the
        French chatter: the line falls back to the English text, with the
        values still in French."""
        key = (MODULE, "fr_FR")
        translations = code_translations.get_python_translations(*key)
        self.addCleanup(
            code_translations.python_translations.__setitem__, key, translations
        )
        title = "Liens de reliquat créés :"
        for broken in (
            "%(qty)s %(uom)s %(product)s → %(other)s (prévu le %(date)s) à 100 %",
            "%(quantité)s %(uom)s %(product)s → %(other)s (prévu le %(date)s)",
        ):
            with self.subTest(broken=broken):
                code_translations.python_translations[key] = ReadonlyDict(
                    {**translations, LINE: broken}
                )
                so = self._create_so([(self.product, 2.5)])
                with self.assertLogs("odoo.tools.translate", "ERROR") as logs:
                    po = self._confirm_po(self.french, 4)
                self.assertIn("Bad translation", logs.output[0])
                self.assertEqual(so.order_line.backorder_linked_qty, 2.5)
                fallback = self._fr("2,50", po, expected="expected")
                self.assertIn(fallback, self._note(so, title).body)
                with self.assertLogs("odoo.tools.translate", "ERROR"):
                    bodies = self._chatter(self.french, so, title)
                self.assertEqual(bodies, [f"<p>{title}</p><ul>{fallback}</ul>"])

    def test_release_notes_show_the_released_quantity_to_each_reader(self):
        so = self._create_so([(self.product, 4)])
        po = self._confirm_po(self.english, 8)
        # Odoo dates a line again when its quantity changes: keep the date.
        po.order_line.write(
            {"product_qty": 2.5, "date_planned": po.order_line.date_planned}
        )
        self.assertEqual(so.order_line.backorder_linked_qty, 2.5)
        title = "Backorder links released:"
        self.assertIn(self._en("1.50", po), self._note(so, title).body)
        self.assertEqual(
            self._chatter(self.english, po, title),
            [f"<p>{title}</p><ul>{self._en('1.50', so)}</ul>"],
        )
        title = "Liens de reliquat libérés :"
        self.assertEqual(
            self._chatter(self.french, so, title),
            [f"<p>{title}</p><ul>{self._fr('1,50', po)}</ul>"],
        )

    def test_unknown_kind_of_note_is_refused(self):
        with self.assertRaises(ValueError):
            self.env["backorder.link.note"]._post_notes({}, "moved")
