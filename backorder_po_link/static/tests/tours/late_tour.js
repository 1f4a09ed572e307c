/** @odoo-module **/
// Copyright 2026 backorder_po_link contributors
// License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import {registry} from "@web/core/registry";
import {screenshot} from "./tour_utils";

registry.category("web_tour.tours").add("backorder_po_link_late_tour", {
    steps: () => [
        {
            content: "Late Backorders lists the promise that slipped",
            trigger:
                ".o_list_view .o_data_row:has(td[name='product_id']:contains('Lounge Oak Armchair')):has(td[name='order_partner_id']:contains('Atelier Nord'))",
        },
        {
            content: "With the vendor it waits for",
            trigger:
                ".o_list_view .o_data_row td[name='backorder_vendor_id']:contains('Oakworks')",
        },
        ...screenshot("late_backorders"),
        {
            content: "Switch to the graph by week of the expected date",
            trigger: ".o_switch_view.o_graph",
            run: "click",
        },
        {
            content: "The graph is drawn",
            trigger: ".o_graph_view .o_graph_renderer canvas",
        },
    ],
});
