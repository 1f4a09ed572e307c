# Copyright 2026 backorder_po_link contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import json

import psycopg2

from odoo.exceptions import AccessError, ValidationError
from odoo.tests import HttpCase, tagged
from odoo.tools import mute_logger

from .common import BackorderCommon


@tagged("post_install", "-at_install")
class TestIntegrity(BackorderCommon):
    # ------------------------------------------------------------------
    # Guard in the database and audit
    # ------------------------------------------------------------------
    @mute_logger("odoo.sql_db")
    def test_database_refuses_over_promise_whatever_the_code_path(self):
        so = self._create_so([(self.product, 5)])
        po = self._create_po([(self.product, 8)])
        self.assertEqual(so.backorder_link_ids.quantity, 5)
        so2 = self._create_so([(self.product, 5)])
        self.env.flush_all()
        # What commit does: the deferred checks run. 5 + 4 > 8 ordered.
        with self.assertRaises(psycopg2.errors.CheckViolation):
            self.env.cr.execute(
                "INSERT INTO backorder_po_link (sale_line_id, purchase_line_id, "
                "quantity, state, origin, date_linked) "
                "VALUES (%s, %s, 4, 'linked', 'manual', now())",
                (so2.order_line.id, po.order_line.id),
            )
            self.env.cr.execute(
                "SET CONSTRAINTS backorder_po_link_check_totals IMMEDIATE"
            )
        self.env.cr.execute("SET CONSTRAINTS backorder_po_link_check_totals DEFERRED")
        # 5 + 1 > 5 left to deliver on the sales line.
        with self.assertRaises(psycopg2.errors.CheckViolation):
            self.env.cr.execute(
                "UPDATE backorder_po_link SET quantity = 6 WHERE id = %s",
                (so.backorder_link_ids.id,),
            )
            self.env.cr.execute(
                "SET CONSTRAINTS backorder_po_link_check_totals IMMEDIATE"
            )
        self.env.cr.execute("SET CONSTRAINTS backorder_po_link_check_totals DEFERRED")
        # A valid change passes the same check.
        self.env.cr.execute(
            "UPDATE backorder_po_link SET quantity = 4 WHERE id = %s",
            (so.backorder_link_ids.id,),
        )
        self.env.cr.execute("SET CONSTRAINTS backorder_po_link_check_totals IMMEDIATE")
        self.env.cr.execute("SET CONSTRAINTS backorder_po_link_check_totals DEFERRED")

    def test_link_rows_carry_keys_to_their_lines_not_to_the_copies(self):
        """The stored copies of the lines' order, product and company have no
        foreign key (the lines' own keys hold them); the lines, the customer
        and the vendor (partner merges follow keys) keep theirs."""
        self.env.cr.execute(
            """SELECT a.attname FROM pg_constraint c
                 JOIN pg_attribute a ON a.attrelid = c.conrelid
                                    AND a.attnum = c.conkey[1]
                WHERE c.conrelid = 'backorder_po_link'::regclass
                  AND c.contype = 'f'"""
        )
        keyed = {row[0] for row in self.env.cr.fetchall()}
        self.assertTrue(
            {"sale_line_id", "purchase_line_id", "partner_id", "vendor_id"} <= keyed
        )
        self.assertFalse(
            keyed & {"sale_order_id", "purchase_order_id", "product_id", "company_id"}
        )

    def test_stored_linked_quantities_follow_every_change_of_the_links(self):
        """One writer stores the lines' linked quantities: the engine's bulk
        insert, a manager's edit, cancel or deletion of a link all go through
        it, and the audit finds nothing stale."""
        manager = self._new_user(
            "bo_link_manager",
            "sales_team.group_sale_salesman_all_leads,purchase.group_purchase_user,"
            "backorder_po_link.group_backorder_manager",
        )
        so = self._create_so([(self.product, 5)])
        po = self._create_po([(self.product, 8)])
        link = so.backorder_link_ids
        self.assertEqual(so.order_line.backorder_linked_qty, 5)
        self.assertEqual(po.order_line.backorder_linked_qty, 5)
        link.with_user(manager).write({"quantity": 3})
        self.assertEqual(so.order_line.backorder_linked_qty, 3)
        self.assertEqual(po.order_line.backorder_linked_qty, 3)
        self.assertEqual(self.env["backorder.audit"]._audit(), [])
        link.with_user(manager).action_cancel()
        self.assertEqual(so.order_line.backorder_linked_qty, 0)
        self.assertEqual(po.order_line.backorder_linked_qty, 0)
        manual = (
            self.env["backorder.po.link"]
            .with_user(manager)
            .create(
                {
                    "sale_line_id": so.order_line.id,
                    "purchase_line_id": po.order_line.id,
                    "quantity": 2,
                }
            )
        )
        self.assertEqual(so.order_line.backorder_linked_qty, 2)
        self.assertEqual(po.order_line.backorder_linked_qty, 2)
        manual.with_user(manager).unlink()
        self.assertEqual(so.order_line.backorder_linked_qty, 0)
        self.assertEqual(po.order_line.backorder_linked_qty, 0)
        self.assertEqual(self.env["backorder.audit"]._audit(), [])

    def test_audit_finds_nothing_after_normal_flows_and_flags_corruption(self):
        so = self._create_so([(self.product, 5)])
        po = self._create_po([(self.product, 8)])
        self._create_so([(self.product, 6)])
        po.picking_ids.move_ids.picked = True
        po.picking_ids.button_validate()
        self.assertEqual(self.env["backorder.audit"]._audit(), [])
        action = self.env["backorder.audit"].action_audit()
        self.assertEqual(action["params"]["type"], "success")
        self.env.cr.execute(
            "UPDATE sale_order_line SET backorder_linked_qty = 1 WHERE id = %s",
            (so.order_line.id,),
        )
        self.env.cr.execute(
            "UPDATE backorder_po_link SET company_id = %s WHERE sale_line_id = %s",
            (self.env["res.company"].create({"name": "Wrong Co"}).id, so.order_line.id),
        )
        self.env.invalidate_all()
        checks = {check for check, _detail in self.env["backorder.audit"]._audit()}
        self.assertEqual(
            checks,
            {"stored linked quantity out of date", "company or product mismatch"},
        )
        self.assertEqual(
            self.env["backorder.audit"].action_audit()["params"]["type"], "danger"
        )

    # ------------------------------------------------------------------
    # Rights
    # ------------------------------------------------------------------
    def test_rights(self):
        own_salesman = self._new_user("bo_own", "sales_team.group_sale_salesman")
        other_salesman = self._new_user("bo_other", "sales_team.group_sale_salesman")
        purchaser = self._new_user("bo_buyer", "purchase.group_purchase_user")
        manager = self._new_user(
            "bo_manager",
            "sales_team.group_sale_salesman_all_leads,purchase.group_purchase_user,"
            "backorder_po_link.group_backorder_manager",
        )
        portal = self._new_user("bo_portal", "base.group_portal")
        so = self._create_so([(self.product, 5)], user_id=own_salesman.id)
        po = self._create_po([(self.product, 8)])
        link = so.backorder_link_ids
        Link = self.env["backorder.po.link"]
        # Salespeople read the links of the orders they may read.
        self.assertEqual(Link.with_user(own_salesman).search([]), link)
        self.assertFalse(Link.with_user(other_salesman).search([]))
        with self.assertRaises(AccessError):
            link.with_user(other_salesman).read(["quantity"])
        # Purchasers read those of their purchase orders.
        self.assertEqual(Link.with_user(purchaser).search([]), link)
        # Only managers create, edit or delete by hand.
        for user in (own_salesman, purchaser):
            with self.assertRaises(AccessError):
                link.with_user(user).write({"quantity": 1})
            with self.assertRaises(AccessError):
                link.with_user(user).unlink()
            with self.assertRaises(AccessError):
                Link.with_user(user).create(
                    {
                        "sale_line_id": so.order_line.id,
                        "purchase_line_id": po.order_line.id,
                        "quantity": 1,
                    }
                )
        link.with_user(manager).write({"quantity": 4})
        self.assertEqual(link.quantity, 4)
        # Portal customers never see links (their page shows dates only).
        with self.assertRaises(AccessError):
            Link.with_user(portal).search([])

    def test_multi_company_record_rule(self):
        other = self.env["res.company"].create({"name": "Other Co"})
        so = self._create_so([(self.product, 5)])
        self._create_po([(self.product, 8)])
        user = self._new_user(
            "bo_other_co",
            "sales_team.group_sale_salesman_all_leads,purchase.group_purchase_user",
            company_id=other.id,
            company_ids=[(6, 0, other.ids)],
        )
        self.assertFalse(self.env["backorder.po.link"].with_user(user).search([]))
        with self.assertRaises(AccessError):
            so.backorder_link_ids.with_user(user).read(["quantity"])

    # ------------------------------------------------------------------
    # Bad input
    # ------------------------------------------------------------------
    def test_settings_out_of_range(self):
        for values, text in (
            ({"backorder_min_deposit_percent": 120}, "between 0 and 100"),
            ({"backorder_min_deposit_percent": -1}, "between 0 and 100"),
            ({"backorder_max_days_out": -3}, "cannot be negative"),
            ({"backorder_date_change_threshold": -1}, "cannot be negative"),
        ):
            with self.assertRaisesMsg(ValidationError, text):
                self.env["res.config.settings"].create(values).execute()
        self.assertEqual(self.company.backorder_min_deposit_percent, 0)
        self.assertEqual(self.company.backorder_max_days_out, 0)

    def test_manual_link_to_archived_product_or_consumable(self):
        self.company.write(
            {
                "backorder_link_on_po_confirm": False,
                "backorder_link_on_so_confirm": False,
            }
        )
        so = self._create_so([(self.product, 5)])
        po = self._create_po([(self.product, 8)])
        self.product.active = False
        with self.assertRaisesMsg(ValidationError, "archived"):
            self.env["backorder.po.link"].create(
                {
                    "sale_line_id": so.order_line.id,
                    "purchase_line_id": po.order_line.id,
                    "quantity": 1,
                }
            )
        self.product.active = True
        consumable = self.env["product.product"].create(
            {"name": "Glue", "type": "consu", "is_storable": False}
        )
        so_c = self._create_so([(consumable, 2)])
        po_c = self._create_po([(consumable, 2)])
        with self.assertRaisesMsg(ValidationError, "storable"):
            self.env["backorder.po.link"].create(
                {
                    "sale_line_id": so_c.order_line.id,
                    "purchase_line_id": po_c.order_line.id,
                    "quantity": 1,
                }
            )
        self.assertFalse(self._links())


@tagged("post_install", "-at_install")
class TestJsonRpc(BackorderCommon, HttpCase):
    def test_bad_values_through_json_rpc(self):
        """A manual link with a bad quantity sent as a browser would gets a
        clear error back and writes nothing."""
        self.company.write(
            {
                "backorder_link_on_po_confirm": False,
                "backorder_link_on_so_confirm": False,
            }
        )
        so = self._create_so([(self.product, 5)])
        po = self._create_po([(self.product, 8)])
        self.authenticate("admin", "admin")
        for quantity, text in (
            (-2, "must be positive"),
            (50, "would be promised"),
            ("a lot", "not a valid"),
        ):
            payload = {
                "jsonrpc": "2.0",
                "method": "call",
                "id": 1,
                "params": {
                    "model": "backorder.po.link",
                    "method": "create",
                    "args": [
                        {
                            "sale_line_id": so.order_line.id,
                            "purchase_line_id": po.order_line.id,
                            "quantity": quantity,
                        }
                    ],
                    "kwargs": {},
                },
            }
            with mute_logger("odoo.http", "odoo.sql_db"):
                response = self.url_open(
                    "/web/dataset/call_kw/backorder.po.link/create",
                    data=json.dumps(payload),
                    headers={"Content-Type": "application/json"},
                )
            error = response.json().get("error")
            self.assertTrue(error, f"{quantity!r} was accepted")
            self.assertIn(text, error["data"]["message"])
        self.assertFalse(self.env["backorder.po.link"].search([]))
