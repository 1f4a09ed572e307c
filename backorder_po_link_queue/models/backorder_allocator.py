# Copyright 2026 backorder_po_link contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The scheduled batch run, split into one queue job per chunk of products.

Each job calls the one allocator restricted to its products. The allocator
takes a transaction-level advisory lock per product, so chunks running side by
side in several workers (or machines sharing the database) never promise the
same goods twice; a job that still meets a serialization error is retried by
queue_job.
"""

from odoo import api, models
from odoo.tools import SQL

from odoo.addons.queue_job.job import identity_exact

# System parameter (company-independent) holding the number of products per
# job; DEFAULT_CHUNK_SIZE when unset or invalid.
CHUNK_SIZE_PARAM = "backorder_po_link_queue.chunk_size"
DEFAULT_CHUNK_SIZE = 200


class BackorderAllocator(models.AbstractModel):
    _inherit = "backorder.allocator"

    @api.model
    def _queue_chunk_size(self):
        value = self.env["ir.config_parameter"].sudo().get_param(CHUNK_SIZE_PARAM)
        try:
            size = int(value or DEFAULT_CHUNK_SIZE)
        except ValueError:
            size = DEFAULT_CHUNK_SIZE
        return size if size > 0 else DEFAULT_CHUNK_SIZE

    @api.model
    def _queue_chunks(self, product_ids, size=None):
        """Sorted product ids cut into lists of at most ``size``."""
        size = size or self._queue_chunk_size()
        ids = sorted(set(product_ids))
        return [ids[i : i + size] for i in range(0, len(ids), size)]

    @api.model
    def _queue_linkable_product_ids(self, companies):
        """The products the batch run can link: open supply (what
        :meth:`_run_batch` scans) and some confirmed sales line of the
        companies with something left to deliver (any eligible demand has
        one). Products outside this set would make empty jobs."""
        self.env.flush_all()
        supplied = self._supplied_product_ids(companies.ids)
        if not supplied:
            return []
        rows = self.env.execute_query(
            SQL(
                """
                SELECT DISTINCT sol.product_id
                  FROM sale_order_line sol
                  JOIN sale_order so ON so.id = sol.order_id
                 WHERE so.state = 'sale'
                   AND sol.product_id = ANY(%(product_ids)s)
                   AND sol.company_id = ANY(%(company_ids)s)
                   AND sol.product_uom_qty > sol.qty_delivered
                """,
                product_ids=supplied,
                company_ids=companies.ids,
            )
        )
        return sorted(r[0] for r in rows)

    @api.model
    def _cron_auto_link(self):
        """Scheduled action: enqueue the batch run instead of running it."""
        self._enqueue_auto_link()

    @api.model
    def _enqueue_auto_link(self, companies=None):
        """One job per chunk of products on channel ``root.backorder`` (set on
        the job function). A chunk whose job is still waiting is not queued
        again (identity key). Returns the delayed jobs. Like the synchronous
        batch, only the companies that link backorders get jobs."""
        companies = self._batch_companies(companies)
        if not companies:
            return []
        Product = self.env["product.product"]
        jobs = []
        for chunk in self._queue_chunks(self._queue_linkable_product_ids(companies)):
            description = self.env._(
                "Backorders: auto-link %(count)s product(s) (ids %(first)s-%(last)s)",
                count=len(chunk),
                first=chunk[0],
                last=chunk[-1],
            )
            jobs.append(
                self.with_delay(
                    description=description, identity_key=identity_exact
                )._job_auto_link(Product.browse(chunk), companies)
            )
        return jobs

    @api.model
    def _job_auto_link(self, products, companies):
        """Queue job: the batch run restricted to ``products``. The companies'
        switches are read again: one switched off since the job was queued is
        left alone."""
        links = self.sudo()._run_batch(companies=companies, products=products)
        return self.env._("%s backorder link(s) created", len(links))
