package sepa_test

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"lukechampine.com/uint128"

	"chengdui"
	"chengdui/rail"
	"chengdui/rail/sepa"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

const xsdName = "pain.001.001.09.EPC-SCT-C2PSP-2023.xsd"

// schema returns the EPC schema's path: shared/iso20022 beside the
// repository root (the directory holding go.mod). Without it, or without
// xmllint, the test is skipped on a developer's machine and fails in CI.
func schema(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the package directory")
		}
		dir = parent
	}
	xsd := filepath.Join(dir, "..", "shared", "iso20022", xsdName)
	missing := func(what string) {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s; CI must provide it", what)
		}
		t.Skipf("%s: skipping the schema check (CI fails here)", what)
	}
	if _, err := os.Stat(xsd); err != nil {
		missing("the EPC schema " + xsd + " is missing")
	}
	if _, err := exec.LookPath("xmllint"); err != nil {
		missing("xmllint is not installed (apt-get install libxml2-utils)")
	}
	return xsd
}

// xmllint validates a file against the schema and returns its complaint.
func xmllint(t *testing.T, xsd string, data []byte) (ok bool, out string) {
	t.Helper()
	f := filepath.Join(t.TempDir(), "batch.xml")
	if err := os.WriteFile(f, data, 0o600); err != nil {
		t.Fatal(err)
	}
	b, err := exec.Command("xmllint", "--noout", "--schema", xsd, f).CombinedOutput()
	if err != nil {
		if _, isExit := err.(*exec.ExitError); !isExit {
			t.Fatalf("running xmllint: %v", err)
		}
	}
	return err == nil, string(b)
}

func mustValidate(t *testing.T, xsd string, data []byte) {
	t.Helper()
	if ok, out := xmllint(t, xsd, data); !ok {
		t.Fatalf("the batch does not validate against the EPC schema:\n%s\n%s", out, data)
	}
}

var (
	created   = time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	execution = time.Date(2024, 5, 7, 0, 0, 0, 0, time.UTC)
	debtor    = sepa.Debtor{Name: "Chengdui Payments Ltd", IBAN: "DE89 3704 0044 0532 0130 00", BIC: "COBADEFFXXX"}
)

func cents(n uint64) chengdui.Amount { return uint128.From64(n) }

func order(id string, amount chengdui.Amount, name, iban, bic, ref string) rail.Order {
	return rail.Order{ID: id, Currency: "EUR", Amount: amount, Decimals: 2,
		Creditor: rail.Party{Name: name, IBAN: iban, BIC: bic}, Reference: ref}
}

func threeOrders() []rail.Order {
	return []rail.Order{
		order("po-0001", cents(12345), "Müller & Söhne GmbH", "DE89370400440532013000", "COBADEFFXXX", "Settlement 2024-05-06 invoice 17"),
		order("po-0002", cents(1), "François Lefèvre", "FR14 2004 1010 0505 0001 3M02 606", "", "Règlement n° 42"),
		order("po-0003", cents(99_999_999_999), "Westminster Traders", "gb82 west 1234 5698 7654 32", "nwbkgb2l", ""),
	}
}

func TestBuildThreeOrders(t *testing.T) {
	xsd := schema(t)
	data, err := sepa.Build(sepa.Batch{MsgID: "CHD-20240506-0001", Created: created, Execution: execution,
		Initiator: "Chengdui", Debtor: debtor, BatchBooking: true, Orders: threeOrders()})
	if err != nil {
		t.Fatal(err)
	}
	mustValidate(t, xsd, data)
	golden := filepath.Join("testdata", "batch3.xml")
	if *update {
		if err := os.WriteFile(golden, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(data, want) {
		t.Fatalf("the batch differs from %s (go test -update rewrites it):\n%s", golden, data)
	}
	for _, s := range []string{
		"<NbOfTxs>3</NbOfTxs>",
		"<CtrlSum>1000000123.45</CtrlSum>", // 123.45 + 0.01 + 999999999.99
		`<InstdAmt Ccy="EUR">0.01</InstdAmt>`,
		`<InstdAmt Ccy="EUR">999999999.99</InstdAmt>`,
		"<Nm>Muller + Sohne GmbH</Nm>",
		"<Nm>Francois Lefevre</Nm>",
		"<Ustrd>Reglement n 42</Ustrd>",
		"<IBAN>GB82WEST12345698765432</IBAN>",
		"<BICFI>NWBKGB2L</BICFI>",
	} {
		if !strings.Contains(string(data), s) {
			t.Errorf("the batch lacks %s", s)
		}
	}
}

func TestBuildEdgeCases(t *testing.T) {
	xsd := schema(t)
	long := strings.Repeat("ß", 100) // 200 characters once spelled: cut to 140
	tests := []struct {
		name   string
		debtor sepa.Debtor
		orders []rail.Order
		want   []string
	}{
		{"one cent", debtor, []rail.Order{order("a", cents(1), "A", "NL91ABNA0417164300", "", "x")},
			[]string{"<CtrlSum>0.01</CtrlSum>"}},
		{"largest amount", debtor, []rail.Order{order("a", sepa.MaxAmount, "A", "NL91ABNA0417164300", "", "")},
			[]string{`<InstdAmt Ccy="EUR">999999999.99</InstdAmt>`}},
		{"max lengths", debtor, []rail.Order{order(strings.Repeat("Z", 35), cents(100), strings.Repeat("N", 140), "MT84MALT011000012345MTLCAST001S", "DEUTDEFF500", long)},
			[]string{"<Nm>" + strings.Repeat("N", 70) + "</Nm>", "<Ustrd>" + strings.Repeat("ss", 70) + "</Ustrd>", "<EndToEndId>" + strings.Repeat("Z", 35) + "</EndToEndId>"}},
		{"every SEPA character", debtor, []rail.Order{order("a", cents(5), "O'Brien (Dublin) Ltd.", "IE29AIBK93115212345678", "", "a-z A-Z 0-9 / - ? : ( ) . , ' +")},
			[]string{"<Nm>O&#39;Brien (Dublin) Ltd.</Nm>", "<Ustrd>a-z A-Z 0-9 / - ? : ( ) . , &#39; +</Ustrd>"}},
		{"XML metacharacters", debtor, []rail.Order{order("a", cents(5), `A <b> & "c"`, "IE29AIBK93115212345678", "", "<script>&amp;")},
			[]string{"<Nm>A b + &#39;c&#39;</Nm>", "<Ustrd>script +amp,</Ustrd>"}},
		{"debtor without BIC", sepa.Debtor{Name: "Chengdui", IBAN: "AT611904300234573201"}, []rail.Order{order("a", cents(5), "A", "BE68539007547034", "", "")},
			[]string{"<Othr>\n            <Id>NOTPROVIDED</Id>"}},
		{"large control sum", debtor, func() []rail.Order {
			var os []rail.Order
			for i := range 25 {
				os = append(os, order("big-"+string(rune('a'+i)), sepa.MaxAmount, "A", "ES9121000418450200051332", "", ""))
			}
			return os
		}(), []string{"<NbOfTxs>25</NbOfTxs>", "<CtrlSum>24999999999.75</CtrlSum>"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, err := sepa.Build(sepa.Batch{MsgID: "M1", Created: created, Execution: execution, Debtor: tt.debtor, Orders: tt.orders})
			if err != nil {
				t.Fatal(err)
			}
			mustValidate(t, xsd, data)
			for _, s := range tt.want {
				if !strings.Contains(string(data), s) {
					t.Errorf("the batch lacks %q:\n%s", s, data)
				}
			}
		})
	}
}

// TestSchemaRejects shows that the schema check can fail: a file
// edited past the SEPA limits is refused by xmllint.
func TestSchemaRejects(t *testing.T) {
	xsd := schema(t)
	data, err := sepa.Build(sepa.Batch{MsgID: "M1", Created: created, Execution: execution, Debtor: debtor, Orders: threeOrders()[:1]})
	if err != nil {
		t.Fatal(err)
	}
	mustValidate(t, xsd, data)
	for name, edit := range map[string][2]string{
		"amount above the maximum": {">123.45<", ">1000000000.00<"},
		"three decimals":           {">123.45<", ">123.451<"},
		"charge bearer":            {"<ChrgBr>SLEV</ChrgBr>", "<ChrgBr>SHAR</ChrgBr>"},
		"service level":            {"<Cd>SEPA</Cd>", "<Cd>URGP</Cd>"},
		"name above 70":            {"<Nm>Muller + Sohne GmbH</Nm>", "<Nm>" + strings.Repeat("x", 71) + "</Nm>"},
	} {
		t.Run(name, func(t *testing.T) {
			bad := strings.ReplaceAll(string(data), edit[0], edit[1])
			if bad == string(data) {
				t.Fatalf("%q is not in the batch", edit[0])
			}
			if ok, _ := xmllint(t, xsd, []byte(bad)); ok {
				t.Fatalf("xmllint accepted a batch with %s", name)
			}
		})
	}
}

func TestBuildRefuses(t *testing.T) {
	good := func() sepa.Batch {
		return sepa.Batch{MsgID: "M1", Created: created, Execution: execution, Debtor: debtor, Orders: threeOrders()}
	}
	tests := []struct {
		name string
		edit func(*sepa.Batch)
		code string
		msg  string
	}{
		{"USD order", func(b *sepa.Batch) { b.Orders[1].Currency = "USD" }, chengdui.EInvalid, "EUR only"},
		{"zero amount", func(b *sepa.Batch) { b.Orders[0].Amount = cents(0) }, chengdui.EZeroAmount, "positive"},
		{"above maximum", func(b *sepa.Batch) { b.Orders[0].Amount = cents(100_000_000_000) }, chengdui.EInvalidAmount, "SEPA maximum"},
		{"wrong decimals", func(b *sepa.Batch) { b.Orders[0].Decimals = 0 }, chengdui.EInvalid, "decimals"},
		{"bad IBAN", func(b *sepa.Batch) { b.Orders[0].Creditor.IBAN = "DE88370400440532013000" }, chengdui.EInvalid, "checksum"},
		{"IBAN outside SEPA", func(b *sepa.Batch) { b.Orders[0].Creditor.IBAN = "SA0380000000608010167519" }, chengdui.EInvalid, "outside SEPA"},
		{"bad BIC", func(b *sepa.Batch) { b.Orders[0].Creditor.BIC = "COBADE" }, chengdui.EInvalid, "BIC"},
		{"Chinese-only name", func(b *sepa.Batch) { b.Orders[0].Creditor.Name = "张伟" }, chengdui.EInvalid, "no Latin letters"},
		{"duplicate order", func(b *sepa.Batch) { b.Orders[2].ID = b.Orders[0].ID }, chengdui.EInvalid, "twice"},
		{"no orders", func(b *sepa.Batch) { b.Orders = nil }, chengdui.EInvalid, "no orders"},
		{"bad message id", func(b *sepa.Batch) { b.MsgID = "M/1" }, chengdui.EInvalid, "message id"},
		{"long message id", func(b *sepa.Batch) { b.MsgID = strings.Repeat("M", 36) }, chengdui.EInvalid, "message id"},
		{"no creation time", func(b *sepa.Batch) { b.Created = time.Time{} }, chengdui.EInvalid, "creation time"},
		{"debtor without name", func(b *sepa.Batch) { b.Debtor.Name = "" }, chengdui.EInvalid, "debtor name"},
		{"debtor bad IBAN", func(b *sepa.Batch) { b.Debtor.IBAN = "DE00" }, chengdui.EInvalid, "debtor IBAN"},
		{"debtor outside SEPA", func(b *sepa.Batch) { b.Debtor.IBAN = "TR330006100519786457841326" }, chengdui.EInvalid, "outside SEPA"},
		{"debtor bad BIC", func(b *sepa.Batch) { b.Debtor.BIC = "X" }, chengdui.EInvalid, "debtor BIC"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := good()
			tt.edit(&b)
			data, err := sepa.Build(b)
			if err == nil || chengdui.ErrorCode(err) != tt.code || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("Build() = %v, want code %s and %q", err, tt.code, tt.msg)
			}
			if data != nil {
				t.Fatal("Build returned data with an error")
			}
		})
	}
}

func TestTransliterate(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Müller", "Muller"},
		{"Straße", "Strasse"},
		{"François Lefèvre", "Francois Lefevre"},
		{"Ærøskøbing Œuvre", "AEroskobing OEuvre"},
		{"Łódź", "Lodz"},
		{"Smith & Co_Ltd", "Smith + Co-Ltd"},
		{"“quoted” ‘single’", "'quoted' 'single'"},
		{"ﬁne Ａｂｃ", "fine Abc"},
		{"a@b.com #1 *", "a b.com 1"},
		{"  lots   of\tspace\n", "lots of space"},
		{"张伟 Zhang Wei", "Zhang Wei"},
		{"张伟", ""},
		{"bad \xff byte", "bad byte"},
		{"a-z A-Z 0-9 / - ? : ( ) . , ' +", "a-z A-Z 0-9 / - ? : ( ) . , ' +"},
	}
	for _, tt := range tests {
		if got := sepa.Transliterate(tt.in); got != tt.want {
			t.Errorf("Transliterate(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzTransliterate(f *testing.F) {
	for _, s := range []string{"Müller & Söhne", "张伟", "a\x00b", "  x  ", "ß", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := sepa.Transliterate(s)
		if !utf8.ValidString(out) {
			t.Fatalf("invalid UTF-8 from %q", s)
		}
		for _, r := range out {
			if !strings.ContainsRune("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/-?:().,'+ ", r) {
				t.Fatalf("Transliterate(%q) = %q holds %q", s, out, r)
			}
		}
		if strings.HasPrefix(out, " ") || strings.HasSuffix(out, " ") || strings.Contains(out, "  ") {
			t.Fatalf("Transliterate(%q) = %q has stray spaces", s, out)
		}
		if again := sepa.Transliterate(out); again != out {
			t.Fatalf("Transliterate is not idempotent: %q → %q → %q", s, out, again)
		}
	})
}
