package ledger

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"math/big"
	"slices"

	"chengdui"
)

// Mismatch names one thing verify found wrong.
type Mismatch struct {
	Seq     uint64 `json:"seq,omitempty"`
	ID      string `json:"id,omitempty"`
	Account string `json:"account,omitempty"`
	Problem string `json:"problem"`
}

func (m Mismatch) String() string {
	switch {
	case m.Account != "":
		return fmt.Sprintf("account %q: %s", m.Account, m.Problem)
	case m.ID != "":
		return fmt.Sprintf("entry %d (transfer %q): %s", m.Seq, m.ID, m.Problem)
	}
	return m.Problem
}

// Report is the outcome of Verify.
type Report struct {
	Head     chengdui.TreeHead // recomputed from the journal
	Entries  uint64
	Accounts int
	// First is the first journal entry that does not match, nil if all do.
	First *Mismatch
	// Problems lists every account and head mismatch (and First).
	Problems []Mismatch
}

// OK reports whether storage is consistent.
func (r *Report) OK() bool { return len(r.Problems) == 0 }

// Verify recomputes the hash chain and the Merkle log from the stored
// transfers, replays them into balances, and compares both with what is
// stored: the per-entry chain hashes, the tree head, and every account's
// balances. It also checks that debits equal credits per asset. progress,
// if not nil, is called after each page of entries.
//
// It reads one snapshot, so it can run while the ledger commits.
func Verify(ctx context.Context, s Store, progress func(done uint64)) (*Report, error) {
	var rep *Report
	err := s.Snapshot(ctx, func(r Reader) error {
		var err error
		rep, err = verify(ctx, r, progress)
		return err
	})
	return rep, err
}

func verify(ctx context.Context, s Reader, progress func(done uint64)) (*Report, error) {
	head, err := s.Head(ctx)
	if err != nil {
		return nil, err
	}
	head = head.normalized()
	rep := &Report{}
	j, err := openJournal(Head{})
	if err != nil {
		return nil, err
	}
	type bal struct{ dp, dpo, cp, cpo big.Int }
	balances := map[string]*bal{}
	get := func(id string) *bal {
		b := balances[id]
		if b == nil {
			b = &bal{}
			balances[id] = b
		}
		return b
	}
	pendings := map[string]chengdui.Transfer{}
	add := func(x *big.Int, a chengdui.Amount) { x.Add(x, a.Big()) }
	sub := func(x *big.Int, a chengdui.Amount) { x.Sub(x, a.Big()) }
	note := func(m Mismatch) {
		if rep.First == nil && m.ID != "" {
			rep.First = &m
		}
		rep.Problems = append(rep.Problems, m)
	}
	var after uint64
	for {
		page, err := s.Transfers(ctx, chengdui.TransferFilter{AfterSeq: after, Limit: 5000})
		if err != nil {
			return nil, err
		}
		for i := range page {
			t := page[i]
			if rep.First != nil {
				break
			}
			if t.Seq != j.size+1 {
				note(Mismatch{Seq: t.Seq, ID: t.ID, Problem: fmt.Sprintf("sequence gap: expected entry %d", j.size+1)})
				break
			}
			stored := t.Hash
			if err := j.append(&t); err != nil {
				return nil, err
			}
			if !bytes.Equal(stored, t.Hash) {
				note(Mismatch{Seq: t.Seq, ID: t.ID, Problem: "content does not match its hash chain value (altered or reordered)"})
				break
			}
			switch {
			case t.Flags&chengdui.Pending != 0:
				pendings[t.ID] = t
				add(&get(t.DebitAccountID).dp, t.Amount)
				add(&get(t.CreditAccountID).cp, t.Amount)
			case t.Flags&(chengdui.PostPending|chengdui.VoidPending) != 0:
				p, ok := pendings[t.PendingID]
				if !ok {
					note(Mismatch{Seq: t.Seq, ID: t.ID, Problem: fmt.Sprintf("resolves unknown pending transfer %q", t.PendingID)})
					break
				}
				delete(pendings, t.PendingID)
				sub(&get(p.DebitAccountID).dp, p.Amount)
				sub(&get(p.CreditAccountID).cp, p.Amount)
				if t.Flags&chengdui.PostPending != 0 {
					add(&get(t.DebitAccountID).dpo, t.Amount)
					add(&get(t.CreditAccountID).cpo, t.Amount)
				}
			default:
				add(&get(t.DebitAccountID).dpo, t.Amount)
				add(&get(t.CreditAccountID).cpo, t.Amount)
			}
		}
		rep.Entries = j.size
		if progress != nil {
			progress(j.size)
		}
		if len(page) == 0 || rep.First != nil {
			break
		}
		after = page[len(page)-1].Seq
	}
	if rep.Head, err = headOf(j); err != nil {
		return nil, err
	}
	if rep.First == nil {
		if rep.Head.Size != head.Size || !bytes.Equal(rep.Head.ChainHash, head.ChainHash) || !bytes.Equal(rep.Head.MerkleRoot, head.MerkleRoot) {
			note(Mismatch{Problem: fmt.Sprintf("stored tree head (size %d) differs from the journal's (size %d): entries were removed, added or the head was altered", head.Size, rep.Head.Size)})
		}
	}
	// Balances: compare every stored account with the replay, and check
	// that debits equal credits per asset.
	perAsset := map[string]*[2]big.Int{}
	var cursor string
	for {
		accs, err := s.Accounts(ctx, cursor, 1000)
		if err != nil {
			return nil, err
		}
		for _, a := range accs {
			rep.Accounts++
			b := get(a.ID)
			delete(balances, a.ID)
			if rep.First == nil && (b.dp.Cmp(a.DebitsPending.Big()) != 0 || b.dpo.Cmp(a.DebitsPosted.Big()) != 0 ||
				b.cp.Cmp(a.CreditsPending.Big()) != 0 || b.cpo.Cmp(a.CreditsPosted.Big()) != 0) {
				note(Mismatch{Account: a.ID, Problem: fmt.Sprintf("stored balances (debits %s/%s, credits %s/%s pending/posted) differ from the journal's (%s/%s, %s/%s)",
					a.DebitsPending, a.DebitsPosted, a.CreditsPending, a.CreditsPosted, &b.dp, &b.dpo, &b.cp, &b.cpo)})
			}
			sums := perAsset[a.Asset]
			if sums == nil {
				sums = &[2]big.Int{}
				perAsset[a.Asset] = sums
			}
			sums[0].Add(&sums[0], a.DebitsPosted.Big())
			sums[0].Add(&sums[0], a.DebitsPending.Big())
			sums[1].Add(&sums[1], a.CreditsPosted.Big())
			sums[1].Add(&sums[1], a.CreditsPending.Big())
		}
		if len(accs) == 0 {
			break
		}
		cursor = accs[len(accs)-1].ID
	}
	if rep.First == nil {
		for _, id := range slices.Sorted(maps.Keys(balances)) {
			note(Mismatch{Account: id, Problem: "the journal moves money through an account that does not exist"})
		}
	}
	for _, asset := range slices.Sorted(maps.Keys(perAsset)) {
		if sums := perAsset[asset]; sums[0].Cmp(&sums[1]) != 0 {
			note(Mismatch{Problem: fmt.Sprintf("asset %s: debits %s != credits %s", asset, &sums[0], &sums[1])})
		}
	}
	return rep, nil
}

func headOf(j *journal) (chengdui.TreeHead, error) {
	h, err := j.head()
	return h.TreeHead, err
}
