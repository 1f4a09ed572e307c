-- The database guard of backorder links, loaded by backorder.po.link's init.
-- At commit, the active links of a sales line never exceed what it still has
-- to deliver, nor those of a purchase line what it orders, whatever code path
-- wrote them. The check itself is backorder.rules' _over_promised_query, the
-- one check the links' constraint and the audit share.
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
    %(lock_purchase_lines)s;
    %(lock_sale_lines)s;
    FOR r IN
        SELECT * FROM (%(over_promised)s) over_promised LIMIT 1
    LOOP
        RAISE EXCEPTION USING ERRCODE = 'check_violation',
            MESSAGE = 'backorder links promise ' || r.linked || ' on '
                || r.side || ' line ' || r.line_id || ' which can hold only '
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
