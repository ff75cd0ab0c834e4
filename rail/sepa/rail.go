package sepa

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/xml"
	"os"
	"path/filepath"
	"sync"
	"time"

	"chengdui"
	"chengdui/rail"
)

// Config configures a Rail.
type Config struct {
	// Dir receives the batch files; it is created if missing. Files
	// already there are read back at start (see New).
	Dir       string
	Debtor    Debtor
	Initiator string // InitgPty name; Debtor.Name when empty
	// BatchBooking asks the bank for one debit per file on our statement
	// instead of one per order.
	BatchBooking bool
	// ExecutionDays is how many days after the flush the transfers are
	// to be executed (ReqdExctnDt); 0 is the same day.
	ExecutionDays int
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Rail pays EUR orders by SEPA credit transfer files. Submit queues an
// order; Flush writes every queued order into one pain.001 file for the
// bank (uploaded by EBICS or a banking portal, outside this package).
//
// Orders stay Accepted until Confirm applies what the bank reported (a
// statement line or a payment status report): Completed or Failed, and
// Completed then Returned. The bank reference is the EndToEndId, which is
// the order id: it is what the bank's reports quote back. Rail is safe
// for concurrent use.
//
// Queued orders and confirmations live in memory. New reads the files in
// Dir back, so after a restart an order already written to a file is
// known (Accepted) and submitting it again does not pay it twice; orders
// queued but not flushed are lost and must be submitted again, and
// confirmations must be applied again from the bank's reports.
type Rail struct {
	cfg Config
	now func() time.Time

	mu     sync.Mutex
	orders map[string]*entry
	queue  []*entry
}

// entry is one order the rail knows.
type entry struct {
	order  rail.Order // zero for an order read back from a file
	tx     []byte     // its rendered CdtTrfTxInf: equal bytes, same payment
	file   string     // the batch file holding it; "" while queued
	update rail.Update
}

// New returns a rail writing to cfg.Dir. It refuses an invalid debtor
// and reads back the orders of the *.xml files already in Dir; a file
// there that is not a pain.001 document is an error. Codes: EInvalid;
// EInternal for an unreadable directory or file.
func New(cfg Config) (*Rail, error) {
	if cfg.Dir == "" {
		return nil, chengdui.Errorf(chengdui.EInvalid, "sepa: no batch directory")
	}
	if _, _, _, err := renderDebtor(cfg.Debtor); err != nil {
		return nil, err
	}
	if cfg.ExecutionDays < 0 {
		return nil, chengdui.Errorf(chengdui.EInvalid, "sepa: negative execution days")
	}
	r := &Rail{cfg: cfg, now: cfg.Now, orders: map[string]*entry{}}
	if r.now == nil {
		r.now = time.Now
	}
	if err := os.MkdirAll(cfg.Dir, 0o750); err != nil {
		return nil, chengdui.Errorf(chengdui.EInternal, "sepa: batch directory: %v", err)
	}
	if err := r.load(); err != nil {
		return nil, err
	}
	return r, nil
}

// load reads back the orders of the batch files in Dir.
func (r *Rail) load() error {
	files, err := filepath.Glob(filepath.Join(r.cfg.Dir, "*.xml"))
	if err != nil {
		return chengdui.Errorf(chengdui.EInternal, "sepa: listing %s: %v", r.cfg.Dir, err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return chengdui.Errorf(chengdui.EInternal, "sepa: reading batch file: %v", err)
		}
		doc, err := parse(data)
		if err != nil {
			return chengdui.Errorf(chengdui.EInternal, "sepa: %s is not a pain.001.001.09 file: %v", filepath.Base(f), err)
		}
		info, err := os.Stat(f)
		if err != nil {
			return chengdui.Errorf(chengdui.EInternal, "sepa: %v", err)
		}
		for _, p := range doc.Init.PmtInf {
			for _, tx := range p.CdtTrfTxInf {
				b, err := xml.Marshal(tx)
				if err != nil {
					return chengdui.Errorf(chengdui.EInternal, "sepa: %s: %v", filepath.Base(f), err)
				}
				id := tx.EndToEndID
				r.orders[id] = &entry{tx: b, file: f, update: rail.Update{OrderID: id, BankRef: id, Status: rail.Accepted, At: info.ModTime()}}
			}
		}
	}
	return nil
}

// Name returns "sepa".
func (r *Rail) Name() string { return "sepa" }

// Currencies returns EUR.
func (r *Rail) Currencies() []string { return []string{"EUR"} }

// Submit queues o for the next file and returns its EndToEndId (o.ID).
// Submitting an order again, queued or already in a file, returns the
// same reference and queues nothing. Codes: those of ValidateOrder;
// EIDConflict when o.ID was submitted with another payment.
func (r *Rail) Submit(_ context.Context, o rail.Order) (string, error) {
	tx, err := renderTx(o)
	if err != nil {
		return "", err
	}
	b, err := xml.Marshal(tx)
	if err != nil {
		return "", chengdui.Errorf(chengdui.EInternal, "sepa: encoding order %s: %v", o.ID, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if e, ok := r.orders[o.ID]; ok {
		if !bytes.Equal(e.tx, b) {
			return "", chengdui.Errorf(chengdui.EIDConflict, "order %s was submitted with another payment", o.ID)
		}
		return o.ID, nil
	}
	e := &entry{order: o, tx: b, update: rail.Update{OrderID: o.ID, BankRef: o.ID, Status: rail.Accepted, At: r.now()}}
	r.orders[o.ID] = e
	r.queue = append(r.queue, e)
	return o.ID, nil
}

// Status returns what is known of an order: Accepted until Confirm says
// otherwise. Codes: ENotFound.
func (r *Rail) Status(_ context.Context, orderID string) (rail.Update, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.orders[orderID]
	if !ok {
		return rail.Update{}, chengdui.Errorf(chengdui.ENotFound, "order %q is unknown to the SEPA rail", orderID)
	}
	return e.update, nil
}

// Queued returns how many orders wait for the next Flush.
func (r *Rail) Queued() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.queue)
}

// Flush writes every queued order into one new batch file, named after
// its MsgId, and returns its path; with nothing queued it returns "" and
// writes nothing. The file appears whole (written aside, synced, then
// renamed). On an error nothing is written and the orders stay queued.
// Codes: those of Build; EInternal for a failed write.
func (r *Rail) Flush() (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.queue) == 0 {
		return "", nil
	}
	now := r.now()
	var rnd [4]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return "", chengdui.Errorf(chengdui.EInternal, "sepa: no randomness: %v", err)
	}
	msgID := "CHD-" + now.UTC().Format("20060102-150405") + "-" + hex.EncodeToString(rnd[:])
	orders := make([]rail.Order, len(r.queue))
	for i, e := range r.queue {
		orders[i] = e.order
	}
	data, err := Build(Batch{
		MsgID:        msgID,
		Created:      now,
		Execution:    now.AddDate(0, 0, r.cfg.ExecutionDays),
		Initiator:    r.cfg.Initiator,
		Debtor:       r.cfg.Debtor,
		BatchBooking: r.cfg.BatchBooking,
		Orders:       orders,
	})
	if err != nil {
		return "", err
	}
	path := filepath.Join(r.cfg.Dir, msgID+".xml")
	if err := writeFile(path, data); err != nil {
		return "", chengdui.Errorf(chengdui.EInternal, "sepa: writing batch %s: %v", msgID, err)
	}
	for _, e := range r.queue {
		e.file = path
	}
	r.queue = nil
	return path, nil
}

// writeFile writes data to path through a temporary file, so that path
// never holds a partial batch.
func writeFile(path string, data []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}

// Confirm applies what the bank reported of an order (from its statement
// or a payment status report): u.Status Completed or Failed for an order
// written to a file, Returned for a Completed one. Applying the current
// status again changes nothing. u.BankRef, when set, must be the order's
// EndToEndId. Codes: ENotFound; EInvalid for an Accepted or unknown
// status or a wrong BankRef; EConflict for an order not yet flushed or a
// move the order cannot make (Failed → Completed…).
func (r *Rail) Confirm(u rail.Update) error {
	if !u.Status.Valid() || u.Status == rail.Accepted {
		return chengdui.Errorf(chengdui.EInvalid, "order %s: cannot confirm status %q", u.OrderID, u.Status)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.orders[u.OrderID]
	if !ok {
		return chengdui.Errorf(chengdui.ENotFound, "order %q is unknown to the SEPA rail", u.OrderID)
	}
	if u.BankRef != "" && u.BankRef != e.update.BankRef {
		return chengdui.Errorf(chengdui.EInvalid, "order %s has reference %s, not %s", u.OrderID, e.update.BankRef, u.BankRef)
	}
	if e.file == "" {
		return chengdui.Errorf(chengdui.EConflict, "order %s is still queued: no file holds it yet", u.OrderID)
	}
	if e.update.Status == u.Status {
		return nil
	}
	if !e.update.Status.CanBecome(u.Status) {
		return chengdui.Errorf(chengdui.EConflict, "order %s is %s and cannot become %s", u.OrderID, e.update.Status, u.Status)
	}
	at := u.At
	if at.IsZero() {
		at = r.now()
	}
	e.update = rail.Update{OrderID: u.OrderID, BankRef: e.update.BankRef, Status: u.Status, Reason: u.Reason, At: at}
	return nil
}

var _ rail.Rail = (*Rail)(nil)
