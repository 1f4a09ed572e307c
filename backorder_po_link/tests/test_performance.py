# Copyright 2026 backorder_po_link contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.tests import tagged

from .common import BackorderCommon


@tagged("post_install", "-at_install")
class TestLinkingQueries(BackorderCommon):
    """The linking step issues the same number of queries whatever the number
    of candidate backorders (the benchmark measures it at 10 and 10,000)."""

    def _prepare(self, product, n_backorders):
        self.company.write(
            {
                "backorder_link_on_po_confirm": False,
                "backorder_link_on_so_confirm": False,
            }
        )
        for days in range(n_backorders):
            self._create_so([(product, 1)], days_ago=days + 1)
        po = self._create_po([(product, n_backorders)])
        self.env.flush_all()
        self.env.invalidate_all()
        return po

    def test_query_count_independent_of_candidates(self):
        Allocator = self.env["backorder.allocator"].sudo()
        po = self._prepare(self.product, 2)
        before = self.env.cr.sql_log_count
        links = Allocator._allocate("po_confirm", purchase_lines=po.order_line)
        self.env.flush_all()
        few = self.env.cr.sql_log_count - before
        self.assertEqual(len(links), 2)
        po = self._prepare(self.product_2, 30)
        with self.assertQueryCount(few):
            links = Allocator._allocate("po_confirm", purchase_lines=po.order_line)
            self.env.flush_all()
        self.assertEqual(len(links), 30)
