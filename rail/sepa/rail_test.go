package sepa_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"chengdui"
	"chengdui/rail"
	"chengdui/rail/sepa"
)

func newRail(t *testing.T, dir string) *sepa.Rail {
	t.Helper()
	now := created
	r, err := sepa.New(sepa.Config{Dir: dir, Debtor: debtor, Initiator: "Chengdui", ExecutionDays: 1,
		Now: func() time.Time { now = now.Add(time.Second); return now }})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestRail(t *testing.T) {
	xsd := schema(t)
	ctx := context.Background()
	dir := t.TempDir()
	r := newRail(t, dir)
	var _ rail.Rail = r
	if r.Name() != "sepa" || strings.Join(r.Currencies(), ",") != "EUR" {
		t.Fatalf("Name %q Currencies %v", r.Name(), r.Currencies())
	}
	if path, err := r.Flush(); err != nil || path != "" {
		t.Fatalf("Flush of nothing = %q, %v", path, err)
	}

	orders := threeOrders()
	for _, o := range orders {
		ref, err := r.Submit(ctx, o)
		if err != nil || ref != o.ID {
			t.Fatalf("Submit(%s) = %q, %v", o.ID, ref, err)
		}
	}
	// Submitting again, in print form, queues nothing.
	again := orders[0]
	again.Creditor.IBAN = "de89 3704 0044 0532 0130 00"
	if ref, err := r.Submit(ctx, again); err != nil || ref != again.ID {
		t.Fatalf("resubmit = %q, %v", ref, err)
	}
	other := orders[0]
	other.Amount = cents(12346)
	if _, err := r.Submit(ctx, other); chengdui.ErrorCode(err) != chengdui.EIDConflict {
		t.Fatalf("Submit with another amount = %v, want id_conflict", err)
	}
	// A bad order is refused before anything is queued or written.
	usd := orders[1]
	usd.ID, usd.Currency = "po-usd", "USD"
	if _, err := r.Submit(ctx, usd); chengdui.ErrorCode(err) != chengdui.EInvalid {
		t.Fatalf("Submit USD = %v, want invalid", err)
	}
	if n := r.Queued(); n != 3 {
		t.Fatalf("Queued() = %d, want 3", n)
	}
	if err := r.Confirm(rail.Update{OrderID: "po-0001", Status: rail.Completed}); chengdui.ErrorCode(err) != chengdui.EConflict {
		t.Fatalf("Confirm of a queued order = %v, want conflict", err)
	}

	path, err := r.Flush()
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Dir(path) != dir || !strings.HasSuffix(path, ".xml") {
		t.Fatalf("Flush wrote %s", path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	mustValidate(t, xsd, data)
	for _, s := range []string{"<NbOfTxs>3</NbOfTxs>", "<Dt>2024-05-07</Dt>", "<Nm>Chengdui</Nm>", "<BtchBookg>false</BtchBookg>"} {
		if !strings.Contains(string(data), s) {
			t.Errorf("the file lacks %s", s)
		}
	}
	if strings.Contains(string(data), "po-usd") {
		t.Error("the refused order is in the file")
	}
	if p, err := r.Flush(); err != nil || p != "" || r.Queued() != 0 {
		t.Fatalf("second Flush = %q, %v", p, err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("%d files in the batch directory, want 1", len(entries))
	}

	// Confirmations move orders; impossible moves are refused.
	at := time.Date(2024, 5, 7, 10, 0, 0, 0, time.UTC)
	steps := []struct {
		u    rail.Update
		code string
	}{
		{rail.Update{OrderID: "po-0001", BankRef: "po-0001", Status: rail.Completed, At: at}, ""},
		{rail.Update{OrderID: "po-0001", Status: rail.Completed, At: at}, ""}, // again: no change
		{rail.Update{OrderID: "po-0002", Status: rail.Failed, Reason: "AC04 closed account", At: at}, ""},
		{rail.Update{OrderID: "po-0002", Status: rail.Completed}, chengdui.EConflict},
		{rail.Update{OrderID: "po-0003", Status: rail.Returned}, chengdui.EConflict},
		{rail.Update{OrderID: "po-0003", Status: rail.Accepted}, chengdui.EInvalid},
		{rail.Update{OrderID: "po-0003", BankRef: "other", Status: rail.Completed}, chengdui.EInvalid},
		{rail.Update{OrderID: "po-9999", Status: rail.Completed}, chengdui.ENotFound},
		{rail.Update{OrderID: "po-0001", Status: rail.Returned, Reason: "MD06", At: at.Add(time.Hour)}, ""},
	}
	for i, s := range steps {
		if err := r.Confirm(s.u); chengdui.ErrorCode(err) != s.code {
			t.Fatalf("step %d: Confirm(%+v) = %v, want %q", i, s.u, err, s.code)
		}
	}
	want := map[string]rail.Update{
		"po-0001": {OrderID: "po-0001", BankRef: "po-0001", Status: rail.Returned, Reason: "MD06", At: at.Add(time.Hour)},
		"po-0002": {OrderID: "po-0002", BankRef: "po-0002", Status: rail.Failed, Reason: "AC04 closed account", At: at},
	}
	for id, w := range want {
		u, err := r.Status(ctx, id)
		if err != nil || u != w {
			t.Fatalf("Status(%s) = %+v, %v; want %+v", id, u, err, w)
		}
	}
	if u, err := r.Status(ctx, "po-0003"); err != nil || u.Status != rail.Accepted {
		t.Fatalf("Status(po-0003) = %+v, %v", u, err)
	}
	if _, err := r.Status(ctx, "po-usd"); chengdui.ErrorCode(err) != chengdui.ENotFound {
		t.Fatalf("Status of a refused order = %v, want not_found", err)
	}

	// After a restart the written orders are known: submitting one
	// again neither queues nor pays it twice.
	r2 := newRail(t, dir)
	if ref, err := r2.Submit(ctx, orders[2]); err != nil || ref != orders[2].ID {
		t.Fatalf("resubmit after restart = %q, %v", ref, err)
	}
	if _, err := r2.Submit(ctx, other); chengdui.ErrorCode(err) != chengdui.EIDConflict {
		t.Fatalf("conflicting resubmit after restart = %v", err)
	}
	if r2.Queued() != 0 {
		t.Fatalf("Queued() = %d after resubmitting written orders", r2.Queued())
	}
	if u, err := r2.Status(ctx, "po-0002"); err != nil || u.Status != rail.Accepted {
		t.Fatalf("Status after restart = %+v, %v", u, err)
	}
	if err := r2.Confirm(rail.Update{OrderID: "po-0003", Status: rail.Completed}); err != nil {
		t.Fatal(err)
	}
}

func TestNewRefuses(t *testing.T) {
	dir := t.TempDir()
	if _, err := sepa.New(sepa.Config{Debtor: debtor}); chengdui.ErrorCode(err) != chengdui.EInvalid {
		t.Fatalf("no dir: %v", err)
	}
	if _, err := sepa.New(sepa.Config{Dir: dir, Debtor: sepa.Debtor{Name: "X", IBAN: "DE00"}}); chengdui.ErrorCode(err) != chengdui.EInvalid {
		t.Fatalf("bad debtor: %v", err)
	}
	if _, err := sepa.New(sepa.Config{Dir: dir, Debtor: debtor, ExecutionDays: -1}); chengdui.ErrorCode(err) != chengdui.EInvalid {
		t.Fatalf("negative days: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "junk.xml"), []byte("not xml"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := sepa.New(sepa.Config{Dir: dir, Debtor: debtor}); chengdui.ErrorCode(err) != chengdui.EInternal {
		t.Fatalf("junk file: %v", err)
	}
}
