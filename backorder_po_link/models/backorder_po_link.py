# Copyright 2026 backorder_po_link contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL, float_compare

from .backorder_rules import ORDERED_LEFT

ACTIVE_STATES = ("linked", "received")


class BackorderPoLink(models.Model):
    """A promise: this much of a purchase order line goes to this sales line.

    Quantities are in the product's unit of measure, whatever unit either line
    is expressed in. Links in ``linked`` or ``received`` state are *active*: they
    count against both lines (see :meth:`_check_invariants`).
    """

    _name = "backorder.po.link"
    _description = "Backorder Link"
    _order = "date_linked desc, id desc"
    _rec_names_search = ["sale_order_id", "purchase_order_id", "product_id"]

    sale_line_id = fields.Many2one(
        "sale.order.line",
        string="Sales Order Line",
        required=True,
        index=True,
        ondelete="cascade",
    )
    purchase_line_id = fields.Many2one(
        "purchase.order.line",
        string="Purchase Order Line",
        required=True,
        index=True,
        ondelete="cascade",
    )
    quantity = fields.Float(
        digits="Product Unit of Measure",
        required=True,
        help="Quantity promised, in the product's unit of measure.",
    )
    state = fields.Selection(
        [
            ("linked", "Awaiting Receipt"),
            ("received", "Received"),
            ("done", "Delivered"),
            ("cancel", "Cancelled"),
        ],
        default="linked",
        required=True,
    )
    origin = fields.Selection(
        [
            ("po_confirm", "Purchase Confirmation"),
            ("so_confirm", "Sales Confirmation"),
            ("batch", "Batch Auto-Link"),
            ("manual", "Manual"),
        ],
        default="manual",
        required=True,
    )
    date_linked = fields.Datetime(
        string="Linked On", default=fields.Datetime.now, required=True
    )
    sale_order_id = fields.Many2one(
        related="sale_line_id.order_id", store=True, index=True, string="Sales Order"
    )
    purchase_order_id = fields.Many2one(
        related="purchase_line_id.order_id",
        store=True,
        index=True,
        string="Purchase Order",
    )
    product_id = fields.Many2one(related="sale_line_id.product_id", store=True)
    product_uom_id = fields.Many2one(related="product_id.uom_id", string="Unit")
    partner_id = fields.Many2one(
        related="sale_order_id.partner_id", store=True, string="Customer"
    )
    vendor_id = fields.Many2one(
        related="purchase_order_id.partner_id", store=True, string="Vendor"
    )
    company_id = fields.Many2one(related="sale_line_id.company_id", store=True)
    expected_date = fields.Datetime(
        related="purchase_line_id.date_planned",
        store=True,
        string="Expected Arrival",
    )

    _sql_constraints = [
        (
            "quantity_positive",
            "CHECK(quantity > 0)",
            "The quantity of a backorder link must be positive.",
        ),
    ]

    def init(self):
        """A guard in the database itself: at commit, the active links of a
        sales line never exceed what it still has to deliver, nor those of a
        purchase line what it orders, whatever code path wrote them.

        Every statement that writes links records the lines it touched (a
        statement trigger, set-based) and, the first time in a transaction,
        a row in ``backorder_po_link_check``; the deferred constraint trigger
        of that row checks all touched lines in one query at commit: a batch
        writing 100,000 links costs one check and one trigger call, not
        100,000."""
        self.env.cr.execute(
            SQL(
                """
            CREATE UNLOGGED TABLE IF NOT EXISTS backorder_po_link_touched (
                xact bigint NOT NULL,
                sale_line_id integer NOT NULL,
                purchase_line_id integer NOT NULL
            );
            CREATE INDEX IF NOT EXISTS backorder_po_link_touched_xact_idx
                ON backorder_po_link_touched (xact);
            CREATE UNLOGGED TABLE IF NOT EXISTS backorder_po_link_check (
                xact bigint PRIMARY KEY
            );
            -- Bumped by every allocation of a product (see the allocator's
            -- _lock_products): two overlapping allocations conflict.
            CREATE UNLOGGED TABLE IF NOT EXISTS backorder_po_link_product_clock (
                product_id integer PRIMARY KEY,
                version bigint NOT NULL
            );

            CREATE OR REPLACE FUNCTION backorder_po_link_touch()
            RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO backorder_po_link_touched
                SELECT DISTINCT txid_current(), sale_line_id, purchase_line_id
                  FROM new_rows;
                INSERT INTO backorder_po_link_check VALUES (txid_current())
                    ON CONFLICT DO NOTHING;
                RETURN NULL;
            END;
            $$;

            CREATE OR REPLACE FUNCTION backorder_po_link_check_totals()
            RETURNS trigger LANGUAGE plpgsql AS $$
            DECLARE
                r record;
                me bigint := mod(txid_current(), 4294967296);
            BEGIN
                -- Lock the touched lines, in id order, before summing their
                -- links: a concurrent transaction checking the same lines
                -- waits until this one ends, then sees its links (READ
                -- COMMITTED) or fails with a serialization error (REPEATABLE
                -- READ, Odoo's cursors); for the latter the lines are
                -- written, not only locked. Lines this transaction wrote
                -- already (the allocator stores their linked quantity) are
                -- held by that write and skipped.
                UPDATE purchase_order_line pol
                   SET backorder_linked_qty = pol.backorder_linked_qty
                 WHERE pol.id IN (
                        SELECT p.id FROM purchase_order_line p
                         WHERE p.id = ANY(ARRAY(
                                SELECT purchase_line_id FROM backorder_po_link_touched
                                 WHERE xact = txid_current()))
                           AND p.xmin::text::bigint <> me
                      ORDER BY p.id FOR NO KEY UPDATE);
                UPDATE sale_order_line sol
                   SET backorder_linked_qty = sol.backorder_linked_qty
                 WHERE sol.id IN (
                        SELECT s.id FROM sale_order_line s
                         WHERE s.id = ANY(ARRAY(
                                SELECT sale_line_id FROM backorder_po_link_touched
                                 WHERE xact = txid_current()))
                           AND s.xmin::text::bigint <> me
                      ORDER BY s.id FOR NO KEY UPDATE);
                FOR r IN
                    WITH touched AS (
                        SELECT DISTINCT sale_line_id, purchase_line_id
                          FROM backorder_po_link_touched
                         WHERE xact = txid_current()
                    ),
                    linked_pol AS (
                        SELECT l.purchase_line_id AS id, SUM(l.quantity) AS linked
                          FROM backorder_po_link l
                         WHERE l.purchase_line_id
                               = ANY(ARRAY(SELECT purchase_line_id FROM touched))
                           AND l.state IN ('linked', 'received')
                      GROUP BY l.purchase_line_id
                    ),
                    linked_sol AS (
                        SELECT l.sale_line_id AS id, SUM(l.quantity) AS linked
                          FROM backorder_po_link l
                         WHERE l.sale_line_id
                               = ANY(ARRAY(SELECT sale_line_id FROM touched))
                           AND l.state IN ('linked', 'received')
                      GROUP BY l.sale_line_id
                    )
                    -- The product's unit through a lateral lookup: PostgreSQL
                    -- memoizes it per product instead of joining per line.
                    -- What Odoo bought for a given destination holds none.
                    SELECT 'purchase order line' AS what, pol.id AS line_id,
                           s.linked, capacity.qty AS capacity
                      FROM linked_pol s
                      JOIN purchase_order_line pol ON pol.id = s.id
                CROSS JOIN LATERAL (
                            SELECT uom.rounding FROM product_product pp
                              JOIN product_template pt ON pt.id = pp.product_tmpl_id
                              JOIN uom_uom uom ON uom.id = pt.uom_id
                             WHERE pp.id = pol.product_id LIMIT 1) prod_uom
                CROSS JOIN LATERAL (
                            SELECT CASE WHEN %(spoken_for)s THEN 0
                                        ELSE pol.product_uom_qty END AS qty) capacity
                     WHERE s.linked > capacity.qty + prod_uom.rounding / 2
                 UNION ALL
                    SELECT 'sales order line', sol.id, s.linked,
                           GREATEST(sol.product_uom_qty - sol.qty_delivered, 0)
                           / line_uom.factor * prod_uom.factor
                      FROM linked_sol s
                      JOIN sale_order_line sol ON sol.id = s.id
                      JOIN uom_uom line_uom ON line_uom.id = sol.product_uom
                CROSS JOIN LATERAL (
                            SELECT uom.rounding, uom.factor FROM product_product pp
                              JOIN product_template pt ON pt.id = pp.product_tmpl_id
                              JOIN uom_uom uom ON uom.id = pt.uom_id
                             WHERE pp.id = sol.product_id LIMIT 1) prod_uom
                     WHERE s.linked
                           > GREATEST(sol.product_uom_qty - sol.qty_delivered, 0)
                           / line_uom.factor * prod_uom.factor + prod_uom.rounding / 2
                     LIMIT 1
                LOOP
                    RAISE EXCEPTION USING ERRCODE = 'check_violation',
                        MESSAGE = 'backorder links promise ' || r.linked || ' on '
                            || r.what || ' ' || r.line_id || ' which can hold only '
                            || r.capacity;
                END LOOP;
                DELETE FROM backorder_po_link_touched WHERE xact = txid_current();
                DELETE FROM backorder_po_link_check WHERE xact = txid_current();
                RETURN NULL;
            END;
            $$;

            CREATE INDEX IF NOT EXISTS backorder_po_link_active_purchase_line_idx
                ON backorder_po_link (purchase_line_id) INCLUDE (quantity)
                WHERE state IN ('linked', 'received');
            CREATE INDEX IF NOT EXISTS backorder_po_link_active_sale_line_idx
                ON backorder_po_link (sale_line_id) INCLUDE (quantity)
                WHERE state IN ('linked', 'received');

            DROP TRIGGER IF EXISTS backorder_po_link_touch_insert ON backorder_po_link;
            CREATE TRIGGER backorder_po_link_touch_insert
                AFTER INSERT ON backorder_po_link
                REFERENCING NEW TABLE AS new_rows
                FOR EACH STATEMENT EXECUTE FUNCTION backorder_po_link_touch();
            DROP TRIGGER IF EXISTS backorder_po_link_touch_update ON backorder_po_link;
            CREATE TRIGGER backorder_po_link_touch_update
                AFTER UPDATE ON backorder_po_link
                REFERENCING NEW TABLE AS new_rows
                FOR EACH STATEMENT EXECUTE FUNCTION backorder_po_link_touch();
            DROP TRIGGER IF EXISTS backorder_po_link_check_totals ON backorder_po_link;
            DROP TRIGGER IF EXISTS backorder_po_link_check_totals
                ON backorder_po_link_check;
            CREATE CONSTRAINT TRIGGER backorder_po_link_check_totals
                AFTER INSERT ON backorder_po_link_check
                DEFERRABLE INITIALLY DEFERRED
                FOR EACH ROW EXECUTE FUNCTION backorder_po_link_check_totals();
            """,
                spoken_for=self.env["backorder.rules"]._purchase_spoken_for_sql(),
            )
        )

    @api.depends("sale_order_id", "purchase_order_id", "product_id", "quantity")
    def _compute_display_name(self):
        for link in self:
            link.display_name = self.env._(
                "%(so)s → %(po)s: %(qty)s %(product)s",
                so=link.sale_order_id.name or "",
                po=link.purchase_order_id.name or "",
                qty=link.quantity,
                product=link.product_id.display_name or "",
            )

    @api.constrains("sale_line_id", "purchase_line_id", "quantity", "state")
    def _check_invariants(self):
        """Refuse links that pair different products or companies, or that
        promise more than either line holds."""
        for link in self:
            sale_line, po_line = link.sale_line_id, link.purchase_line_id
            if (
                float_compare(
                    link.quantity,
                    0,
                    precision_rounding=link.product_uom_id.rounding or 0.01,
                )
                <= 0
            ):
                raise ValidationError(
                    self.env._("The quantity of a backorder link must be positive.")
                )
            if sale_line.product_id != po_line.product_id:
                raise ValidationError(
                    self.env._(
                        "A backorder link must join lines of the same product: "
                        "%(so)s is for %(a)s, %(po)s is for %(b)s.",
                        so=sale_line.order_id.name,
                        po=po_line.order_id.name,
                        a=sale_line.product_id.display_name,
                        b=po_line.product_id.display_name,
                    )
                )
            if sale_line.company_id != po_line.company_id:
                raise ValidationError(
                    self.env._(
                        "%(so)s and %(po)s belong to different companies and "
                        "cannot be linked.",
                        so=sale_line.order_id.name,
                        po=po_line.order_id.name,
                    )
                )
        if not self.env.context.get("backorder_link_closing"):
            # _mark_done checks the totals itself, once all links are closed.
            self._check_totals(self.sale_line_id, self.purchase_line_id)

    @api.model
    def _check_totals(self, sale_lines, purchase_lines):
        """Raise when the active links of these lines exceed what they hold.

        One query for all lines: the sum of active links of a sales line must
        not exceed its quantity not yet delivered, and of a purchase order line
        its ordered quantity (both in the product's unit).
        """
        if not sale_lines and not purchase_lines:
            return
        self.env["backorder.po.link"].flush_model()
        self.env["sale.order.line"].flush_model(
            ["product_uom_qty", "qty_delivered", "product_uom", "state"]
        )
        self.env["purchase.order.line"].flush_model(["product_uom_qty"])
        rows = self.env.execute_query(
            SQL(
                """
            SELECT 'sale', sol.id, SUM(l.quantity), %(ordered_left)s,
                   prod_uom.rounding
              FROM backorder_po_link l
              JOIN sale_order_line sol ON sol.id = l.sale_line_id
              JOIN uom_uom line_uom ON line_uom.id = sol.product_uom
              JOIN product_product pp ON pp.id = sol.product_id
              JOIN product_template pt ON pt.id = pp.product_tmpl_id
              JOIN uom_uom prod_uom ON prod_uom.id = pt.uom_id
             WHERE l.sale_line_id = ANY(%(sale_ids)s)
               AND l.state IN %(active)s
          GROUP BY sol.id, line_uom.factor, prod_uom.factor, prod_uom.rounding
            UNION ALL
            SELECT 'purchase', pol.id, SUM(l.quantity), pol.product_uom_qty,
                   prod_uom.rounding
              FROM backorder_po_link l
              JOIN purchase_order_line pol ON pol.id = l.purchase_line_id
              JOIN product_product pp ON pp.id = pol.product_id
              JOIN product_template pt ON pt.id = pp.product_tmpl_id
              JOIN uom_uom prod_uom ON prod_uom.id = pt.uom_id
             WHERE l.purchase_line_id = ANY(%(purchase_ids)s)
               AND l.state IN %(active)s
          GROUP BY pol.id, pol.product_uom_qty, prod_uom.rounding
                """,
                sale_ids=list(sale_lines.ids),
                purchase_ids=list(purchase_lines.ids),
                ordered_left=ORDERED_LEFT,
                active=ACTIVE_STATES,
            )
        )
        for side, line_id, linked, capacity, rounding in rows:
            if float_compare(linked, capacity, precision_rounding=rounding) > 0:
                model = "sale.order.line" if side == "sale" else "purchase.order.line"
                line = self.env[model].browse(line_id)
                if side == "sale":
                    msg = self.env._(
                        "Sales order %(order)s, line %(product)s: %(linked)s would be "
                        "promised but only %(capacity)s are still to deliver.",
                        order=line.order_id.name,
                        product=line.product_id.display_name,
                        linked=linked,
                        capacity=capacity,
                    )
                else:
                    msg = self.env._(
                        "Purchase order %(order)s, line %(product)s: %(linked)s would "
                        "be promised but only %(capacity)s are ordered.",
                        order=line.order_id.name,
                        product=line.product_id.display_name,
                        linked=linked,
                        capacity=capacity,
                    )
                raise ValidationError(msg)

    def _check_quantity_vals(self, vals):
        """Refuse a missing, non-numeric, zero or negative quantity in words,
        before the database would refuse it in SQL."""
        if "quantity" not in vals:
            return
        quantity = vals["quantity"]
        if isinstance(quantity, bool) or not isinstance(quantity, (int, float)):
            raise ValidationError(
                self.env._(
                    "%(value)r is not a valid quantity for a backorder link.",
                    value=quantity,
                )
            )
        if quantity <= 0:
            raise ValidationError(
                self.env._("The quantity of a backorder link must be positive.")
            )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            vals.setdefault("quantity", 0)
            self._check_quantity_vals(vals)
        links = super().create(vals_list)
        links._check_manual_lines()
        return links

    def write(self, vals):
        self._check_quantity_vals(vals)
        res = super().write(vals)
        if {"sale_line_id", "purchase_line_id"} & set(vals):
            self._check_manual_lines()
        return res

    def _check_manual_lines(self):
        """Only lines that can hold a promise: a confirmed sales order, a
        confirmed purchase order, a storable product."""
        for link in self:
            sale_line, po_line = link.sale_line_id, link.purchase_line_id
            if sale_line.order_id.state != "sale":
                raise ValidationError(
                    self.env._(
                        "Sales order %(order)s is not confirmed: only confirmed "
                        "orders can be linked to purchases.",
                        order=sale_line.order_id.name,
                    )
                )
            if po_line.order_id.state not in ("purchase", "done"):
                raise ValidationError(
                    self.env._(
                        "Purchase order %(order)s is not confirmed: only "
                        "confirmed purchase orders can be linked to backorders.",
                        order=po_line.order_id.name,
                    )
                )
            if not sale_line.product_id.active:
                raise ValidationError(
                    self.env._(
                        "%(product)s is archived: it can no longer be linked.",
                        product=sale_line.product_id.display_name,
                    )
                )
            if not sale_line.product_id.is_storable:
                raise ValidationError(
                    self.env._(
                        "%(product)s is not a tracked (storable) product: only "
                        "storable products can be backordered.",
                        product=sale_line.product_id.display_name,
                    )
                )
            if sale_line.move_ids.filtered(
                lambda move, line=sale_line: move.product_id != line.product_id
            ):
                raise ValidationError(
                    self.env._(
                        "%(product)s is a kit: its components are delivered, not "
                        "the kit itself, so it cannot be linked to purchases.",
                        product=sale_line.product_id.display_name,
                    )
                )
        for model in ("stock.move", "purchase.order", "purchase.order.line"):
            self.env[model].flush_model()
        spoken_for = self.env["purchase.order.line"].browse(
            row[0]
            for row in self.env.execute_query(
                SQL(
                    "SELECT pol.id FROM purchase_order_line pol"
                    " WHERE pol.id = ANY(%s) AND %s",
                    self.purchase_line_id.ids,
                    self.env["backorder.rules"]._purchase_spoken_for_sql(),
                )
            )
        )
        if spoken_for:
            raise ValidationError(
                self.env._(
                    "%(orders)s bought these goods for a given destination (a "
                    "dropship, or on order for another delivery or production): "
                    "they cannot be promised to a backorder.",
                    orders=", ".join(spoken_for.order_id.mapped("name")),
                )
            )

    # ------------------------------------------------------------------
    # Following the goods
    # ------------------------------------------------------------------
    def _split_off(self, quantity, state):
        """Move ``quantity`` of this link into a new link in ``state`` (or the
        whole link when it holds no more). Returns the link in ``state``."""
        self.ensure_one()
        rounding = self.product_uom_id.rounding or 0.01
        if float_compare(quantity, self.quantity, precision_rounding=rounding) >= 0:
            self.state = state
            return self
        self.quantity -= quantity
        return self.copy({"quantity": quantity, "state": state})

    def _mark_received(self, quantity):
        received = self._split_off(quantity, "received")
        self.env["sale.order"]._backorder_queue_notification("ready", received)
        return received

    def _mark_done(self, quantity):
        """Links (oldest first) delivered in ``quantity``, partly for the last.

        The delivered goods already count in the sales line's delivered
        quantity: closed one at a time, the links still received would exceed
        what is left to deliver in between. So the totals are checked once,
        when all of them are closed (the commit-time guard checks them too)."""
        for link in self.with_context(backorder_link_closing=True):
            rounding = link.product_uom_id.rounding or 0.01
            if float_compare(quantity, 0, precision_rounding=rounding) <= 0:
                break
            take = min(link.quantity, quantity)
            link._split_off(take, "done")
            quantity -= take
        self._check_totals(self.sale_line_id, self.purchase_line_id)

    def _reserve_delivery(self, quantity, location):
        """Reserve up to ``quantity`` (product unit) at ``location`` for the
        outgoing moves of this link's sales line; returns what was reserved."""
        self.ensure_one()
        product = self.product_id
        rounding = product.uom_id.rounding
        moves = self.sale_line_id.move_ids.filtered(
            lambda m: (
                m.state in ("confirmed", "partially_available", "waiting", "assigned")
                and m.procure_method == "make_to_stock"
                and m.location_id.usage == "internal"
                and location.parent_path.startswith(m.location_id.parent_path)
            )
        )
        reserved = 0.0
        for move in moves.sorted("id"):
            want = quantity - reserved
            if float_compare(want, 0, precision_rounding=rounding) <= 0:
                break
            before = move.product_uom._compute_quantity(move.quantity, product.uom_id)
            want = min(want, move.product_qty - before)
            if float_compare(want, 0, precision_rounding=rounding) <= 0:
                continue
            move.with_context(backorder_link_receiving=True)._action_assign(
                force_qty=product.uom_id._compute_quantity(want, move.product_uom)
            )
            # A forced reservation marks the move assigned even when it is
            # still short: let Odoo tell partially available from assigned.
            move._recompute_state()
            after = move.product_uom._compute_quantity(move.quantity, product.uom_id)
            reserved += after - before
        return reserved

    def action_unlink_manual(self):
        """A manager takes back promises still awaiting receipt: the goods on
        order become free again and the sales line backordered, until the
        next linking run or a manual link."""
        self.check_access("write")
        received = self.filtered(lambda link: link.state != "linked")
        if received:
            raise UserError(
                self.env._(
                    "Only links awaiting receipt can be removed; %(links)s: the "
                    "goods are already received or the link is closed. Unreserve "
                    "or return the goods on the delivery instead.",
                    links=", ".join(received.mapped("display_name")),
                )
            )
        self.write({"state": "cancel"})
        for link in self:
            body = self.env._(
                "Backorder link removed by %(user)s: %(qty)s %(product)s between "
                "%(so)s and %(po)s.",
                user=self.env.user.name,
                qty=link.quantity,
                product=link.product_id.display_name,
                so=link.sale_order_id.name,
                po=link.purchase_order_id.name,
            )
            link.sale_order_id.message_post(body=body)
            link.purchase_order_id.message_post(body=body)
        return True

    def action_open_delivery(self):
        """Open the delivery that ships this backorder (validate it in full,
        or in part and keep the rest as a backorder)."""
        self.ensure_one()
        self.check_access("read")
        pickings = self.sale_line_id.move_ids.filtered(
            lambda m: m.state not in ("done", "cancel")
        ).picking_id
        return self.sale_order_id._get_action_view_picking(pickings)
