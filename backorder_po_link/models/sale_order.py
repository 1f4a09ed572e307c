# Copyright 2026 backorder_po_link contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Hooks on sales orders, the customer emails (a reaction to link changes)
and the salesperson's activity when the supply of backorders breaks."""

from markupsafe import Markup

from odoo import api, fields, models
from odoo.tools.misc import format_date, formatLang

from .backorder_series import LINE_UOM, QTY_DIGITS

NOTIFY_KEY = "backorder_po_link.notifications"
# Sales lines served by a purchase Odoo made for them (on order, dropship).
NOTIFY_OWN_KEY = "backorder_po_link.notifications_own"
SUPPLY_ACTIVITY = "backorder_po_link.mail_activity_type_backorder_supply"


def _row(env, product, quantity, uom, **columns):
    """A row of the customer's emails and portal: the product, the quantity
    in the reader's language and its unit, and ``columns``."""
    return {
        "product": product.display_name,
        "quantity": formatLang(env, quantity, dp=QTY_DIGITS),
        "uom": uom.name,
        **columns,
    }


class SaleOrder(models.Model):
    _inherit = "sale.order"

    backorder_link_ids = fields.One2many(
        "backorder.po.link", "sale_order_id", string="Backorder Links"
    )
    backorder_purchase_order_count = fields.Integer(
        string="Linked Purchase Orders",
        compute="_compute_backorder_purchase_order_count",
    )

    @api.depends("backorder_link_ids.state")
    def _compute_backorder_purchase_order_count(self):
        counts = self.env["backorder.po.link"]._count_linked_orders(
            "sale_order_id", "purchase_order_id", self
        )
        for order in self:
            order.backorder_purchase_order_count = counts.get(order.id, 0)

    def _action_confirm(self):
        res = super()._action_confirm()
        self._backorder_link_on_confirm()
        return res

    def _action_cancel(self):
        res = super()._action_cancel()
        self.env["backorder.allocator"].sudo()._reconcile(
            sale_lines=self.order_line.filtered("backorder_link_ids")
        )
        return res

    def _backorder_link_on_confirm(self):
        """Link the lines Odoo could not reserve to free quantity already on
        order, when the company and the user allow it."""
        return self.order_line._backorder_link_to_supply()

    def action_view_backorder_purchase_orders(self):
        self.ensure_one()
        return self.backorder_link_ids._action_view_orders(
            "purchase_order_id", "purchase.purchase_form_action"
        )

    # ------------------------------------------------------------------
    # Customer notifications: a reaction to the links' changes
    # ------------------------------------------------------------------
    @api.model
    def _on_links_created(self, links, event):
        self._backorder_queue_notification(event, links)

    @api.model
    def _on_links_received(self, links):
        self._backorder_queue_notification("ready", links)

    @api.model
    def _backorder_queue_notification(self, event, links):
        """Remember that ``links`` call for an email of kind ``event``; the
        emails are composed once, just before the transaction commits, so
        several linking runs on one order make one email per event."""
        if not links or not self.env["res.company"].sudo().search_count(
            [("backorder_notify_customer", "=", True)], limit=1
        ):
            return
        links = links.sudo().filtered(
            lambda link: (
                link.company_id.backorder_notify_customer
                and not link.partner_id.backorder_no_email
                and (event != "ready" or link.company_id.backorder_notify_ready)
            )
        )
        if not links:
            return
        pending = self._backorder_pending_notifications(NOTIFY_KEY)
        for link in links:
            pending.setdefault((link.sale_order_id.id, event), set()).add(link.id)

    @api.model
    def _backorder_queue_own_purchase_notification(self, event, purchase_lines):
        """The customers of the lines Odoo bought for themselves (Replenish
        on Order, dropship) hear about their purchase as the customers of
        linked lines do: ``purchase_lines`` call for an email of ``event``."""
        if not purchase_lines or not self.env["res.company"].sudo().search_count(
            [("backorder_notify_customer", "=", True)], limit=1
        ):
            return
        rows = self.env.execute_query(
            self.env["backorder.rules"]._own_purchase_query(
                purchase_line_ids=purchase_lines.ids
            )
        )
        sale_lines = (
            self.env["sale.order.line"]
            .sudo()
            .browse(sorted({row[0] for row in rows}))
            .filtered(
                lambda line: (
                    line.company_id.backorder_notify_customer
                    and not line.order_id.partner_id.backorder_no_email
                )
            )
        )
        if not sale_lines:
            return
        pending = self._backorder_pending_notifications(NOTIFY_OWN_KEY)
        for line in sale_lines:
            pending.setdefault((line.order_id.id, event), set()).add(line.id)

    @api.model
    def _backorder_pending_notifications(self, key):
        """The transaction's pending emails under ``key``; the first one
        registers their sending just before the commit."""
        precommit = self.env.cr.precommit
        if NOTIFY_KEY not in precommit.data and NOTIFY_OWN_KEY not in precommit.data:
            precommit.add(self.sudo()._backorder_send_notifications)
        return precommit.data.setdefault(key, {})

    @api.model
    def _backorder_send_notifications(self):
        """Post one email per order and event to the customer; it waits in
        the mail queue (sent by the standard cron), never inline."""
        pending = self.env.cr.precommit.data.pop(NOTIFY_KEY, {})
        own = self.env.cr.precommit.data.pop(NOTIFY_OWN_KEY, {})
        for order_id, event in sorted(set(pending) | set(own)):
            order = self.browse(order_id).exists()
            link_ids = pending.get((order_id, event), ())
            links = self.env["backorder.po.link"].browse(sorted(link_ids)).exists()
            links = links.filtered(lambda link: link.state != "cancel")
            own_lines = (
                self.env["sale.order.line"]
                .browse(sorted(own.get((order_id, event), ())))
                .exists()
            )
            if not order or not (links or own_lines):
                continue
            template = order.company_id._backorder_template(event)
            if not template:
                continue
            order.with_context(
                mail_notify_force_send=False,
                backorder_link_ids=links.ids,
                backorder_own_line_ids=own_lines.ids,
            ).message_post_with_source(
                template,
                message_type="comment",
                subtype_xmlid="mail.mt_comment",
                partner_ids=order.partner_id.ids,
            )
            if event != "ready":
                links._mark_told()

    # ------------------------------------------------------------------
    # The salesperson's activity when supply breaks
    # ------------------------------------------------------------------
    @api.model
    def _backorder_supply_events(self):
        """The events that break supply, with the title of their part of the
        activity, in this environment's language."""
        return {
            "cancelled": self.env._("A purchase order was cancelled:"),
            "cut": self.env._("A purchase order's quantity was cut:"),
            "late": self.env._("A purchase order's expected date moved later:"),
            "reallocated": self.env._("Supply was given to a higher-priority order:"),
        }

    @api.model
    def _backorder_tell_supply_change(self, event, before):
        """After a change of kind ``event`` (``cancelled``, ``cut``, ``late``,
        ``reallocated``), give the salesperson of each order whose lines'
        supply broke one activity, or add to the open one.

        :param before: ``{sale line id: expected date}`` read before the
            change (``sale.order.line._backorder_expected_dates``). A line is
            broken when it now waits longer, or for goods no purchase brings
            any more; in companies that tell salespeople only.
        :return: the activities created or updated
        """
        if event not in self._backorder_supply_events():
            raise ValueError(f"unknown backorder supply event: {event!r}")
        activities = self.env["mail.activity"]
        activity_type = self.env.ref(SUPPLY_ACTIVITY, raise_if_not_found=False)
        broken = self._backorder_broken_lines(before or {})
        if not broken or not activity_type:
            return activities
        lines = self.env["sale.order.line"].union(*broken)
        for order, order_lines in lines.grouped("order_id").items():
            user = order._backorder_supply_user()
            if user:
                activities |= order._backorder_post_supply_activity(
                    activity_type,
                    user,
                    event,
                    [(line, *broken[line]) for line in order_lines],
                )
        return activities

    @api.model
    def _backorder_broken_lines(self, before):
        """``{sale line: (old date, new date or False)}``: the lines of
        ``before`` that waited for a date and now wait for a later one, or
        lack goods that no purchase brings any more (all of them, or the part
        they lost while keeping the rest)."""
        lines = (
            self.env["sale.order.line"]
            .sudo()
            .browse(sorted(before))
            .exists()
            .filtered(
                lambda line: (
                    before[line.id]
                    and line.order_id.state == "sale"
                    and line.company_id.backorder_notify_salesperson
                )
            )
        )
        after = self.env["sale.order.line"]._backorder_expected_dates(lines)
        return {
            line: (before[line.id], after[line.id])
            for line in lines
            if (after[line.id] and after[line.id] > before[line.id])
            or line.backorder_qty > 0
        }

    def _backorder_supply_user(self):
        """Who hears that this order's supply broke: its salesperson, else the
        leader of its sales team; no one (no activity) without either."""
        self.ensure_one()
        return self.user_id or self.team_id.user_id

    def _backorder_post_supply_activity(self, activity_type, user, event, rows):
        """Schedule the activity of ``event`` for ``user`` on this order, or,
        while one is open, put the new rows on top of its note and refresh its
        deadline. ``rows``: ``(sale line, old date, new date or False)``."""
        self.ensure_one()
        # In the salesperson's language and time zone, whoever made the change.
        order = self.sudo().with_context(
            lang=user.lang, tz=user.tz or "UTC", mail_notify_force_send=False
        )
        note = order._backorder_supply_note(event, rows)
        deadline = activity_type.with_env(order.env)._get_date_deadline()
        activity = order.activity_ids.filtered(
            lambda act: act.activity_type_id == activity_type
        )[:1]
        if not activity:
            return order.activity_schedule(
                SUPPLY_ACTIVITY, date_deadline=deadline, note=note, user_id=user.id
            )
        vals = {"note": note + (activity.note or Markup()), "date_deadline": deadline}
        if activity.user_id != user:
            vals["user_id"] = user.id
        activity.write(vals)
        return activity

    def _backorder_supply_note(self, event, rows):
        """The HTML of one event in the activity: its title, then a row per
        line (:meth:`_backorder_supply_row`)."""
        items = Markup().join(
            Markup("<li>%s</li>") % self._backorder_supply_row(*row) for row in rows
        )
        return Markup("<p><strong>%s</strong></p><ul>%s</ul>") % (
            self._backorder_supply_events()[event],
            items,
        )

    def _backorder_supply_row(self, line, old, new):
        """One line of the activity, as text: product, old and new expected
        date (or no supply any more) and the purchase orders it now waits for,
        in this environment's language and time zone."""
        env = self.env
        values = {
            "product": line.with_env(env).product_id.display_name,
            "old": format_date(env, old),
        }
        if not new:
            return env._("%(product)s: expected %(old)s, no supply any more", **values)
        if new <= old:
            return env._(
                "%(product)s: %(qty)s %(uom)s no supply any more, the rest still "
                "expected %(old)s",
                qty=formatLang(env, line.backorder_qty, dp=QTY_DIGITS),
                uom=line.product_id.uom_id.name,
                **values,
            )
        values["new"] = format_date(env, new)
        orders = line.backorder_link_ids.filtered(
            lambda link: link.state == "linked"
        ).purchase_order_id
        if not orders:
            return env._("%(product)s: expected %(old)s, now %(new)s", **values)
        return env._(
            "%(product)s: expected %(old)s, now %(new)s (linked to %(orders)s)",
            orders=", ".join(orders.sorted("id").mapped("name")),
            **values,
        )

    def _get_backorder_notification_lines(self, link_ids, own_line_ids=()):
        """Rows of an email: product, quantity and expected date of the given
        links of this order, grouped per sales line, then of the given lines
        that Odoo's own purchase serves (on order, dropship), in the
        customer's language."""
        self.ensure_one()
        order = self.with_context(lang=self.partner_id.lang)
        lang = self.partner_id.lang
        links = (
            order.env["backorder.po.link"]
            .sudo()
            .browse(link_ids)
            .filtered(lambda link: link.sale_order_id == self)
        )
        rows = [
            _row(
                order.env,
                sale_line.product_id,
                sum(line_links.mapped("quantity")),
                sale_line.product_id.uom_id,
                date=order._backorder_date_text(line_links, lang),
            )
            for sale_line, line_links in links.grouped("sale_line_id").items()
        ]
        own_lines = (
            order.env["sale.order.line"]
            .sudo()
            .browse(own_line_ids)
            .filtered(
                lambda line: line.order_id == self and line.backorder_expected_date
            )
        )
        rows += [
            order._backorder_own_purchase_row(
                sale_line, order._backorder_own_date_text(sale_line, lang)
            )
            for sale_line in own_lines
        ]
        return rows

    def _backorder_date_text(self, links, lang=None):
        """The expected date of ``links`` as the customer reads it: the
        latest, plain; when the company learns expected dates, the latest
        date customers are told, "expected around"."""
        if not self.company_id.backorder_eta_learn:
            return format_date(
                self.env, max(links.mapped("expected_date")), lang_code=lang
            )
        return self.env._(
            "expected around %(date)s",
            date=format_date(
                self.env, max(links.mapped("customer_date")), lang_code=lang
            ),
        )

    def _backorder_own_date_text(self, sale_line, lang=None):
        """The same for a line that Odoo's own purchase serves."""
        if not self.company_id.backorder_eta_learn:
            return format_date(
                self.env, sale_line.backorder_expected_date, lang_code=lang
            )
        return self.env._(
            "expected around %(date)s",
            date=format_date(
                self.env, sale_line.backorder_customer_date, lang_code=lang
            ),
        )

    def _backorder_own_purchase_row(self, sale_line, date, **columns):
        """The row of a line that Odoo's own purchase serves: what is left to
        deliver, expected on ``date``."""
        return _row(
            self.env,
            sale_line.product_id,
            sale_line.product_uom_qty - sale_line.qty_delivered,
            sale_line[LINE_UOM],
            date=date,
            **columns,
        )

    def _get_backorder_portal_lines(self):
        """Rows of the portal's "Backordered Items": what the customer still
        waits for and when it is expected. No vendor, price or PO name."""
        self.ensure_one()
        if self.state != "sale":
            return []
        lines = self.order_line.sudo().filtered(
            lambda line: line.product_id.is_storable and not line.display_type
        )
        rows = []
        for line in lines:
            rows += self._backorder_portal_rows(line)
        return rows

    def _backorder_portal_rows(self, line):
        """The portal's rows of one sales line: received, on order (linked
        or Odoo's own purchase), backordered."""
        active = line.backorder_link_ids.filtered(
            lambda link: link.state in ("linked", "received")
        )
        rows = []
        # Labels outside the tuples: Odoo 19's term extraction would take a
        # string beside a _() in a tuple for a term.
        arrived = self.env._("Arrived, ready to ship")
        on_order = self.env._("On order")
        for state, label in (("received", arrived), ("linked", on_order)):
            state_links = active.filtered(lambda link, s=state: link.state == s)
            if state_links:
                rows.append(
                    _row(
                        self.env,
                        line.product_id,
                        sum(state_links.mapped("quantity")),
                        line.product_id.uom_id,
                        status=label,
                        date=self._backorder_date_text(state_links)
                        if state == "linked"
                        else "",
                    )
                )
        if not active and line.backorder_status == "linked":
            # Odoo's own purchase for the line (on order, dropship).
            rows.append(
                self._backorder_own_purchase_row(
                    line,
                    self._backorder_own_date_text(line),
                    status=self.env._("On order"),
                )
            )
        if line.backorder_qty > 0:
            rows.append(
                _row(
                    self.env,
                    line.product_id,
                    line.backorder_qty,
                    line.product_id.uom_id,
                    status=self.env._("Backordered"),
                    date=self.env._("to be confirmed"),
                )
            )
        return rows
