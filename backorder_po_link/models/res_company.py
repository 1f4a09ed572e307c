# Copyright 2026 backorder_po_link contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The company settings of the rules and automations (all off by default)."""

from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import ValidationError


class ResCompany(models.Model):
    _inherit = "res.company"

    backorder_link_on_po_confirm = fields.Boolean(
        string="Link Backorders on PO Confirmation",
        help="When a purchase order is confirmed, its free quantity is linked to "
        "the oldest eligible backordered sales lines.",
    )
    backorder_link_on_so_confirm = fields.Boolean(
        string="Link Backorders on Sales Confirmation",
        help="When a sales order is confirmed, its out-of-stock lines are linked "
        "to free quantity already on order, earliest arrival first.",
    )
    backorder_so_full_coverage_only = fields.Boolean(
        string="Only Link Fully Covered Lines",
        default=True,
        help="On sales confirmation, a line is linked only if its whole "
        "backordered quantity can be covered; otherwise it is left for purchasing.",
    )
    backorder_min_deposit_percent = fields.Float(
        string="Minimum Deposit (%)",
        digits=(5, 2),
        help="Share of the order total that must be paid (online payments and "
        "paid down payments) before its lines are linked. 0 means no rule.",
    )
    backorder_max_days_out = fields.Integer(
        string="Max Days Out",
        help="A line is linked only if its scheduled date (commitment date, else "
        "expected date) is at most this many days from today. 0 means no rule.",
    )
    backorder_same_warehouse_only = fields.Boolean(
        string="Same Warehouse Only",
        help="Link sales lines only to purchase orders delivering to the sales "
        "order's warehouse (unless that warehouse lists its allowed sources).",
    )

    backorder_allocation_order = fields.Selection(
        [
            ("order_date", "Order Date"),
            ("requested_date", "Requested Date"),
            ("priority", "Customer Priority"),
        ],
        default="order_date",
        required=True,
        help="Which backorders are served first when supply is linked: the "
        "oldest orders; the earliest requested dates (commitment date, else order "
        "date); or the customers of highest backorder priority, then starred "
        "deliveries, then the oldest orders. Ties go to the older order.",
    )
    backorder_firm_when_deposit_met = fields.Boolean(
        string="Firm Links Once the Deposit Is Paid",
        help="Links made for orders that paid the minimum deposit are firm: they "
        "are never taken back to serve another order. Manual links are always "
        "firm. Without a minimum deposit there is no rule to meet and this makes "
        "no link firm.",
    )
    backorder_reallocate_to_priority = fields.Boolean(
        string="Give Supply to Higher-Priority Orders",
        help="When a confirmed sales order cannot be served from free quantity on "
        "order, it may take the soft links of orders served after it (by the "
        "allocation order) on goods not yet received. Those orders are linked to "
        "other supply where possible; their customers and salespeople are told.",
    )

    backorder_notify_customer = fields.Boolean(
        string="Email Customers About Backorders",
        help="Queue an email to the customer when backordered lines are linked to "
        "incoming purchases, and when their expected date moves.",
    )
    backorder_notify_ready = fields.Boolean(
        string="Email When Backorders Arrive",
        help="Also email the customer when linked goods are received.",
    )
    backorder_date_change_threshold = fields.Integer(
        string="Date Change Threshold (Days)",
        default=2,
        help="Email the customer when an expected date moves by more than this "
        "many days (and tell the salesperson when it moves later, if switched "
        "on).",
    )
    backorder_notify_salesperson = fields.Boolean(
        string="Tell Salespeople When Supply Breaks",
        help="Schedule an activity for the salesperson of a sales order when the "
        "supply its backordered lines wait for is cancelled, cut, or moved later "
        "by more than the date change threshold.",
    )
    backorder_confirmed_template_id = fields.Many2one(
        "mail.template",
        string="Backorder Confirmed Email",
        domain=[("model", "=", "sale.order")],
    )
    backorder_date_changed_template_id = fields.Many2one(
        "mail.template",
        string="Backorder Date Changed Email",
        domain=[("model", "=", "sale.order")],
    )
    backorder_ready_template_id = fields.Many2one(
        "mail.template",
        string="Backorder Ready Email",
        domain=[("model", "=", "sale.order")],
    )

    backorder_auto_rfq = fields.Boolean(
        string="Create RFQs for Backorders Automatically",
        help="A scheduled run creates or updates draft RFQs for what backorders "
        "still need (Backorders to Purchase).",
    )
    backorder_eta_learn = fields.Boolean(
        string="Expected Dates That Learn",
        help="Customer-facing expected dates (emails, portal, the sales line's "
        "badge) add the vendor's usual delay, learned from its receipts, to "
        'the purchase order\'s date, and say "expected around".',
    )

    @api.constrains(
        "backorder_min_deposit_percent",
        "backorder_max_days_out",
        "backorder_date_change_threshold",
    )
    def _check_backorder_rules(self):
        for company in self:
            if not 0 <= company.backorder_min_deposit_percent <= 100:
                raise ValidationError(
                    self.env._(
                        "The minimum deposit for backorder links must be between "
                        "0 and 100 %%, not %(value)s.",
                        value=company.backorder_min_deposit_percent,
                    )
                )
            if company.backorder_date_change_threshold < 0:
                raise ValidationError(
                    self.env._(
                        "The date change threshold for backorder emails cannot be "
                        "negative."
                    )
                )
            if company.backorder_max_days_out < 0:
                raise ValidationError(
                    self.env._(
                        "The maximum days out for backorder links cannot be "
                        "negative (0 means no limit)."
                    )
                )

    def _backorder_linking_companies(self):
        """Those of these companies that link backorders: linking on PO or on
        sales confirmation is switched on. The one definition behind the
        settings' "every company that links backorders": the batch run (by
        hand, nightly or in queue jobs), its dry run and re-linking after a
        change work in these companies only; a company with every switch off
        is never linked by an automation."""
        return self.filtered(
            lambda company: (
                company.backorder_link_on_po_confirm
                or company.backorder_link_on_so_confirm
            )
        )

    def _backorder_relink_enabled(self):
        """Re-linking after a change runs where the company links backorders."""
        self.ensure_one()
        return bool(self._backorder_linking_companies())

    def _backorder_customer_date(self, date, vendor):
        """The date a customer of this company is told for goods ``vendor``
        expects to deliver on ``date``: that date, plus the vendor's learned
        delay (never less) when the company learns expected dates
        (``backorder.rules._customer_date_sql`` in SQL)."""
        self.ensure_one()
        if not date or not self.backorder_eta_learn:
            return date
        delay = max(vendor.sudo().backorder_vendor_delay_days, 0.0)
        return date + timedelta(days=delay)

    def _backorder_template(self, event):
        """The email template of ``event`` for this company."""
        self.ensure_one()
        field, xmlid = {
            "confirmed": (
                "backorder_confirmed_template_id",
                "backorder_po_link.mail_template_backorder_confirmed",
            ),
            "date_changed": (
                "backorder_date_changed_template_id",
                "backorder_po_link.mail_template_backorder_date_changed",
            ),
            "ready": (
                "backorder_ready_template_id",
                "backorder_po_link.mail_template_backorder_ready",
            ),
        }[event]
        return self[field] or self.env.ref(xmlid, raise_if_not_found=False)
