# Copyright 2026 backorder_po_link contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The automatic RFQ run, split into queue jobs per chunk of products.

RFQs are reused per vendor and warehouse: two jobs adding products of the same
vendor side by side would each create a draft RFQ for it, since neither sees
the other's uncommitted one. So a chunk holds whole vendors (a product goes
with the vendor :meth:`_select_vendor` picks for what it lacks, as
:meth:`_create_rfqs` does); a vendor with more
products than a chunk gets several chunks chained one after the other.
"""

from collections import defaultdict

from odoo import api, models

from odoo.addons.queue_job.delay import chain
from odoo.addons.queue_job.job import identity_exact


class BackorderPurchaseReport(models.Model):
    _inherit = "backorder.purchase.report"

    def _cron_create_rfqs(self):
        """Scheduled action: enqueue the automatic RFQ run."""
        for company in self.env["res.company"].search(
            [("backorder_auto_rfq", "=", True)]
        ):
            self._enqueue_auto_rfqs(company)

    @api.model
    def _queue_rfq_chunks(self, company):
        """Lists of chunks: the chunks of one list must run one after the
        other (one vendor's products), separate lists may run in parallel.
        Products without a vendor are left out, as the synchronous run does."""
        size = self.env["backorder.allocator"]._queue_chunk_size()
        rows = self.search(
            [("company_id", "=", company.id), ("qty_to_purchase", ">", 0)]
        )
        vendors = defaultdict(set)  # product id -> vendor ids
        for row in rows:
            seller = self._select_vendor(
                row.product_id, company, row.qty_to_purchase, row.product_id.uom_id
            )
            if seller:
                vendors[row.product_id.id].add(seller.partner_id.id)
        sequences, pack = [], []
        for product_ids in self._vendor_groups(vendors):
            if len(product_ids) > size:
                sequences.append(
                    [
                        product_ids[i : i + size]
                        for i in range(0, len(product_ids), size)
                    ]
                )
                continue
            if len(pack) + len(product_ids) > size:
                sequences.append([pack])
                pack = []
            pack = pack + product_ids
        if pack:
            sequences.append([pack])
        return sequences

    @api.model
    def _vendor_groups(self, vendors):
        """Sorted lists of product ids, one per vendor, in vendor order;
        ``vendors`` maps product ids to the vendors picked for them. The
        vendor depends on the quantity lacking, so a product short in two
        warehouses may go to two vendors: their products then form one group,
        since one job buys all of a product's rows."""
        root = {}  # vendor id -> a vendor of its group, the lowest at the top

        def find(vendor_id):
            while root.setdefault(vendor_id, vendor_id) != vendor_id:
                vendor_id = root[vendor_id]
            return vendor_id

        for vendor_ids in vendors.values():
            first, *others = sorted(vendor_ids)
            for other in others:
                a, b = find(first), find(other)
                root[max(a, b)] = min(a, b)
        groups = defaultdict(list)
        for product_id, vendor_ids in vendors.items():
            groups[find(min(vendor_ids))].append(product_id)
        return [sorted(groups[vendor_id]) for vendor_id in sorted(groups)]

    @api.model
    def _enqueue_auto_rfqs(self, company):
        """Delay the RFQ jobs of ``company`` on channel ``root.backorder``; a
        chunk whose job is still waiting is not queued again."""
        Product = self.env["product.product"]
        for sequence in self._queue_rfq_chunks(company):
            delayables = [
                self.delayable(
                    description=self.env._(
                        "Backorders: RFQs of %(company)s for %(count)s product(s)",
                        company=company.name,
                        count=len(chunk),
                    ),
                    identity_key=identity_exact,
                )._job_create_rfqs(company, Product.browse(chunk))
                for chunk in sequence
            ]
            if len(delayables) == 1:
                delayables[0].delay()
            else:
                chain(*delayables).delay()

    @api.model
    def _job_create_rfqs(self, company, products):
        """Queue job: the automatic RFQ run of ``company`` for ``products``."""
        self._auto_create_rfqs(company, products=products)
        return self.env._("RFQs updated for %s product(s)", len(products))
