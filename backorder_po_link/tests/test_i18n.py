# Copyright 2026 backorder_po_link contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import ast
import re
from collections import Counter
from pathlib import Path

from babel.messages import pofile
from lxml import etree

from odoo.exceptions import ValidationError
from odoo.tests import TransactionCase, tagged
from odoo.tools.translate import TranslationModuleReader

MODULE = "backorder_po_link"
ADDON = Path(__file__).resolve().parent.parent
I18N = ADDON / "i18n"
POT = I18N / f"{MODULE}.pot"
LANGS = {"fr": "fr_FR"}
# printf-style (%s, %(name)s, %%), QWeb/inline_template ({{ expr }}) and
# str.format ({name}) placeholders. No space flag: "100 % de" is text.
PLACEHOLDER = re.compile(
    r"%%|%(?:\([^)]*\))?[#0+-]*\d*(?:\.\d+)?[sdifr]|\{\{.*?\}\}|\{[\w.]*\}", re.DOTALL
)
TAG = re.compile(r"<[^<>]+>")
# Terms spelt the same in a language: OCA's po-pretty-format (make lint)
# wants their msgstr empty, so an empty msgstr is accepted for these only.
SAME_AS_SOURCE = {"fr": {"Contact", "ID", "Message", "Total"}}
HINT = "run `make i18n` to export the terms again (tools/i18n.sh)"


def _read_po(path):
    with open(path, "rb") as f:
        return pofile.read_po(f)


def _ids(catalog):
    return {msg.id for msg in catalog if msg.id}


def _short(msgid, width=100):
    msgid = " ".join(msgid.split())
    return msgid if len(msgid) <= width else msgid[: width - 3] + "..."


@tagged("post_install", "-at_install")
class TestI18n(TransactionCase):
    """The committed translation template holds every translatable term of the
    addon, and every language file translates all of them."""

    @classmethod
    def _demo_xmlids(cls):
        """External ids created by the manifest's demo files (and the parent
        records _inherits derives from them, like <id>_product_template)."""
        manifest = ast.literal_eval((ADDON / "__manifest__.py").read_text())
        xmlids = set()
        for name in manifest.get("demo", []):
            for node in etree.parse(str(ADDON / name)).xpath("//*[@id]"):
                xmlid = node.get("id")
                xmlids.add(xmlid if "." in xmlid else f"{MODULE}.{xmlid}")
        return xmlids

    @classmethod
    def _exported_terms(cls):
        """{msgid: [source, ...]} as `odoo-bin --i18n-export --modules=...`
        exports them from this database, without demo data terms."""
        demo = cls._demo_xmlids()

        def is_demo(xmlid):
            return xmlid in demo or any(xmlid.startswith(d + "_") for d in demo)

        terms = {}
        reader = TranslationModuleReader(cls.env.cr, modules=[MODULE])
        for module, ttype, name, res_id, source, _value, _comments in reader:
            if module != MODULE:
                continue
            sources = terms.setdefault(source, [])
            if ttype == "code":
                sources.append(f"{name}:{res_id}")
            elif not is_demo(str(res_id)):
                sources.append(f"{ttype}:{name}:{res_id}")
        return {msgid: where for msgid, where in terms.items() if where}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.exported = cls._exported_terms()
        cls.pot_ids = _ids(_read_po(POT))

    def test_pot_holds_every_exported_term(self):
        missing = sorted(set(self.exported) - self.pot_ids)
        if missing:
            lines = "\n".join(
                f"  - {_short(msgid)!r}  ({self.exported[msgid][0]})"
                for msgid in missing
            )
            self.fail(
                f"{len(missing)} translatable term(s) are missing from "
                f"{POT.relative_to(ADDON.parent)}; {HINT}:\n{lines}"
            )

    def test_pot_has_no_stale_term(self):
        stale = sorted(self.pot_ids - set(self.exported))
        if stale:
            lines = "\n".join(f"  - {_short(msgid)!r}" for msgid in stale)
            self.fail(
                f"{len(stale)} term(s) of {POT.relative_to(ADDON.parent)} are no "
                f"longer in the addon; {HINT}:\n{lines}"
            )

    def test_languages_translate_every_term(self):
        self.assertTrue(self.pot_ids)
        for lang in LANGS:
            path = I18N / f"{lang}.po"
            with self.subTest(lang=lang):
                self.assertTrue(path.exists(), f"{path} is missing")
                catalog = _read_po(path)
                self.assertTrue(
                    catalog.plural_forms and "nplurals=2" in catalog.plural_forms,
                    f"{path.name}: no Plural-Forms header for {lang}",
                )
                problems = []
                by_id = {msg.id: msg for msg in catalog if msg.id}
                for msgid in sorted(set(by_id) - self.pot_ids):
                    problems.append(f"not in the .pot ({HINT}): {_short(msgid)!r}")
                for msgid in sorted(self.pot_ids):
                    msg = by_id.get(msgid)
                    if msg is None:
                        problems.append(f"missing ({HINT}): {_short(msgid)!r}")
                        continue
                    if not msg.string or not msg.string.strip():
                        if msgid not in SAME_AS_SOURCE.get(lang, ()):
                            problems.append(f"untranslated: {_short(msgid)!r}")
                        continue
                    if msg.fuzzy:
                        problems.append(f"fuzzy: {_short(msgid)!r}")
                    for what, regex in (("placeholders", PLACEHOLDER), ("tags", TAG)):
                        expected = Counter(regex.findall(msgid))
                        found = Counter(regex.findall(msg.string))
                        if expected != found:
                            problems.append(
                                f"{what} differ: {_short(msgid)!r}: translation "
                                f"lacks {sorted((expected - found).elements())}, "
                                f"adds {sorted((found - expected).elements())}"
                            )
                if problems:
                    lines = "\n".join(f"  - {p}" for p in problems)
                    self.fail(f"{path.name}: {len(problems)} problem(s):\n{lines}")

    def test_french_loads_and_translates(self):
        """fr.po loads without a warning; labels, selections, views and
        Python messages then come out in French."""
        self.env["res.lang"]._activate_lang("fr_FR")
        with self.assertNoLogs("odoo", level="WARNING"):
            self.env["ir.module.module"]._load_module_terms(
                [MODULE], ["fr_FR"], overwrite=True
            )
        env_fr = self.env(context=dict(self.env.context, lang="fr_FR"))
        line_fields = env_fr["sale.order.line"].fields_get(
            ["backorder_qty", "backorder_status"], ["string", "selection"]
        )
        self.assertEqual(line_fields["backorder_qty"]["string"], "En reliquat")
        self.assertIn(
            ("linked", "En commande"), line_fields["backorder_status"]["selection"]
        )
        self.assertEqual(
            env_fr.ref(f"{MODULE}.backorder_po_link_action").name, "Liens de reliquat"
        )
        template = self.env.ref(f"{MODULE}.mail_template_backorder_confirmed")
        partner = self.env["res.partner"].create({"name": "Lucie", "lang": "fr_FR"})
        order = self.env["sale.order"].create({"partner_id": partner.id})
        subject = template._render_field("subject", order.ids, compute_lang=True)
        self.assertEqual(
            subject[order.id],
            f"{order.company_id.name} : vos articles en reliquat de la commande "
            f"{order.name}",
        )
        body = template._render_field("body_html", order.ids, compute_lang=True)
        self.assertIn("Bonjour Lucie,", body[order.id])
        self.assertIn("Cordialement,", body[order.id])
        company = env_fr.company
        with self.assertRaisesRegex(ValidationError, r"entre 0 et 100 %, et non 150"):
            company.backorder_min_deposit_percent = 150
