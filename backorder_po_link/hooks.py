# Copyright 2026 backorder_po_link contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import Command
from odoo.tools.sql import column_exists, create_column

from .models.backorder_series import GROUPS


def pre_init_hook(env):
    """Create the stored linked-quantity columns in SQL, filled with 0, so that
    installing on a database with many orders computes nothing per record
    (no line has links yet)."""
    for table in ("sale_order_line", "purchase_order_line"):
        if not column_exists(env.cr, table, "backorder_linked_qty"):
            create_column(env.cr, table, "backorder_linked_qty", "numeric")
            env.cr.execute(f"UPDATE {table} SET backorder_linked_qty = 0")


def uninstall_hook(env):
    """The guard's functions and its scratch table are not Odoo models;
    Purchase > Reporting is again for purchase managers only."""
    menu = env.ref("purchase.purchase_report_main", raise_if_not_found=False)
    group = env.ref("purchase.group_purchase_user", raise_if_not_found=False)
    if menu and group:
        menu[GROUPS] = [Command.unlink(group.id)]
    env.cr.execute(
        """
        DROP FUNCTION IF EXISTS backorder_po_link_check_totals() CASCADE;
        DROP FUNCTION IF EXISTS backorder_po_link_touch() CASCADE;
        DROP TABLE IF EXISTS backorder_po_link_touched;
        DROP TABLE IF EXISTS backorder_po_link_check;
        DROP TABLE IF EXISTS backorder_po_link_product_clock;
        """
    )
