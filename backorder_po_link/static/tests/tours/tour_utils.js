/** @odoo-module **/
// Copyright 2026 backorder_po_link contributors
// License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

/**
 * Steps that ask the test to photograph the page (the README's screenshots)
 * and wait until the picture is taken. The test (tests/screens.py) hears the
 * console message, asks Chromium for a screenshot and then marks the body.
 */
export function screenshot(name) {
    return [
        {
            content: `Take the screenshot ${name}`,
            trigger:
                "body:not(:has(.o_loading_indicator)):not(:has(.o_view_nocontent_empty_folder))",
            run() {
                console.log(`backorder_po_link:screenshot:${name}`);
            },
        },
        {
            content: `Screenshot ${name} taken`,
            trigger: `body[data-backorder-screenshot='${name}']`,
        },
    ];
}

export function currentStatus(label) {
    return `.o_form_view .o_statusbar_status button.o_arrow_button_current:contains('${label}')`;
}
