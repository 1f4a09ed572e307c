/** @odoo-module **/
// Copyright 2026 backorder_po_link contributors
// License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import {registry} from "@web/core/registry";
import {currentStatus, screenshot} from "./tour_utils";

registry.category("web_tour.tours").add("backorder_po_link_purchaser_tour", {
    steps: () => [
        {
            content: "The request for quotation is open",
            trigger: currentStatus("RFQ"),
        },
        {
            content: "Backorders may attach to this order",
            trigger: ".o_field_widget[name='allow_backorder_link'] input:checked",
        },
        {
            content: "Confirm the order",
            trigger: ".o_form_view .o_form_statusbar button[name='button_confirm']",
            run: "click",
        },
        {
            content: "The order is confirmed",
            trigger: currentStatus("Purchase Order"),
        },
        {
            content: "The whole line went to waiting backorders",
            trigger:
                ".o_field_one2many[name='order_line'] td[name='backorder_linked_qty']:contains('8.00')",
        },
        {
            content: "Nothing is left free",
            trigger:
                ".o_field_one2many[name='order_line'] td[name='backorder_free_qty']:contains('0.00')",
        },
        {
            content: "Open the Backorder Links tab",
            trigger: ".o_notebook a[name='backorder_links']",
            run: "click",
        },
        {
            content: "The linked sales order and its customer are listed",
            trigger:
                ".o_field_one2many[name='backorder_link_ids'] .o_data_row td[name='partner_id']:contains('Hotel Lindenhof')",
        },
        ...screenshot("purchase_order"),
        {
            content: "Open the linked sales orders",
            trigger: "button[name='action_view_backorder_sale_orders']",
            run: "click",
        },
        {
            content: "The customer's order opens",
            trigger:
                ".o_form_view .o_field_widget[name='partner_id']:contains('Hotel Lindenhof'), .o_form_view .o_field_widget[name='partner_id'] input:value(Hotel Lindenhof)",
        },
    ],
});
