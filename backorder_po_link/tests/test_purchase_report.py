# Copyright 2026 backorder_po_link contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import re
from contextlib import closing
from datetime import timedelta

from odoo import Command, fields
from odoo.tests import tagged

from odoo.addons.backorder_po_link.models.backorder_series import (
    UOM_OWN_ROUNDING,
    procurement_runner,
)

from .common import BackorderCommon
from .test_rules import MultiCompanyMixin


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
        if not UOM_OWN_ROUNDING:
            # 19.0: every unit rounds to the decimal precision (no field of
            # the unit to change).
            return
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


@tagged("post_install", "-at_install")
class TestRfqVendor(MultiCompanyMixin, BackorderCommon):
    """*Create RFQs* buys from the vendor Odoo's own buy rule would pick for
    what each row lacks, not the first vendor in sequence."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Report = cls.env["backorder.purchase.report"]
        cls.vendor_2 = cls.env["res.partner"].create({"name": "Birch & Co"})
        cls.today = fields.Date.context_today(cls.env.user)

    def _sellers(self, *values):
        """Vendor lines of cls.product, in sequence: ``(vendor, vals)``."""
        self.product.seller_ids = [
            Command.create({"partner_id": vendor.id, "sequence": seq, **vals})
            for seq, (vendor, vals) in enumerate(values, start=1)
        ]

    def _rfq_from_report(self):
        """Select the product's row in Backorders to Purchase, press *Create
        RFQs*: the RFQ line made."""
        row = self.Report.search([("product_id", "=", self.product.id)])
        action = row.action_create_rfq()
        order = self.env["purchase.order"].browse(action["res_id"])
        return order.order_line.filtered(lambda l: l.product_id == self.product)

    def _buy_rule_vendor(self, quantity):
        """The vendor Odoo's buy rule picks to replenish ``quantity`` of the
        product through the warehouse's Buy route (rolled back)."""
        Group = procurement_runner(self.env)
        with closing(self.env.cr.savepoint()):
            Group.run(
                [
                    Group.Procurement(
                        self.product,
                        quantity,
                        self.product.uom_id,
                        self.warehouse.lot_stock_id,
                        "buy rule",
                        "buy rule",
                        self.company,
                        {
                            "warehouse_id": self.warehouse,
                            "route_ids": self.warehouse.buy_pull_id.route_id,
                            "date_planned": fields.Datetime.now(),
                        },
                    )
                ]
            )
            line = self.env["purchase.order.line"].search(
                [("product_id", "=", self.product.id), ("state", "=", "draft")]
            )
            vendor = line.partner_id
        self.env.invalidate_all()
        return vendor

    def assertVendor(self, vendor, qty):
        """Odoo's buy rule buys ``qty`` from ``vendor``; so does *Create
        RFQs*, ordering ``qty``."""
        self.assertEqual(self._buy_rule_vendor(qty), vendor, "Odoo's buy rule")
        line = self._rfq_from_report()
        self.assertEqual(line.partner_id, vendor)
        self.assertEqual(line.product_qty, qty)
        return line

    def test_minimum_above_the_need_passes_to_the_next_vendor(self):
        self._sellers((self.vendor, {"min_qty": 50}), (self.vendor_2, {}))
        self._create_so([(self.product, 10)])
        self.assertVendor(self.vendor_2, 10)

    def test_expired_price_passes_to_the_next_vendor(self):
        yesterday = self.today - timedelta(days=1)
        last_month = yesterday - timedelta(days=30)
        self._sellers(
            (self.vendor, {"date_start": last_month, "date_end": yesterday}),
            (self.vendor_2, {}),
        )
        self._create_so([(self.product, 4)])
        self.assertVendor(self.vendor_2, 4)

    def test_another_companys_vendor_is_skipped(self):
        other = self._create_company("Other Co")
        self._sellers((self.vendor, {"company_id": other.id}), (self.vendor_2, {}))
        self._create_so([(self.product, 4)])
        self.assertVendor(self.vendor_2, 4)

    def test_price_breaks_of_one_vendor_the_one_the_need_reaches(self):
        """The vendor's first line in sequence asks for 20: a need of 10 buys
        on the other line, at its price, not 20 on the first."""
        self._sellers(
            (self.vendor, {"min_qty": 20, "price": 40}),
            (self.vendor, {"min_qty": 0, "price": 50}),
        )
        self._create_so([(self.product, 10)])
        line = self.assertVendor(self.vendor, 10)
        self.assertEqual(line.price_unit, 50)

    def test_no_valid_price_falls_back_like_the_buy_rule(self):
        """Only an expired line and one whose minimum exceeds the need: Odoo's
        buy rule still buys from the first vendor in sequence."""
        self._sellers(
            (self.vendor, {"date_end": self.today - timedelta(days=1)}),
            (self.vendor_2, {"min_qty": 30}),
        )
        self._create_so([(self.product, 4)])
        self.assertVendor(self.vendor, 4)

    def test_fallback_orders_the_vendors_minimum(self):
        """The fallback vendor's minimum exceeds the need: the RFQ asks for
        the minimum, as for a vendor with a single line."""
        other = self._create_company("Other Co")
        self._sellers(
            (self.vendor, {"company_id": other.id}),
            (self.vendor_2, {"min_qty": 30}),
        )
        self._create_so([(self.product, 4)])
        self.assertEqual(self._buy_rule_vendor(4), self.vendor_2)
        line = self._rfq_from_report()
        self.assertEqual(line.partner_id, self.vendor_2)
        self.assertEqual(line.product_qty, 30)
