# Copyright 2026 backorder_po_link contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import threading
import time

from odoo import SUPERUSER_ID, Command, api
from odoo.modules.registry import Registry
from odoo.tests import BaseCase, tagged
from odoo.tests.common import get_db_name
from odoo.tools import mute_logger

from odoo.addons.backorder_po_link.tests.common import remove_committed_orders
from odoo.addons.queue_job.controllers.main import RunJobController
from odoo.addons.queue_job.job import DONE, ENQUEUED


@tagged("post_install", "-at_install")
class TestConcurrentChunkJobs(BaseCase):
    """Two queue jobs over overlapping products (chunks A+B and B+C) really
    execute side by side, each in its own database connection, through
    queue_job's own execution path (``/queue_job/runjob``: acquire, perform,
    mark done, commit; postpone on a serialization error). Product B's
    backorder is promised once, never twice."""

    def setUp(self):
        super().setUp()
        self.registry = Registry(get_db_name())
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            company = env.ref("base.main_company")
            self.saved_flags = (
                company.backorder_link_on_po_confirm,
                company.backorder_link_on_so_confirm,
            )
            company.backorder_link_on_po_confirm = False
            company.backorder_link_on_so_confirm = False
            partner = env["res.partner"].create({"name": "Queue Customer"})
            vendor = env["res.partner"].create({"name": "Queue Vendor"})
            products = env["product.product"].create(
                [
                    {
                        "name": f"Queue Chair {name}",
                        "type": "consu",
                        "is_storable": True,
                        "seller_ids": [Command.create({"partner_id": vendor.id})],
                    }
                    for name in "ABC"
                ]
            )
            so = env["sale.order"].create(
                {
                    "partner_id": partner.id,
                    "order_line": [
                        Command.create({"product_id": p.id, "product_uom_qty": 5})
                        for p in products
                    ],
                }
            )
            so.action_confirm()
            po = env["purchase.order"].create(
                {
                    "partner_id": vendor.id,
                    "order_line": [
                        Command.create({"product_id": p.id, "product_qty": 5})
                        for p in products
                    ],
                }
            )
            po.button_confirm()
            # Confirmed with linking off: the jobs link, in a company that
            # links backorders.
            company.backorder_link_on_po_confirm = True
            allocator = env["backorder.allocator"]
            a, b, c = products
            jobs = [
                allocator.with_delay()._job_auto_link(a | b, company),
                allocator.with_delay()._job_auto_link(b | c, company),
            ]
            for job in jobs:
                job.set_enqueued()  # what the job runner does before calling
                job.store()
            self.so_id, self.po_id = so.id, po.id
            self.product_ids = products.ids
            self.job_uuids = [job.uuid for job in jobs]

    def tearDown(self):
        """This test commits: take everything it made away again."""
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            company = env.ref("base.main_company")
            (
                company.backorder_link_on_po_confirm,
                company.backorder_link_on_so_confirm,
            ) = self.saved_flags
            remove_committed_orders(
                env["sale.order"].browse(self.so_id),
                env["purchase.order"].browse(self.po_id),
                env["product.product"].browse(self.product_ids),
            )
            env["queue.job"].search([("uuid", "in", self.job_uuids)]).unlink()
        super().tearDown()

    def _run_like_the_runner(self, job_uuid, started, result, hold=None):
        """``RunJobController.runjob`` on its own connection; ``hold`` (an
        Event) keeps the transaction open after the job until it is set. A
        postponed job is enqueued again at once (the runner would wait for
        its eta)."""
        for _attempt in range(6):
            with self.registry.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                job = RunJobController._acquire_job(env, job_uuid)
                if job is None:
                    raise AssertionError(f"job {job_uuid} could not be acquired")
                started.set()
                begin = time.monotonic()
                RunJobController._runjob(env, job)
                if job.state == DONE:
                    if hold is not None:
                        hold.wait(30)
                    # _try_perform_job commits outside test mode
                    cr.commit()  # pylint: disable=invalid-commit
                    result["waited"] = time.monotonic() - begin
                    result["result"] = job.result
                    return
                # Postponed after a serialization error (already rolled back).
                result["retries"] = result.get("retries", 0) + 1
                cr.execute(
                    "UPDATE queue_job SET state = %s WHERE uuid = %s",
                    (ENQUEUED, job_uuid),
                )
                cr.commit()  # pylint: disable=invalid-commit
        raise AssertionError(f"job {job_uuid} kept failing: {result}")

    @mute_logger("odoo.sql_db", "odoo.addons.queue_job.controllers.main")
    def test_overlapping_chunks_run_in_parallel_never_promise_twice(self):
        first_started, second_started = threading.Event(), threading.Event()
        release_first = threading.Event()
        first, second, errors = {}, {}, []

        def run(uuid, started, result, hold=None):
            try:
                self._run_like_the_runner(uuid, started, result, hold)
            except Exception as exc:  # noqa: BLE001  (the main thread reports it)
                errors.append(exc)

        thread_a = threading.Thread(
            target=run,
            args=(self.job_uuids[0], first_started, first, release_first),
        )
        thread_a.start()
        self.assertTrue(first_started.wait(30))
        # Let A take its locks on A and B, then start B+C, which must wait for B.
        time.sleep(1.0)
        thread_b = threading.Thread(
            target=run, args=(self.job_uuids[1], second_started, second)
        )
        thread_b.start()
        self.assertTrue(second_started.wait(30))
        time.sleep(1.0)
        self.assertTrue(thread_b.is_alive(), "the B+C job must wait for A+B's lock")
        release_first.set()
        thread_a.join(60)
        thread_b.join(60)
        self.assertFalse(thread_a.is_alive() or thread_b.is_alive())
        self.assertEqual(errors, [])
        self.assertTrue(
            second.get("retries") or second["waited"] >= 0.9,
            f"the second job neither waited nor retried: {second}",
        )
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            links = env["backorder.po.link"].search(
                [("sale_order_id", "=", self.so_id), ("state", "=", "linked")]
            )
            per_product = {}
            for link in links:
                per_product[link.product_id.id] = (
                    per_product.get(link.product_id.id, 0) + link.quantity
                )
            self.assertEqual(per_product, dict.fromkeys(self.product_ids, 5))
            self.assertEqual(len(links), 3)
            jobs = env["queue.job"].search([("uuid", "in", self.job_uuids)])
            self.assertEqual(set(jobs.mapped("state")), {DONE})
            self.assertEqual(env["backorder.audit"]._audit(), [])
