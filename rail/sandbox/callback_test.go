package sandbox_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"chengdui"
	"chengdui/rail"
	"chengdui/rail/sandbox"
)

// sign is the receiving side's own HMAC, independent of sandbox.Sign.
func sign(key, body string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(body))
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

const goodBody = `{"order_id":"po-1","bank_ref":"SBX0000000001","status":"completed","reason":"","at":"2024-05-06T07:08:09.5Z"}`

func TestSign(t *testing.T) {
	// RFC 4231 test case 2: key "Jefe".
	got := sandbox.Sign("Jefe", []byte("what do ya want for nothing?"))
	if want := "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"; got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
}

func TestVerifyCallback(t *testing.T) {
	u, err := sandbox.VerifyCallback(secret, []byte(goodBody), sign(secret, goodBody))
	want := rail.Update{OrderID: "po-1", BankRef: "SBX0000000001", Status: rail.Completed,
		At: time.Date(2024, 5, 6, 7, 8, 9, 500_000_000, time.UTC)}
	if err != nil || u.OrderID != want.OrderID || u.BankRef != want.BankRef || u.Status != want.Status || !u.At.Equal(want.At) {
		t.Fatalf("VerifyCallback = %+v, %v", u, err)
	}
	withExtra := strings.Replace(goodBody, "{", `{"attempt":2,`, 1)
	if _, err := sandbox.VerifyCallback(secret, []byte(withExtra), sign(secret, withExtra)); err != nil {
		t.Fatalf("a field added by the bank: %v", err)
	}
	upper := "sha256=" + strings.ToUpper(strings.TrimPrefix(sign(secret, goodBody), "sha256="))
	if _, err := sandbox.VerifyCallback(secret, []byte(goodBody), upper); err != nil {
		t.Fatalf("upper-case hex: %v", err)
	}

	signed := func(body string) [3]string { return [3]string{secret, body, sign(secret, body)} }
	tests := []struct {
		name string
		in   [3]string // secret, body, header
		code string
		msg  string
	}{
		{"tampered body", [3]string{secret, strings.Replace(goodBody, "completed", "failed", 1), sign(secret, goodBody)}, chengdui.EUnauthorized, "does not match"},
		{"wrong secret", [3]string{secret, goodBody, sign("other", goodBody)}, chengdui.EUnauthorized, "does not match"},
		{"no header", [3]string{secret, goodBody, ""}, chengdui.EUnauthorized, "sha256="},
		{"no prefix", [3]string{secret, goodBody, strings.TrimPrefix(sign(secret, goodBody), "sha256=")}, chengdui.EUnauthorized, "sha256="},
		{"sha1 prefix", [3]string{secret, goodBody, "sha1=" + strings.TrimPrefix(sign(secret, goodBody), "sha256=")}, chengdui.EUnauthorized, "sha256="},
		{"not hex", [3]string{secret, goodBody, "sha256=" + strings.Repeat("zz", 32)}, chengdui.EUnauthorized, "64 hex"},
		{"short", [3]string{secret, goodBody, sign(secret, goodBody)[:40]}, chengdui.EUnauthorized, "64 hex"},
		{"no secret", [3]string{"", goodBody, sign("", goodBody)}, chengdui.EUnauthorized, "secret"},
		{"not JSON", signed("{"), chengdui.EInvalid, "JSON"},
		{"two values", signed(goodBody + goodBody), chengdui.EInvalid, "JSON"},
		{"bad order id", signed(strings.Replace(goodBody, "po-1", "po 1", 1)), chengdui.EInvalid, "order_id"},
		{"no bank ref", signed(strings.Replace(goodBody, "SBX0000000001", "", 1)), chengdui.EInvalid, "bank_ref"},
		{"unknown status", signed(strings.Replace(goodBody, "completed", "done", 1)), chengdui.EInvalid, "status"},
		{"no time", signed(strings.Replace(goodBody, `,"at":"2024-05-06T07:08:09.5Z"`, "", 1)), chengdui.EInvalid, "time"},
		{"bad time", signed(strings.Replace(goodBody, "2024-05-06T07:08:09.5Z", "yesterday", 1)), chengdui.EInvalid, "JSON"},
		{"huge", signed(strings.Replace(goodBody, `"reason":""`, `"reason":"`+strings.Repeat("x", 20000)+`"`, 1)), chengdui.EInvalid, "exceeds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := sandbox.VerifyCallback(tt.in[0], []byte(tt.in[1]), tt.in[2])
			if chengdui.ErrorCode(err) != tt.code || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("VerifyCallback = %v, want %s %q", err, tt.code, tt.msg)
			}
		})
	}
}

func FuzzVerifyCallback(f *testing.F) {
	f.Add([]byte(goodBody), sign(secret, goodBody), true)
	f.Add([]byte(`{"order_id":"a","bank_ref":"b","status":"returned","at":"2024-01-01T00:00:00Z"}`), "sha256=00", false)
	f.Add([]byte("{}"), "", true)
	f.Fuzz(func(t *testing.T, body []byte, header string, signIt bool) {
		if signIt {
			header = sandbox.Sign(secret, body)
		}
		u, err := sandbox.VerifyCallback(secret, body, header)
		if err != nil {
			if c := chengdui.ErrorCode(err); c != chengdui.EUnauthorized && c != chengdui.EInvalid {
				t.Fatalf("code %q", c)
			}
			return
		}
		if !hmac.Equal([]byte(strings.ToLower(strings.TrimSpace(header))), []byte(sign(secret, string(body)))) {
			t.Fatalf("accepted header %q for body %q", header, body)
		}
		if !rail.ValidID(u.OrderID) || u.BankRef == "" || !u.Status.Valid() || u.At.IsZero() {
			t.Fatalf("accepted update %+v", u)
		}
	})
}
