# Copyright 2026 backorder_po_link contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.tests import TransactionCase, tagged

from odoo.addons.backorder_po_link.tests.test_rpc_rights import RIGHTS, public_methods


@tagged("post_install", "-at_install")
class TestQueueRights(TransactionCase):
    def test_no_public_method_without_a_rights_decision(self):
        """The queue addon's jobs and enqueuing methods are private: with it
        installed, the methods callable over RPC are the ones whose rights
        backorder_po_link's JSON-RPC test decides and tries, no more."""
        queue_methods = public_methods(
            self.env, modules=("odoo.addons.backorder_po_link_queue",)
        )
        self.assertFalse(queue_methods - set(RIGHTS), "no rights decision")
        self.assertEqual(public_methods(self.env), set(RIGHTS))
