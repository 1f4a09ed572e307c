/** @odoo-module **/
// Copyright 2026 backorder_po_link contributors
// License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import {registry} from "@web/core/registry";
import {currentStatus} from "./tour_utils";

const line = ".o_field_one2many[name='order_line'] .o_data_row";

registry.category("web_tour.tours").add("backorder_po_link_manager_tour", {
    steps: () => [
        {
            content: "The confirmed order is open",
            trigger: currentStatus("Sales Order"),
        },
        {
            content: "The table line is backordered",
            trigger: `${line} td[name='backorder_badge'] .badge:contains('Backordered')`,
        },
        {
            content: "Link it to a purchase order by hand",
            trigger: `${line} button[name='action_backorder_link_purchase']`,
            run: "click",
        },
        {
            content: "Pick the purchase order line",
            trigger: ".modal .o_field_widget[name='purchase_line_id'] input",
            run: "edit Steel",
        },
        {
            content: "The Steelline order has free tables",
            trigger: ".o-autocomplete--dropdown-menu .dropdown-item:contains('Steel')",
            run: "click",
        },
        {
            content: "The form proposes the whole backordered quantity",
            trigger: ".modal .o_field_widget[name='quantity'] input:value(2.00)",
        },
        {
            content: "Link",
            trigger: ".modal button[name='action_link']",
            run: "click",
        },
        {
            content: "The line is on order now",
            trigger: `${line} td[name='backorder_badge'] .badge:contains('On order: ')`,
        },
        {
            content: "Open the Backorder Links tab",
            trigger: ".o_notebook a[name='backorder_links']",
            run: "click",
        },
        {
            content: "Remove the link",
            trigger:
                ".o_field_one2many[name='backorder_link_ids'] .o_data_row button[name='action_cancel']",
            run: "click",
        },
        {
            content: "Confirm",
            trigger: ".modal .modal-footer button.btn-primary",
            run: "click",
        },
        {
            content: "The link is cancelled",
            trigger:
                ".o_field_one2many[name='backorder_link_ids'] .o_data_row td[name='state']:contains('Cancelled')",
        },
        {
            content: "Back to the order lines",
            trigger: ".o_notebook a[name='order_lines']",
            run: "click",
        },
        {
            content: "The line is backordered again",
            trigger: `${line} td[name='backorder_badge'] .badge:contains('Backordered')`,
        },
    ],
});
