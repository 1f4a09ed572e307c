# Copyright 2026 backorder_po_link contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import Command, api, models

from .backorder_series import GROUP_USERS, GROUPS, place_groups


class ResGroups(models.Model):
    _inherit = "res.groups"

    @api.model
    def _backorder_series_data(self):
        """The data whose field names differ between Odoo 18.0 and 19.0, which
        one XML file cannot write on both (``views/menus.xml`` calls this last,
        on install and on every update, as XML records would be):

        - the backorder groups under their category on the user form, given
          to the administrator and the superuser;
        - Purchase > Reporting opened to purchase users (for ETA Accuracy);
        - the audit's server action for backorder link managers only.
        """
        ref = self.env.ref
        groups = ref("backorder_po_link.group_backorder_auto_link") | ref(
            "backorder_po_link.group_backorder_manager"
        )
        place_groups(
            groups,
            ref("backorder_po_link.module_category_backorder_link"),
            "backorder_po_link.res_groups_privilege_backorder_link",
        )
        admins = ref("base.user_root") | ref("base.user_admin")
        groups.write({GROUP_USERS: [Command.link(user.id) for user in admins]})
        ref("purchase.purchase_report_main").write(
            {GROUPS: [Command.link(ref("purchase.group_purchase_user").id)]}
        )
        ref("backorder_po_link.action_backorder_audit").write(
            {
                GROUPS: [
                    Command.link(ref("backorder_po_link.group_backorder_manager").id)
                ]
            }
        )
