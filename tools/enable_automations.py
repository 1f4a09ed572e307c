# Run through `odoo-bin shell`: switch every backorder automation on, in every
# company, as an admin would in Settings.
env["res.company"].search([]).write(
    {
        "backorder_link_on_po_confirm": True,
        "backorder_link_on_so_confirm": True,
        "backorder_notify_customer": True,
        "backorder_notify_ready": True,
        "backorder_auto_rfq": True,
    }
)
env.ref("backorder_po_link.ir_cron_backorder_auto_link").active = True
env.cr.commit()
print("automations on for", env["res.company"].search([]).mapped("name"))
