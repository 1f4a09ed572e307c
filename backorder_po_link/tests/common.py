# Copyright 2026 backorder_po_link contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from contextlib import contextmanager
from datetime import datetime, timedelta

from freezegun import freeze_time

from odoo import Command, fields
from odoo.tests import Form, TransactionCase, new_test_user

from odoo.addons.backorder_po_link.models.backorder_series import LINE_UOM


def remove_committed_orders(sale_orders, purchase_orders, products):
    """Take away what a test that really commits made: the orders, their
    links and transfers; the products are archived (stock moves keep them)."""
    sale_orders._action_cancel()
    purchase_orders.button_cancel()
    (
        sale_orders.order_line.backorder_link_ids
        | purchase_orders.order_line.backorder_link_ids
    ).unlink()
    pickings = (sale_orders.picking_ids | purchase_orders.picking_ids).sudo()
    pickings.move_ids.unlink()
    pickings.unlink()
    sale_orders.unlink()
    purchase_orders.unlink()
    products.active = False


class BackorderCommon(TransactionCase):
    """Products, partners and helpers to confirm orders as users do."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.company = cls.env.company
        cls.warehouse = cls.env["stock.warehouse"].search(
            [("company_id", "=", cls.company.id)], limit=1
        )
        cls.vendor = cls.env["res.partner"].create({"name": "Acme Supplies"})
        cls.customer = cls.env["res.partner"].create({"name": "Deco Addict"})
        cls.customer_2 = cls.env["res.partner"].create({"name": "Gemini Furniture"})
        cls.product = cls._create_product("Oak Chair")
        cls.product_2 = cls._create_product("Walnut Table")
        cls.uom_unit = cls.env.ref("uom.product_uom_unit")
        cls.uom_dozen = cls.env.ref("uom.product_uom_dozen")
        cls.company.write(
            {
                "backorder_link_on_po_confirm": True,
                "backorder_link_on_so_confirm": True,
            }
        )

    @classmethod
    def _create_product(cls, name, **vals):
        return cls.env["product.product"].create(
            {
                "name": name,
                "type": "consu",
                "is_storable": True,
                "list_price": 100.0,
                "standard_price": 60.0,
                **vals,
            }
        )

    @classmethod
    def _create_so(cls, lines, days_ago=0, confirm=True, partner=None, **vals):
        """A sales order dated ``days_ago`` days back; ``lines`` are
        ``(product, quantity)`` or ``(product, quantity, uom)``."""
        order = cls.env["sale.order"].create(
            {
                "partner_id": (partner or cls.customer).id,
                "date_order": datetime.now() - timedelta(days=days_ago),
                "order_line": [
                    Command.create(
                        {
                            "product_id": line[0].id,
                            "product_uom_qty": line[1],
                            **({LINE_UOM: line[2].id} if len(line) > 2 else {}),
                        }
                    )
                    for line in lines
                ],
                **vals,
            }
        )
        if confirm:
            order.action_confirm()
            if days_ago:
                # Confirmation stamps the order with today's date.
                order.date_order = datetime.now() - timedelta(days=days_ago)
        return order

    @classmethod
    def _create_po(cls, lines, days_ahead=7, confirm=True, **vals):
        """A purchase order expected in ``days_ahead`` days; ``lines`` are
        ``(product, quantity)`` or ``(product, quantity, uom)``."""
        order = cls.env["purchase.order"].create(
            {
                "partner_id": cls.vendor.id,
                "order_line": [
                    Command.create(
                        {
                            "product_id": line[0].id,
                            "product_qty": line[1],
                            "price_unit": 60.0,
                            "date_planned": fields.Datetime.now()
                            + timedelta(days=days_ahead),
                            **({LINE_UOM: line[2].id} if len(line) > 2 else {}),
                        }
                    )
                    for line in lines
                ],
                **vals,
            }
        )
        if confirm:
            order.button_confirm()
        return order

    def _validate_picking(self, picking, quantity=None, backorder=True):
        """Validate ``picking`` as the warehouse user does, in full or for
        ``quantity`` (per move); the rest becomes a backorder, or not ("No
        Backorder") when ``backorder`` is false."""
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

    def _receive_with_delays(self, delays, days_ago=30, vendor=None):
        """Receipts of ``vendor`` (default: the test vendor) that came
        ``delays`` days each after the arrival promised when they were
        linked: one backorder of as many units is linked, on ``days_ago``
        days back, to one purchase of one unit per delay, expected two days
        later; each receipt is validated (as the warehouse does) that many
        days late. Returns the sales order and the purchase orders."""
        product = self._create_product(f"Learning Stool {len(delays)}/{days_ago}")
        start = fields.Datetime.now() - timedelta(days=days_ago)
        with freeze_time(start):
            order = self._create_so([(product, len(delays))])
            purchases = [
                self._create_po(
                    [(product, 1)],
                    days_ahead=2,
                    partner_id=(vendor or self.vendor).id,
                )
                for _delay in delays
            ]
        for purchase, delay in zip(purchases, delays, strict=True):
            with freeze_time(start + timedelta(days=2 + delay)):
                self._validate_picking(purchase.picking_ids)
        return order, purchases

    def _commit(self):
        """What a commit runs before writing: the queued notifications."""
        self.env.cr.precommit.run()
        self.env.flush_all()

    @classmethod
    def _put_in_stock(cls, product, quantity, location=None):
        cls.env["stock.quant"]._update_available_quantity(
            product, location or cls.warehouse.lot_stock_id, quantity
        )

    @classmethod
    def _new_user(cls, login, groups, **kw):
        return new_test_user(cls.env, login=login, groups=groups, **kw)

    def _links(self, **domain):
        search = [(key, "=", value) for key, value in domain.items()]
        return self.env["backorder.po.link"].search(search, order="id")

    @contextmanager
    def assertRaisesMsg(self, exception, text):
        """Like assertRaisesRegex, inside a savepoint (as Odoo's assertRaises)
        so that the refused change leaves nothing behind."""
        with self.assertRaises(exception) as catcher:
            yield
        self.assertIn(text, str(catcher.exception))

    def assertLinks(self, links, expected):
        """``expected``: list of (sale order, purchase order, quantity)."""
        got = sorted(
            (link.sale_order_id.id, link.purchase_order_id.id, link.quantity)
            for link in links
        )
        want = sorted((so.id, po.id, qty) for so, po, qty in expected)
        self.assertEqual(got, want)
