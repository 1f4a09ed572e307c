/** @odoo-module **/
// Copyright 2026 backorder_po_link contributors
// License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("backorder_po_link_salesperson_tour", {
    steps: () => [
        {
            content: "The confirmed order is open",
            trigger: ".o_form_view .o_statusbar_status button.o_arrow_button_current:contains('Sales Order')",
        },
        {
            content: "The Backorders smart button counts one purchase order",
            trigger: "button[name='action_view_backorder_purchase_orders'] .o_stat_value:contains('1')",
        },
        {
            content: "The line shows what is on order",
            trigger: ".o_field_one2many[name='order_line'] td[name='backorder_linked_qty']:contains('4.00')",
        },
        {
            content: "Open the linked purchase order list",
            trigger: "button[name='action_view_backorder_purchase_orders']",
            run: "click",
        },
        {
            content: "The purchase order form opens",
            trigger: ".o_form_view .o_breadcrumb:contains('P0')",
        },
    ],
});
