# Copyright 2026 backorder_po_link contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.tests import Form, tagged

from .common import BackorderCommon


@tagged("post_install", "-at_install")
class TestOutsideChanges(BackorderCommon):
    """Deliveries cancelled, unreserved, reduced or cut short, and returns:
    changes made on the transfers, outside the addon's own buttons."""

    # ------------------------------------------------------------------
    # Helpers
    # ------------------------------------------------------------------
    def assertClean(self):
        self.assertEqual(self.env["backorder.allocator"]._audit(), [])

    def _active(self, order):
        return order.backorder_link_ids.filtered(
            lambda link: link.state in ("linked", "received")
        )

    def _open_picking(self, order):
        return order.picking_ids.filtered(lambda p: p.state not in ("done", "cancel"))

    def _validate(self, picking, quantity=None, backorder=True):
        """Validate ``picking`` in full or for ``quantity`` (per move); the
        rest becomes a backorder, or not ("No Backorder")."""
        if quantity is not None:
            picking.move_ids.quantity = quantity
        picking.move_ids.picked = True
        res = picking.button_validate()
        if (
            isinstance(res, dict)
            and res.get("res_model") == "stock.backorder.confirmation"
        ):
            wizard = Form.from_action(self.env, res).save()
            if backorder:
                wizard.process()
            else:
                wizard.process_cancel_backorder()
        return picking

    def _set_demand(self, picking, quantity):
        """Unlock the delivery and lower its move's demand, as on its form."""
        picking.action_toggle_is_locked()
        with Form(picking) as form, form.move_ids_without_package.edit(0) as move:
            move.product_uom_qty = quantity

    def _reserved(self, order):
        return sum(
            order.order_line.move_ids.filtered(
                lambda m: m.state not in ("done", "cancel")
            ).mapped("quantity")
        )

    def _free_qty(self, product=None):
        product = product or self.product
        return product.with_context(warehouse_id=self.warehouse.id).free_qty

    # ------------------------------------------------------------------
    # Delivery cancelled
    # ------------------------------------------------------------------
    def test_delivery_cancelled_hands_supply_to_next_backorder(self):
        """The reported case: the customer said "not now", the delivery is
        cancelled, the order stays confirmed; the link let go of the PO's
        units and the next customer in line got them."""
        first = self._create_so([(self.product, 5)], days_ago=5)
        second = self._create_so([(self.product, 5)], days_ago=1)
        po = self._create_po([(self.product, 5)])
        self.assertLinks(self._active(po), [(first, po, 5)])
        first.picking_ids.action_cancel()
        self.assertEqual(first.state, "sale")
        self.assertEqual(first.picking_ids.state, "cancel")
        self.assertFalse(self._active(first))
        self.assertEqual(first.backorder_link_ids.state, "cancel")
        self.assertEqual(first.order_line.backorder_linked_qty, 0)
        self.assertLinks(self._active(po), [(second, po, 5)])
        self.assertEqual(po.order_line.backorder_linked_qty, 5)
        self.assertEqual(second.order_line.backorder_qty, 0)
        self.assertClean()

    def test_delivery_cancelled_after_receipt_frees_the_goods(self):
        """Goods already received and reserved: the received link is
        released and the goods are free stock; the next customer's delivery
        takes them on its next reservation and lets go of its own link."""
        first = self._create_so([(self.product, 5)], days_ago=5)
        po = self._create_po([(self.product, 5)])
        second = self._create_so([(self.product, 5)], days_ago=1)
        later_po = self._create_po([(self.product, 5)], days_ahead=20)
        self.assertLinks(self._active(later_po), [(second, later_po, 5)])
        self._validate(po.picking_ids)
        self.assertEqual(first.backorder_link_ids.state, "received")
        first.picking_ids.action_cancel()
        self.assertEqual(first.backorder_link_ids.state, "cancel")
        self.assertEqual(first.order_line.backorder_linked_qty, 0)
        self.assertEqual(po.order_line.backorder_linked_qty, 0)
        self.assertEqual(self._free_qty(), 5)
        self.assertClean()
        second.picking_ids.action_assign()
        self.assertEqual(self._reserved(second), 5)
        self.assertFalse(self._active(second))
        self.assertEqual(later_po.order_line.backorder_free_qty, 5)
        self.assertClean()

    # ------------------------------------------------------------------
    # Delivery unreserved
    # ------------------------------------------------------------------
    def test_unreserve_releases_received_links_and_links_again(self):
        """Unreserve on a delivery whose goods were received for it: the
        received link goes (no goods are reserved for it any more), the
        goods are free stock and the line is linked again to what is still
        on order."""
        so = self._create_so([(self.product, 5)])
        po = self._create_po([(self.product, 5)])
        self.company.backorder_link_on_po_confirm = False
        later_po = self._create_po([(self.product, 8)], days_ahead=20)
        self.company.backorder_link_on_po_confirm = True
        self._validate(po.picking_ids)
        self.assertEqual(so.backorder_link_ids.state, "received")
        so.picking_ids.do_unreserve()
        self.assertEqual(self._reserved(so), 0)
        self.assertEqual(self._free_qty(), 5)
        self.assertLinks(self._active(so), [(so, later_po, 5)])
        self.assertEqual(self._active(so).state, "linked")
        self.assertEqual(po.order_line.backorder_linked_qty, 0)
        self.assertEqual(later_po.order_line.backorder_linked_qty, 5)
        self.assertEqual(so.order_line.backorder_linked_qty, 5)
        self.assertClean()

    def test_unreserve_keeps_links_still_awaited(self):
        """Links awaiting receipt stay: the delivery lacks even more."""
        self._put_in_stock(self.product, 4)
        so = self._create_so([(self.product, 10)])
        po = self._create_po([(self.product, 6)])
        self.assertLinks(self._active(so), [(so, po, 6)])
        so.picking_ids.do_unreserve()
        self.assertLinks(self._active(so), [(so, po, 6)])
        self.assertClean()

    # ------------------------------------------------------------------
    # Demand reduced on the delivery
    # ------------------------------------------------------------------
    def test_demand_reduced_releases_newest_link_to_next_backorder(self):
        so = self._create_so([(self.product, 10)], days_ago=5)
        po = self._create_po([(self.product, 6)], days_ahead=5)
        later_po = self._create_po([(self.product, 4)], days_ahead=9)
        waiting = self._create_so([(self.product, 3)], days_ago=1)
        self.assertLinks(self._active(so), [(so, po, 6), (so, later_po, 4)])
        self._set_demand(so.picking_ids, 7)
        self.assertEqual(so.order_line.move_ids.product_uom_qty, 7)
        self.assertLinks(self._active(so), [(so, po, 6), (so, later_po, 1)])
        self.assertLinks(self._active(waiting), [(waiting, later_po, 3)])
        self.assertClean()

    def test_demand_reduced_below_received_goods_keeps_the_rest_ready(self):
        """Odoo unreserves a move whose demand falls below its reservation;
        the goods received for it are reserved again up to the new demand,
        the received link beyond it released and its goods left free."""
        so = self._create_so([(self.product, 10)])
        po = self._create_po([(self.product, 10)])
        self._validate(po.picking_ids)
        self.assertEqual(self._reserved(so), 10)
        self._set_demand(so.picking_ids, 7)
        self.assertEqual(self._reserved(so), 7)
        self.assertRecordValues(
            self._active(so), [{"quantity": 7, "state": "received"}]
        )
        self.assertEqual(so.order_line.backorder_linked_qty, 7)
        self.assertEqual(po.order_line.backorder_linked_qty, 7)
        self.assertEqual(self._free_qty(), 3)
        self.assertClean()

    def test_sales_line_lowered_below_received_goods_keeps_the_rest_ready(self):
        """The same through the sales order: Odoo lowers the delivery's
        demand and unreserves it; the goods received are reserved again."""
        so = self._create_so([(self.product, 10)])
        po = self._create_po([(self.product, 10)])
        self._validate(po.picking_ids)
        so.order_line.product_uom_qty = 6
        self.assertEqual(so.order_line.move_ids.product_uom_qty, 6)
        self.assertEqual(self._reserved(so), 6)
        self.assertRecordValues(
            self._active(so), [{"quantity": 6, "state": "received"}]
        )
        self.assertEqual(self._free_qty(), 4)
        self.assertClean()

    # ------------------------------------------------------------------
    # "No Backorder"
    # ------------------------------------------------------------------
    def test_no_backorder_releases_rest_of_the_line(self):
        """Part of a delivery validated with "No Backorder": the received
        goods not shipped and the link still awaited are released; the PO's
        units go to the next customer."""
        so = self._create_so([(self.product, 10)], days_ago=5)
        po = self._create_po([(self.product, 10)])
        waiting = self._create_so([(self.product, 6)], days_ago=1)
        self._validate(po.picking_ids, quantity=4)  # 4 received, 6 to come
        self.assertEqual(self._reserved(so), 4)
        self._validate(so.picking_ids, quantity=2, backorder=False)
        self.assertEqual(so.order_line.qty_delivered, 2)
        self.assertFalse(self._open_picking(so))
        self.assertRecordValues(
            so.backorder_link_ids.filtered(lambda link: link.state == "done"),
            [{"quantity": 2}],
        )
        self.assertFalse(self._active(so))
        self.assertEqual(so.order_line.backorder_linked_qty, 0)
        self.assertEqual(self._free_qty(), 2)
        self.assertLinks(self._active(waiting), [(waiting, po, 6)])
        self.assertEqual(po.order_line.backorder_linked_qty, 6)
        self.assertClean()

    def test_no_backorder_cancels_the_move_not_shipped(self):
        """A two-line delivery, one line shipped, the other not at all, "No
        Backorder": Odoo cancels the move left; its link goes."""
        so = self._create_so([(self.product, 3), (self.product_2, 4)], days_ago=5)
        po = self._create_po([(self.product, 3), (self.product_2, 4)])
        waiting = self._create_so([(self.product_2, 4)], days_ago=1)
        self._validate(po.picking_ids)
        picking = so.picking_ids
        chair = picking.move_ids.filtered(lambda m: m.product_id == self.product)
        table = picking.move_ids - chair
        chair.picked = True
        table.quantity = 0
        res = picking.button_validate()
        Form.from_action(self.env, res).save().process_cancel_backorder()
        self.assertEqual(table.state, "cancel")
        self.assertEqual(
            so.order_line.filtered(
                lambda line: line.product_id == self.product_2
            ).backorder_linked_qty,
            0,
        )
        self.assertEqual(self._free_qty(self.product_2), 4)
        self.assertClean()
        # The freed goods are free stock: the next delivery takes them.
        waiting.picking_ids.action_assign()
        self.assertEqual(self._reserved(waiting), 4)
        self.assertClean()
