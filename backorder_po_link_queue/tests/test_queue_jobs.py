# Copyright 2026 backorder_po_link contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from contextlib import closing

from odoo import Command
from odoo.tests import tagged

from odoo.addons.backorder_po_link.models.backorder_series import run_cron
from odoo.addons.backorder_po_link.tests.common import BackorderCommon
from odoo.addons.backorder_po_link.tests.test_rules import MultiCompanyMixin
from odoo.addons.queue_job.controllers.main import RunJobController
from odoo.addons.queue_job.job import Job, identity_exact

# isort: off
from . import compat  # noqa: F401  (before queue_job's test helpers)
from odoo.addons.queue_job.tests.common import trap_jobs

# isort: on

from ..models.backorder_allocator import CHUNK_SIZE_PARAM


@tagged("post_install", "-at_install")
class TestQueueJobs(MultiCompanyMixin, BackorderCommon):
    """The scheduled runs enqueue one job per chunk of products on channel
    root.backorder; performed, the jobs give what the synchronous run gives."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["ir.config_parameter"].sudo().set_param(CHUNK_SIZE_PARAM, "2")
        cls.company.write(
            {
                "backorder_link_on_po_confirm": False,
                "backorder_link_on_so_confirm": False,
            }
        )
        cls.Allocator = cls.env["backorder.allocator"]
        cls.Report = cls.env["backorder.purchase.report"]
        cls.vendor_2 = cls.env["res.partner"].create({"name": "Birch & Co"})
        cls.vendor_3 = cls.env["res.partner"].create({"name": "Cedar Ltd"})
        cls.product_3 = cls._create_product("Birch Stool")
        cls.product_4 = cls._create_product("Cedar Shelf")
        cls.product_5 = cls._create_product("Elm Bench")
        cls.product_6 = cls._create_product("Fir Box")  # supply, no demand
        cls.product_7 = cls._create_product("Gum Tray")  # demand, no vendor
        cls.products = (
            cls.product | cls.product_2 | cls.product_3 | cls.product_4 | cls.product_5
        )
        # Vendors: the first three products from cls.vendor, then one each.
        for product, vendor in zip(
            cls.products,
            [cls.vendor] * 3 + [cls.vendor_2, cls.vendor_3],
            strict=True,
        ):
            product.seller_ids = [Command.create({"partner_id": vendor.id})]
        cls.companies = cls.env["res.company"].search([])

    def _make_backorders(self):
        """Two sales orders competing for each product, less supply than
        demand for some, a product with supply and no demand."""
        p1, p2, p3, p4, p5 = self.products
        old = self._create_so(
            [(p1, 3), (p2, 2), (p3, 4), (p4, 1), (self.product_7, 2)], days_ago=5
        )
        new = self._create_so([(p1, 4), (p3, 2), (p5, 6)], days_ago=1)
        po = self._create_po([(p1, 5), (p2, 2), (p3, 3), (p4, 6), (p5, 2)])
        po_2 = self._create_po([(self.product_6, 5), (p3, 10)], days_ahead=20)
        # Confirmed with linking off, so that the batch has work to do; the
        # batch itself runs in the companies that link backorders.
        self.company.backorder_link_on_po_confirm = True
        return old, new, po, po_2

    def _link_rows(self):
        links = self._links(state="linked")
        return sorted(
            (link.sale_line_id.id, link.purchase_line_id.id, link.quantity)
            for link in links
        )

    def _rolled_back(self, func):
        """``func()``'s result, with all it wrote rolled back."""
        with closing(self.env.cr.savepoint()):
            result = func()
        self.env.invalidate_all()
        return result

    def _synchronous_batch_rows(self):
        """What the plain synchronous batch links on the same data."""

        def run():
            self.Allocator._run_batch()
            return self._link_rows()

        rows = self._rolled_back(run)
        self.assertFalse(self._links())
        return rows

    def _run_cron(self, cron, trap):
        """Run the scheduled action, then give the jobs it queued (trapped,
        not stored) the test's cursor, as queue_job would run them later in
        a transaction of their own: Odoo 19.0 runs a scheduled action in a
        cursor that it closes after (on 18.0 this changes nothing)."""
        run_cron(self, cron)
        for job in trap.enqueued_jobs:
            env = job.recordset.env
            job.recordset = job.recordset.with_env(
                self.env(user=env.uid, context=env.context)
            )

    def _chunks(self):
        p1, p2, p3, p4, p5 = self.products
        return [p1 | p2, p3 | p4, p5]

    def test_cron_enqueues_chunks_and_jobs_link_like_the_batch(self):
        old, new, po, po_2 = self._make_backorders()
        expected = self._synchronous_batch_rows()
        self.assertEqual(len(expected), 8)
        cron = self.env.ref("backorder_po_link.ir_cron_backorder_auto_link")
        with trap_jobs() as trap:
            self._run_cron(cron, trap)
            trap.assert_jobs_count(3)
            trap.assert_jobs_count(3, only=self.Allocator._job_auto_link)
            for chunk in self._chunks():
                trap.assert_enqueued_job(
                    self.Allocator._job_auto_link,
                    args=(chunk, self.company),
                    properties={"identity_key": identity_exact},
                )
            self.assertEqual(
                [job.channel for job in trap.enqueued_jobs], ["root.backorder"] * 3
            )
            self.assertFalse(self._links(), "nothing is linked before the jobs run")
            trap.perform_enqueued_jobs()
        self.assertEqual(self._link_rows(), expected)
        p1, p3 = self.products[0], self.products[2]
        self.assertLinks(self._links(product_id=p1.id), [(old, po, 3), (new, po, 2)])
        self.assertLinks(
            self._links(product_id=p3.id),
            [(old, po, 3), (old, po_2, 1), (new, po_2, 2)],
        )
        self.assertEqual(self.env["backorder.audit"]._audit(), [])

    def test_cron_queues_jobs_for_the_companies_that_link_backorders_only(self):
        other = self._create_company("Switched Off Co")
        p1, p2 = self.product, self.product_2
        so = self._create_so([(p1, 3)])
        po = self._create_po([(p1, 5)])
        other_so = self._create_company_so(other, [(p1, 2), (p2, 2)])
        self._create_company_po(other, [(p1, 4), (p2, 4)])
        self.company.backorder_link_on_po_confirm = True
        cron = self.env.ref("backorder_po_link.ir_cron_backorder_auto_link")
        with trap_jobs() as trap:
            self._run_cron(cron, trap)
            # One job, for the product of the company that links, and for it.
            trap.assert_jobs_count(1)
            trap.assert_enqueued_job(
                self.Allocator._job_auto_link,
                args=(p1, self.company),
                properties={"identity_key": identity_exact},
            )
            trap.perform_enqueued_jobs()
        self.assertLinks(self._links(state="linked"), [(so, po, 3)])
        self.assertFalse(other_so.backorder_link_ids)
        self.assertEqual(other_so.order_line.mapped("backorder_qty"), [2, 2])
        self.assertEqual(self.env["backorder.audit"]._audit(), [])
        # No company links: nothing is queued.
        self.company.backorder_link_on_po_confirm = False
        with trap_jobs() as trap:
            self._run_cron(cron, trap)
            trap.assert_jobs_count(0)

    def test_job_reads_the_switches_when_it_runs(self):
        """Linking switched off between the queueing and the run: the job
        links nothing."""
        self._make_backorders()
        cron = self.env.ref("backorder_po_link.ir_cron_backorder_auto_link")
        with trap_jobs() as trap:
            self._run_cron(cron, trap)
            trap.assert_jobs_count(3)
            self.company.backorder_link_on_po_confirm = False
            trap.perform_enqueued_jobs()
        self.assertFalse(self._links())

    def test_chunk_size_parameter(self):
        self._make_backorders()
        ids = sorted(self.products.ids)
        self.assertEqual(
            self.Allocator._queue_linkable_product_ids(self.companies), ids
        )
        self.env["ir.config_parameter"].sudo().set_param(CHUNK_SIZE_PARAM, "4")
        self.assertEqual(self.Allocator._queue_chunks(ids), [ids[:4], ids[4:]])
        self.env["ir.config_parameter"].sudo().set_param(CHUNK_SIZE_PARAM, "nonsense")
        self.assertEqual(self.Allocator._queue_chunks(ids), [ids])  # default 200

    def test_cron_twice_queues_each_chunk_once_and_jobs_run_as_the_runner_does(self):
        self._make_backorders()
        expected = self._synchronous_batch_rows()
        QueueJob = self.env["queue.job"]
        before = QueueJob.search([])
        cron = self.env.ref("backorder_po_link.ir_cron_backorder_auto_link")
        run_cron(self, cron)
        run_cron(self, cron)
        records = QueueJob.search([("id", "not in", before.ids)], order="id")
        self.assertEqual(len(records), 3)
        self.assertEqual(set(records.mapped("state")), {"pending"})
        self.assertEqual(set(records.mapped("channel")), {"root.backorder"})
        self.assertEqual(set(records.mapped("method_name")), {"_job_auto_link"})
        self.assertEqual([rec.args[0] for rec in records], self._chunks())
        self.assertFalse(self._links())
        # Executed through queue_job's own path (what /queue_job/runjob runs
        # after the job runner enqueued the job), in this transaction.
        for rec in records:
            job = Job.load(self.env, rec.uuid)
            job.set_enqueued()
            job.set_started()
            job.store()
            RunJobController._runjob(self.env, job)
        self.assertEqual(set(records.mapped("state")), {"done"})
        self.assertEqual(self._link_rows(), expected)
        # Done jobs no longer block the identity: the next run queues again
        # (and links nothing more).
        run_cron(self, cron)
        again = QueueJob.search([("id", "not in", (before | records).ids)])
        self.assertEqual(len(again), 3)
        for rec in again:
            Job.load(self.env, rec.uuid).perform()
        self.assertEqual(self._link_rows(), expected)

    def test_manual_wizard_stays_synchronous(self):
        self._make_backorders()
        expected = self._synchronous_batch_rows()
        with trap_jobs() as trap:
            wizard = self.env["backorder.auto.link.wizard"].create({})
            action = wizard.action_link()
            trap.assert_jobs_count(0)
        self.assertEqual(self._link_rows(), expected)
        self.assertEqual(
            sorted(self.env["backorder.po.link"].search(action["domain"]).ids),
            sorted(self._links().ids),
        )

    # ------------------------------------------------------------------
    # Automatic RFQs
    # ------------------------------------------------------------------
    def _rfq_rows(self):
        rfqs = self.env["purchase.order"].search([("state", "=", "draft")])
        return sorted(
            (line.order_id.partner_id.id, line.product_id.id, line.product_qty)
            for line in rfqs.order_line
        ), rfqs

    def _synchronous_rfq_rows(self):
        def run():
            self.Report._auto_create_rfqs(self.company)
            return self._rfq_rows()

        rows = self._rolled_back(run)
        self.assertFalse(self._rfq_rows()[1])
        return rows

    def test_rfq_cron_enqueues_vendor_chunks_like_the_synchronous_run(self):
        self.company.backorder_auto_rfq = True
        p1, p2, p3, p4, p5 = self.products
        self._create_so(
            [(p1, 3), (p2, 2), (p3, 4), (p4, 1), (p5, 5), (self.product_7, 2)]
        )
        expected_lines, expected_rfqs = self._synchronous_rfq_rows()
        self.assertEqual(len(expected_lines), 5)
        self.assertEqual(len(expected_rfqs), 3)
        cron = self.env.ref("backorder_po_link.ir_cron_backorder_auto_rfq")
        with trap_jobs() as trap:
            self._run_cron(cron, trap)
            # cls.vendor has three products: two chained chunks; the other two
            # vendors' products share one chunk; the product without a vendor
            # makes no job.
            trap.assert_jobs_count(3, only=self.Report._job_create_rfqs)
            for chunk in (p1 | p2, p3, p4 | p5):
                trap.assert_enqueued_job(
                    self.Report._job_create_rfqs,
                    args=(self.company, chunk),
                    properties={"identity_key": identity_exact},
                )
            jobs = {job.args[1]: job for job in trap.enqueued_jobs}
            self.assertEqual({job.channel for job in jobs.values()}, {"root.backorder"})
            self.assertEqual(jobs[p3].depends_on, {jobs[p1 | p2]})
            self.assertFalse(jobs[p4 | p5].depends_on)
            self.assertFalse(self._rfq_rows()[1])
            trap.perform_enqueued_jobs()
        lines, rfqs = self._rfq_rows()
        self.assertEqual(lines, expected_lines)
        self.assertEqual(len(rfqs), 3, "one RFQ per vendor, none twice")

    def test_rfq_cron_twice_queues_once(self):
        self.company.backorder_auto_rfq = True
        self._create_so([(product, 2) for product in self.products])
        QueueJob = self.env["queue.job"]
        before = QueueJob.search([])
        cron = self.env.ref("backorder_po_link.ir_cron_backorder_auto_rfq")
        run_cron(self, cron)
        run_cron(self, cron)
        records = QueueJob.search([("id", "not in", before.ids)])
        self.assertEqual(len(records), 3)
        self.assertEqual(
            sorted(records.mapped("state")), ["pending", "pending", "wait_dependencies"]
        )

    def _run_rfq_cron(self, chunks):
        """Run the automatic RFQ cron: it must enqueue ``chunks`` (recordsets
        of products); perform the jobs and return the RFQ lines made."""
        cron = self.env.ref("backorder_po_link.ir_cron_backorder_auto_rfq")
        with trap_jobs() as trap:
            self._run_cron(cron, trap)
            trap.assert_jobs_count(len(chunks), only=self.Report._job_create_rfqs)
            for chunk in chunks:
                trap.assert_enqueued_job(
                    self.Report._job_create_rfqs,
                    args=(self.company, chunk),
                    properties={"identity_key": identity_exact},
                )
            trap.perform_enqueued_jobs()
        return self._rfq_rows()

    def test_rfq_chunks_follow_the_vendor_odoo_picks(self):
        """The first vendor of p4 asks for 10: Odoo's buy rule buys the 1
        lacking from its second vendor, so p4 goes with that vendor's chunk
        (not with cls.vendor's products)."""
        self.company.backorder_auto_rfq = True
        p1, p2, p3, p4, p5 = self.products
        p4.seller_ids = [
            Command.clear(),
            Command.create({"partner_id": self.vendor.id, "min_qty": 10}),
            Command.create({"partner_id": self.vendor_2.id, "sequence": 2}),
        ]
        self._create_so([(p1, 3), (p2, 2), (p3, 4), (p4, 1), (p5, 5)])
        expected_lines, _rfqs = self._synchronous_rfq_rows()
        self.assertIn((self.vendor_2.id, p4.id, 1), expected_lines)
        lines, rfqs = self._run_rfq_cron([p1 | p2, p3, p4 | p5])
        self.assertEqual(lines, expected_lines)
        self.assertEqual(len(rfqs), 3, "one RFQ per vendor, none twice")

    def test_rfq_chunks_keep_a_products_vendors_together(self):
        """p3 lacks 4 in one warehouse (its first vendor asks for 5: its
        second one, vendor_2, sells them) and 6 in another (cls.vendor): one
        job buys all of p3, so cls.vendor's and vendor_2's products share one
        sequence of chunks."""
        self.company.backorder_auto_rfq = True
        p1, p2, p3, p4, p5 = self.products
        p3.seller_ids = [
            Command.clear(),
            Command.create({"partner_id": self.vendor.id, "min_qty": 5}),
            Command.create({"partner_id": self.vendor_2.id, "sequence": 2}),
        ]
        wh2 = self.env["stock.warehouse"].create(
            {"name": "Second Warehouse", "code": "WH2", "company_id": self.company.id}
        )
        self._create_so([(p1, 1), (p2, 1), (p3, 4), (p4, 1), (p5, 1)])
        self._create_so([(p3, 6)], warehouse_id=wh2.id)
        self.assertEqual(
            self.Report._queue_rfq_chunks(self.company),
            [[(p1 | p2).ids, (p3 | p4).ids], [p5.ids]],
        )
        expected_lines, expected_rfqs = self._synchronous_rfq_rows()
        self.assertIn((self.vendor_2.id, p3.id, 4), expected_lines)
        self.assertIn((self.vendor.id, p3.id, 6), expected_lines)
        self.assertEqual(len(expected_rfqs), 4)  # per vendor and warehouse
        lines, rfqs = self._run_rfq_cron([p1 | p2, p3 | p4, p5])
        self.assertEqual(lines, expected_lines)
        self.assertEqual(len(rfqs), 4, "none twice")
