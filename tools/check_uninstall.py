# Run through `odoo-bin shell` on a database with backorder_po_link installed:
# uninstall it, then check that its tables and columns are gone and that a
# sales order and a purchase order still confirm, receive and deliver.
import sys

from odoo import Command

module = env["ir.module.module"].search([("name", "=", "backorder_po_link")])
assert module.state == "installed", module.state
# The stored columns the addon added to other models' tables: its fields that
# no other module also declares (Odoo 19.0 records the ``id`` of every model
# a module extends under that module too; uninstalling keeps those).
ours = []
Data = env["ir.model.data"]
field_ids = Data.search(
    [("module", "=", "backorder_po_link"), ("model", "=", "ir.model.fields")]
).mapped("res_id")
shared = set(
    Data.search(
        [
            ("model", "=", "ir.model.fields"),
            ("res_id", "in", field_ids),
            ("module", "!=", "backorder_po_link"),
        ]
    ).mapped("res_id")
)
for field in env["ir.model.fields"].browse(sorted(set(field_ids) - shared)):
    model = env.get(field.model)
    if model is not None and field.store and field.ttype != "one2many":
        if field.ttype == "many2many":
            ours.append((model._fields[field.name].relation, None))
        else:
            ours.append((model._table, field.name))
module.button_immediate_uninstall()
env.cr.commit()
env = env(context={})  # fresh registry after uninstall
problems = []
env.cr.execute("SELECT to_regclass('backorder_po_link')")
if env.cr.fetchone()[0]:
    problems.append("table backorder_po_link is still there")
for table, column in ours:
    if column is None:
        env.cr.execute("SELECT to_regclass(%s)", (table,))
        if env.cr.fetchone()[0]:
            problems.append(f"table {table} is still there")
        continue
    env.cr.execute(
        "SELECT 1 FROM information_schema.columns "
        "WHERE table_name = %s AND column_name = %s",
        (table, column),
    )
    if env.cr.fetchone():
        problems.append(f"column {table}.{column} is still there")
print(f"checked {len(ours)} columns and tables of the addon")

product = env["product.product"].create(
    {"name": "Uninstall check", "type": "consu", "is_storable": True}
)
partner = env["res.partner"].create({"name": "Uninstall check"})
so = env["sale.order"].create(
    {
        "partner_id": partner.id,
        "order_line": [
            Command.create({"product_id": product.id, "product_uom_qty": 3})
        ],
    }
)
so.action_confirm()
po = env["purchase.order"].create(
    {
        "partner_id": partner.id,
        "order_line": [Command.create({"product_id": product.id, "product_qty": 5})],
    }
)
po.button_confirm()
po.picking_ids.button_validate()
delivery = so.picking_ids
delivery.action_assign()
delivery.button_validate()
if (so.state, po.state, delivery.state, so.order_line.qty_delivered) != (
    "sale",
    "purchase",
    "done",
    3,
):
    problems.append(
        f"standard flow broken: so {so.state}, po {po.state}, "
        f"delivery {delivery.state}, delivered {so.order_line.qty_delivered}"
    )
env.cr.rollback()
if problems:
    print("UNINSTALL CHECK FAILED:\n  " + "\n  ".join(problems))
    sys.exit(1)
print(
    "uninstall check passed: addon removed cleanly, standard sale/purchase flow works"
)
