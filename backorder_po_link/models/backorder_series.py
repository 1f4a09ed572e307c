# Copyright 2026 backorder_po_link contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""What differs between the Odoo series the addon runs on, 18.0 and 19.0.

Decided once, from ``odoo.release.version_info``, when the addon is imported;
nothing else in the addon, its tests or its tools asks which series it runs
on. Each name says what it is on both series. The first part serves the
addon's code; the second what its tests drive differently.
"""

from odoo import Command, models
from odoo.release import version_info
from odoo.tools import SQL

_V19 = version_info[0] >= 19

# ----------------------------------------------------------------------
# The addon's code
# ----------------------------------------------------------------------

# The unit of measure field of sales and purchase order lines and of vendor
# prices: ``product_uom`` on 18.0, ``product_uom_id`` on 19.0.
LINE_UOM = "product_uom_id" if _V19 else "product_uom"

# The decimal precision of quantities. On 19.0 the old name is gone (and would
# silently fall back to 2 digits).
QTY_DIGITS = "Product Unit" if _V19 else "Product Unit of Measure"

# The field of a group's members, and of the groups of a user, a menu or a
# server action (``users`` / ``groups_id`` on 18.0).
GROUP_USERS = "user_ids" if _V19 else "users"
GROUPS = "group_ids" if _V19 else "groups_id"

# What Backorders to Purchase reads of units (``uom_table_sql``), for its
# ``_depends``: 19.0 stores no rounding, it reads the decimal precision.
UOM_DEPENDS = (
    {"uom.uom": ["factor"], "decimal.precision": ["name", "digits"]}
    if _V19
    else {"uom.uom": ["factor", "rounding"]}
)


def uom_table_sql():
    """A relation of units ``(id, factor, rounding)`` with 18.0's meanings,
    on both series: ``factor`` is how many of the unit make one reference
    unit (divide to reach the reference unit), ``rounding`` the step every
    quantity of the unit is a multiple of.

    18.0 stores both. 19.0 stores the inverse factor (the unit's size in
    reference units) and no rounding: every unit rounds to the ``Product
    Unit`` precision. PostgreSQL flattens the subquery into the caller's
    query, and reads the precision once."""
    if not _V19:
        return SQL("uom_uom")
    return SQL(
        """(SELECT u.id, 1 / u.factor AS factor,
                   power(10::numeric, -(SELECT dp.digits FROM decimal_precision dp
                                         WHERE dp.name = %s)) AS rounding
              FROM uom_uom u)""",
        QTY_DIGITS,
    )


def purchase_unit(product, seller):
    """The unit ``product`` is bought in from vendor price ``seller``: the
    vendor's unit, else the product's purchase unit (18.0 only; 19.0 has
    none), else its unit."""
    if _V19:
        return seller.product_uom_id or product.uom_id
    return seller.product_uom or product.uom_po_id or product.uom_id


def compute_author(thread):
    """The author and email of a note written by the current user, without
    failing when the user has no email (``mail.thread._message_compute_author``,
    whose ``raise_on_email`` keyword 19.0 removed: it no longer raises)."""
    if _V19:
        return thread._message_compute_author(None, None)
    return thread._message_compute_author(None, None, raise_on_email=False)


def place_groups(groups, category, xml_id):
    """Show ``groups`` under ``category`` on the user form, where an admin
    picks one of them per user: 18.0 reads the groups' ``category_id``; 19.0
    their ``privilege_id``, a ``res.groups.privilege`` of the category, made
    here under ``xml_id`` (so that uninstalling the addon removes it)."""
    if not _V19:
        groups.category_id = category
        return
    privilege = groups.env["res.groups.privilege"]._load_records(
        [
            {
                "xml_id": xml_id,
                "values": {
                    "name": category.name,
                    "category_id": category.id,
                    "sequence": category.sequence,
                },
                "noupdate": False,
            }
        ]
    )
    groups.privilege_id = privilege


class Constraint:
    """A table constraint, declared in a model's class body the 19.0 way::

        _quantity_positive = Constraint("CHECK(quantity > 0)", "message")

    It is ``models.Constraint`` on 19.0, which ignores ``_sql_constraints``;
    on 18.0, which has no ``models.Constraint``, it adds itself to the
    class's ``_sql_constraints`` under the same name (the attribute's without
    its leading underscore), giving the same database constraint."""

    def __new__(cls, definition, message):
        if _V19:
            return models.Constraint(definition, message)
        return super().__new__(cls)

    def __init__(self, definition, message):
        self.definition = definition
        self.message = message

    def __set_name__(self, owner, name):
        assert name.startswith("_"), "a constraint's attribute name starts with _"
        constraint = (name[1:], self.definition, self.message)
        owner._sql_constraints = [
            *owner.__dict__.get("_sql_constraints", ()),
            constraint,
        ]
        delattr(owner, name)


# ----------------------------------------------------------------------
# What the tests drive differently
# ----------------------------------------------------------------------

# The moves of a transfer on its form: ``move_ids_without_package`` on 18.0,
# ``move_ids`` on 19.0.
PICKING_MOVES = "move_ids" if _V19 else "move_ids_without_package"

# Whether a unit's rounding is its own (stored, editable): 18.0 only.
UOM_OWN_ROUNDING = not _V19


def set_purchase_unit(product, uom):
    """Buy ``product`` in ``uom``: its purchase unit on 18.0, its vendors'
    unit on 19.0 (the unit :func:`purchase_unit` then finds)."""
    if _V19:
        product.seller_ids.product_uom_id = uom
    else:
        product.uom_po_id = uom


def lock_purchase(orders):
    """Lock confirmed purchase orders as their Lock button does: state
    ``done`` on 18.0 (``button_done``), the ``locked`` flag on 19.0
    (``button_lock``)."""
    return orders.button_lock() if _V19 else orders.button_done()


def is_locked(order):
    """Whether purchase order ``order`` is locked (:func:`lock_purchase`)."""
    return order.locked if _V19 else order.state == "done"


def sale_line_route(route):
    """The values giving a sales line the route ``route`` (the *Route*
    column): one ``route_id`` on 18.0, ``route_ids`` on 19.0."""
    if _V19:
        return {"route_ids": [Command.set(route.ids)]}
    return {"route_id": route.id}


def procurement_runner(env):
    """The model that runs procurements (``run``, ``Procurement``):
    ``procurement.group`` on 18.0, ``stock.rule`` on 19.0 (which replaced
    procurement groups by ``stock.reference``)."""
    return env["stock.rule" if _V19 else "procurement.group"]


def web_group_count(records, domain, groupby):
    """How many groups the web client shows for ``groupby`` (the list's
    *Group By*): ``web_read_group``'s arguments moved in 19.0."""
    if _V19:
        return records.web_read_group(domain, groupby, ["__count"])["length"]
    return records.web_read_group(domain, ["__count"], groupby)["length"]


def run_cron(case, cron):
    """Run scheduled action ``cron`` now from test ``case``, on the test's
    data: 18.0's ``method_direct_trigger`` runs in the test cursor; 19.0's in
    a cursor of its own, unless inside the test's registry test mode."""
    if not _V19:
        return cron.method_direct_trigger()
    with case.enter_registry_test_mode():
        return cron.method_direct_trigger()


def send_mail_for_real(env):
    """A context manager under which tests send emails to the SMTP server
    for real (Odoo sends none while a test runs): on 18.0 the test flag off,
    as Odoo's own ``MockSmtplibCase`` does; on 19.0, whose test cursors need
    that flag, ``ir.mail_server._disable_send`` answering no."""
    from unittest.mock import patch

    from odoo import modules

    if _V19:
        return patch.object(
            type(env["ir.mail_server"]), "_disable_send", classmethod(lambda cls: False)
        )
    return patch.object(modules.module, "current_test", False)
