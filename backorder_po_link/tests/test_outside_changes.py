# Copyright 2026 backorder_po_link contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.tests import Form, tagged

from odoo.addons.backorder_po_link.models.backorder_series import PICKING_MOVES

from .common import BackorderCommon


@tagged("post_install", "-at_install")
class TestOutsideChanges(BackorderCommon):
    """Deliveries cancelled, unreserved, reduced or cut short, and returns:
    changes made on the transfers, outside the addon's own buttons."""

    # ------------------------------------------------------------------
    # Helpers
    # ------------------------------------------------------------------
    def assertClean(self):
        self.assertEqual(self.env["backorder.audit"]._audit(), [])

    def _active(self, order):
        return order.backorder_link_ids.filtered(
            lambda link: link.state in ("linked", "received")
        )

    def _open_picking(self, order):
        return order.picking_ids.filtered(lambda p: p.state not in ("done", "cancel"))

    _validate = BackorderCommon._validate_picking

    def _return(self, picking, quantity, exchange=False, validate=True):
        """The Return button of a done transfer, for ``quantity`` ("Return",
        or "Return for Exchange"); returns the return transfer, validated
        unless told otherwise."""
        action = picking.env.ref("stock.act_stock_return_picking").read()[0]
        form = Form(
            self.env[action["res_model"]].with_context(
                active_id=picking.id,
                active_ids=picking.ids,
                active_model="stock.picking",
            )
        )
        with form.product_return_moves.edit(0) as line:
            line.quantity = quantity
        wizard = form.save()
        if exchange:
            res = wizard.action_create_exchanges()
        else:
            res = wizard.action_create_returns()
        returned = self.env["stock.picking"].browse(res["res_id"])
        if validate:
            self._validate(returned, quantity=quantity)
            self.assertEqual(returned.state, "done")
        return returned

    def _set_demand(self, picking, quantity):
        """Unlock the delivery and lower its move's demand, as on its form."""
        picking.action_toggle_is_locked()
        with Form(picking) as form, form[PICKING_MOVES].edit(0) as move:
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

    # ------------------------------------------------------------------
    # Returns
    # ------------------------------------------------------------------
    def test_return_to_vendor_links_the_line_again(self):
        """Goods received for a customer go back to the vendor, who sends
        them again (the PO line's received quantity goes down): the delivery
        is no longer reserved, the line is linked to the PO line again."""
        so = self._create_so([(self.product, 5)])
        po = self._create_po([(self.product, 5)])
        receipt = po.picking_ids
        self._validate(receipt)
        self.assertEqual(so.backorder_link_ids.state, "received")
        self._return(receipt, 5)
        self.assertEqual(po.order_line.qty_received, 0)
        self.assertEqual(self._reserved(so), 0)
        self.assertLinks(self._active(so), [(so, po, 5)])
        self.assertEqual(self._active(so).state, "linked")
        self.assertEqual(so.order_line.backorder_linked_qty, 5)
        self.assertEqual(po.order_line.backorder_linked_qty, 5)
        self.assertClean()

    def test_return_to_vendor_of_free_goods_keeps_the_customer_served(self):
        """The goods returned were free stock: the customer served keeps
        its reserved goods; the quantity the vendor sends again is free on
        the PO line."""
        first = self._create_so([(self.product, 5)], days_ago=5)
        po = self._create_po([(self.product, 10)])
        receipt = po.picking_ids
        self._validate(receipt)
        self.assertEqual(self._free_qty(), 5)
        self._return(receipt, 5)
        self.assertEqual(po.order_line.qty_received, 5)
        self.assertEqual(self._reserved(first), 5)
        self.assertEqual(first.backorder_link_ids.state, "received")
        self.assertEqual(po.order_line.backorder_free_qty, 5)
        self.assertClean()

    def test_return_to_vendor_of_goods_reserved_from_stock(self):
        """Odoo takes the goods sent back from the delivery it reserved last,
        here one served from the receipt's surplus without a link: that
        customer waits again and is linked to the quantity awaited again."""
        promised = self._create_so([(self.product, 5)], days_ago=5)
        po = self._create_po([(self.product, 10)])
        self.company.backorder_link_on_so_confirm = False
        from_stock = self._create_so([(self.product, 5)], days_ago=1)
        self.company.backorder_link_on_so_confirm = True
        self.assertFalse(from_stock.backorder_link_ids)
        receipt = po.picking_ids
        self._validate(receipt)
        self.assertEqual(self._reserved(promised), 5)
        self.assertEqual(self._reserved(from_stock), 5)
        self._return(receipt, 5)
        self.assertEqual(po.order_line.qty_received, 5)
        self.assertEqual(self._reserved(promised), 5)
        self.assertEqual(promised.backorder_link_ids.state, "received")
        self.assertEqual(self._reserved(from_stock), 0)
        self.assertLinks(self._active(from_stock), [(from_stock, po, 5)])
        self.assertEqual(po.order_line.backorder_linked_qty, 10)
        self.assertEqual(po.order_line.backorder_free_qty, 0)
        self.assertClean()

    def test_return_to_vendor_line_promised_keeps_its_turn(self):
        """An older customer waits with nothing linked (it ordered once the
        PO was promised): the goods sent back and awaited again go back to
        the line they were promised to."""
        promised = self._create_so([(self.product, 5)], days_ago=3)
        po = self._create_po([(self.product, 5)])
        older = self._create_so([(self.product, 5)], days_ago=10)
        self.assertFalse(older.backorder_link_ids)
        receipt = po.picking_ids
        self._validate(receipt)
        self._return(receipt, 5)
        self.assertLinks(self._active(po), [(promised, po, 5)])
        self.assertEqual(older.order_line.backorder_qty, 5)
        self.assertClean()

    def test_return_to_vendor_for_exchange(self):
        """Goods nobody was promised sent back with "Return for Exchange": the
        quantity is awaited again, a customer ordering meanwhile is linked to
        it, and the vendor's replacement is reserved for them on arrival."""
        served = self._create_so([(self.product, 5)], days_ago=5)
        po = self._create_po([(self.product, 10)])
        receipt = po.picking_ids
        self._validate(receipt)
        self.assertEqual(self._free_qty(), 5)
        returned = self._return(receipt, 5, exchange=True)
        self.assertEqual(returned.state, "done")
        self.assertEqual(po.order_line.qty_received, 5)
        self.assertEqual(self._reserved(served), 5)
        self.assertEqual(served.backorder_link_ids.state, "received")
        self.assertEqual(po.order_line.backorder_free_qty, 5)
        self.assertClean()
        newcomer = self._create_so([(self.product, 5)])
        self.assertLinks(self._active(newcomer), [(newcomer, po, 5)])
        exchange = po.picking_ids - receipt - returned
        self.assertEqual(exchange.picking_type_id.code, "incoming")
        self._validate(exchange)
        self.assertEqual(po.order_line.qty_received, 10)
        self.assertEqual(self._reserved(newcomer), 5)
        self.assertEqual(self._active(newcomer).state, "received")
        self.assertEqual(po.order_line.backorder_linked_qty, 10)
        self.assertClean()

    def test_customer_return_keeps_done_links(self):
        so = self._create_so([(self.product, 5)])
        po = self._create_po([(self.product, 5)])
        self._validate(po.picking_ids)
        delivery = so.picking_ids
        self._validate(delivery)
        self.assertEqual(so.backorder_link_ids.state, "done")
        self._return(delivery, 2)
        self.assertEqual(so.order_line.qty_delivered, 3)
        self.assertEqual(so.backorder_link_ids.state, "done")
        self.assertEqual(so.backorder_link_ids.quantity, 5)
        self.assertEqual(so.order_line.backorder_linked_qty, 0)
        self.assertEqual(po.order_line.backorder_linked_qty, 0)
        self.assertEqual(self._free_qty(), 2)
        self.assertClean()

    def test_customer_return_for_exchange_ships_the_returned_goods(self):
        """A delivery's goods back with "Return for Exchange": Odoo opens a new
        delivery for the returned quantity; the goods coming back serve it (no link to a
        purchase, though one has free quantity), the delivered links stay."""
        so = self._create_so([(self.product, 5)])
        po = self._create_po([(self.product, 5)])
        self._validate(po.picking_ids)
        delivery = so.picking_ids
        self._validate(delivery)
        spare = self._create_po([(self.product, 5)], days_ahead=20)
        returned = self._return(delivery, 2, exchange=True, validate=False)
        new_delivery = self._open_picking(so) - returned
        self.assertEqual(new_delivery.picking_type_id.code, "outgoing")
        self.assertEqual(new_delivery.move_ids.product_uom_qty, 2)
        self._validate(returned, quantity=2)
        self.assertEqual(new_delivery.state, "assigned")
        self.assertEqual(self._reserved(so), 2)
        self.assertRecordValues(
            so.backorder_link_ids, [{"quantity": 5, "state": "done"}]
        )
        self.assertFalse(spare.backorder_link_ids)
        self.assertClean()
        self._validate(new_delivery)
        self.assertEqual(so.order_line.qty_delivered, 5)
        self.assertClean()
