# Run through `odoo-bin shell`: switch every backorder automation on, in every
# company, as an admin would in Settings.
env["res.company"].search([]).write(
    {
        "backorder_link_on_po_confirm": True,
        "backorder_link_on_so_confirm": True,
    }
)
env.cr.commit()
print("automations on for", env["res.company"].search([]).mapped("name"))
