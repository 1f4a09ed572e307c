# Copyright 2026 backorder_po_link contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Links through tracked products, multi-step routes and several lines, each
played through the buttons of the receipt, the transfers and the delivery."""

from datetime import timedelta

from odoo import fields
from odoo.tests import Form, tagged
from odoo.tools.misc import format_date

from .common import BackorderCommon


class TestRoutesCommon(BackorderCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Inventory > Settings > Lots & Serial Numbers, as a real database
        # with tracked products has it: the receipt then shows the lot fields.
        cls.env["res.config.settings"].create(
            {"group_stock_production_lot": True}
        ).execute()

    # ------------------------------------------------------------------
    # What the warehouse user does
    # ------------------------------------------------------------------
    def _validate(self, picking, quantity=None):
        """Validate ``picking`` as it stands (or for ``quantity`` on its only
        move), keeping what is left as a backorder."""
        self.assertEqual(len(picking), 1)
        self._validate_picking(picking, quantity)
        self.assertEqual(picking.state, "done")
        return picking

    def _receipt(self, po):
        return po.picking_ids.filtered(lambda p: p.state not in ("done", "cancel"))

    def _next_step(self, picking):
        """The transfer that takes the goods of ``picking`` one step further
        (the one its *Next Transfers* button opens)."""
        nxt = picking.move_ids.move_dest_ids.picking_id.filtered(
            lambda p: p.state not in ("done", "cancel")
        )
        self.assertEqual(len(nxt), 1, "one next step expected")
        return nxt

    def _enter_lots(self, picking, lots):
        """Type lot / serial numbers on the receipt's detailed operations:
        ``lots`` is a list of ``(name, quantity)`` for its only move."""
        move = picking.move_ids
        self.assertEqual(len(move), 1)
        with Form(move, view="stock.view_stock_move_operations") as move_form:
            existing = len(move_form.move_line_ids)
            for index, (name, quantity) in enumerate(lots):
                if index < existing:
                    with move_form.move_line_ids.edit(index) as line:
                        line.lot_name = name
                        line.quantity = quantity
                else:
                    with move_form.move_line_ids.new() as line:
                        line.lot_name = name
                        line.quantity = quantity
            for _extra in range(existing - len(lots)):
                move_form.move_line_ids.remove(len(lots))

    def _first_out_step(self, so):
        """The sales order's open transfer out of stock: the delivery, or the
        pick of a multi-step delivery (Odoo 18 pushes the next steps when
        the pick is done)."""
        pickings = so.picking_ids.filtered(lambda p: p.state not in ("done", "cancel"))
        self.assertEqual(len(pickings), 1)
        self.assertEqual(pickings.location_id, self.warehouse.lot_stock_id)
        return pickings

    # ------------------------------------------------------------------
    # What the users see
    # ------------------------------------------------------------------
    def assertLinkStates(self, records, expected):
        """``expected``: the (state, quantity) of their links not cancelled,
        in any order."""
        got = sorted(
            (link.state, link.quantity)
            for link in records.backorder_link_ids
            if link.state != "cancel"
        )
        self.assertEqual(got, sorted(expected))

    def assertFigures(self, sale_line, po_line, **figures):
        """The quantities on both lines (``backorder_qty``, ``sale_linked``,
        ``free``, ``po_linked``), and an audit that finds nothing."""
        values = {
            "backorder_qty": sale_line.backorder_qty,
            "sale_linked": sale_line.backorder_linked_qty,
            "free": po_line.backorder_free_qty,
            "po_linked": po_line.backorder_linked_qty,
        }
        self.assertEqual(
            {key: values[key] for key in figures}, figures, f"{sale_line} {po_line}"
        )
        self.assertEqual(self.env["backorder.audit"]._audit(), [])

    def _reserved(self, picking):
        return sum(picking.move_ids.mapped("quantity"))


@tagged("post_install", "-at_install")
class TestTracking(TestRoutesCommon):
    """Lot and serial numbers typed on the receipt follow the link to the
    delivery."""

    def test_lot_tracked_receipt_reserves_lots_for_linked_delivery(self):
        product = self._create_product("Teak Bench", tracking="lot")
        so = self._create_so([(product, 10)])
        po = self._create_po([(product, 10)])
        self.assertLinks(so.backorder_link_ids, [(so, po, 10)])
        sale_line, po_line = so.order_line, po.order_line
        self.assertFigures(
            sale_line, po_line, backorder_qty=0, sale_linked=10, free=0, po_linked=10
        )

        receipt = self._receipt(po)
        self._enter_lots(receipt, [("LOT-A", 6), ("LOT-B", 4)])
        self._validate(receipt)

        delivery = so.picking_ids
        self.assertLinkStates(so, [("received", 10)])
        self.assertEqual(delivery.state, "assigned")
        self.assertEqual(self._reserved(delivery), 10)
        self.assertEqual(
            sorted(
                (ml.lot_id.name, ml.quantity) for ml in delivery.move_ids.move_line_ids
            ),
            [("LOT-A", 6), ("LOT-B", 4)],
        )
        self.assertFigures(
            sale_line, po_line, backorder_qty=0, sale_linked=10, free=0, po_linked=10
        )

        self._validate(delivery)
        self.assertLinkStates(so, [("done", 10)])
        self.assertEqual(sale_line.qty_delivered, 10)
        self.assertFigures(
            sale_line, po_line, backorder_qty=0, sale_linked=0, free=0, po_linked=0
        )

    def test_lot_tracked_partial_receipt_then_rest(self):
        """A first lot arrives alone: that much is received and reserved, the
        rest stays linked to the receipt's backorder."""
        product = self._create_product("Teak Stool", tracking="lot")
        so = self._create_so([(product, 10)])
        po = self._create_po([(product, 10)])
        sale_line, po_line = so.order_line, po.order_line

        receipt = self._receipt(po)
        self._enter_lots(receipt, [("LOT-1", 4)])
        self._validate(receipt)
        self.assertLinkStates(so, [("linked", 6), ("received", 4)])
        self.assertEqual(self._reserved(so.picking_ids), 4)
        self.assertEqual(so.picking_ids.move_ids.move_line_ids.lot_id.name, "LOT-1")
        self.assertFigures(
            sale_line, po_line, backorder_qty=0, sale_linked=10, free=0, po_linked=10
        )

        receipt = self._receipt(po)
        self._enter_lots(receipt, [("LOT-2", 6)])
        self._validate(receipt)
        self.assertLinkStates(so, [("received", 6), ("received", 4)])
        self.assertEqual(self._reserved(so.picking_ids), 10)
        self.assertFigures(
            sale_line, po_line, backorder_qty=0, sale_linked=10, free=0, po_linked=10
        )
        self._validate(so.picking_ids)
        self.assertLinkStates(so, [("done", 6), ("done", 4)])
        self.assertFigures(
            sale_line, po_line, backorder_qty=0, sale_linked=0, free=0, po_linked=0
        )

    def test_serial_tracked_receipt_reserves_serials_for_linked_delivery(self):
        product = self._create_product("Espresso Machine", tracking="serial")
        older = self._create_so([(product, 2)], days_ago=3)
        newer = self._create_so([(product, 2)], days_ago=1)
        po = self._create_po([(product, 3)])
        self.assertLinks(po.backorder_link_ids, [(older, po, 2), (newer, po, 1)])
        self.assertFigures(
            newer.order_line,
            po.order_line,
            backorder_qty=1,
            sale_linked=1,
            free=0,
            po_linked=3,
        )

        receipt = self._receipt(po)
        self._enter_lots(receipt, [("SN-001", 1), ("SN-002", 1), ("SN-003", 1)])
        self._validate(receipt)

        self.assertLinkStates(older, [("received", 2)])
        self.assertLinkStates(newer, [("received", 1)])
        self.assertEqual(self._reserved(older.picking_ids), 2)
        self.assertEqual(self._reserved(newer.picking_ids), 1)
        serials = (
            older.picking_ids.move_line_ids | newer.picking_ids.move_line_ids
        ).mapped("lot_id.name")
        self.assertEqual(sorted(serials), ["SN-001", "SN-002", "SN-003"])
        self.assertTrue(
            all(ml.quantity == 1 for ml in older.picking_ids.move_line_ids),
            "one move line per serial number",
        )
        self.assertFigures(
            newer.order_line,
            po.order_line,
            backorder_qty=1,
            sale_linked=1,
            free=0,
            po_linked=3,
        )

        self._validate(older.picking_ids)
        self._validate(newer.picking_ids)  # one shipped, one kept as backorder
        self.assertLinkStates(older, [("done", 2)])
        self.assertLinkStates(newer, [("done", 1)])
        self.assertEqual(newer.order_line.qty_delivered, 1)
        self.assertFigures(
            newer.order_line,
            po.order_line,
            backorder_qty=1,
            sale_linked=0,
            free=0,
            po_linked=0,
        )


@tagged("post_install", "-at_install")
class TestMultiStepReceipt(TestRoutesCommon):
    """Goods count as arrived only when they reach stock."""

    def _assert_still_on_the_way(self, so, po):
        self.assertLinkStates(so, [("linked", 5)])
        self.assertEqual(self._reserved(so.picking_ids), 0)
        self.assertEqual(so.order_line.backorder_status, "linked")
        # Odoo counts the purchase line received at the first step: its 3
        # units beyond the link are no longer free to promise.
        self.assertEqual(po.order_line.qty_received, 8)
        self.assertFigures(
            so.order_line,
            po.order_line,
            backorder_qty=0,
            sale_linked=5,
            free=0,
            po_linked=5,
        )

    def _assert_arrived(self, so, po):
        self.assertLinkStates(so, [("received", 5)])
        self.assertEqual(so.picking_ids.state, "assigned")
        self.assertEqual(self._reserved(so.picking_ids), 5)
        self.assertEqual(so.order_line.backorder_status, "ready")
        self.assertFigures(
            so.order_line,
            po.order_line,
            backorder_qty=0,
            sale_linked=5,
            free=0,
            po_linked=5,
        )

    def _assert_delivered(self, so, po):
        self._validate(so.picking_ids)
        self.assertLinkStates(so, [("done", 5)])
        self.assertEqual(so.order_line.qty_delivered, 5)
        self.assertFigures(
            so.order_line,
            po.order_line,
            backorder_qty=0,
            sale_linked=0,
            free=0,
            po_linked=0,
        )

    def test_two_step_receipt_counts_at_stock(self):
        self.warehouse.reception_steps = "two_steps"
        so = self._create_so([(self.product, 5)])
        po = self._create_po([(self.product, 8)])

        receipt = self._validate(self._receipt(po))  # vendor -> input
        self.assertEqual(receipt.location_dest_id, self.warehouse.wh_input_stock_loc_id)
        self._assert_still_on_the_way(so, po)

        storage = self._next_step(receipt)  # input -> stock
        self.assertEqual(storage.location_dest_id, self.warehouse.lot_stock_id)
        self._validate(storage)
        self._assert_arrived(so, po)
        self._assert_delivered(so, po)

    def test_three_step_receipt_counts_at_stock(self):
        self.warehouse.reception_steps = "three_steps"
        so = self._create_so([(self.product, 5)])
        po = self._create_po([(self.product, 8)])

        receipt = self._validate(self._receipt(po))  # vendor -> input
        self._assert_still_on_the_way(so, po)
        quality = self._next_step(receipt)  # input -> quality control
        self.assertEqual(quality.location_dest_id, self.warehouse.wh_qc_stock_loc_id)
        self._validate(quality)
        self._assert_still_on_the_way(so, po)
        storage = self._next_step(quality)  # quality control -> stock
        self.assertEqual(storage.location_dest_id, self.warehouse.lot_stock_id)
        self._validate(storage)
        self._assert_arrived(so, po)
        self._assert_delivered(so, po)

    def test_two_step_receipt_stored_in_two_parts(self):
        """The storage step done in part: what reached stock is received, the
        rest stays linked until its own storage."""
        self.warehouse.reception_steps = "two_steps"
        so = self._create_so([(self.product, 5)])
        po = self._create_po([(self.product, 8)])
        storage = self._next_step(self._validate(self._receipt(po)))
        self._validate(storage, quantity=3)
        self.assertLinkStates(so, [("linked", 2), ("received", 3)])
        self.assertEqual(self._reserved(so.picking_ids), 3)
        self.assertEqual(so.picking_ids.state, "assigned")  # partial delivery allowed
        self.assertEqual(so.order_line.backorder_status, "linked")
        self.assertFigures(
            so.order_line,
            po.order_line,
            backorder_qty=0,
            sale_linked=5,
            free=0,
            po_linked=5,
        )
        self._validate(storage.backorder_ids)
        self.assertLinkStates(so, [("received", 2), ("received", 3)])
        self.assertEqual(self._reserved(so.picking_ids), 5)
        free = self.product.with_context(warehouse_id=self.warehouse.id).free_qty
        self.assertEqual(free, 3)
        self._validate(so.picking_ids)
        self.assertLinkStates(so, [("done", 2), ("done", 3)])
        self.assertFigures(
            so.order_line,
            po.order_line,
            backorder_qty=0,
            sale_linked=0,
            free=0,
            po_linked=0,
        )


@tagged("post_install", "-at_install")
class TestMultiStepDelivery(TestRoutesCommon):
    """Received goods are reserved on the first outgoing step; only shipping
    the last one closes the link."""

    def _play(self, delivery_steps, reception_steps="one_step", tracking="none"):
        self.warehouse.write(
            {"delivery_steps": delivery_steps, "reception_steps": reception_steps}
        )
        product = self._create_product("Routed Sofa", tracking=tracking)
        so = self._create_so([(product, 4)])
        po = self._create_po([(product, 6)])
        sale_line, po_line = so.order_line, po.order_line
        pick = self._first_out_step(so)
        self.assertEqual(pick.picking_type_id, self.warehouse.pick_type_id)
        self.assertLinks(so.backorder_link_ids, [(so, po, 4)])
        self.assertFigures(
            sale_line, po_line, backorder_qty=0, sale_linked=4, free=2, po_linked=4
        )

        # Receive, through every step of the receipt.
        picking = self._receipt(po)
        if tracking == "lot":
            self._enter_lots(picking, [("LOT-R", 6)])
        elif tracking == "serial":
            self._enter_lots(picking, [(f"SN-R{i}", 1) for i in range(6)])
        while True:
            self._validate(picking)
            if picking.location_dest_id == self.warehouse.lot_stock_id:
                break
            self.assertLinkStates(so, [("linked", 4)])
            self.assertEqual(self._reserved(pick), 0)
            picking = self._next_step(picking)

        # Reserved on the pick.
        self.assertLinkStates(so, [("received", 4)])
        self.assertEqual(pick.state, "assigned")
        self.assertEqual(self._reserved(pick), 4)
        self.assertEqual(sale_line.backorder_status, "ready")
        self.assertFigures(
            sale_line, po_line, backorder_qty=0, sale_linked=4, free=0, po_linked=4
        )
        free = product.with_context(warehouse_id=self.warehouse.id).free_qty
        self.assertEqual(free, 2, "what no backorder waits for stays free")

        # Every step but the last: the goods move on, the promise holds.
        steps = [pick]
        while steps[-1].location_dest_id.usage != "customer":
            self._validate(steps[-1])
            step = self._next_step(steps[-1])
            steps.append(step)
            self.assertLinkStates(so, [("received", 4)])
            self.assertEqual(step.state, "assigned")
            self.assertEqual(self._reserved(step), 4)
            self.assertEqual(sale_line.qty_delivered, 0)
            self.assertEqual(sale_line.backorder_status, "ready")
            self.assertFigures(
                sale_line,
                po_line,
                backorder_qty=0,
                sale_linked=4,
                free=0,
                po_linked=4,
            )
        self.assertEqual(
            len(steps), {"pick_ship": 2, "pick_pack_ship": 3}[delivery_steps]
        )
        self.assertEqual(steps[-1].picking_type_id, self.warehouse.out_type_id)

        # Shipping to the customer closes it.
        if tracking != "none":
            self.assertEqual(
                len(steps[-1].move_line_ids.lot_id), 1 if tracking == "lot" else 4
            )
        self._validate(steps[-1])
        self.assertLinkStates(so, [("done", 4)])
        self.assertEqual(sale_line.qty_delivered, 4)
        self.assertFalse(sale_line.backorder_status)
        self.assertFigures(
            sale_line, po_line, backorder_qty=0, sale_linked=0, free=0, po_linked=0
        )
        return so, po

    def test_pick_ship(self):
        self._play("pick_ship")

    def test_pick_pack_ship(self):
        self._play("pick_pack_ship")

    def test_three_step_receipt_pick_pack_ship(self):
        self._play("pick_pack_ship", reception_steps="three_steps")

    def test_two_step_receipt_pick_ship_lots(self):
        self._play("pick_ship", reception_steps="two_steps", tracking="lot")

    def test_three_step_receipt_pick_ship_serials(self):
        self._play("pick_ship", reception_steps="three_steps", tracking="serial")

    def test_pick_in_part_keeps_rest_received(self):
        """Half the pick done: the other half stays reserved on the pick's
        backorder; shipping the half that was picked closes only that half."""
        self.warehouse.delivery_steps = "pick_ship"
        so = self._create_so([(self.product, 4)])
        po = self._create_po([(self.product, 4)])
        self._validate(self._receipt(po))
        pick = self._first_out_step(so)
        self._validate(pick, quantity=3)
        rest = pick.backorder_ids
        ship = self._next_step(pick)
        self.assertEqual(self._reserved(rest), 1)
        self.assertEqual(self._reserved(ship), 3)
        self.assertLinkStates(so, [("received", 4)])
        self._validate(ship)
        self.assertLinkStates(so, [("received", 1), ("done", 3)])
        self.assertEqual(so.order_line.qty_delivered, 3)
        self.assertFigures(
            so.order_line,
            po.order_line,
            backorder_qty=0,
            sale_linked=1,
            free=0,
            po_linked=1,
        )
        self._validate(rest)
        self.assertLinkStates(so, [("received", 1), ("done", 3)])
        self._validate(self._next_step(rest))
        self.assertLinkStates(so, [("done", 1), ("done", 3)])
        self.assertFigures(
            so.order_line,
            po.order_line,
            backorder_qty=0,
            sale_linked=0,
            free=0,
            po_linked=0,
        )

    def test_pick_backorder_served_from_stock_releases_link(self):
        """The pick done in part while other stock appeared: Odoo reserves
        the pick's backorder from it, and the link still awaiting its
        purchase is released (the purchase's goods go to the next in line)."""
        self.warehouse.delivery_steps = "pick_ship"
        so = self._create_so([(self.product, 6)], days_ago=2)
        first = self._create_po([(self.product, 4)], days_ahead=3)
        second = self._create_po([(self.product, 2)], days_ahead=9)
        self.assertLinks(so.backorder_link_ids, [(so, first, 4), (so, second, 2)])
        self._validate(self._receipt(first))
        other = self._create_so([(self.product, 2)], days_ago=1)
        self.assertEqual(other.order_line.backorder_qty, 2)
        # Found at the back of the shelf, counted in by an adjustment.
        self._put_in_stock(self.product, 2)
        pick = self._first_out_step(so)
        self.assertEqual(self._reserved(pick), 4)
        self._validate(pick)
        self.assertEqual(self._reserved(pick.backorder_ids), 2)
        self.assertLinkStates(so, [("received", 4)])
        self.assertLinks(
            other.backorder_link_ids.filtered(lambda l: l.state == "linked"),
            [(other, second, 2)],
        )
        self.assertFigures(
            so.order_line,
            second.order_line,
            backorder_qty=0,
            sale_linked=4,
            free=0,
            po_linked=2,
        )


@tagged("post_install", "-at_install")
class TestSeveralLines(TestRoutesCommon):
    """Two lines of one product on a sales order, several lines on a PO."""

    def test_two_lines_same_product_each_keep_their_own(self):
        self._put_in_stock(self.product, 2)
        so = self._create_so([(self.product, 3), (self.product, 5)])
        line_a, line_b = so.order_line
        # The stock went to the first line: it lacks 1, the second 5.
        self.assertEqual(line_a.move_ids.quantity, 2)
        self.assertEqual(line_b.move_ids.quantity, 0)
        soon = self._create_po([(self.product, 4)], days_ahead=3)
        later = self._create_po([(self.product, 10)], days_ahead=12)
        self.assertLinks(line_a.backorder_link_ids, [(so, soon, 1)])
        self.assertLinks(line_b.backorder_link_ids, [(so, soon, 3), (so, later, 2)])
        self.assertEqual(line_a.backorder_expected_date, soon.order_line.date_planned)
        self.assertEqual(line_b.backorder_expected_date, later.order_line.date_planned)
        self.assertFigures(
            line_a, soon.order_line, backorder_qty=0, sale_linked=1, free=0, po_linked=4
        )
        self.assertFigures(
            line_b,
            later.order_line,
            backorder_qty=0,
            sale_linked=5,
            free=8,
            po_linked=2,
        )

        # The first PO arrives: each line gets what was promised to it.
        self._validate(self._receipt(soon))
        self.assertLinkStates(line_a, [("received", 1)])
        self.assertLinkStates(line_b, [("received", 3), ("linked", 2)])
        self.assertEqual(line_a.move_ids.quantity, 3)
        self.assertEqual(line_b.move_ids.quantity, 3)
        self.assertEqual(line_a.backorder_status, "ready")
        self.assertEqual(line_b.backorder_status, "linked")
        self.assertFalse(line_a.backorder_expected_date)
        self.assertEqual(line_b.backorder_expected_date, later.order_line.date_planned)

        # Ship what is there: line A in full, 3 of line B.
        delivery = so.picking_ids
        self._validate(delivery)
        self.assertLinkStates(line_a, [("done", 1)])
        self.assertLinkStates(line_b, [("done", 3), ("linked", 2)])
        self.assertEqual(line_a.qty_delivered, 3)
        self.assertEqual(line_b.qty_delivered, 3)
        self.assertFigures(
            line_b,
            later.order_line,
            backorder_qty=0,
            sale_linked=2,
            free=8,
            po_linked=2,
        )

        # The second PO brings line B's last two.
        self._validate(self._receipt(later))
        self.assertLinkStates(line_b, [("done", 3), ("received", 2)])
        rest = delivery.backorder_ids
        self.assertEqual(rest.move_ids.sale_line_id, line_b)
        self.assertEqual(self._reserved(rest), 2)
        self._validate(rest)
        self.assertLinkStates(line_a, [("done", 1)])
        self.assertLinkStates(line_b, [("done", 3), ("done", 2)])
        self.assertEqual((line_a | line_b).mapped("qty_delivered"), [3, 5])
        self.assertFigures(
            line_b,
            later.order_line,
            backorder_qty=0,
            sale_linked=0,
            free=0,
            po_linked=0,
        )

    def test_two_lines_same_product_older_order_served_first(self):
        """A second order for the product waits behind both lines; the
        receipt does not hand one line's goods to the other or to it."""
        so = self._create_so([(self.product, 2), (self.product, 3)], days_ago=2)
        other = self._create_so([(self.product, 4)], days_ago=1)
        po = self._create_po([(self.product, 6)])
        line_a, line_b = so.order_line
        self.assertLinks(line_a.backorder_link_ids, [(so, po, 2)])
        self.assertLinks(line_b.backorder_link_ids, [(so, po, 3)])
        self.assertLinks(other.backorder_link_ids, [(other, po, 1)])
        self._validate(self._receipt(po), quantity=4)
        # Oldest links first: line A, then 2 of line B.
        self.assertLinkStates(line_a, [("received", 2)])
        self.assertLinkStates(line_b, [("received", 2), ("linked", 1)])
        self.assertLinkStates(other, [("linked", 1)])
        self.assertEqual(line_a.move_ids.quantity, 2)
        self.assertEqual(line_b.move_ids.quantity, 2)
        self.assertEqual(other.order_line.move_ids.quantity, 0)
        self.assertFigures(
            line_b, po.order_line, backorder_qty=0, sale_linked=3, free=0, po_linked=6
        )
        self._validate(self._receipt(po))
        self.assertLinkStates(line_b, [("received", 2), ("received", 1)])
        self.assertLinkStates(other, [("received", 1)])
        self.assertEqual(line_b.move_ids.quantity, 3)
        self.assertEqual(other.order_line.move_ids.quantity, 1)
        self.assertFigures(
            other.order_line,
            po.order_line,
            backorder_qty=3,
            sale_linked=1,
            free=0,
            po_linked=6,
        )

    def test_delivery_in_parts_keeps_links_of_the_rest(self):
        """One line partly received: delivering what arrived (the rest kept
        as a backorder) closes that much and leaves the rest linked."""
        so = self._create_so([(self.product, 10)])
        po = self._create_po([(self.product, 10)])
        self._validate(self._receipt(po), quantity=4)
        delivery = so.picking_ids
        self._validate(delivery)
        self.assertLinkStates(so, [("done", 4), ("linked", 6)])
        self.assertEqual(so.order_line.qty_delivered, 4)
        self.assertFigures(
            so.order_line,
            po.order_line,
            backorder_qty=0,
            sale_linked=6,
            free=0,
            po_linked=6,
        )
        self._validate(self._receipt(po))
        self.assertLinkStates(so, [("done", 4), ("received", 6)])
        self.assertEqual(self._reserved(delivery.backorder_ids), 6)
        self._validate(delivery.backorder_ids)
        self.assertLinkStates(so, [("done", 4), ("done", 6)])
        self.assertFigures(
            so.order_line,
            po.order_line,
            backorder_qty=0,
            sale_linked=0,
            free=0,
            po_linked=0,
        )

    def test_po_lines_with_their_own_dates(self):
        """A PO with two lines of one product due on different days, and a
        line of another product: each link keeps its own line's date, and
        moving one line's date moves only its links."""
        older = self._create_so([(self.product, 4), (self.product_2, 2)], days_ago=3)
        newer = self._create_so([(self.product, 4)], days_ago=1)
        now = fields.Datetime.now().replace(microsecond=0)
        late, early, other_day = (
            now + timedelta(days=10),
            now + timedelta(days=3),
            now + timedelta(days=6),
        )
        po_form = Form(self.env["purchase.order"])
        po_form.partner_id = self.vendor
        for product, qty, date in (
            (self.product, 4, late),
            (self.product, 4, early),
            (self.product_2, 2, other_day),
        ):
            with po_form.order_line.new() as line:
                line.product_id = product
                line.product_qty = qty
                line.date_planned = date
        po = po_form.save()
        po.button_confirm()
        pol_late, pol_early, pol_other = po.order_line
        line_old, line_old_2 = older.order_line
        line_new = newer.order_line

        # Oldest backorder, earliest arrival.
        self.assertEqual(pol_early.backorder_link_ids.sale_line_id, line_old)
        self.assertEqual(pol_late.backorder_link_ids.sale_line_id, line_new)
        self.assertEqual(pol_other.backorder_link_ids.sale_line_id, line_old_2)
        for sale_line, date in (
            (line_old, early),
            (line_new, late),
            (line_old_2, other_day),
        ):
            self.assertEqual(sale_line.backorder_link_ids.expected_date, date)
            self.assertEqual(sale_line.backorder_expected_date, date)
            self.assertEqual(
                sale_line.backorder_badge,
                f"On order: {format_date(self.env, date)}",
            )
        self.assertEqual(self.env["backorder.audit"]._audit(), [])

        # The vendor moves the late line further out.
        later = now + timedelta(days=20)
        with Form(po) as po_form, po_form.order_line.edit(0) as line:
            line.date_planned = later
        self.assertEqual(pol_late.date_planned, later)
        self.assertEqual(line_new.backorder_link_ids.expected_date, later)
        self.assertEqual(line_new.backorder_expected_date, later)
        self.assertEqual(
            line_new.backorder_badge, f"On order: {format_date(self.env, later)}"
        )
        for sale_line, date in ((line_old, early), (line_old_2, other_day)):
            self.assertEqual(sale_line.backorder_link_ids.expected_date, date)
            self.assertEqual(sale_line.backorder_expected_date, date)
            self.assertEqual(
                sale_line.backorder_badge,
                f"On order: {format_date(self.env, date)}",
            )
        self.assertEqual(
            (line_old | line_new | line_old_2).backorder_link_ids.mapped("state"),
            ["linked"] * 3,
        )
        self.assertEqual(self.env["backorder.audit"]._audit(), [])

    def test_two_lines_same_product_on_two_po_lines_each_keep_their_date(self):
        """Both lines of one sales order linked to different PO lines: each
        keeps its line's date, and a date change touches only its own."""
        so = self._create_so([(self.product, 3), (self.product, 2)])
        line_a, line_b = so.order_line
        now = fields.Datetime.now().replace(microsecond=0)
        po = self._create_po([(self.product, 3), (self.product, 2)], confirm=False)
        po.order_line[0].date_planned = now + timedelta(days=4)
        po.order_line[1].date_planned = now + timedelta(days=9)
        po.button_confirm()
        first, second = po.order_line
        self.assertEqual(line_a.backorder_link_ids.purchase_line_id, first)
        self.assertEqual(line_b.backorder_link_ids.purchase_line_id, second)
        self.assertEqual(line_a.backorder_expected_date, now + timedelta(days=4))
        self.assertEqual(line_b.backorder_expected_date, now + timedelta(days=9))
        first.date_planned = now + timedelta(days=15)
        self.assertEqual(line_a.backorder_expected_date, now + timedelta(days=15))
        self.assertEqual(line_b.backorder_expected_date, now + timedelta(days=9))
        self.assertEqual(
            line_b.backorder_link_ids.expected_date, now + timedelta(days=9)
        )
        self.assertEqual(self.env["backorder.audit"]._audit(), [])
