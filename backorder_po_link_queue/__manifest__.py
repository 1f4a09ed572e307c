# Copyright 2026 backorder_po_link contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
{
    "name": "Backorder to PO Link - Job Queue",
    "summary": "Run the backorder auto-link and automatic RFQs as queue jobs "
    "per chunk of products, shared by many workers",
    "version": "1.0.0",
    "category": "Inventory/Purchase",
    "website": "https://github.com/backorder-po-link/backorder-po-link",
    "author": "backorder_po_link contributors, Odoo Community Association (OCA)",
    "maintainers": ["backorder-po-link"],
    "development_status": "Alpha",
    "license": "LGPL-3",
    "depends": ["backorder_po_link", "queue_job"],
    "data": ["data/queue_job_data.xml"],
    "auto_install": True,
    "installable": True,
}
