# Run through `odoo-bin shell`: switch every backorder automation on, in every
# company, as an admin would in Settings, and for everyone.
# Odoo's own tests mostly run in companies and as users they create in
# setUpClass (AccountTestInvoicingCommon makes "company_1_data" and
# "accountman" for every class): so the companies' switches are also made the
# defaults of new companies, and every internal user, present or future, gets
# the "Auto-link backorders" group (without it, confirming links nothing).
from odoo.addons.backorder_po_link.models.backorder_series import GROUPS

AUTOMATIONS = {
    "backorder_link_on_po_confirm": True,
    "backorder_link_on_so_confirm": True,
    "backorder_notify_customer": True,
    "backorder_notify_ready": True,
    "backorder_auto_rfq": True,
    "backorder_notify_salesperson": True,
    "backorder_allocation_order": "priority",
    "backorder_firm_when_deposit_met": True,
    "backorder_reallocate_to_priority": True,
    "backorder_eta_learn": True,
}
env["res.company"].search([]).write(AUTOMATIONS)
for field_name, value in AUTOMATIONS.items():
    env["ir.default"].set("res.company", field_name, value)
env.ref("base.group_user").implied_ids = [
    (4, env.ref("backorder_po_link.group_backorder_auto_link").id)
]
env.ref("backorder_po_link.ir_cron_backorder_auto_link").active = True
env.cr.commit()
print("automations on for", env["res.company"].search([]).mapped("name"))
auto_link = env.ref("backorder_po_link.group_backorder_auto_link")
print(
    "internal users who auto-link (with the new-user template):",
    env["res.users"]
    .with_context(active_test=False)
    .search([(GROUPS, "in", auto_link.id)])
    .mapped("login"),
)
