/** @odoo-module **/
// Copyright 2026 backorder_po_link contributors
// License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import {registry} from "@web/core/registry";
import {screenshot} from "./tour_utils";

registry.category("web_tour.tours").add("backorder_po_link_admin_tour", {
    steps: () => [
        {
            content: "Open the Purchase settings",
            trigger: ".settings_tab .tab[data-key='purchase']",
            run: "click",
        },
        {
            content: "The Backorder Links block is there",
            trigger:
                ".app_settings_block[data-key='purchase'] h2:contains('Backorder Links')",
            run() {
                this.anchor.scrollIntoView({block: "start"});
            },
        },
        {
            content: "Switch on automatic RFQs for backorders",
            trigger: "#backorder_auto_rfq input[type='checkbox']:not(:checked)",
            run: "click",
        },
        {
            content: "Save",
            trigger: ".o_control_panel .o_form_button_save",
            run: "click",
        },
        {
            content: "The settings reload with the option on",
            trigger: "#backorder_auto_rfq input[type='checkbox']:checked",
        },
        {
            content: "Show the Backorder Links block",
            trigger:
                ".app_settings_block[data-key='purchase'] h2:contains('Backorder Links')",
            run() {
                this.anchor.scrollIntoView({block: "start"});
            },
        },
        ...screenshot("settings"),
    ],
});
