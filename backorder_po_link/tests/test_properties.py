# Copyright 2026 backorder_po_link contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Random sequences of confirmations, cancellations and quantity cuts: after
every step the invariants hold and the links are those a simple reference
allocator, written here from the rules of the domain, would make."""

from collections import defaultdict

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from odoo.tests import tagged

from .common import BackorderCommon


class ReferenceAllocator:
    """Oldest sales order first, earliest expected purchase first; sales
    confirmation links a line only when it can be covered in full; a change
    releases the newest links first and links the released demand and the
    freed supply again (partial links allowed)."""

    def __init__(self):
        self.sos = {}  # key -> {"qty", "active", "seq"}
        self.pos = {}  # key -> {"qty", "active", "days", "seq"}
        self.links = []  # [so, po, qty, seq], in creation order
        self.seq = 0

    def _next(self):
        self.seq += 1
        return self.seq

    def linked(self, so=None, po=None):
        return sum(
            qty
            for s, p, qty, _seq in self.links
            if (so is None or s == so) and (po is None or p == po)
        )

    def need(self, so):
        return self.sos[so]["qty"] - self.linked(so=so)

    def free(self, po):
        return self.pos[po]["qty"] - self.linked(po=po)

    def demand_order(self, only=None):
        keys = [k for k, v in self.sos.items() if v["active"]]
        if only is not None:
            keys = [k for k in keys if k in only]
        return sorted(keys, key=lambda k: self.sos[k]["seq"])

    def supply_order(self, only=None):
        keys = [k for k, v in self.pos.items() if v["active"]]
        if only is not None:
            keys = [k for k in keys if k in only]
        return sorted(keys, key=lambda k: (self.pos[k]["days"], self.pos[k]["seq"]))

    def allocate(self, demand, supply, full_only=False):
        for so in demand:
            need = self.need(so)
            if need <= 0:
                continue
            frees = [(po, self.free(po)) for po in supply if self.free(po) > 0]
            if full_only and sum(f for _po, f in frees) < need:
                continue
            for po, free in frees:
                if need <= 0:
                    break
                take = min(need, free)
                self.links.append([so, po, take, self._next()])
                need -= take

    def cut(self, side, key, capacity):
        """Keep the oldest links of a line whole, up to ``capacity``."""
        index = 0 if side == "so" else 1
        kept = 0
        released = set()
        for link in sorted(self.links, key=lambda link: link[3]):
            if link[index] != key:
                continue
            keep = max(min(link[2], capacity - kept), 0)
            if keep < link[2]:
                released.add(link[1 - index])
            kept += keep
            link[2] = keep
        self.links = [link for link in self.links if link[2] > 0]
        return released

    def confirm_so(self, key, qty):
        self.sos[key] = {"qty": qty, "active": True, "seq": self._next()}
        self.allocate([key], self.supply_order(), full_only=True)

    def confirm_po(self, key, qty, days):
        self.pos[key] = {"qty": qty, "active": True, "days": days, "seq": self._next()}
        self.allocate(self.demand_order(), [key])

    def cancel_so(self, key):
        self.sos[key]["active"] = False
        freed = self.cut("so", key, 0)
        self.allocate(self.demand_order(), self.supply_order(only=freed))

    def cancel_po(self, key):
        self.pos[key]["active"] = False
        released = self.cut("po", key, 0)
        self.allocate(self.demand_order(only=released), self.supply_order())

    def lower_so(self, key, qty):
        self.sos[key]["qty"] = qty
        freed = self.cut("so", key, qty)
        self.allocate(self.demand_order(), self.supply_order(only=freed))

    def snapshot(self):
        totals = defaultdict(float)
        for so, po, qty, _seq in self.links:
            totals[(so, po)] += qty
        return dict(totals)


OPERATIONS = st.lists(
    st.one_of(
        st.tuples(st.just("so"), st.integers(1, 6)),
        st.tuples(st.just("po"), st.integers(1, 8), st.integers(1, 20)),
        st.tuples(st.just("cancel_so"), st.integers(0, 10)),
        st.tuples(st.just("cancel_po"), st.integers(0, 10)),
        st.tuples(st.just("lower_so"), st.integers(0, 10), st.integers(0, 5)),
    ),
    min_size=4,
    max_size=14,
)


@tagged("post_install", "-at_install")
class TestProperties(BackorderCommon):
    @settings(
        max_examples=40,
        deadline=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.function_scoped_fixture,
        ],
        derandomize=True,
    )
    @given(operations=OPERATIONS)
    def test_links_match_reference_and_invariants_hold(self, operations):
        self.env.flush_all()
        self.env.cr.execute("SAVEPOINT property_example")
        try:
            self._run(operations)
        finally:
            self.env.cr.execute("ROLLBACK TO SAVEPOINT property_example")
            self.env.invalidate_all()
            self.env.cr.precommit.clear()

    def _run(self, operations):
        product = self._create_product("Property Chair")
        ref = ReferenceAllocator()
        sos, pos = [], []
        for step, operation in enumerate(operations):
            kind = operation[0]
            if kind == "so":
                order = self._create_so([(product, operation[1])])
                sos.append(order)
                ref.confirm_so(order.id, operation[1])
            elif kind == "po":
                order = self._create_po(
                    [(product, operation[1])], days_ahead=operation[2]
                )
                pos.append(order)
                ref.confirm_po(order.id, operation[1], operation[2])
            elif kind == "cancel_so":
                live = [o for o in sos if o.state == "sale"]
                if not live:
                    continue
                order = live[operation[1] % len(live)]
                order._action_cancel()
                ref.cancel_so(order.id)
            elif kind == "cancel_po":
                live = [o for o in pos if o.state == "purchase"]
                if not live:
                    continue
                order = live[operation[1] % len(live)]
                order.button_cancel()
                ref.cancel_po(order.id)
            elif kind == "lower_so":
                live = [
                    o
                    for o in sos
                    if o.state == "sale" and o.order_line.product_uom_qty > 0
                ]
                if not live:
                    continue
                order = live[operation[1] % len(live)]
                qty = min(operation[2], order.order_line.product_uom_qty - 1)
                order.order_line.product_uom_qty = qty
                ref.lower_so(order.id, qty)
            links = self.env["backorder.po.link"].search(
                [
                    ("product_id", "=", product.id),
                    ("state", "in", ("linked", "received")),
                ]
            )
            got = defaultdict(float)
            for link in links:
                got[(link.sale_order_id.id, link.purchase_order_id.id)] += link.quantity
            self.assertEqual(
                dict(got),
                ref.snapshot(),
                f"links differ from the reference after step {step}: "
                f"{operations[: step + 1]}",
            )
            self.assertEqual(
                self.env["backorder.audit"]._audit(),
                [],
                f"invariants broken after step {step}: {operations[: step + 1]}",
            )
