/** @odoo-module **/
// Copyright 2026 backorder_po_link contributors
// License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import {registry} from "@web/core/registry";
import {currentStatus, screenshot} from "./tour_utils";

registry.category("web_tour.tours").add("backorder_po_link_warehouse_tour", {
    steps: () => [
        {
            content: "The receipt of the chairs is ready",
            trigger: currentStatus("Ready"),
        },
        {
            content: "Validate the receipt",
            trigger: ".o_form_view .o_form_statusbar button[name='button_validate']",
            run: "click",
        },
        {
            content: "The goods are received",
            trigger: currentStatus("Done"),
        },
        {
            content: "Open the apps menu",
            trigger: ".o_navbar_apps_menu button",
            run: "click",
        },
        {
            content: "Open Inventory",
            trigger: ".o_app[data-menu-xmlid='stock.menu_stock_root']",
            run: "click",
        },
        {
            content: "Open Inventory > Operations",
            trigger: ".o_main_navbar .o_menu_sections button:contains('Operations')",
            run: "click",
        },
        {
            content: "Open Fulfillable Backorders",
            trigger: ".dropdown-menu .dropdown-item:contains('Fulfillable Backorders')",
            run: "click",
        },
        {
            content: "Both customers' chairs are ready to ship",
            trigger:
                ".o_list_view .o_data_row td[name='partner_id']:contains('Hotel Lindenhof')",
        },
        ...screenshot("fulfillable"),
        {
            content: "Open the delivery of the oldest order",
            trigger:
                ".o_list_view .o_data_row:contains('Harbor Cafe') button[name='action_open_delivery']",
            run: "click",
        },
        {
            content: "The delivery is ready",
            trigger: currentStatus("Ready"),
        },
        {
            content: "Ship what is there",
            trigger: ".o_form_view .o_form_statusbar button[name='button_validate']",
            run: "click",
        },
        {
            content: "Keep the tables still on order as a backorder",
            trigger: ".modal button[name='process']",
            run: "click",
        },
        {
            content: "The chairs are shipped",
            trigger: currentStatus("Done"),
        },
    ],
});
