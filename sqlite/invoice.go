package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"chengdui"
	"chengdui/invoice"

	sqlite3 "modernc.org/sqlite/lib"
)

var _ invoice.Store = (*DB)(nil)

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

// CreateInvoice implements invoice.Store: one transaction of at most four
// statements (the invoice, its addresses, its intents, its events).
// Codes: also EInvalid for a method address index past 2^31-1, an intent
// id that is not 0x and 64 hex digits, one address given two derivations,
// and events or payments that are not the invoice's (see UpdateInvoice).
func (d *DB) CreateInvoice(ctx context.Context, inv invoice.Invoice, events []invoice.Event) error {
	return d.CreateInvoices(ctx, []invoice.Creation{{Invoice: inv, Events: events}})
}

// newInvoice is an invoice checked and encoded for its insert.
type newInvoice struct {
	inv     invoice.Invoice
	row     invoiceRow
	addrs   []invoice.Address
	intents []string
	events  []invoice.Event
}

func prepareInvoice(inv invoice.Invoice, events []invoice.Event) (newInvoice, error) {
	inv.Version = 1
	n := newInvoice{inv: inv, events: events}
	var err error
	if n.row, err = encodeInvoice(inv); err != nil {
		return n, err
	}
	if n.addrs, err = invoice.StoredAddresses(inv); err != nil {
		return n, err
	}
	if n.intents, err = invoice.IntentIDs(inv); err != nil {
		return n, err
	}
	return n, invoice.CheckEvents(inv, events)
}

// CreateInvoices implements invoice.Store: one transaction for the batch.
func (d *DB) CreateInvoices(ctx context.Context, batch []invoice.Creation) error {
	prepared := make([]newInvoice, len(batch))
	for i, c := range batch {
		var err error
		if prepared[i], err = prepareInvoice(c.Invoice, c.Events); err != nil {
			return err
		}
	}
	return d.tx(ctx, func(tx *sql.Tx) error {
		for _, n := range prepared {
			if err := insertInvoice(ctx, tx, n); err != nil {
				return err
			}
		}
		return nil
	})
}

// insertInvoice writes a prepared invoice: at most four statements.
func insertInvoice(ctx context.Context, tx *sql.Tx, n newInvoice) error {
	inv := n.inv
	_, err := tx.ExecContext(ctx, `INSERT INTO invoices (`+invoiceCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, n.row.args()...)
	if isConstraint(err, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY, "invoices.id") {
		return chengdui.Errorf(chengdui.EConflict, "invoice %q exists", inv.ID)
	} else if err != nil {
		return err
	}
	rows := make([][]any, len(n.addrs))
	for i, a := range n.addrs {
		rows[i] = []any{a.Address, a.InvoiceID, a.Scheme, a.Network, int64(a.Index), invoiceMicros(a.CreatedAt)}
	}
	err = insertRows(ctx, tx, `INSERT INTO invoice_addresses (address, invoice_id, scheme, network, idx, created_at) VALUES `, "", rows)
	if isConstraint(err, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY, "invoice_addresses.address") ||
		isConstraint(err, sqlite3.SQLITE_CONSTRAINT_UNIQUE, "invoice_addresses.") {
		return chengdui.Errorf(chengdui.EConflict, "an address of invoice %q, or its derivation index, is issued already", inv.ID)
	} else if err != nil {
		return err
	}
	rows = make([][]any, len(n.intents))
	for i, id := range n.intents {
		rows[i] = []any{id, inv.ID}
	}
	err = insertRows(ctx, tx, `INSERT INTO invoice_intents (intent_id, invoice_id) VALUES `, "", rows)
	if isConstraint(err, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY, "invoice_intents.intent_id") {
		return chengdui.Errorf(chengdui.EConflict, "a router intent id of invoice %q is taken", inv.ID)
	} else if err != nil {
		return err
	}
	return insertInvoiceEvents(ctx, tx, n.events)
}

// Invoice implements invoice.Store.
func (d *DB) Invoice(ctx context.Context, id string) (invoice.Invoice, error) {
	inv, err := scanInvoice(d.read.QueryRowContext(ctx, `SELECT `+invoiceCols+` FROM invoices WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
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
	if f.StoreID != "" {
		where, args = append(where, "store_id = ?"), append(args, f.StoreID)
	}
	if len(f.Statuses) > 0 {
		// One placeholder for the whole list keeps the statement the same
		// for any number of values.
		b, _ := json.Marshal(f.Statuses)
		where, args = append(where, "status IN (SELECT value FROM json_each(?))"), append(args, string(b))
	}
	if len(f.OrderIDs) > 0 {
		b, _ := json.Marshal(f.OrderIDs)
		where, args = append(where, "order_id IN (SELECT value FROM json_each(?))"), append(args, string(b))
	}
	if !f.Archived {
		where = append(where, "archived = 0")
	}
	if !f.Since.IsZero() {
		where, args = append(where, "created_at >= ?"), append(args, ceilMicros(f.Since))
	}
	if !f.Until.IsZero() {
		where, args = append(where, "created_at < ?"), append(args, ceilMicros(f.Until))
	}
	if f.After != "" {
		var at int64
		err := d.read.QueryRowContext(ctx, `SELECT created_at FROM invoices WHERE id = ?`, f.After).Scan(&at)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, chengdui.Errorf(chengdui.EInvalid, "cursor %q is no invoice", f.After)
		} else if err != nil {
			return nil, err
		}
		where, args = append(where, "(created_at, id) < (?, ?)"), append(args, at, f.After)
	}
	q := `SELECT ` + invoiceCols + ` FROM invoices`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	rows, err := d.read.QueryContext(ctx, q+` ORDER BY created_at DESC, id DESC LIMIT ?`, append(args, limit)...)
	return collect(rows, err, scanInvoice)
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
	err = d.tx(ctx, func(tx *sql.Tx) error {
		var storeID string
		var created int64
		err := tx.QueryRowContext(ctx, `UPDATE invoices SET status = ?, order_id = ?, archived = ?, closed = ?, expires_at = ?,
			monitoring_until = ?, updated_at = ?, version = version + 1, metadata = ?, doc = ?
			WHERE id = ? AND version = ? RETURNING store_id, created_at`,
			row.status, row.orderID, row.archived, row.closed, row.expires, row.monitoring, row.updated, row.metadata, row.doc,
			row.id, old).Scan(&storeID, &created)
		if errors.Is(err, sql.ErrNoRows) {
			return invoiceNotUpdated(ctx, tx, inv.ID, old)
		} else if err != nil {
			return err
		} else if storeID != row.storeID || created != row.created {
			return chengdui.Errorf(chengdui.EInvalid, "invoice %q: its store and creation time cannot change", inv.ID)
		}
		rows := make([][]any, len(payments))
		for i, p := range payments {
			rows[i] = []any{p.InvoiceID, p.ID, p.Method, p.Asset, p.Amount.String(), string(p.Status), p.Destination, p.TxID,
				invoiceMicros(p.ReceivedAt), invoiceMicros(p.UpdatedAt)}
		}
		err = insertRows(ctx, tx, `INSERT INTO invoice_payments (invoice_id, id, method, asset, amount, status, destination, txid, received_at, updated_at) VALUES `,
			` ON CONFLICT (invoice_id, id) DO UPDATE SET method = excluded.method, asset = excluded.asset, amount = excluded.amount,
				status = excluded.status, destination = excluded.destination, txid = excluded.txid,
				received_at = excluded.received_at, updated_at = excluded.updated_at`, rows)
		if err != nil {
			return err
		}
		return insertInvoiceEvents(ctx, tx, events)
	})
	if err != nil {
		return invoice.Invoice{}, err
	}
	return decodeInvoice(row)
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

// invoiceNotUpdated says why an update matched no row.
func invoiceNotUpdated(ctx context.Context, tx *sql.Tx, id string, version int64) error {
	var v int64
	err := tx.QueryRowContext(ctx, `SELECT version FROM invoices WHERE id = ?`, id).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return chengdui.Errorf(chengdui.ENotFound, "no invoice %q", id)
	} else if err != nil {
		return err
	}
	return chengdui.Errorf(chengdui.EConflict, "invoice %q changed: it is at version %d, not %d", id, v, version)
}

const paymentCols = `id, invoice_id, method, asset, amount, status, destination, txid, received_at, updated_at`

// Payments implements invoice.Store.
func (d *DB) Payments(ctx context.Context, invoiceID string) ([]invoice.Payment, error) {
	rows, err := d.read.QueryContext(ctx, `SELECT `+paymentCols+` FROM invoice_payments WHERE invoice_id = ? ORDER BY received_at, id`, invoiceID)
	return collect(rows, err, scanPayment)
}

// Pending implements invoice.Store. Codes: EInvalid for a limit below 1.
func (d *DB) Pending(ctx context.Context, now time.Time, limit int) ([]string, error) {
	if limit < 1 {
		return nil, chengdui.Errorf(chengdui.EInvalid, "limit %d is below 1", limit)
	}
	at := now.UnixMicro()
	// A union, so that each half runs on its partial index.
	rows, err := d.read.QueryContext(ctx, `SELECT id, expires_at FROM invoices WHERE status = 'New' AND expires_at <= ?
		UNION SELECT id, expires_at FROM invoices WHERE closed = 0 AND monitoring_until <= ?
		ORDER BY expires_at, id LIMIT ?`, at, at, limit)
	return collect(rows, err, func(r scanner) (string, error) {
		var id string
		var expires int64
		err := r.Scan(&id, &expires)
		return id, err
	})
}

const invoiceAddressCols = `address, invoice_id, scheme, network, idx, created_at`

// InvoiceAddress implements invoice.Store.
func (d *DB) InvoiceAddress(ctx context.Context, address string) (invoice.Address, error) {
	a, err := scanInvoiceAddress(d.read.QueryRowContext(ctx, `SELECT `+invoiceAddressCols+` FROM invoice_addresses WHERE address = ?`, address))
	if errors.Is(err, sql.ErrNoRows) {
		return a, chengdui.Errorf(chengdui.ENotFound, "address %s is no invoice's", address)
	}
	return a, err
}

// InvoiceAddresses implements invoice.Store, by index.
func (d *DB) InvoiceAddresses(ctx context.Context, scheme, network string) ([]invoice.Address, error) {
	rows, err := d.read.QueryContext(ctx, `SELECT `+invoiceAddressCols+` FROM invoice_addresses WHERE scheme = ? AND network = ?
		ORDER BY idx`, scheme, network)
	return collect(rows, err, scanInvoiceAddress)
}

// InvoiceByIntent implements invoice.Store; the id's case does not matter.
func (d *DB) InvoiceByIntent(ctx context.Context, intentID string) (string, error) {
	var id string
	err := d.read.QueryRowContext(ctx, `SELECT invoice_id FROM invoice_intents WHERE intent_id = ?`, strings.ToLower(intentID)).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
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
	var rows *sql.Rows
	var err error
	if invoiceID == "" {
		rows, err = d.read.QueryContext(ctx, `SELECT `+invoiceEventCols+` FROM outbox_events WHERE seq > ? ORDER BY seq LIMIT ?`, after, limit)
	} else {
		rows, err = d.read.QueryContext(ctx, `SELECT `+invoiceEventCols+` FROM outbox_events WHERE invoice_id = ? AND seq > ?
			ORDER BY seq LIMIT ?`, invoiceID, after, limit)
	}
	return collect(rows, err, scanInvoiceEvent)
}

func insertInvoiceEvents(ctx context.Context, tx *sql.Tx, events []invoice.Event) error {
	rows := make([][]any, len(events))
	for i, e := range events {
		rows[i] = []any{e.ID, e.StoreID, e.InvoiceID, e.Type, string(e.Data), invoiceMicros(e.CreatedAt)}
	}
	// The rows of one VALUES list take ascending seqs in list order.
	err := insertRows(ctx, tx, `INSERT INTO outbox_events (id, store_id, invoice_id, type, data, created_at) VALUES `, "", rows)
	if isConstraint(err, sqlite3.SQLITE_CONSTRAINT_UNIQUE, "outbox_events.id") {
		return chengdui.Errorf(chengdui.EConflict, "an event id is taken")
	}
	return err
}

// insertRows runs head VALUES (…), (…) tail for rows, in statements of at
// most 500 rows, under SQLite's limit on bound parameters.
func insertRows(ctx context.Context, tx *sql.Tx, head, tail string, rows [][]any) error {
	const chunk = 500
	for len(rows) > 0 {
		n := min(len(rows), chunk)
		var q strings.Builder
		q.WriteString(head)
		var args []any
		for i, r := range rows[:n] {
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString("(?")
			q.WriteString(strings.Repeat(", ?", len(r)-1))
			q.WriteString(")")
			args = append(args, r...)
		}
		q.WriteString(tail)
		if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
			return err
		}
		rows = rows[n:]
	}
	return nil
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

func scanInvoice(s scanner) (invoice.Invoice, error) {
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

func scanPayment(r scanner) (invoice.Payment, error) {
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

func scanInvoiceAddress(r scanner) (invoice.Address, error) {
	var a invoice.Address
	var idx, created int64
	if err := r.Scan(&a.Address, &a.InvoiceID, &a.Scheme, &a.Network, &idx, &created); err != nil {
		return invoice.Address{}, err
	}
	a.Index, a.CreatedAt = uint32(idx), invoiceTime(created)
	return a, nil
}

func scanInvoiceEvent(r scanner) (invoice.Event, error) {
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
