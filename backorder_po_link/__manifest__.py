# Copyright 2026 backorder_po_link contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
{
    "name": "Backorder to PO Link",
    "summary": "Link backordered sales order lines to purchase order lines, "
    "oldest first, with quantities that follow the goods",
    "version": "1.0.0",
    "category": "Inventory/Purchase",
    "website": "https://github.com/backorder-po-link/backorder-po-link",
    "author": "backorder_po_link contributors, Odoo Community Association (OCA)",
    "maintainers": ["backorder-po-link"],
    "development_status": "Alpha",
    "license": "LGPL-3",
    "depends": ["sale_stock", "purchase_stock"],
    "data": [
        "security/backorder_po_link_security.xml",
        "security/ir.model.access.csv",
        "data/ir_cron.xml",
        # The QWeb pieces before the mail templates that call them (19.0
        # renders a template when it is loaded).
        "views/backorder_notification_templates.xml",
        "data/mail_template_data.xml",
        "data/mail_activity_type_data.xml",
        "views/res_partner_views.xml",
        "views/backorder_purchase_report_views.xml",
        "wizards/backorder_auto_link_wizard_views.xml",
        "wizards/backorder_manual_link_wizard_views.xml",
        "views/backorder_po_link_views.xml",
        "views/purchase_order_views.xml",
        "views/sale_order_views.xml",
        "views/sale_order_line_late_views.xml",
        "views/stock_warehouse_views.xml",
        "views/res_config_settings_views.xml",
        "views/menus.xml",
    ],
    "demo": ["demo/backorder_demo.xml"],
    "assets": {
        "web.assets_tests": [
            "backorder_po_link/static/tests/tours/*.js",
        ],
    },
    "pre_init_hook": "pre_init_hook",
    "uninstall_hook": "uninstall_hook",
    "installable": True,
}
