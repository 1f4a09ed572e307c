/** @odoo-module **/
// Copyright 2026 backorder_po_link contributors
// License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import {registry} from "@web/core/registry";
import {currentStatus, screenshot} from "./tour_utils";

registry.category("web_tour.tours").add("backorder_po_link_salesperson_tour", {
    steps: () => [
        {
            content: "The quotation for tables out of stock is open",
            trigger: currentStatus("Quotation"),
        },
        {
            content: "Confirm the order",
            trigger: ".o_form_view .o_form_statusbar button[name='action_confirm']",
            run: "click",
        },
        {
            content: "The order is confirmed",
            trigger: currentStatus("Sales Order"),
        },
        {
            content: "The line is on order, with its expected date",
            trigger:
                ".o_field_one2many[name='order_line'] td[name='backorder_badge'] .badge:contains('On order: ')",
        },
        {
            content: "The Backorders smart button counts one purchase order",
            trigger:
                "button[name='action_view_backorder_purchase_orders'] .o_stat_value:contains('1')",
        },
        ...screenshot("sale_order"),
        {
            content: "Open the Backorder Links tab",
            trigger: ".o_notebook a[name='backorder_links']",
            run: "click",
        },
        {
            content: "The link shows the expected arrival",
            trigger:
                ".o_field_one2many[name='backorder_link_ids'] td[name='expected_date']:not(:empty)",
        },
    ],
});
