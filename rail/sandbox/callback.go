package sandbox

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"

	"chengdui"
	"chengdui/rail"
)

// SignatureHeader carries a callback's signature: "sha256=" and the hex
// HMAC-SHA256 of the body under the shared callback secret.
const SignatureHeader = "X-Sandbox-Signature"

// maxCallback bounds a callback body VerifyCallback reads.
const maxCallback = 16 << 10

// Sign returns the SignatureHeader value of a callback body.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// marshalUpdate is a callback's body: {"order_id","bank_ref","status",
// "reason","at"}, the time in UTC.
func marshalUpdate(u rail.Update) []byte {
	u.At = u.At.UTC()
	b, _ := json.Marshal(u) // strings and a time: cannot fail
	return b
}

// VerifyCallback checks a callback's signature header against its exact
// body and returns the update it carries. Call it on the raw body before
// any parsing. Fields the bank may add later are ignored. Codes:
// EUnauthorized for a missing, malformed or wrong signature (or an empty
// secret); EInvalid for a signed body that is not an update (bad JSON,
// an order id that is not a rail id, no bank reference, an unknown status,
// no time).
func VerifyCallback(secret string, body []byte, sigHeader string) (rail.Update, error) {
	if secret == "" {
		return rail.Update{}, chengdui.Errorf(chengdui.EUnauthorized, "no callback secret to verify with")
	}
	hexSig, ok := strings.CutPrefix(strings.TrimSpace(sigHeader), "sha256=")
	if !ok {
		return rail.Update{}, chengdui.Errorf(chengdui.EUnauthorized, "the %s header must be sha256=<hex>", SignatureHeader)
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil || len(got) != sha256.Size {
		return rail.Update{}, chengdui.Errorf(chengdui.EUnauthorized, "the %s header must be sha256=<64 hex digits>", SignatureHeader)
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	if !hmac.Equal(got, m.Sum(nil)) {
		return rail.Update{}, chengdui.Errorf(chengdui.EUnauthorized, "the callback signature does not match")
	}
	if len(body) > maxCallback {
		return rail.Update{}, chengdui.Errorf(chengdui.EInvalid, "the callback body exceeds %d bytes", maxCallback)
	}
	var u rail.Update
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&u); err != nil || dec.More() {
		return rail.Update{}, chengdui.Errorf(chengdui.EInvalid, "the callback body is not one JSON update")
	}
	switch {
	case !rail.ValidID(u.OrderID):
		return rail.Update{}, chengdui.Errorf(chengdui.EInvalid, "the callback's order_id %q is not an order id", clip(u.OrderID))
	case u.BankRef == "" || len(u.BankRef) > 64:
		return rail.Update{}, chengdui.Errorf(chengdui.EInvalid, "the callback's bank_ref must be 1-64 bytes")
	case !u.Status.Valid():
		return rail.Update{}, chengdui.Errorf(chengdui.EInvalid, "the callback's status %q is unknown", clip(string(u.Status)))
	case u.At.IsZero():
		return rail.Update{}, chengdui.Errorf(chengdui.EInvalid, "the callback has no time")
	}
	return u, nil
}
