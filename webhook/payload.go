package webhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"chengdui/invoice"
)

// field is one top-level member of a JSON object, in order.
type field struct {
	key string
	raw json.RawMessage
}

// envelope lists the fields the sender owns, in the order they are
// written; an event's Data cannot override them.
var envelope = [...]string{"deliveryId", "webhookId", "originalDeliveryId", "isRedelivery", "type", "timestamp", "storeId", "invoiceId", "metadata"}

func isEnvelope(k string) bool {
	for _, e := range envelope {
		if e == k {
			return true
		}
	}
	return false
}

// buildBody is the Greenfield payload (WebhookInvoice*Event, or a payout's
// event) of a first delivery of ev: the envelope, then ev.Data's fields by
// name. metadata is
// the invoice's metadata, {} when it has none or it is not an object; now
// stands in for an event without time.
func buildBody(deliveryID, webhookID string, ev invoice.Event, metadata json.RawMessage, now time.Time) ([]byte, error) {
	ts := ev.CreatedAt.Unix()
	if ev.CreatedAt.IsZero() {
		ts = now.Unix()
	}
	var data map[string]json.RawMessage
	if len(bytes.TrimSpace(ev.Data)) > 0 {
		if err := json.Unmarshal(ev.Data, &data); err != nil {
			return nil, fmt.Errorf("event %s: data is not a JSON object: %w", ev.ID, err)
		}
	}
	meta := json.RawMessage(`{}`)
	if isObject(metadata) {
		var b bytes.Buffer
		if err := json.Compact(&b, metadata); err == nil {
			meta = b.Bytes()
		}
	}
	fs := []field{
		{"deliveryId", str(deliveryID)},
		{"webhookId", str(webhookID)},
		{"originalDeliveryId", str(deliveryID)},
		{"isRedelivery", json.RawMessage(`false`)},
		{"type", str(ev.Type)},
		{"timestamp", json.RawMessage(fmt.Sprint(ts))},
		{"storeId", str(ev.StoreID)},
	}
	// An invoice's events carry it and its metadata; a payout's
	// (PayoutCreated…) are about no invoice, as in Greenfield.
	if ev.InvoiceID != "" {
		fs = append(fs, field{"invoiceId", str(ev.InvoiceID)}, field{"metadata", meta})
	}
	keys := make([]string, 0, len(data))
	for k := range data {
		if !isEnvelope(k) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		var b bytes.Buffer
		if err := json.Compact(&b, data[k]); err != nil {
			return nil, fmt.Errorf("event %s: data field %q: %w", ev.ID, k, err)
		}
		fs = append(fs, field{k, b.Bytes()})
	}
	return writeObject(fs), nil
}

// redeliveryBody is body (a stored delivery's) made into a redelivery's:
// the same bytes but for deliveryId, webhookId and isRedelivery, and
// originalDeliveryId kept as the first delivery's (BTCPay does the same).
func redeliveryBody(body []byte, deliveryID, webhookID, originalID string) ([]byte, error) {
	fs, err := readObject(body)
	if err != nil {
		return nil, err
	}
	set := map[string]json.RawMessage{
		"deliveryId":         str(deliveryID),
		"webhookId":          str(webhookID),
		"originalDeliveryId": str(originalID),
		"isRedelivery":       json.RawMessage(`true`),
	}
	for i := range fs {
		if v, ok := set[fs[i].key]; ok {
			fs[i].raw = v
			delete(set, fs[i].key)
		}
	}
	if len(set) > 0 {
		return nil, errors.New("stored delivery body lacks the envelope fields")
	}
	return writeObject(fs), nil
}

// readObject splits a JSON object into its top-level fields, in order.
func readObject(b []byte) ([]field, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, errors.New("delivery body is not a JSON object")
	}
	var fs []field
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, err
		}
		k, _ := t.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, err
		}
		fs = append(fs, field{k, raw})
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	return fs, nil
}

func writeObject(fs []field) []byte {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, f := range fs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(str(f.key))
		b.WriteByte(':')
		b.Write(f.raw)
	}
	b.WriteByte('}')
	return b.Bytes()
}

func str(s string) json.RawMessage {
	b, _ := json.Marshal(s)
	return b
}

func isObject(b json.RawMessage) bool {
	b = bytes.TrimSpace(b)
	return len(b) > 0 && b[0] == '{' && json.Valid(b)
}
