# Copyright 2026 backorder_po_link contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""queue_job's test helpers (18.0.3 and later) register their patcher in
``odoo.tests.common.SETATTR_SOURCES``, which Odoo 18.0 sources older than the
one queue_job was released against lack. Import this module before
``odoo.addons.queue_job.tests.common``; on a recent Odoo it changes nothing."""

from odoo.tests import common

if not hasattr(common, "SETATTR_SOURCES"):
    common.SETATTR_SOURCES = {}
