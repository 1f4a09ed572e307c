# Copyright 2026 backorder_po_link contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import datetime, time, timedelta

from odoo import fields
from odoo.tests import Form, tagged
from odoo.tools.misc import format_date

from .common import BackorderCommon

ACTIVITY_TYPE = "backorder_po_link.mail_activity_type_backorder_supply"


@tagged("post_install", "-at_install")
class TestSupplyActivity(BackorderCommon):
    """When supply breaks, the salesperson of each order it leaves waiting
    gets one activity (res.company.backorder_notify_salesperson)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.write(
            {
                "backorder_notify_salesperson": True,
                "backorder_date_change_threshold": 2,
            }
        )
        cls.activity_type = cls.env.ref(ACTIVITY_TYPE)
        sales = "sales_team.group_sale_salesman"
        cls.seller = cls._new_user("bo_seller", sales, name="Sue Seller", tz="UTC")
        cls.seller_2 = cls._new_user("bo_seller_2", sales, name="Sid Seller", tz="UTC")
        cls.purchaser = cls._new_user(
            "bo_buyer",
            "purchase.group_purchase_user,stock.group_stock_user",
            name="Pia Purchaser",
        )

    def _so(self, qty, days_ago=0, seller=None, product=None):
        return self._create_so(
            [(product or self.product, qty)],
            days_ago=days_ago,
            user_id=(seller or self.seller).id,
        )

    def _activities(self, order):
        """The open activities of the type on ``order``, as its salesperson
        sees them."""
        return self.env["mail.activity"].search(
            [
                ("res_model", "=", "sale.order"),
                ("res_id", "=", order.id),
                ("activity_type_id", "=", self.activity_type.id),
            ]
        )

    def _date(self, value, user=None):
        """``value`` as the salesperson reads it."""
        user = user or self.seller
        return format_date(self.env(user=user, context={"tz": user.tz}), value)

    def _second_po(self, qty, days_ahead):
        """A confirmed PO that no backorder takes at confirmation."""
        self.company.backorder_link_on_po_confirm = False
        po = self._create_po([(self.product, qty)], days_ahead=days_ahead)
        self.company.backorder_link_on_po_confirm = True
        return po

    def _cut(self, po, qty):
        """The purchaser lowers the quantity on the purchase order's form."""
        with Form(po) as form, form.order_line.edit(0) as line:
            line.product_qty = qty

    def _move(self, po, delta):
        with Form(po) as form, form.order_line.edit(0) as line:
            line.date_planned = po.order_line.date_planned + delta

    def test_po_cancelled_one_activity_per_order(self):
        so_old = self._so(5, days_ago=3)
        so_new = self._so(3, days_ago=1, seller=self.seller_2)
        first = self._create_po([(self.product, 8)], days_ahead=5)
        second = self._second_po(5, days_ahead=15)
        old_date = first.order_line.date_planned
        self.assertEqual(so_new.order_line.backorder_expected_date, old_date)

        # A purchaser without sales rights cancels it.
        first.with_user(self.purchaser).button_cancel()

        activity = self._activities(so_old)
        self.assertEqual(len(activity), 1)
        self.assertEqual(activity.user_id, self.seller)
        self.assertEqual(activity.date_deadline, fields.Date.today())
        self.assertIn("A purchase order was cancelled:", activity.note)
        self.assertIn(
            f"Oak Chair: expected {self._date(old_date)}, now "
            f"{self._date(second.order_line.date_planned)} "
            f"(linked to {second.name})",
            activity.note,
        )
        other = self._activities(so_new)
        self.assertEqual(len(other), 1)
        self.assertEqual(other.user_id, self.seller_2)
        self.assertIn(
            f"Oak Chair: expected {self._date(old_date, self.seller_2)}, "
            "no supply any more",
            other.note,
        )
        # The salesperson sees it among their own activities.
        self.assertEqual(
            self.env["mail.activity"]
            .with_user(self.seller)
            .search([("activity_type_id", "=", self.activity_type.id)]),
            activity,
        )

    def test_po_cut_tells_the_orders_that_lost_supply(self):
        so_old = self._so(4, days_ago=3)
        so_new = self._so(3, days_ago=1)
        so_part = self._so(2, days_ago=2, product=self.product_2)
        po = self._create_po([(self.product, 8), (self.product_2, 2)])
        old_date = po.order_line[0].date_planned
        self._cut(po, 4)
        self.assertEqual(po.order_line[0].product_qty, 4)
        self.assertFalse(self._activities(so_old), "still fully on order")
        # A line that keeps part of its supply, at the same date, hears of
        # the part it lost.
        with Form(po) as form, form.order_line.edit(1) as line:
            line.product_qty = 1
        self.assertEqual(so_part.order_line.backorder_qty, 1)
        self.assertIn(
            "1.00 Units no supply any more, the rest still expected "
            f"{self._date(old_date)}",
            self._activities(so_part).note,
        )
        activity = self._activities(so_new)
        self.assertEqual(len(activity), 1)
        self.assertIn("quantity was cut:", activity.note)
        self.assertIn(
            f"Oak Chair: expected {self._date(old_date)}, no supply any more",
            activity.note,
        )
        # Raising it again breaks nothing.
        activity.unlink()
        self._cut(po, 8)
        self.assertFalse(self._activities(so_new))

    def test_po_cut_relinks_to_later_po(self):
        so = self._so(6)
        first = self._create_po([(self.product, 6)], days_ahead=5)
        second = self._second_po(10, days_ahead=20)
        self._cut(first, 2)
        activity = self._activities(so)
        self.assertEqual(len(activity), 1)
        self.assertIn(
            f"now {self._date(second.order_line.date_planned)} "
            f"(linked to {first.name}, {second.name})",
            activity.note,
        )

    def test_date_moved_later_than_threshold(self):
        so = self._so(4)
        po = self._create_po([(self.product, 8)], days_ahead=10)
        self._move(po, timedelta(days=1))
        self.assertFalse(self._activities(so), "within the threshold")
        self._move(po, timedelta(days=-3))
        self.assertFalse(self._activities(so), "earlier is no break")
        old_date = po.order_line.date_planned
        self._move(po, timedelta(days=5))
        activity = self._activities(so)
        self.assertEqual(len(activity), 1)
        self.assertIn("expected date moved later:", activity.note)
        self.assertIn(
            f"Oak Chair: expected {self._date(old_date)}, now "
            f"{self._date(po.order_line.date_planned)} (linked to {po.name})",
            activity.note,
        )

    def test_second_hit_updates_open_activity_until_done(self):
        so = self._so(4)
        po = self._create_po([(self.product, 8)], days_ahead=5)
        self._move(po, timedelta(days=4))
        activity = self._activities(so)
        activity.date_deadline = fields.Date.today() - timedelta(days=3)
        self._move(po, timedelta(days=4))
        self.assertEqual(self._activities(so), activity, "updated, not duplicated")
        self.assertEqual(activity.date_deadline, fields.Date.today())
        self.assertEqual(activity.note.count("expected date moved later:"), 2)
        # Done: the next hit makes a new one.
        activity.with_user(self.seller).action_feedback(feedback="Customer called")
        self.assertFalse(self._activities(so))
        po.button_cancel()
        new = self._activities(so)
        self.assertEqual(len(new), 1)
        self.assertNotEqual(new, activity)
        self.assertIn("A purchase order was cancelled:", new.note)
        self.assertNotIn("moved later", new.note)

    def test_setting_off_no_activity(self):
        self.company.backorder_notify_salesperson = False
        so = self._so(4)
        po = self._create_po([(self.product, 8)])
        self._move(po, timedelta(days=10))
        self._cut(po, 2)
        po.button_cancel()
        self.assertEqual(so.order_line.backorder_qty, 4)
        self.assertFalse(self._activities(so))

    def test_no_salesperson_team_leader_else_no_one(self):
        leader = self._new_user("bo_leader", "sales_team.group_sale_manager")
        team = self.env["crm.team"].create({"name": "Cafes", "user_id": leader.id})
        with_team = self._create_so([(self.product, 2)], user_id=False, team_id=team.id)
        alone = self._create_so([(self.product, 2)], user_id=False, team_id=False)
        po = self._create_po([(self.product, 4)])
        po.button_cancel()
        self.assertEqual(self._activities(with_team).user_id, leader)
        self.assertFalse(self._activities(alone))

    def test_salesperson_language_and_time_zone(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        self.seller.write({"lang": "fr_FR", "tz": "Europe/Paris"})
        so = self._so(2)
        po = self._create_po([(self.product, 4)])
        # 23:30 UTC is the next day in Paris.
        day = fields.Date.today() + timedelta(days=10)
        po.order_line.date_planned = datetime.combine(day, time(23, 30))
        po.button_cancel()
        note = self._activities(so).note
        self.assertIn((day + timedelta(days=1)).strftime("%d/%m/%Y"), note)

    def test_api_reallocated_and_unknown_event(self):
        """The API another change calls: dates before, the change, the tell."""
        so = self._so(2)
        po = self._create_po([(self.product, 4)])
        SaleLine = self.env["sale.order.line"]
        before = SaleLine._backorder_expected_dates(so.order_line)
        self.assertEqual(before, {so.order_line.id: po.order_line.date_planned})
        SaleOrder = self.env["sale.order"]
        self.assertFalse(SaleOrder._backorder_tell_supply_change("reallocated", before))
        so.order_line.backorder_link_ids.unlink()
        activity = SaleOrder._backorder_tell_supply_change("reallocated", before)
        self.assertEqual(activity, self._activities(so))
        self.assertIn("Supply was given to a higher-priority order:", activity.note)
        with self.assertRaises(ValueError):
            SaleOrder._backorder_tell_supply_change("lost", before)
