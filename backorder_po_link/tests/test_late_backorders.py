# Copyright 2026 backorder_po_link contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import ast
from datetime import timedelta

from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import tagged

from odoo.addons.backorder_po_link.models.backorder_series import web_group_count

from .common import BackorderCommon

ACTION = "backorder_po_link.action_late_backorders"


@tagged("post_install", "-at_install")
class TestLateBackorders(BackorderCommon):
    """Sales > Orders > Late Backorders: promises the purchases no longer
    keep."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.vendor_2 = cls.env["res.partner"].create({"name": "Birch & Co"})

    def _late_list(self, user=None, domain=()):
        """The lines the menu's action lists (as ``user``)."""
        action = self.env["ir.actions.act_window"]._for_xml_id(ACTION)
        SaleLine = self.env["sale.order.line"]
        if user:
            SaleLine = SaleLine.with_user(user)
        return SaleLine.search(ast.literal_eval(action["domain"]) + list(domain))

    def _in_days(self, days):
        return fields.Datetime.now() + timedelta(days=days)

    def test_late_against_commitment_date(self):
        late = self._create_so([(self.product, 2)], commitment_date=self._in_days(3))
        on_time = self._create_so(
            [(self.product, 1)],
            partner=self.customer_2,
            commitment_date=self._in_days(20),
        )
        po = self._create_po([(self.product, 5)], days_ahead=10)
        self.assertEqual(late.order_line.backorder_linked_qty, 2)
        self.assertTrue(late.order_line.backorder_is_late)
        self.assertFalse(on_time.order_line.backorder_is_late)
        listed = self._late_list()
        self.assertIn(late.order_line, listed)
        self.assertNotIn(on_time.order_line, listed)
        self.assertIn(
            on_time.order_line,
            self.env["sale.order.line"].search([("backorder_is_late", "=", False)]),
        )
        self.assertEqual(
            late.order_line.backorder_customer_date, po.order_line.date_planned
        )
        self.assertEqual(late.order_line.backorder_vendor_id, self.vendor)
        # The goods arrive: nothing is awaited any more, nothing is late.
        self._validate_picking(po.picking_ids)
        self.env.invalidate_all()
        self.assertFalse(late.order_line.backorder_is_late)
        self.assertNotIn(late.order_line, self._late_list())

    def test_same_day_is_not_late(self):
        po = self._create_po([(self.product, 5)], days_ahead=6)
        order = self._create_so(
            [(self.product, 2)],
            commitment_date=po.order_line.date_planned - timedelta(minutes=5),
        )
        self.assertTrue(order.order_line.backorder_link_ids)
        self.assertFalse(order.order_line.backorder_is_late, "compared by day")

    def test_moved_purchase_is_late_against_the_told_date(self):
        self.company.backorder_notify_customer = True
        self.customer.email = "deco.addict@example.com"
        order = self._create_so([(self.product, 2)])
        po = self._create_po([(self.product, 5)], days_ahead=5)
        line, pol = order.order_line, po.order_line
        self.assertFalse(line.backorder_is_late, "nothing told yet, no commitment")
        self._commit()
        link = line.backorder_link_ids
        self.assertEqual(link.date_told, pol.date_planned, "the email told it")
        self.assertFalse(line.backorder_is_late)
        # One day later: within the threshold, no email, the promise slipped.
        pol.date_planned = pol.date_planned + timedelta(days=1)
        self._commit()
        self.assertEqual(link.date_told, pol.date_planned - timedelta(days=1))
        self.env.invalidate_all()
        self.assertTrue(line.backorder_is_late)
        self.assertIn(line, self._late_list())
        # Five more days: the customer is emailed the new date, and knows.
        pol.date_planned = pol.date_planned + timedelta(days=5)
        self._commit()
        self.assertEqual(link.date_told, pol.date_planned)
        self.env.invalidate_all()
        self.assertFalse(line.backorder_is_late)
        self.assertNotIn(line, self._late_list())

    def test_commitment_date_first(self):
        """With a commitment date, the told date does not matter."""
        self.company.backorder_notify_customer = True
        self.customer.email = "deco.addict@example.com"
        order = self._create_so([(self.product, 2)], commitment_date=self._in_days(2))
        self._create_po([(self.product, 5)], days_ahead=5)
        self._commit()
        self.assertTrue(order.order_line.backorder_link_ids.date_told)
        self.assertTrue(order.order_line.backorder_is_late)

    def test_filters_and_groups(self):
        first = self._create_so([(self.product, 2)], commitment_date=self._in_days(1))
        second = self._create_so(
            [(self.product_2, 3)],
            partner=self.customer_2,
            commitment_date=self._in_days(1),
        )
        self._create_po([(self.product, 5)], days_ahead=4)
        self._create_po(
            [(self.product_2, 5)], days_ahead=12, partner_id=self.vendor_2.id
        )
        lines = first.order_line | second.order_line
        self.assertEqual(self._late_list() & lines, lines)
        by_vendor = self._late_list(
            domain=[("backorder_vendor_id", "=", self.vendor_2.id)]
        )
        self.assertEqual(by_vendor, second.order_line)
        by_name = self._late_list(domain=[("backorder_vendor_id", "ilike", "Birch")])
        self.assertEqual(by_name, second.order_line)
        self.assertEqual(
            self._late_list(domain=[("order_partner_id", "=", self.customer.id)])
            & lines,
            first.order_line,
        )
        self.assertEqual(
            self._late_list(domain=[("product_id", "=", self.product_2.id)]),
            second.order_line,
        )
        domain = [("id", "in", lines.ids), ("backorder_is_late", "=", True)]
        SaleLine = self.env["sale.order.line"]
        groups = dict(
            SaleLine._read_group(domain, ["backorder_vendor_id"], ["__count"])
        )
        self.assertEqual(groups, {self.vendor: 1, self.vendor_2: 1})
        weeks = SaleLine._read_group(
            domain, ["backorder_customer_date:week"], ["__count"]
        )
        self.assertEqual(sum(count for _week, count in weeks), 2)
        self.assertTrue(all(week for week, _count in weeks))
        self.assertEqual(first.user_id, second.user_id)
        self.assertEqual(
            dict(SaleLine._read_group(domain, ["salesman_id"], ["__count"])),
            {first.user_id: 2},
        )

    def test_views_of_the_action_load(self):
        action = self.env["ir.actions.act_window"]._for_xml_id(ACTION)
        views = [(view_id, mode) for view_id, mode in action["views"]]
        views.append((action["search_view_id"][0], "search"))
        result = self.env["sale.order.line"].get_views(views)
        self.assertEqual(set(result["views"]), {"list", "graph", "search"})
        fields_info = self.env["sale.order.line"].fields_get(
            ["backorder_customer_date", "backorder_vendor_id"], ["groupable"]
        )
        self.assertTrue(fields_info["backorder_customer_date"]["groupable"])
        self.assertTrue(fields_info["backorder_vendor_id"]["groupable"])

    def test_salesperson_sees_own_late_lines_only(self):
        group = "sales_team.group_sale_salesman"
        alice = self._new_user("late_alice", group)
        bob = self._new_user("late_bob", group)
        mine = self._create_so(
            [(self.product, 2)], commitment_date=self._in_days(1), user_id=alice.id
        )
        theirs = self._create_so(
            [(self.product, 1)],
            partner=self.customer_2,
            commitment_date=self._in_days(1),
            user_id=bob.id,
        )
        self._create_po([(self.product, 5)], days_ahead=9)
        self.assertTrue(theirs.order_line.backorder_is_late)
        listed = self._late_list(user=alice)
        self.assertEqual(listed, mine.order_line.with_user(alice))
        values = listed.read(
            ["backorder_is_late", "backorder_customer_date", "backorder_vendor_id"]
        )
        self.assertTrue(values[0]["backorder_is_late"])
        self.assertEqual(values[0]["backorder_vendor_id"][0], self.vendor.id)
        groups = web_group_count(
            listed, [("backorder_is_late", "=", True)], ["backorder_customer_date:week"]
        )
        self.assertEqual(groups, 1)

    def test_search_refuses_other_operators(self):
        # Refused by the addon (18.0), or by Odoo's domains first (19.0).
        try:
            self.env["sale.order.line"].search([("backorder_is_late", "ilike", "x")])
        except (UserError, ValueError) as refused:
            self.assertTrue(str(refused).strip(), "the refusal says why")
        else:
            self.fail("a late search by text was not refused")
