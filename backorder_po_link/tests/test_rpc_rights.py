# Copyright 2026 backorder_po_link contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Every public method of the addons, called over real HTTP JSON-RPC as each
role, against a table of rights decisions.

Any method without a leading underscore is callable by every logged-in user
through ``/web/dataset/call_kw``, whatever the buttons and menus show. The
test finds those methods by itself (the addons' classes in the registry, as
Odoo's own ``get_public_method`` decides what is callable), so a new public
method without a decision below fails it.
"""

import inspect
import json

from odoo import Command
from odoo.exceptions import AccessError
from odoo.service.model import get_public_method
from odoo.tests import HttpCase, tagged
from odoo.tools import mute_logger

from .common import BackorderCommon

ADDON_MODULES = ("odoo.addons.backorder_po_link",)  # the queue addon too

ROLES = {
    "portal": "base.group_portal",
    "internal": "base.group_user",
    "salesperson": "sales_team.group_sale_salesman",
    "purchaser": "purchase.group_purchase_user",
    "warehouse": "stock.group_stock_user",
    "manager": "backorder_po_link.group_backorder_manager,"
    "sales_team.group_sale_salesman_all_leads,purchase.group_purchase_user,"
    "stock.group_stock_user",
}

NOBODY = frozenset()
MANAGER = frozenset({"manager"})
PURCHASE = frozenset({"purchaser", "manager"})

# (model, method): (roles whose call goes through, the decision). Every other
# role gets an AccessError and writes nothing.
RIGHTS = {
    ("backorder.audit", "action_audit"): (
        MANAGER,
        "whole-database audit: managers only (checked before sudo)",
    ),
    ("backorder.auto.link.wizard", "action_preview"): (
        MANAGER,
        "dry run of the batch: managers only (checked before sudo)",
    ),
    ("backorder.auto.link.wizard", "action_link"): (
        MANAGER,
        "the batch run, also on an empty recordset: managers only",
    ),
    ("backorder.manual.link.wizard", "default_get"): (
        MANAGER,
        "opening the manual link form: managers only",
    ),
    ("backorder.manual.link.wizard", "action_link"): (
        MANAGER,
        "linking by hand: managers only (checked before the sudo'd emails)",
    ),
    ("backorder.po.link", "create"): (MANAGER, "Odoo's access rights: managers"),
    ("backorder.po.link", "write"): (MANAGER, "Odoo's access rights: managers"),
    ("backorder.po.link", "unlink"): (MANAGER, "Odoo's access rights: managers"),
    ("backorder.po.link", "action_cancel"): (
        MANAGER,
        "write access to the links: managers",
    ),
    ("backorder.po.link", "action_open_delivery"): (
        frozenset({"salesperson", "warehouse", "manager"}),
        "read access to the link and to its delivery",
    ),
    ("backorder.purchase.report", "action_view_sale_lines"): (
        PURCHASE,
        "read access to Backorders to Purchase: purchasers",
    ),
    ("backorder.purchase.report", "action_create_rfq"): (
        PURCHASE,
        "read access to the report and create access to purchase orders",
    ),
    ("product.product", "action_backorder_create_rfq"): (
        PURCHASE,
        "read access to the report and create access to purchase orders",
    ),
    ("purchase.order", "write"): (PURCHASE, "Odoo's access rights"),
    ("purchase.order", "button_approve"): (PURCHASE, "Odoo's access rights"),
    ("purchase.order", "action_view_backorder_sale_orders"): (
        frozenset({"purchaser", "warehouse", "manager"}),
        "read access to the purchase order and its links",
    ),
    ("purchase.order.line", "write"): (PURCHASE, "Odoo's access rights"),
    ("purchase.order.line", "unlink"): (
        PURCHASE,
        "Odoo's access rights, checked before the links go (sudo)",
    ),
    ("purchase.order.line", "action_backorder_link_sale"): (
        MANAGER,
        "opens the manual link form: managers only",
    ),
    ("res.config.settings", "get_values"): (
        NOBODY,
        "administrators only, as core's execute (none of these roles)",
    ),
    ("res.config.settings", "set_values"): (
        NOBODY,
        "administrators only, as core's execute (none of these roles)",
    ),
    ("sale.order", "action_view_backorder_purchase_orders"): (
        frozenset({"salesperson", "warehouse", "manager"}),
        "read access to the sales order and its links",
    ),
    ("sale.order.line", "write"): (
        frozenset({"salesperson", "warehouse", "manager"}),
        "Odoo's access rights (stock users may write sales lines)",
    ),
    ("sale.order.line", "action_backorder_link_purchase"): (
        MANAGER,
        "opens the manual link form: managers only",
    ),
    ("stock.move", "write"): (
        frozenset({"salesperson", "purchaser", "warehouse", "manager"}),
        "Odoo's access rights, checked before the links are released (sudo)",
    ),
}


def public_methods(env, modules=ADDON_MODULES):
    """``(model, method)`` of every method that a class of ``modules``
    defines and that Odoo lets a client call over RPC."""
    found = set()
    for model_name in env.registry:
        model = env[model_name]
        for cls in type(model).__mro__:
            if not cls.__module__.startswith(modules):
                continue
            for name, value in vars(cls).items():
                if name.startswith("_") or not inspect.isfunction(value):
                    continue
                try:
                    get_public_method(model, name)
                except AccessError:
                    continue
                found.add((model_name, name))
    return found


@tagged("post_install", "-at_install")
class TestRpcRights(BackorderCommon, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.backorder_notify_customer = True
        cls.users = {
            role: cls._new_user(f"bo_rpc_{role}", groups)
            for role, groups in ROLES.items()
        }
        # The portal user is the customer: the one who would try.
        cls.customer = cls.users["portal"].partner_id
        cls.customer.email = "customer@example.com"
        cls.product.seller_ids = [Command.create({"partner_id": cls.vendor.id})]
        # 10 backordered; 4 linked on confirmation; 3 on order but not yet
        # linked (confirmed with linking off); 3 still to purchase.
        cls.so = cls._create_so(
            [(cls.product, 10)], user_id=cls.users["salesperson"].id
        )
        cls.po = cls._create_po([(cls.product, 4)])
        cls.company.backorder_link_on_po_confirm = False
        cls.po_free = cls._create_po([(cls.product, 3)])
        cls.company.backorder_link_on_po_confirm = True
        # A draft of another vendor: RFQs from the report make a new one.
        cls.rfq = cls._create_po(
            [(cls.product, 5)],
            confirm=False,
            partner_id=cls.env["res.partner"].create({"name": "Other Vendor"}).id,
        )
        cls.link = cls.so.order_line.backorder_link_ids
        cls.report_row = cls.env["backorder.purchase.report"].search(
            [("product_id", "=", cls.product.id)]
        )
        cls.cron = cls.env.ref("backorder_po_link.ir_cron_backorder_auto_link")

    def _calls(self, role):
        """``(model, method) -> (ids or None for model methods, args, context)``."""
        user = self.users[role]
        sale_line, po_line = self.so.order_line, self.po_free.order_line
        auto_wizard = (
            self.env["backorder.auto.link.wizard"].with_user(user).sudo().create({})
        )
        manual_wizard = (
            self.env["backorder.manual.link.wizard"]
            .with_user(user)
            .sudo()
            .create(
                {
                    "sale_line_id": sale_line.id,
                    "purchase_line_id": po_line.id,
                    "product_id": self.product.id,
                    "company_id": self.company.id,
                    "quantity": 1,
                }
            )
        )
        new_link = {
            "sale_line_id": sale_line.id,
            "purchase_line_id": po_line.id,
            "quantity": 1,
        }
        return {
            ("backorder.audit", "action_audit"): (None, [], {}),
            ("backorder.auto.link.wizard", "action_preview"): (
                auto_wizard.ids,
                [],
                {},
            ),
            # The batch on an empty recordset: no wizard needed to try.
            ("backorder.auto.link.wizard", "action_link"): ([], [], {}),
            ("backorder.manual.link.wizard", "default_get"): (
                None,
                [["sale_line_id", "product_id", "company_id"]],
                {"active_model": "sale.order.line", "active_id": sale_line.id},
            ),
            ("backorder.manual.link.wizard", "action_link"): (
                manual_wizard.ids,
                [],
                {},
            ),
            ("backorder.po.link", "create"): (None, [[new_link]], {}),
            ("backorder.po.link", "write"): (self.link.ids, [{"quantity": 3}], {}),
            ("backorder.po.link", "unlink"): (self.link.ids, [], {}),
            ("backorder.po.link", "action_cancel"): (self.link.ids, [], {}),
            ("backorder.po.link", "action_open_delivery"): (self.link.ids, [], {}),
            ("backorder.purchase.report", "action_view_sale_lines"): (
                self.report_row.ids,
                [],
                {},
            ),
            ("backorder.purchase.report", "action_create_rfq"): (
                self.report_row.ids,
                [],
                {},
            ),
            ("product.product", "action_backorder_create_rfq"): (
                self.product.ids,
                [],
                {},
            ),
            ("purchase.order", "write"): (self.po.ids, [{"origin": "RPC"}], {}),
            ("purchase.order", "button_approve"): (self.rfq.ids, [], {}),
            ("purchase.order", "action_view_backorder_sale_orders"): (
                self.po.ids,
                [],
                {},
            ),
            ("purchase.order.line", "write"): (
                self.po.order_line.ids,
                [{"product_qty": 2}],
                {},
            ),
            ("purchase.order.line", "unlink"): (self.rfq.order_line.ids, [], {}),
            ("purchase.order.line", "action_backorder_link_sale"): (
                po_line.ids,
                [],
                {},
            ),
            ("res.config.settings", "get_values"): ([], [], {}),
            ("res.config.settings", "set_values"): ([], [], {}),
            ("sale.order", "action_view_backorder_purchase_orders"): (
                self.so.ids,
                [],
                {},
            ),
            ("sale.order.line", "write"): (
                sale_line.ids,
                [{"product_uom_qty": 5}],
                {},
            ),
            ("sale.order.line", "action_backorder_link_purchase"): (
                sale_line.ids,
                [],
                {},
            ),
            # The delivery's demand lowered below what is linked.
            ("stock.move", "write"): (
                sale_line.move_ids.ids,
                [{"product_uom_qty": 3}],
                {},
            ),
        }

    def _rpc(self, model, method, ids, args, context):
        payload = {
            "jsonrpc": "2.0",
            "method": "call",
            "id": 1,
            "params": {
                "model": model,
                "method": method,
                "args": args if ids is None else [ids, *args],
                "kwargs": {"context": {"lang": "en_US", **context}},
            },
        }
        with mute_logger("odoo.http", "odoo.sql_db"):
            response = self.url_open(
                f"/web/dataset/call_kw/{model}/{method}",
                data=json.dumps(payload),
                headers={"Content-Type": "application/json"},
            )
        return response.json()

    def _snapshot(self):
        """What a refused call must leave as it was: links, orders, lines and
        their stored quantities, emails and notes, the batch's switch and the
        settings' own records."""
        self.env.flush_all()
        self.env.cr.execute(
            """
            SELECT (SELECT json_agg(json_build_array(id, state, quantity)
                                    ORDER BY id) FROM backorder_po_link),
                   (SELECT json_agg(json_build_array(id, state) ORDER BY id)
                      FROM sale_order),
                   (SELECT json_agg(json_build_array(id, state, origin)
                                    ORDER BY id) FROM purchase_order),
                   (SELECT json_agg(json_build_array(
                                        id, product_uom_qty, backorder_linked_qty)
                                    ORDER BY id) FROM sale_order_line),
                   (SELECT json_agg(json_build_array(
                                        id, product_qty, backorder_linked_qty)
                                    ORDER BY id) FROM purchase_order_line),
                   (SELECT count(*) FROM mail_mail),
                   (SELECT count(*) FROM mail_message),
                   (SELECT active FROM ir_cron WHERE id = %s),
                   (SELECT json_agg(json_build_array(key, value) ORDER BY key)
                      FROM ir_config_parameter),
                   (SELECT count(*) FROM ir_default)
            """,
            (self.cron.id,),
        )
        return self.env.cr.fetchone()

    def test_every_public_method_has_a_rights_decision(self):
        found = public_methods(self.env)
        self.assertFalse(
            found - set(RIGHTS),
            "public methods without a rights decision in test_rpc_rights.RIGHTS",
        )
        self.assertFalse(set(RIGHTS) - found, "decisions for methods that are gone")

    def test_every_public_method_over_json_rpc_as_every_role(self):
        outcomes = {}
        for role in ROLES:
            self.authenticate(f"bo_rpc_{role}", f"bo_rpc_{role}")
            for (model, method), (ids, args, context) in self._calls(role).items():
                allowed = role in RIGHTS[model, method][0]
                with self.subTest(role=role, method=f"{model}.{method}"):
                    self.env.flush_all()
                    self.env.cr.execute("SAVEPOINT rpc_rights")
                    before = self._snapshot()
                    answer = self._rpc(model, method, ids, args, context)
                    after = self._snapshot()
                    self.env.cr.execute("ROLLBACK TO SAVEPOINT rpc_rights")
                    self.env.invalidate_all()
                    error = answer.get("error", {}).get("data", {})
                    outcomes[role, model, method] = error.get("name", "ok")
                    if allowed:
                        self.assertNotIn("error", answer, error.get("message"))
                        self._assert_effect(model, method, before, after)
                    else:
                        self.assertEqual(
                            error.get("name"),
                            "odoo.exceptions.AccessError",
                            f"expected an access error, got {answer}",
                        )
                        self.assertEqual(before, after, "a refused call wrote")
        # Every decision was tried for every role.
        self.assertEqual(len(outcomes), len(ROLES) * len(RIGHTS))

    def _assert_effect(self, model, method, before, after):
        """The allowed calls that should change something did."""
        links_before, links_after = before[0] or [], after[0] or []
        if (model, method) in (
            ("backorder.auto.link.wizard", "action_link"),
            ("backorder.manual.link.wizard", "action_link"),
            ("backorder.po.link", "create"),
        ):
            self.assertGreater(len(links_after), len(links_before), "no link made")
        if (model, method) in (
            ("backorder.purchase.report", "action_create_rfq"),
            ("product.product", "action_backorder_create_rfq"),
        ):
            self.assertGreater(len(after[4]), len(before[4]), "no RFQ line made")
        if (model, method) in (
            ("backorder.po.link", "action_cancel"),
            ("stock.move", "write"),
        ):
            self.assertNotEqual(links_before, links_after, "the link stayed")
