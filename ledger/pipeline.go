package ledger

import (
	"bytes"
	"context"
	"errors"

	"chengdui"
)

// The commit pipeline has two stages, each one goroutine:
//
//   - the preparer gathers queued requests into a batch and applies it in
//     memory against its view of the ledger — committed state (prefetched
//     through the read pool) overlaid with the batches still in flight;
//   - the writer writes each prepared batch in one transaction, after
//     checking under the head lock that the journal is exactly where the
//     batch expects it.
//
// So batch N+1 is looked up and applied while batch N is being written and
// fsynced. If the check fails — another process wrote, or a batch failed —
// the writer commits that batch on the slow path (all state read inside
// the transaction) and the preparer rebuilds its view once the writer is
// idle. Results are delivered only after the batch has committed, so no
// caller is ever told something that was not made durable.

// errStale is the writer's signal that a prepared batch was built on a
// journal head that is not the stored one.
var errStale = errors.New("ledger: prepared batch is stale")

// maxCachedAccounts bounds the preparer's account cache.
const maxCachedAccounts = 1 << 20

type writeItem struct {
	no   uint64
	reqs []*request
	prep *prepared // nil: prepare failed, take the slow path
}

type ack struct {
	no uint64
	ok bool
}

// view is the preparer's picture of the ledger after every batch it has
// sent to the writer.
type view struct {
	valid    bool
	head     Head
	accounts map[string]chengdui.Account // every account read or changed since the last reset
	// Transfers and pending states changed by batches not yet
	// acknowledged, with the number of the batch that changed them.
	created  map[string]overlayTransfer
	pending  map[string]overlayPending
	sent     uint64 // batches sent
	acked    uint64 // batches acknowledged
	stale    bool   // a batch failed: rebuild once the writer is idle
	inflight map[uint64][]string
}

type overlayTransfer struct {
	t  chengdui.Transfer
	no uint64
}

type overlayPending struct {
	p  PendingState
	no uint64
}

func (v *view) reset() {
	*v = view{sent: v.sent, acked: v.acked,
		accounts: map[string]chengdui.Account{},
		created:  map[string]overlayTransfer{},
		pending:  map[string]overlayPending{},
		inflight: map[uint64][]string{}}
}

// acknowledge retires a written batch's overlay: storage now has it, and
// every read the preparer starts from now on will see it.
func (v *view) acknowledge(a ack) {
	v.acked++
	if !a.ok {
		v.stale = true
	}
	for _, id := range v.inflight[a.no] {
		if o, ok := v.created[id]; ok && o.no == a.no {
			delete(v.created, id)
		}
		if o, ok := v.pending[id]; ok && o.no == a.no {
			delete(v.pending, id)
		}
	}
	delete(v.inflight, a.no)
}

// record adds a prepared batch to the view.
func (v *view) record(no uint64, p *prepared) {
	var ids []string
	for _, t := range p.batch.Transfers {
		v.created[t.ID] = overlayTransfer{t, no}
		ids = append(ids, t.ID)
	}
	for _, ps := range p.batch.Pending {
		v.pending[ps.ID] = overlayPending{ps, no}
		ids = append(ids, ps.ID)
	}
	for _, a := range p.batch.Accounts {
		v.accounts[a.ID] = a
	}
	v.inflight[no] = ids
	v.head = p.batch.Head
}

// overlaySource serves a batch's lookups from the view, then from
// committed state through Prefetch.
type overlaySource struct {
	ctx   context.Context
	store Store
	v     *view
}

func (o overlaySource) Transfers(ids []string) (map[string]chengdui.Transfer, error) {
	out := make(map[string]chengdui.Transfer)
	var missing []string
	for _, id := range ids {
		if t, ok := o.v.created[id]; ok {
			out[id] = t.t
		} else {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		got, err := o.store.Prefetch(o.ctx, missing, nil, nil)
		if err != nil {
			return nil, err
		}
		for id, t := range got.Transfers {
			out[id] = t
		}
	}
	return out, nil
}

func (o overlaySource) Accounts(ids []string) (map[string]chengdui.Account, error) {
	out := make(map[string]chengdui.Account, len(ids))
	var missing []string
	for _, id := range ids {
		if a, ok := o.v.accounts[id]; ok {
			out[id] = a
		} else {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		got, err := o.store.Prefetch(o.ctx, nil, missing, nil)
		if err != nil {
			return nil, err
		}
		for id, a := range got.Accounts {
			out[id] = a
			// Not touched by any batch in flight, or it would be in
			// the view: committed state is current.
			o.v.accounts[id] = a
		}
	}
	return out, nil
}

func (o overlaySource) Pending(ids []string) (map[string]PendingState, error) {
	out := make(map[string]PendingState)
	var missing []string
	for _, id := range ids {
		if p, ok := o.v.pending[id]; ok {
			out[id] = p.p
		} else {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		got, err := o.store.Prefetch(o.ctx, nil, nil, missing)
		if err != nil {
			return nil, err
		}
		for id, p := range got.Pending {
			out[id] = p
		}
	}
	return out, nil
}

// prepareLoop is the first stage. It owns the view.
func (e *Engine) prepareLoop(ctx context.Context, out chan<- writeItem, acks <-chan ack) {
	defer close(out)
	var v view
	v.reset()
	for {
		batch := e.gather()
		if batch == nil {
			return
		}
		// Acknowledgements first: a read started after one sees its batch.
	drain:
		for {
			select {
			case a := <-acks:
				v.acknowledge(a)
			default:
				break drain
			}
		}
		if v.stale {
			// Wait until the writer is idle, then rebuild from storage.
			for v.acked < v.sent {
				v.acknowledge(<-acks)
			}
			v.reset()
		}
		if len(v.accounts) > maxCachedAccounts {
			for v.acked < v.sent {
				v.acknowledge(<-acks)
			}
			v.reset()
		}
		reqs := live(batch)
		if len(reqs) == 0 {
			continue
		}
		v.sent++
		no := v.sent
		if !v.valid {
			head, err := e.store.Head(ctx)
			if err != nil {
				out <- writeItem{no: no, reqs: reqs}
				continue
			}
			v.head, v.valid = head, true
		}
		p, err := e.apply(overlaySource{ctx, e.store, &v}, v.head, reqs)
		if err != nil {
			e.log.Warn("preparing a batch failed; the writer will retry it inside its transaction", "err", err)
			out <- writeItem{no: no, reqs: reqs}
			continue
		}
		v.record(no, p)
		out <- writeItem{no: no, reqs: reqs, prep: p}
	}
}

// writeLoop is the second stage.
func (e *Engine) writeLoop(ctx context.Context, in <-chan writeItem, acks chan<- ack) {
	for it := range in {
		ok := false
		if it.prep != nil {
			err := e.store.Commit(ctx, func(tx BatchTx) error {
				head, err := tx.Head()
				if err != nil {
					return err
				}
				if head.Size != it.prep.base.Size || !bytes.Equal(head.ChainHash, it.prep.base.ChainHash) {
					return errStale
				}
				if it.prep.empty() {
					return nil
				}
				return tx.Write(it.prep.batch)
			})
			if err == nil {
				e.deliver(it.prep, it.reqs, nil)
				ok = true
			} else if !errors.Is(err, errStale) {
				e.log.Warn("pipelined commit failed; retrying on the slow path", "err", err)
			}
		}
		if !ok {
			e.commitSlow(ctx, it.reqs)
		}
		acks <- ack{no: it.no, ok: ok}
	}
}
