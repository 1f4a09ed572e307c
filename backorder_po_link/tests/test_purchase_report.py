# Copyright 2026 backorder_po_link contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import re

from odoo.tests import tagged

from .common import BackorderCommon


@tagged("post_install", "-at_install")
class TestReportQuery(BackorderCommon):
    """Backorders to Purchase is a table query: Odoo flushes what it reads
    (``_depends``) before it searches, its ids stay put, no view is left."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Report = cls.env["backorder.purchase.report"]
        # 10 backordered, 6 linked, 3 more free on order: 1 to purchase.
        cls.so = cls._create_so([(cls.product, 10)])
        cls.po = cls._create_po([(cls.product, 6)])
        cls.company.backorder_link_on_po_confirm = False
        cls.po_free = cls._create_po([(cls.product, 3)])
        cls.env.flush_all()

    def _figures(self):
        """``[(uncovered backorders, free on order, free in stock)]`` of the
        product's rows, as a search of the report finds them."""
        # Rows keep their ids: what an earlier read cached would come back.
        self.Report.invalidate_model()
        rows = self.Report.search([("product_id", "=", self.product.id)])
        return [
            (row.backorder_qty, row.free_supply_qty, row.free_stock_qty) for row in rows
        ]

    def assertPending(self, records, fname):
        """The change is still in the ORM only: a search of the report that
        sees it flushed it (through ``_depends``)."""
        field = records._fields[fname]
        self.assertTrue(self.env.cache.has_dirty_fields(records, [field]), fname)

    def test_sees_pending_changes_of_each_side(self):
        self.assertEqual(self._figures(), [(4, 3, 0)])
        # Supply: the purchaser unticks "Allow Backorders to Attach".
        self.po_free.allow_backorder_link = False
        self.assertPending(self.po_free, "allow_backorder_link")
        self.assertEqual(self._figures(), [(4, 0, 0)])
        # Stock: a quant counted again.
        self._put_in_stock(self.product, 5)
        self.env.flush_all()
        quant = self.env["stock.quant"].search([("product_id", "=", self.product.id)])
        quant.quantity = 2
        self.assertPending(quant, "quantity")
        self.assertEqual(self._figures(), [(4, 0, 2)])
        # Demand: the delivery no longer takes the goods from stock.
        move = self.so.order_line.move_ids
        move.procure_method = "make_to_order"
        self.assertPending(move, "procure_method")
        self.assertFalse(self._figures())
        move.procure_method = "make_to_stock"
        # Units: backorders are rounded down to the product's rounding.
        self.product.uom_id.rounding = 3
        self.assertPending(self.product.uom_id, "rounding")
        self.assertEqual(self._figures(), [(3, 0, 2)])

    def test_sees_link_and_purchase_line_changes_at_once(self):
        """A link's quantity and a purchase line's written in the ORM, the
        report searched right away, without flushing by hand."""
        self.po.order_line.backorder_link_ids.quantity = 2
        self.assertEqual(self._figures(), [(8, 7, 0)])
        self.po_free.order_line.product_qty = 5
        self.assertEqual(self._figures(), [(8, 9, 0)])
        self.assertEqual(self.product.backorder_qty_to_purchase, 0)

    def test_depends_name_every_column_read(self):
        """Each ``alias.column`` of the query, the rules' pieces included, is
        a field of ``_depends`` (or a column of a many2many of them)."""
        code = self.Report._table_query.code.replace('"', "")
        by_table = {}
        for model_name, fnames in self.Report._depends.items():
            model = self.env[model_name]
            for fname in fnames:
                field = model._fields[fname]
                self.assertTrue(field.store, f"{model_name}.{fname}")
                if field.type == "many2many":
                    by_table.setdefault(field.relation, set()).update(
                        {field.column1, field.column2}
                    )
                else:
                    by_table.setdefault(model._table, {"id"}).add(fname)
        # The names of WITH queries (recursive ones with their columns).
        named = set(re.findall(r"\b([a-z_]+)(?:\([a-z_, ]*\))? AS \(", code))
        aliases = {}
        for table, alias in re.findall(r"(?:FROM|JOIN) ([a-z_]+) ([a-z_]+)", code):
            if table not in named:
                aliases.setdefault(alias, set()).add(table)
        for table in re.findall(r"(?:FROM|JOIN) ([a-z_]+)\b", code):
            self.assertTrue(table in named or table in by_table, table)
        for alias, column in set(re.findall(r"\b([a-z_]+)\.([a-z_]+)\b", code)):
            for table in aliases.get(alias, ()):
                self.assertIn(column, by_table[table], f"{table}.{column}")

    def test_row_ids_name_the_same_rows_across_searches(self):
        """A row's id stays its own while other rows come and go (a row
        number would shift onto another product)."""
        later = self._create_product("Ash Bench")
        self._create_so([(later, 2)])
        row = self.Report.search([("product_id", "=", later.id)])
        self.so._action_cancel()
        self.env.invalidate_all()
        self.assertEqual(self.Report.search([]), row)
        self.assertEqual(self.Report.browse(row.id).product_id, later)
        self.assertEqual(self.Report.browse(row.id).backorder_qty, 2)

    def test_init_drops_the_view_of_earlier_versions(self):
        """Upgraded databases had the report as a view of the same name."""
        cr = self.env.cr
        cr.execute("CREATE VIEW backorder_purchase_report AS SELECT 1 AS id")
        self.Report.init()
        cr.execute("SELECT to_regclass('backorder_purchase_report')")
        self.assertIsNone(cr.fetchone()[0])
        self.assertEqual(self._figures(), [(4, 3, 0)])
