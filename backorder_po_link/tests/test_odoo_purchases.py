# Copyright 2026 backorder_po_link contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Purchases Odoo makes for one customer (Replenish on Order, dropship), kits
and archived products: never supply or backorders to link elsewhere."""

from datetime import timedelta

from odoo import Command
from odoo.exceptions import ValidationError
from odoo.tests import Form, tagged

from odoo.addons.backorder_po_link.models.backorder_series import sale_line_route

from .common import BackorderCommon


class OdooPurchasesCommon(BackorderCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.product.seller_ids = [Command.create({"partner_id": cls.vendor.id})]
        cls.route_buy = cls.env.ref("purchase_stock.route_warehouse0_buy")
        cls.route_mto = cls.env.ref("stock.route_warehouse0_mto")
        cls.route_mto.active = True
        cls.product.route_ids = [Command.link(cls.route_buy.id)]
        cls.Report = cls.env["backorder.purchase.report"]

    def assertAuditClean(self):
        self.assertEqual(self.env["backorder.audit"]._audit(), [])

    def _to_purchase(self, product):
        return sum(
            self.Report.search([("product_id", "=", product.id)]).mapped(
                "qty_to_purchase"
            )
        )

    _validate = BackorderCommon._validate_picking

    def _order_on_route(self, route, quantity, partner):
        """A sales order whose line takes ``route`` (as a salesperson picks
        it on the line); confirming it makes Odoo's own RFQ."""
        order = self.env["sale.order"].create(
            {
                "partner_id": partner.id,
                "order_line": [
                    Command.create(
                        {
                            "product_id": self.product.id,
                            "product_uom_qty": quantity,
                            **sale_line_route(route),
                        }
                    )
                ],
            }
        )
        order.action_confirm()
        purchase = self.env["purchase.order"].search([("origin", "=", order.name)])
        self.assertEqual(len(purchase), 1, "Odoo made one RFQ for the order")
        return order, purchase


@tagged("post_install", "-at_install")
class TestPurchaseOnOrder(OdooPurchasesCommon):
    def test_purchase_on_order_serves_only_its_own_order(self):
        older = self._create_so([(self.product, 5)], days_ago=3)
        self.assertEqual(older.order_line.backorder_qty, 5)
        mto, purchase = self._order_on_route(self.route_mto, 4, self.customer_2)
        self.assertFalse(mto.order_line.backorder_qty, "not a backorder to link")
        purchase.button_confirm()
        self.assertEqual(purchase.state, "purchase")
        self.assertFalse(self._links(), "the goods are the MTO order's")
        pol = purchase.order_line
        self.assertEqual(pol.backorder_free_qty, 0)
        self.assertEqual(older.order_line.backorder_qty, 5)
        self.assertEqual(self._to_purchase(self.product), 5, "still to buy")
        # The batch does not take them either.
        self.env["backorder.allocator"]._run_batch()
        self.assertFalse(self._links())
        # Nor can a manager link them by hand.
        with self.assertRaisesMsg(ValidationError, purchase.name):
            self.env["backorder.po.link"].create(
                {
                    "sale_line_id": older.order_line.id,
                    "purchase_line_id": pol.id,
                    "quantity": 1,
                }
            )
        # At receipt the goods go to the MTO customer's delivery, as Odoo
        # routes them; the older backorder still waits.
        self._validate(purchase.picking_ids)
        mto_delivery = mto.picking_ids.filtered(lambda p: p.state != "done")
        self.assertEqual(mto_delivery.move_ids.quantity, 4)
        self.assertEqual(older.picking_ids.move_ids.quantity, 0)
        self.assertEqual(older.order_line.backorder_qty, 5)
        self.assertAuditClean()

    def test_purchase_on_order_shows_like_a_linked_line(self):
        """The MTO customer sees the purchase made for them as a linked line:
        badge with the expected date, an email, the portal, a date change."""
        self.company.backorder_notify_customer = True
        self.customer_2.email = "gemini@example.com"
        mto, purchase = self._order_on_route(self.route_mto, 4, self.customer_2)
        line = mto.order_line
        self.assertFalse(line.backorder_status, "nothing on order yet")
        purchase.button_confirm()
        self.env.invalidate_all()
        pol = purchase.order_line
        self.assertEqual(line.backorder_status, "linked")
        self.assertEqual(line.backorder_expected_date, pol.date_planned)
        self.assertIn("On order", line.backorder_badge)
        self.env.cr.precommit.run()
        mail = self.env["mail.mail"].search(
            [("model", "=", "sale.order"), ("res_id", "=", mto.id)]
        )
        self.assertEqual(len(mail), 1)
        self.assertEqual(mail.recipient_ids, self.customer_2)
        self.assertIn("Oak Chair", mail.body_html)
        self.assertIn(pol.date_planned.strftime("%m/%d/%Y"), mail.body_html)
        self.assertNotIn(purchase.name, mail.body_html)
        rows = mto._get_backorder_portal_lines()
        self.assertEqual(
            [(r["product"], r["status"]) for r in rows], [("Oak Chair", "On order")]
        )
        # The vendor is late: the customer hears the new date.
        with Form(purchase) as po_form, po_form.order_line.edit(0) as po_line:
            po_line.date_planned = pol.date_planned + timedelta(days=10)
        self.env.cr.precommit.run()
        mails = self.env["mail.mail"].search(
            [("model", "=", "sale.order"), ("res_id", "=", mto.id)]
        )
        self.assertEqual(len(mails), 2)
        self.env.invalidate_all()
        self.assertEqual(line.backorder_expected_date, pol.date_planned)
        # Received: nothing awaited any more.
        self._validate(purchase.picking_ids)
        self.env.invalidate_all()
        self.assertNotEqual(line.backorder_status, "linked")
        self.assertFalse(self._links())

    def test_purchase_on_order_cancelled_sale_frees_the_goods(self):
        """Once the order the goods were bought for is cancelled, nobody
        waits for them: they are supply for the next backorder."""
        older = self._create_so([(self.product, 5)], days_ago=3)
        mto, purchase = self._order_on_route(self.route_mto, 4, self.customer_2)
        purchase.button_confirm()
        self.assertFalse(self._links())
        mto._action_cancel()
        self.assertEqual(purchase.order_line.backorder_free_qty, 4)
        self.env["backorder.allocator"]._run_batch()
        self.assertLinks(self._links(), [(older, purchase, 4)])
        self.assertAuditClean()

    def test_archived_product_is_never_linked_automatically(self):
        so = self._create_so([(self.product, 5)])
        po = self._create_po([(self.product, 5)], confirm=False)
        self.product.active = False
        po.button_confirm()
        self.assertFalse(self._links())
        self.assertEqual(po.order_line.backorder_free_qty, 0)
        self.env["backorder.allocator"]._run_batch()
        self.assertFalse(self._links())
        self.assertFalse(so.order_line.backorder_qty, "no backorder to link")
        self.assertFalse(self.Report.search([("product_id", "=", self.product.id)]))
        self.product.active = True
        self.env["backorder.allocator"]._run_batch()
        self.assertLinks(self._links(), [(so, po, 5)])
        self.assertAuditClean()


@tagged("post_install", "-at_install")
class TestDropship(OdooPurchasesCommon):
    def test_dropship_purchase_is_never_linked(self):
        route = self.env.ref("stock_dropshipping.route_drop_shipping")
        older = self._create_so([(self.product, 5)], days_ago=3)
        dropship, purchase = self._order_on_route(route, 4, self.customer_2)
        self.assertEqual(purchase.picking_type_id.code, "dropship")
        self.assertFalse(dropship.order_line.backorder_qty)
        purchase.button_confirm()
        self.assertFalse(self._links(), "goods that never enter the warehouse")
        self.assertEqual(purchase.order_line.backorder_free_qty, 0)
        self.assertEqual(self._to_purchase(self.product), 5)
        self.env["backorder.allocator"]._run_batch()
        self.assertFalse(self._links())
        with self.assertRaisesMsg(ValidationError, purchase.name):
            self.env["backorder.po.link"].create(
                {
                    "sale_line_id": older.order_line.id,
                    "purchase_line_id": purchase.order_line.id,
                    "quantity": 1,
                }
            )
        # The dropship customer sees the purchase as an order line on order.
        self.env.invalidate_all()
        self.assertEqual(dropship.order_line.backorder_status, "linked")
        self.assertEqual(
            dropship.order_line.backorder_expected_date,
            purchase.order_line.date_planned,
        )
        # The vendor ships to the customer: the dropship order is delivered,
        # the older backorder still waits.
        self._validate(purchase.picking_ids)
        self.assertEqual(dropship.order_line.qty_delivered, 4)
        self.assertEqual(older.order_line.backorder_qty, 5)
        self.assertAuditClean()


@tagged("post_install", "-at_install")
class TestKits(BackorderCommon):
    """Kits (mrp's phantom bills of materials) are delivered as their
    components: kit lines are never linked, and their component moves never
    count as kit units anywhere."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.kit = cls._create_product("Dining Set")
        cls.env["mrp.bom"].create(
            {
                "product_tmpl_id": cls.kit.product_tmpl_id.id,
                "type": "phantom",
                "bom_line_ids": [
                    Command.create({"product_id": cls.product.id, "product_qty": 4}),
                    Command.create({"product_id": cls.product_2.id, "product_qty": 1}),
                ],
            }
        )

    def test_kit_line_is_never_linked(self):
        kit_so = self._create_so([(self.kit, 2)])
        self.assertEqual(
            set(kit_so.picking_ids.move_ids.product_id.ids),
            {self.product.id, self.product_2.id},
            "delivered as components",
        )
        kit_line = kit_so.order_line
        self.assertFalse(kit_line.backorder_qty, "8 chairs are not 8 dining sets")
        # A purchase of the kit product itself or of its components.
        po_kit = self._create_po([(self.kit, 10)])
        po_parts = self._create_po([(self.product, 10), (self.product_2, 10)])
        self.assertFalse(self._links())
        self.assertEqual(po_kit.order_line.backorder_free_qty, 10)
        self.assertEqual(po_parts.order_line.mapped("backorder_free_qty"), [10, 10])
        Report = self.env["backorder.purchase.report"]
        self.assertFalse(
            Report.search([("product_id", "in", (self.kit | self.product).ids)]),
            "no kit units counted from component moves",
        )
        self.env["backorder.allocator"]._run_batch()
        self.assertFalse(self._links())
        # A manager cannot link it by hand either, and is told why.
        with self.assertRaisesMsg(ValidationError, "is a kit"):
            self.env["backorder.po.link"].create(
                {
                    "sale_line_id": kit_line.id,
                    "purchase_line_id": po_kit.order_line.id,
                    "quantity": 1,
                }
            )
        # The dry run says why.
        wizard = self.env["backorder.auto.link.wizard"].create({})
        wizard.action_preview()
        line = wizard.line_ids.filtered(lambda l: l.sale_line_id == kit_line)
        self.assertEqual(line.reason, "kit")
        self.assertEqual(line.backorder_qty, 2)
        self.assertEqual(line.planned_qty, 0)
        self.assertEqual(self.env["backorder.audit"]._audit(), [])

    def test_component_backorders_of_plain_lines_still_link(self):
        """A plain sale of the component next to the kit is linked as usual,
        and the kit's component moves do not take its goods."""
        kit_so = self._create_so([(self.kit, 1)], days_ago=5)
        chairs = self._create_so([(self.product, 3)])
        po = self._create_po([(self.product, 3)])
        self.assertLinks(self._links(), [(chairs, po, 3)])
        self.assertFalse(kit_so.order_line.backorder_link_ids)
        self.assertEqual(self.env["backorder.audit"]._audit(), [])
