# Copyright 2026 backorder_po_link contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import timedelta

from odoo import fields
from odoo.tests import tagged
from odoo.tools.safe_eval import safe_eval

from odoo.addons.backorder_po_link.models.backorder_series import (
    lock_purchase,
    run_cron,
)

from .common import BackorderCommon


@tagged("post_install", "-at_install")
class TestLifecycle(BackorderCommon):
    """Links follow the goods and every change on either side."""

    def assertInvariants(self):
        """Active links never exceed either side (what `make audit` checks)."""
        links = self._links()
        links._check_totals(links.sale_line_id, links.purchase_line_id)
        for line in links.sale_line_id:
            self.assertLessEqual(
                line.backorder_linked_qty,
                line.product_uom_qty - line.qty_delivered + 1e-6,
            )
        for line in links.purchase_line_id:
            self.assertLessEqual(line.backorder_linked_qty, line.product_uom_qty + 1e-6)

    def _validate_open_picking(self, order, quantity=None):
        """Validate the order's open transfer (receipt or delivery), in full
        or for ``quantity``, keeping the rest as a backorder."""
        picking = order.picking_ids.filtered(
            lambda p: p.state not in ("done", "cancel")
        )
        return self._validate_picking(picking, quantity)

    _receive = _deliver = _validate_open_picking

    # ------------------------------------------------------------------
    # Receipt and fulfilment
    # ------------------------------------------------------------------
    def test_receipt_reserves_for_linked_delivery_before_older_unlinked_one(self):
        """An older delivery of higher priority that is not linked waits; the
        linked delivery gets the received goods."""
        self.company.write(
            {
                "backorder_link_on_po_confirm": False,
                "backorder_link_on_so_confirm": False,
            }
        )
        older = self._create_so([(self.product, 5)], days_ago=10)
        older.picking_ids.priority = "1"
        linked = self._create_so([(self.product, 5)], days_ago=1)
        po = self._create_po([(self.product, 5)])
        self.env["backorder.po.link"].create(
            {
                "sale_line_id": linked.order_line.id,
                "purchase_line_id": po.order_line.id,
                "quantity": 5,
            }
        )
        self._receive(po)
        self.assertEqual(linked.picking_ids.state, "assigned")
        self.assertEqual(linked.order_line.move_ids.quantity, 5)
        self.assertEqual(older.order_line.move_ids.quantity, 0)
        self.assertEqual(linked.backorder_link_ids.state, "received")
        self.assertInvariants()

    def test_partial_receipt_splits_link(self):
        so = self._create_so([(self.product, 10)])
        po = self._create_po([(self.product, 10)])
        self._receive(po, quantity=4)
        links = so.backorder_link_ids.sorted("id")
        self.assertRecordValues(
            links,
            [{"quantity": 6, "state": "linked"}, {"quantity": 4, "state": "received"}],
        )
        self.assertEqual(so.order_line.move_ids.quantity, 4)
        self.assertEqual(so.order_line.move_ids.state, "partially_available")
        self.assertEqual(so.order_line.backorder_linked_qty, 10)
        self.assertEqual(so.order_line.backorder_qty, 0)
        # The rest arrives with the receipt's backorder.
        self._receive(po)
        self.assertEqual(set(so.backorder_link_ids.mapped("state")), {"received"})
        self.assertEqual(so.order_line.move_ids.quantity, 10)
        self.assertInvariants()

    def test_received_beyond_links_stays_free_stock(self):
        so = self._create_so([(self.product, 3)])
        po = self._create_po([(self.product, 10)])
        self._receive(po)
        self.assertEqual(so.backorder_link_ids.state, "received")
        free = self.product.with_context(warehouse_id=self.warehouse.id).free_qty
        self.assertEqual(free, 7)

    def test_two_step_receipt(self):
        self.warehouse.reception_steps = "two_steps"
        so = self._create_so([(self.product, 4)])
        po = self._create_po([(self.product, 4)])
        self._receive(po)  # supplier -> input
        self.assertEqual(so.backorder_link_ids.state, "linked")
        internal = self.env["stock.picking"].search(
            [
                ("product_id", "=", self.product.id),
                ("picking_type_id.code", "=", "internal"),
            ]
        )
        internal.action_assign()
        internal.move_ids.picked = True
        internal.button_validate()  # input -> stock
        self.assertEqual(so.backorder_link_ids.state, "received")
        self.assertEqual(so.order_line.move_ids.quantity, 4)
        self.assertInvariants()

    def test_delivery_marks_links_done_partial_delivery_keeps_rest(self):
        so = self._create_so([(self.product, 10)])
        po = self._create_po([(self.product, 10)])
        self._receive(po)
        self.assertEqual(so.backorder_link_ids.state, "received")
        action = self.env["ir.actions.actions"]._for_xml_id(
            "backorder_po_link.backorder_po_link_action_fulfillable"
        )
        fulfillable = self.env["backorder.po.link"].search(safe_eval(action["domain"]))
        self.assertEqual(fulfillable.sale_order_id, so)
        action = so.backorder_link_ids.action_open_delivery()
        self.assertEqual(action["res_id"], so.picking_ids.id)
        self._deliver(so, quantity=6)
        links = so.backorder_link_ids.sorted("id")
        self.assertRecordValues(
            links,
            [{"quantity": 4, "state": "received"}, {"quantity": 6, "state": "done"}],
        )
        self._deliver(so)
        self.assertEqual(set(so.backorder_link_ids.mapped("state")), {"done"})
        self.assertEqual(so.order_line.backorder_linked_qty, 0)
        self.assertInvariants()

    def test_storekeeper_without_link_rights_receives_and_ships(self):
        """Found by the warehouse tour: a stock user, who may not write links,
        validates the receipt and the delivery; the links still follow."""
        storekeeper = self._new_user("bo_storekeeper", "stock.group_stock_user")
        so = self._create_so([(self.product, 3)])
        po = self._create_po([(self.product, 3)])
        self.env = self.env(user=storekeeper)
        self._receive(po.with_env(self.env))
        self.assertEqual(so.backorder_link_ids.state, "received")
        self._deliver(so.with_env(self.env))
        self.assertEqual(so.backorder_link_ids.sudo().state, "done")
        self.assertEqual(so.order_line.sudo().qty_delivered, 3)

    # ------------------------------------------------------------------
    # Changes on the purchase side
    # ------------------------------------------------------------------
    def test_po_cancel_relinks_to_second_po(self):
        so = self._create_so([(self.product, 5)])
        first = self._create_po([(self.product, 5)], days_ahead=5)
        self.company.backorder_link_on_po_confirm = False
        second = self._create_po([(self.product, 8)], days_ahead=9)
        self.company.backorder_link_on_po_confirm = True
        self.assertLinks(
            so.backorder_link_ids.filtered(lambda l: l.state == "linked"),
            [(so, first, 5)],
        )
        first.button_cancel()
        active = so.backorder_link_ids.filtered(lambda l: l.state == "linked")
        self.assertLinks(active, [(so, second, 5)])
        self.assertEqual(first.order_line.backorder_linked_qty, 0)
        self.assertEqual(
            so.backorder_link_ids.filtered(
                lambda l: l.state == "cancel"
            ).purchase_order_id,
            first,
        )
        self.assertEqual(second.order_line.backorder_free_qty, 3)
        self.assertInvariants()

    def test_po_quantity_cut_releases_newest_first(self):
        old = self._create_so([(self.product, 4)], days_ago=5)
        new = self._create_so([(self.product, 4)], days_ago=1)
        po = self._create_po([(self.product, 8)])
        po.order_line.product_qty = 5
        self.assertLinks(
            po.backorder_link_ids.filtered(lambda l: l.state == "linked"),
            [(old, po, 4), (new, po, 1)],
        )
        self.assertEqual(new.order_line.backorder_qty, 3)
        self.assertInvariants()

    def test_po_line_deleted_from_draft(self):
        so = self._create_so([(self.product, 4)])
        po = self._create_po([(self.product, 8)])
        po.button_cancel()
        po.button_draft()
        self.assertFalse(so.backorder_link_ids.filtered(lambda l: l.state == "linked"))
        po.order_line.unlink()
        self.assertFalse(self._links(purchase_order_id=po.id))
        self.assertEqual(so.order_line.backorder_qty, 4)

    def test_po_draft_and_reconfirm_no_duplicates(self):
        so = self._create_so([(self.product, 4)])
        po = self._create_po([(self.product, 8)])
        po.button_cancel()
        po.button_draft()
        po.button_confirm()
        active = so.backorder_link_ids.filtered(lambda l: l.state == "linked")
        self.assertLinks(active, [(so, po, 4)])
        self.assertEqual(po.order_line.backorder_linked_qty, 4)
        self.assertInvariants()

    def test_locked_po_keeps_links(self):
        so = self._create_so([(self.product, 4)])
        po = self._create_po([(self.product, 8)])
        lock_purchase(po)
        po.button_unlock()
        lock_purchase(po)
        self.assertLinks(so.backorder_link_ids, [(so, po, 4)])
        self.assertEqual(so.backorder_link_ids.state, "linked")

    def test_date_planned_moved_expected_date_follows(self):
        so = self._create_so([(self.product, 4)])
        po = self._create_po([(self.product, 8)])
        later = fields.Datetime.now().replace(microsecond=0) + timedelta(days=30)
        po.order_line.date_planned = later
        self.assertEqual(so.backorder_link_ids.expected_date, later)
        self.assertEqual(so.order_line.backorder_expected_date, later)

    # ------------------------------------------------------------------
    # Changes on the sales side
    # ------------------------------------------------------------------
    def test_so_cancel_hands_supply_to_next_backorder(self):
        first = self._create_so([(self.product, 5)], days_ago=5)
        second = self._create_so([(self.product, 5)], days_ago=1)
        po = self._create_po([(self.product, 5)])
        self.assertLinks(po.backorder_link_ids, [(first, po, 5)])
        first._action_cancel()
        self.assertLinks(
            po.backorder_link_ids.filtered(lambda l: l.state == "linked"),
            [(second, po, 5)],
        )
        self.assertEqual(first.backorder_link_ids.state, "cancel")
        self.assertInvariants()

    def test_so_quantity_lowered_shrinks_link(self):
        first = self._create_so([(self.product, 5)], days_ago=5)
        second = self._create_so([(self.product, 5)], days_ago=1)
        po = self._create_po([(self.product, 5)])
        first.order_line.product_uom_qty = 2
        self.assertLinks(
            po.backorder_link_ids.filtered(lambda l: l.state == "linked"),
            [(first, po, 2), (second, po, 3)],
        )
        self.assertInvariants()

    def test_so_line_served_from_other_stock_releases_link(self):
        first = self._create_so([(self.product, 5)], days_ago=5)
        second = self._create_so([(self.product, 5)], days_ago=1)
        po = self._create_po([(self.product, 5)])
        self._put_in_stock(self.product, 5)
        first.picking_ids.action_assign()
        self.assertEqual(first.order_line.move_ids.quantity, 5)
        self.assertLinks(
            po.backorder_link_ids.filtered(lambda l: l.state == "linked"),
            [(second, po, 5)],
        )
        self.assertInvariants()

    # ------------------------------------------------------------------
    # Batch
    # ------------------------------------------------------------------
    def test_batch_links_everything_and_is_idempotent(self):
        self.company.write(
            {
                "backorder_link_on_po_confirm": False,
                "backorder_link_on_so_confirm": False,
            }
        )
        old = self._create_so([(self.product, 3), (self.product_2, 2)], days_ago=4)
        new = self._create_so([(self.product, 3)], days_ago=1)
        po = self._create_po([(self.product, 4), (self.product_2, 5)])
        self.assertFalse(self._links())
        # The batch works in companies that link backorders.
        self.company.backorder_link_on_po_confirm = True
        wizard = self.env["backorder.auto.link.wizard"].create({})
        action = wizard.action_link()
        links = self.env["backorder.po.link"].search(action["domain"])
        self.assertLinks(links, [(old, po, 3), (old, po, 2), (new, po, 1)])
        self.assertEqual(set(links.mapped("origin")), {"batch"})
        self.assertFalse(self.env["backorder.allocator"]._run_batch())
        self.assertEqual(len(self._links()), 3)
        cron = self.env.ref("backorder_po_link.ir_cron_backorder_auto_link")
        self.assertFalse(cron.active)
        run_cron(self, cron)
        self.assertEqual(len(self._links()), 3)

    def test_dry_run_reasons(self):
        self.company.write(
            {
                "backorder_link_on_po_confirm": False,
                "backorder_link_on_so_confirm": False,
                "backorder_max_days_out": 3,
            }
        )
        wh2 = self.env["stock.warehouse"].create(
            {"name": "Second Warehouse", "code": "WH2", "company_id": self.company.id}
        )
        # Sales of the main warehouse only take supply delivered there.
        self.warehouse.backorder_source_warehouse_ids = self.warehouse
        product_3 = self._create_product("Birch Stool")
        product_4 = self._create_product("Pine Shelf")
        self.product.sale_delay = 30
        too_far = self._create_so([(self.product, 1)])
        self.product.sale_delay = 0
        ok = self._create_so([(self.product, 1)])
        other_wh = self._create_so([(self.product_2, 1)])
        opted = self._create_so([(product_3, 1)])
        nothing = self._create_so([(product_4, 1)])
        self._create_po([(self.product, 5)])
        self._create_po([(self.product_2, 5)], picking_type_id=wh2.in_type_id.id)
        self._create_po([(product_3, 5)], allow_backorder_link=False)
        # The dry run covers the companies that link backorders.
        self.company.backorder_link_on_po_confirm = True

        wizard = self.env["backorder.auto.link.wizard"].create({})
        wizard.action_preview()
        self.assertFalse(self._links(), "a dry run writes no link")
        reasons = {line.sale_order_id: line.reason for line in wizard.line_ids}
        self.assertEqual(
            reasons,
            {
                too_far: "days_out",
                ok: False,
                other_wh: "warehouse",
                opted: "opt_out",
                nothing: "no_supply",
            },
        )
        self.assertEqual(wizard.link_count, 1)
        self.assertEqual(wizard.unlinked_count, 4)
        self.assertEqual(
            wizard.line_ids.filtered(lambda l: l.sale_order_id == ok).planned_qty, 1
        )
        self.company.backorder_min_deposit_percent = 10
        wizard.action_preview()
        reasons = {line.sale_order_id: line.reason for line in wizard.line_ids}
        self.assertEqual(reasons[ok], "deposit")
        self.assertEqual(wizard.link_count, 0)
        self.assertFalse(self._links())
