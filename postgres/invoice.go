package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"chengdui"
	"chengdui/invoice"

	"github.com/jackc/pgx/v5"
)

var _ invoice.Store = (*DB)(nil)

// outboxLock is the transaction-level advisory lock key taken right before
// inserting outbox events and held to commit. The identity hands out seq
// at insert, not at commit: without the lock a transaction could commit
// seq n+1 while seq n is still in flight, and a reader following
// seq > cursor would step past n for good. With it, event appends commit
// one after another in seq order. Only the event insert and the commit
// run under the lock; row locks are all taken before it, so it cannot
// deadlock with them.
const outboxLock = 0x636864756902

const invoiceCols = `id, store_id, status, order_id, archived, closed, created_at, expires_at, monitoring_until, updated_at, version, metadata, doc`

// invoiceRow is an invoice as stored: the columns queries use, the
// merchant's metadata byte for byte, and the rest as a JSON document.
type invoiceRow struct {
	id, storeID, status, orderID                   string
	archived, closed                               bool
	created, expires, monitoring, updated, version int64
	metadata, doc                                  string
}

func (r invoiceRow) args() []any {
	return []any{r.id, r.storeID, r.status, r.orderID, r.archived, r.closed, r.created, r.expires, r.monitoring, r.updated, r.version, r.metadata, r.doc}
}

// CreateInvoice implements invoice.Store: one transaction whose statements
// (the invoice, its addresses, its intents, its events) go in one
// pipelined batch. Codes: also EInvalid for a method address index past
// 2^31-1, an intent id that is not 0x and 64 hex digits, one address given
// two derivations, and events that are not the invoice's (see
// UpdateInvoice).
func (d *DB) CreateInvoice(ctx context.Context, inv invoice.Invoice, events []invoice.Event) error {
	return d.CreateInvoices(ctx, []invoice.Creation{{Invoice: inv, Events: events}})
}

// CreateInvoices implements invoice.Store: one transaction, one round
// trip (a batch), and the outbox lock taken once for all the events.
func (d *DB) CreateInvoices(ctx context.Context, batch []invoice.Creation) error {
	b := &pgx.Batch{}
	var events []invoice.Event
	for _, c := range batch {
		inv := c.Invoice
		inv.Version = 1
		row, err := encodeInvoice(inv)
		if err != nil {
			return err
		}
		addrs, err := invoice.StoredAddresses(inv)
		if err != nil {
			return err
		}
		intents, err := invoice.IntentIDs(inv)
		if err != nil {
			return err
		}
		if err := invoice.CheckEvents(inv, c.Events); err != nil {
			return err
		}
		b.Queue(`INSERT INTO invoices (`+invoiceCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`, row.args()...)
		if len(addrs) > 0 {
			var address, scheme, network []string
			var idx []int64
			for _, a := range addrs {
				address, scheme, network, idx = append(address, a.Address), append(scheme, a.Scheme), append(network, a.Network), append(idx, int64(a.Index))
			}
			b.Queue(`INSERT INTO invoice_addresses (address, invoice_id, scheme, network, idx, created_at)
			SELECT a, $1, s, n, i, $2 FROM unnest($3::text[], $4::text[], $5::text[], $6::bigint[]) AS u (a, s, n, i)`,
				inv.ID, row.created, address, scheme, network, idx)
		}
		if len(intents) > 0 {
			b.Queue(`INSERT INTO invoice_intents (intent_id, invoice_id) SELECT i, $1 FROM unnest($2::text[]) AS u (i)`, inv.ID, intents)
		}
		events = append(events, c.Events...)
	}
	queueInvoiceEvents(b, events)
	err := pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) error { return tx.SendBatch(ctx, b).Close() })
	what := "an invoice"
	if len(batch) == 1 {
		what = fmt.Sprintf("invoice %q", batch[0].Invoice.ID)
	}
	switch constraint(err, uniqueViolation) {
	case "":
		return err
	case "invoices_pkey":
		return chengdui.Errorf(chengdui.EConflict, "%s exists", what)
	case "invoice_addresses_pkey", "invoice_addresses_scheme_network_idx_key":
		return chengdui.Errorf(chengdui.EConflict, "an address of %s, or its derivation index, is issued already", what)
	case "invoice_intents_pkey":
		return chengdui.Errorf(chengdui.EConflict, "a router intent id of %s is taken", what)
	case "outbox_events_id_key":
		return chengdui.Errorf(chengdui.EConflict, "an event id is taken")
	}
	return err
}

// queueInvoiceEvents queues the insert of events, in order, under
// outboxLock.
func queueInvoiceEvents(b *pgx.Batch, events []invoice.Event) {
	if len(events) == 0 {
		return
	}
	var id, store, inv, typ, data []string
	var created []int64
	for _, e := range events {
		id, store, inv, typ = append(id, e.ID), append(store, e.StoreID), append(inv, e.InvoiceID), append(typ, e.Type)
		data, created = append(data, string(e.Data)), append(created, invoiceMicros(e.CreatedAt))
	}
	b.Queue(`SELECT pg_advisory_xact_lock($1)`, int64(outboxLock))
	// ORDER BY n: the identity numbers the rows in the order they come.
	b.Queue(`INSERT INTO outbox_events (id, store_id, invoice_id, type, data, created_at)
		SELECT id, s, i, t, d, c FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[])
			WITH ORDINALITY AS u (id, s, i, t, d, c, n)
		ORDER BY n`, id, store, inv, typ, data, created)
}

// Invoice implements invoice.Store.
func (d *DB) Invoice(ctx context.Context, id string) (invoice.Invoice, error) {
	inv, err := scanInvoice(d.pool.QueryRow(ctx, `SELECT `+invoiceCols+` FROM invoices WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return inv, chengdui.Errorf(chengdui.ENotFound, "no invoice %q", id)
	}
	return inv, err
}

// Invoices implements invoice.Store. Codes: also EInvalid for a cursor
// (After) that is no invoice.
func (d *DB) Invoices(ctx context.Context, f invoice.Filter) ([]invoice.Invoice, error) {
	limit, err := invoiceListLimit(f.Limit)
	if err != nil {
		return nil, err
	}
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if f.StoreID != "" {
		where = append(where, "store_id = "+arg(f.StoreID))
	}
	if len(f.Statuses) > 0 {
		ss := make([]string, len(f.Statuses))
		for i, s := range f.Statuses {
			ss[i] = string(s)
		}
		where = append(where, "status = ANY("+arg(ss)+"::text[])")
	}
	if len(f.OrderIDs) > 0 {
		where = append(where, "order_id = ANY("+arg(f.OrderIDs)+"::text[])")
	}
	if !f.Archived {
		where = append(where, "NOT archived")
	}
	if !f.Since.IsZero() {
		where = append(where, "created_at >= "+arg(ceilMicros(f.Since)))
	}
	if !f.Until.IsZero() {
		where = append(where, "created_at < "+arg(ceilMicros(f.Until)))
	}
	if f.After != "" {
		var at int64
		err := d.pool.QueryRow(ctx, `SELECT created_at FROM invoices WHERE id = $1`, f.After).Scan(&at)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, chengdui.Errorf(chengdui.EInvalid, "cursor %q is no invoice", f.After)
		} else if err != nil {
			return nil, err
		}
		where = append(where, "(created_at, id) < ("+arg(at)+", "+arg(f.After)+")")
	}
	q := `SELECT ` + invoiceCols + ` FROM invoices`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	rows, err := d.pool.Query(ctx, q+` ORDER BY created_at DESC, id DESC LIMIT `+arg(limit), args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (invoice.Invoice, error) { return scanInvoice(r) })
}

// UpdateInvoice implements invoice.Store. Codes: also EInvalid for a
// changed StoreID or CreatedAt (they never change), the refusals of
// CreateInvoice, a payment without id or of another invoice, a payment
// given twice, and an event without id or type, of another invoice or
// store, or whose data is not JSON.
func (d *DB) UpdateInvoice(ctx context.Context, inv invoice.Invoice, payments []invoice.Payment, events []invoice.Event) (invoice.Invoice, error) {
	old := inv.Version
	inv.Version = old + 1
	row, err := encodeInvoice(inv)
	if err != nil {
		return invoice.Invoice{}, err
	}
	if err := invoice.CheckPayments(inv, payments); err != nil {
		return invoice.Invoice{}, err
	}
	if err := invoice.CheckEvents(inv, events); err != nil {
		return invoice.Invoice{}, err
	}
	err = pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) error {
		// A concurrent update of the row makes this one wait, then match
		// no row: the version moved on.
		var storeID string
		var created int64
		err := tx.QueryRow(ctx, `UPDATE invoices SET status = $1, order_id = $2, archived = $3, closed = $4, expires_at = $5,
			monitoring_until = $6, updated_at = $7, version = version + 1, metadata = $8, doc = $9
			WHERE id = $10 AND version = $11 RETURNING store_id, created_at`,
			row.status, row.orderID, row.archived, row.closed, row.expires, row.monitoring, row.updated, row.metadata, row.doc,
			row.id, old).Scan(&storeID, &created)
		if errors.Is(err, pgx.ErrNoRows) {
			return invoiceNotUpdated(ctx, tx, inv.ID, old)
		} else if err != nil {
			return err
		} else if storeID != row.storeID || created != row.created {
			return chengdui.Errorf(chengdui.EInvalid, "invoice %q: its store and creation time cannot change", inv.ID)
		}
		b := &pgx.Batch{}
		if len(payments) > 0 {
			var id, method, asset, amount, status, dest, txid []string
			var received, updated []int64
			for _, p := range payments {
				id, method, asset, amount = append(id, p.ID), append(method, p.Method), append(asset, p.Asset), append(amount, p.Amount.String())
				status, dest, txid = append(status, string(p.Status)), append(dest, p.Destination), append(txid, p.TxID)
				received, updated = append(received, invoiceMicros(p.ReceivedAt)), append(updated, invoiceMicros(p.UpdatedAt))
			}
			b.Queue(`INSERT INTO invoice_payments (invoice_id, id, method, asset, amount, status, destination, txid, received_at, updated_at)
				SELECT $1, id, m, a, amt::numeric, s, d, tx, r, u
				FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::bigint[], $10::bigint[])
					AS x (id, m, a, amt, s, d, tx, r, u)
				ON CONFLICT (invoice_id, id) DO UPDATE SET method = excluded.method, asset = excluded.asset, amount = excluded.amount,
					status = excluded.status, destination = excluded.destination, txid = excluded.txid,
					received_at = excluded.received_at, updated_at = excluded.updated_at`,
				inv.ID, id, method, asset, amount, status, dest, txid, received, updated)
		}
		queueInvoiceEvents(b, events)
		if b.Len() == 0 {
			return nil
		}
		return tx.SendBatch(ctx, b).Close()
	})
	if constraint(err, uniqueViolation) == "outbox_events_id_key" {
		return invoice.Invoice{}, chengdui.Errorf(chengdui.EConflict, "an event id is taken")
	} else if err != nil {
		return invoice.Invoice{}, err
	}
	return decodeInvoice(row)
}

// invoiceNotUpdated says why an update matched no row.
func invoiceNotUpdated(ctx context.Context, tx pgx.Tx, id string, version int64) error {
	var v int64
	err := tx.QueryRow(ctx, `SELECT version FROM invoices WHERE id = $1`, id).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return chengdui.Errorf(chengdui.ENotFound, "no invoice %q", id)
	} else if err != nil {
		return err
	}
	return chengdui.Errorf(chengdui.EConflict, "invoice %q changed: it is at version %d, not %d", id, v, version)
}

const paymentCols = `id, invoice_id, method, asset, amount::text, status, destination, txid, received_at, updated_at`

// Payments implements invoice.Store.
func (d *DB) Payments(ctx context.Context, invoiceID string) ([]invoice.Payment, error) {
	rows, err := d.pool.Query(ctx, `SELECT `+paymentCols+` FROM invoice_payments WHERE invoice_id = $1 ORDER BY received_at, id`, invoiceID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (invoice.Payment, error) { return scanPayment(r) })
}

// Pending implements invoice.Store. Codes: EInvalid for a limit below 1.
func (d *DB) Pending(ctx context.Context, now time.Time, limit int) ([]string, error) {
	if limit < 1 {
		return nil, chengdui.Errorf(chengdui.EInvalid, "limit %d is below 1", limit)
	}
	// A union, so that each half runs on its partial index.
	rows, err := d.pool.Query(ctx, `SELECT id, expires_at FROM invoices WHERE status = 'New' AND expires_at <= $1
		UNION SELECT id, expires_at FROM invoices WHERE NOT closed AND monitoring_until <= $1
		ORDER BY expires_at, id LIMIT $2`, now.UnixMicro(), limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (string, error) {
		var id string
		var expires int64
		err := r.Scan(&id, &expires)
		return id, err
	})
}

const invoiceAddressCols = `address, invoice_id, scheme, network, idx, created_at`

// InvoiceAddress implements invoice.Store.
func (d *DB) InvoiceAddress(ctx context.Context, address string) (invoice.Address, error) {
	a, err := scanInvoiceAddress(d.pool.QueryRow(ctx, `SELECT `+invoiceAddressCols+` FROM invoice_addresses WHERE address = $1`, address))
	if errors.Is(err, pgx.ErrNoRows) {
		return a, chengdui.Errorf(chengdui.ENotFound, "address %s is no invoice's", address)
	}
	return a, err
}

// InvoiceAddresses implements invoice.Store, by index.
func (d *DB) InvoiceAddresses(ctx context.Context, scheme, network string) ([]invoice.Address, error) {
	rows, err := d.pool.Query(ctx, `SELECT `+invoiceAddressCols+` FROM invoice_addresses WHERE scheme = $1 AND network = $2
		ORDER BY idx`, scheme, network)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (invoice.Address, error) { return scanInvoiceAddress(r) })
}

// InvoiceByIntent implements invoice.Store; the id's case does not matter.
func (d *DB) InvoiceByIntent(ctx context.Context, intentID string) (string, error) {
	var id string
	err := d.pool.QueryRow(ctx, `SELECT invoice_id FROM invoice_intents WHERE intent_id = $1`, strings.ToLower(intentID)).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", chengdui.Errorf(chengdui.ENotFound, "no invoice has router intent %s", intentID)
	}
	return id, err
}

const invoiceEventCols = `seq, id, store_id, invoice_id, type, data, created_at`

// Events implements invoice.Store. Codes: EInvalid for a limit below 1.
func (d *DB) Events(ctx context.Context, invoiceID string, after int64, limit int) ([]invoice.Event, error) {
	if limit < 1 {
		return nil, chengdui.Errorf(chengdui.EInvalid, "limit %d is below 1", limit)
	}
	var rows pgx.Rows
	var err error
	if invoiceID == "" {
		rows, err = d.pool.Query(ctx, `SELECT `+invoiceEventCols+` FROM outbox_events WHERE seq > $1 ORDER BY seq LIMIT $2`, after, limit)
	} else {
		rows, err = d.pool.Query(ctx, `SELECT `+invoiceEventCols+` FROM outbox_events WHERE invoice_id = $1 AND seq > $2
			ORDER BY seq LIMIT $3`, invoiceID, after, limit)
	}
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (invoice.Event, error) { return scanInvoiceEvent(r) })
}

// invoiceListLimit is Filter.Limit's meaning: 0 is 100.
func invoiceListLimit(n int) (int, error) {
	if n < 0 {
		return 0, chengdui.Errorf(chengdui.EInvalid, "limit %d is negative", n)
	} else if n == 0 {
		return 100, nil
	}
	return n, nil
}

// ceilMicros rounds t up to a microsecond, so that bounds with a finer
// time compare with stored microseconds as with the time itself.
func ceilMicros(t time.Time) int64 {
	us := t.UnixMicro()
	if t.Sub(time.UnixMicro(us)) > 0 {
		us++
	}
	return us
}

// encodeInvoice checks inv and returns its stored form.
func encodeInvoice(inv invoice.Invoice) (invoiceRow, error) {
	if inv.ID == "" || inv.StoreID == "" || inv.Status == "" {
		return invoiceRow{}, chengdui.Errorf(chengdui.EInvalid, "an invoice needs an id, a store and a status")
	}
	if err := invoice.CheckJSON("invoice metadata", inv.Metadata); err != nil {
		return invoiceRow{}, err
	}
	doc := inv
	doc.Metadata = nil
	b, err := json.Marshal(doc)
	if err != nil {
		return invoiceRow{}, fmt.Errorf("invoice %q: %w", inv.ID, err)
	}
	return invoiceRow{id: inv.ID, storeID: inv.StoreID, status: string(inv.Status), orderID: inv.OrderID,
		archived: inv.Archived, closed: inv.Closed, created: invoiceMicros(inv.CreatedAt), expires: invoiceMicros(inv.ExpiresAt),
		monitoring: invoiceMicros(inv.MonitoringUntil), updated: invoiceMicros(inv.UpdatedAt), version: inv.Version,
		metadata: string(inv.Metadata), doc: string(b)}, nil
}

// decodeInvoice is the inverse of encodeInvoice; the columns win over the
// document.
func decodeInvoice(r invoiceRow) (invoice.Invoice, error) {
	var inv invoice.Invoice
	if err := json.Unmarshal([]byte(r.doc), &inv); err != nil {
		return invoice.Invoice{}, fmt.Errorf("invoice %q: stored document: %w", r.id, err)
	}
	inv.ID, inv.StoreID, inv.Status, inv.OrderID = r.id, r.storeID, invoice.Status(r.status), r.orderID
	inv.Archived, inv.Closed, inv.Version = r.archived, r.closed, r.version
	inv.CreatedAt, inv.ExpiresAt = invoiceTime(r.created), invoiceTime(r.expires)
	inv.MonitoringUntil, inv.UpdatedAt = invoiceTime(r.monitoring), invoiceTime(r.updated)
	inv.Metadata = nil
	if r.metadata != "" {
		inv.Metadata = json.RawMessage(r.metadata)
	}
	return inv, nil
}

func scanInvoice(s pgx.Row) (invoice.Invoice, error) {
	var r invoiceRow
	if err := s.Scan(&r.id, &r.storeID, &r.status, &r.orderID, &r.archived, &r.closed, &r.created, &r.expires, &r.monitoring,
		&r.updated, &r.version, &r.metadata, &r.doc); err != nil {
		return invoice.Invoice{}, err
	}
	return decodeInvoice(r)
}

// clip keeps long input out of error messages.
func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}

// invoiceMicros stores a time as unix microseconds, the zero time as 0.
func invoiceMicros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

// invoiceTime is the inverse of invoiceMicros, in UTC.
func invoiceTime(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}

func scanPayment(r pgx.Row) (invoice.Payment, error) {
	var p invoice.Payment
	var amount, status string
	var received, updated int64
	if err := r.Scan(&p.ID, &p.InvoiceID, &p.Method, &p.Asset, &amount, &status, &p.Destination, &p.TxID, &received, &updated); err != nil {
		return p, err
	}
	var err error
	if p.Amount, err = chengdui.ParseUnits(amount); err != nil {
		return p, fmt.Errorf("payment %q: stored amount %q: %w", p.ID, amount, err)
	}
	p.Status, p.ReceivedAt, p.UpdatedAt = invoice.PaymentStatus(status), invoiceTime(received), invoiceTime(updated)
	return p, nil
}

func scanInvoiceAddress(r pgx.Row) (invoice.Address, error) {
	var a invoice.Address
	var idx, created int64
	if err := r.Scan(&a.Address, &a.InvoiceID, &a.Scheme, &a.Network, &idx, &created); err != nil {
		return invoice.Address{}, err
	}
	a.Index, a.CreatedAt = uint32(idx), invoiceTime(created)
	return a, nil
}

func scanInvoiceEvent(r pgx.Row) (invoice.Event, error) {
	var e invoice.Event
	var data string
	var created int64
	if err := r.Scan(&e.Seq, &e.ID, &e.StoreID, &e.InvoiceID, &e.Type, &data, &created); err != nil {
		return invoice.Event{}, err
	}
	if data != "" {
		e.Data = json.RawMessage(data)
	}
	e.CreatedAt = invoiceTime(created)
	return e, nil
}
