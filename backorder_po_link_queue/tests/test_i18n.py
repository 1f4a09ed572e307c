# Copyright 2026 backorder_po_link contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from collections import Counter
from pathlib import Path

from odoo import Command
from odoo.tests import tagged
from odoo.tools.translate import TranslationModuleReader

from odoo.addons.backorder_po_link.tests.common import BackorderCommon

# The same checks as the main addon's: one placeholder and tag grammar.
from odoo.addons.backorder_po_link.tests.test_i18n import (
    HINT,
    PLACEHOLDER,
    TAG,
    _ids,
    _read_po,
    _short,
)

# isort: off
from . import compat  # noqa: F401  (before queue_job's test helpers)
from odoo.addons.queue_job.tests.common import trap_jobs

# isort: on

MODULE = "backorder_po_link_queue"
ADDON = Path(__file__).resolve().parent.parent
I18N = ADDON / "i18n"
POT = I18N / f"{MODULE}.pot"
LANGS = {"fr": "fr_FR"}
# Terms spelt the same in a language (their msgstr stays empty, as OCA's
# po-pretty-format wants): none in this addon so far.
SAME_AS_SOURCE = {"fr": set()}


@tagged("post_install", "-at_install")
class TestQueueI18n(BackorderCommon):
    """The committed translation template holds every translatable term of
    the queue addon, every language file translates all of them, and jobs
    queued in French are described and report in French."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        terms = {}
        reader = TranslationModuleReader(cls.env.cr, modules=[MODULE])
        for module, ttype, name, res_id, source, _value, _comments in reader:
            # Odoo 19.0 also gives every module the ``id`` and
            # ``display_name`` of the models it extends (Odoo translates
            # them itself); this addon declares none of its own.
            if str(res_id).endswith(("__id", "__display_name")):
                continue
            if module == MODULE:
                where = f"{name}:{res_id}" if ttype == "code" else f"{ttype}:{name}"
                terms.setdefault(source, []).append(where)
        cls.exported = terms
        cls.pot_ids = _ids(_read_po(POT))

    def test_pot_matches_the_exported_terms(self):
        where = POT.relative_to(ADDON.parent)
        missing = sorted(set(self.exported) - self.pot_ids)
        stale = sorted(self.pot_ids - set(self.exported))
        problems = [
            f"missing from {where}: {_short(msgid)!r} ({self.exported[msgid][0]})"
            for msgid in missing
        ] + [f"no longer in the addon: {_short(msgid)!r}" for msgid in stale]
        if problems:
            lines = "\n".join(f"  - {p}" for p in problems)
            self.fail(f"{where} is out of date; {HINT}:\n{lines}")

    def _language_problems(self, lang, path):
        catalog = _read_po(path)
        if not catalog.plural_forms or "nplurals=2" not in catalog.plural_forms:
            yield f"no Plural-Forms header for {lang}"
        by_id = {msg.id: msg for msg in catalog if msg.id}
        for msgid in sorted(set(by_id) - self.pot_ids):
            yield f"not in the .pot ({HINT}): {_short(msgid)!r}"
        for msgid in sorted(self.pot_ids):
            msg = by_id.get(msgid)
            if msg is None:
                yield f"missing ({HINT}): {_short(msgid)!r}"
                continue
            if not msg.string or not msg.string.strip():
                if msgid not in SAME_AS_SOURCE.get(lang, ()):
                    yield f"untranslated: {_short(msgid)!r}"
                continue
            if msg.fuzzy:
                yield f"fuzzy: {_short(msgid)!r}"
            for what, regex in (("placeholders", PLACEHOLDER), ("tags", TAG)):
                expected = Counter(regex.findall(msgid))
                found = Counter(regex.findall(msg.string))
                if expected != found:
                    yield (
                        f"{what} differ: {_short(msgid)!r}: translation lacks "
                        f"{sorted((expected - found).elements())}, adds "
                        f"{sorted((found - expected).elements())}"
                    )

    def test_languages_translate_every_term(self):
        self.assertTrue(self.pot_ids)
        for lang in LANGS:
            path = I18N / f"{lang}.po"
            with self.subTest(lang=lang):
                self.assertTrue(path.exists(), f"{path} is missing")
                problems = list(self._language_problems(lang, path))
                if problems:
                    lines = "\n".join(f"  - {p}" for p in problems)
                    self.fail(f"{path.name}: {len(problems)} problem(s):\n{lines}")

    def _french_backorder(self):
        """fr.po loaded (without a warning); a sales line of 3 that waits for
        2 on order, not linked yet, and no RFQ for the third unit."""
        self.env["res.lang"]._activate_lang("fr_FR")
        with self.assertNoLogs("odoo", level="WARNING"):
            self.env["ir.module.module"]._load_module_terms(
                [MODULE], ["fr_FR"], overwrite=True
            )
        # Confirmed with linking off, so that the queued run has work to do.
        self.company.backorder_link_on_po_confirm = False
        self.company.backorder_link_on_so_confirm = False
        self.product.seller_ids = [Command.create({"partner_id": self.vendor.id})]
        self._create_so([(self.product, 3)])
        self._create_po([(self.product, 2)])
        self.company.backorder_link_on_po_confirm = True
        self.company.backorder_auto_rfq = True

    def _french_job(self, model, method, *args):
        """The one job that ``method`` of ``model`` queues for a user working
        in French, performed (a job keeps the language it was queued in)."""
        with trap_jobs() as trap:
            getattr(self.env[model].with_context(lang="fr_FR"), method)(*args)
            trap.assert_jobs_count(1)
            job = trap.enqueued_jobs[0]
            trap.perform_enqueued_jobs()
        return job

    def test_link_job_in_french(self):
        self._french_backorder()
        job = self._french_job("backorder.allocator", "_enqueue_auto_link")
        self.assertEqual(
            job.description,
            "Reliquats : liaison automatique de 1 produit(s) (identifiants "
            f"{self.product.id} à {self.product.id})",
        )
        self.assertEqual(job.result, "1 lien(s) de reliquat créé(s)")
        self.assertEqual(self._links(state="linked").mapped("quantity"), [2])

    def test_rfq_job_in_french(self):
        self._french_backorder()
        job = self._french_job(
            "backorder.purchase.report", "_enqueue_auto_rfqs", self.company
        )
        self.assertEqual(
            job.description,
            f"Reliquats : demandes de prix de {self.company.name} pour 1 produit(s)",
        )
        self.assertEqual(job.result, "Demandes de prix mises à jour pour 1 produit(s)")
        rfq = self.env["purchase.order"].search(
            [("state", "=", "draft"), ("partner_id", "=", self.vendor.id)]
        )
        self.assertEqual(rfq.order_line.mapped("product_qty"), [1])
