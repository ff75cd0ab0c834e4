package settle

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"chengdui"
	"chengdui/invoice"
	"chengdui/rail"
)

// Limits of a settlement profile.
const (
	// TotalBps is what a profile's splits sum to: 100 %.
	TotalBps = 10000
	// MaxSplits bounds a profile's splits.
	MaxSplits = 10
	// MaxProfileBytes bounds the JSON of an UpdateRequest.
	MaxProfileBytes = 64 << 10
	// maxAddressLen bounds a CHAIN destination's address.
	maxAddressLen = 200
)

// UpdateRequest is a store owner's new settlement profile: it replaces
// the splits, the schedule and the minimums. OTP is the owner's second
// factor (a TOTP or recovery code), needed when the splits add or change
// a destination.
type UpdateRequest struct {
	Splits    []chengdui.SettlementSplit `json:"splits"`
	Schedule  chengdui.PayoutSchedule    `json:"schedule"`
	MinPayout map[string]string          `json:"min_payout"`
	OTP       string                     `json:"otp,omitempty"`
}

// ParseUpdate reads an UpdateRequest from outside JSON: one object of at
// most MaxProfileBytes, no unknown fields, no trailing data. It checks
// the shape only (Profiles.Update validates the content). Errors are a
// *invoice.ValidationError naming the field (a value of the wrong type)
// or EInvalid.
func ParseUpdate(body []byte) (UpdateRequest, error) {
	var req UpdateRequest
	if len(body) > MaxProfileBytes {
		return req, chengdui.Errorf(chengdui.EInvalid, "a settlement profile is at most %d KiB of JSON", MaxProfileBytes>>10)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		var typ *json.UnmarshalTypeError
		if errors.As(err, &typ) && typ.Field != "" {
			return UpdateRequest{}, &invoice.ValidationError{Fields: []invoice.FieldError{{Field: typ.Field, Message: "has the wrong JSON type"}}}
		}
		return UpdateRequest{}, chengdui.Errorf(chengdui.EInvalid, "settlement profile: %s", clipText(err.Error()))
	}
	if dec.More() {
		return UpdateRequest{}, chengdui.Errorf(chengdui.EInvalid, "settlement profile: one JSON object expected")
	}
	return req, nil
}

// AssetInfo is what validation knows of the ledger's assets, by code.
type AssetInfo map[string]chengdui.Asset

// Validate checks a profile's splits, schedule and minimums and returns
// them normalised (IBANs and BICs in electronic form, addresses as
// CheckAddress returns them, an empty schedule kind as manual). Every
// problem is reported, as a *invoice.ValidationError with the JSON path
// of each field at fault:
//
//   - 1 to MaxSplits splits whose Bps (each 1 to 10000) sum to exactly
//     TotalBps; each asset known to the ledger and in one split only;
//   - BANK: an asset a rail pays (EUR, CNY, USD) and a creditor the rail
//     accepts (a name; an IBAN, required for EUR, with a valid checksum
//     and an optional BIC, or a domestic account and bank code); no
//     address;
//   - CHAIN: an asset that is not fiat, and an address (checked by
//     checkAddress when it is given); no creditor;
//   - BALANCE: neither;
//   - schedule manual, instant, or daily with At "HH:MM" (00:00–23:59)
//     and an optional IANA TimeZone;
//   - minimums: decimals within the asset's decimals, for known assets.
func Validate(req UpdateRequest, assets AssetInfo, checkAddress func(asset, address string) (string, error)) (UpdateRequest, error) {
	var bad []invoice.FieldError
	fail := func(path, format string, args ...any) {
		bad = append(bad, invoice.FieldError{Field: path, Message: fmt.Sprintf(format, args...)})
	}
	out := UpdateRequest{OTP: req.OTP, Schedule: req.Schedule}
	switch {
	case len(req.Splits) == 0:
		fail("splits", "at least one split is required (100 %% kept as a BALANCE in one asset, for example)")
	case len(req.Splits) > MaxSplits:
		fail("splits", "at most %d splits", MaxSplits)
	}
	var total uint64
	seen := map[string]int{}
	for i, sp := range req.Splits {
		if i >= MaxSplits {
			break
		}
		path := "splits[" + strconv.Itoa(i) + "]"
		total += uint64(sp.Bps)
		if sp.Bps == 0 || sp.Bps > TotalBps {
			fail(path+".bps", "a share is 1 to %d hundredths of a percent (%d is 100 %%)", TotalBps, TotalBps)
		}
		a, known := assets[sp.Asset]
		if !known {
			fail(path+".asset", "unknown asset %q", clipText(sp.Asset))
		} else if j, dup := seen[sp.Asset]; dup {
			fail(path+".asset", "%s is already in splits[%d]: each asset has one destination", sp.Asset, j)
		} else {
			seen[sp.Asset] = i
		}
		d := sp.Destination
		d.Type = strings.ToUpper(strings.TrimSpace(d.Type))
		switch d.Type {
		case chengdui.DestinationBank:
			if d.Address != "" {
				fail(path+".destination.address", "a BANK destination is a creditor, not an address")
			}
			dec, ok := rail.CurrencyDecimals(sp.Asset)
			if known && (!ok || dec != a.Decimals) {
				fail(path+".asset", "%s cannot be paid to a bank; banks are paid EUR, CNY or USD", clipText(sp.Asset))
			}
			if d.Creditor == nil {
				fail(path+".destination.creditor", "a BANK destination needs a creditor: name and IBAN (and BIC), or account and bank_code")
				break
			}
			c := *d.Creditor
			c.Name, c.IBAN, c.BIC = strings.TrimSpace(c.Name), rail.NormalizeIBAN(c.IBAN), rail.NormalizeBIC(c.BIC)
			c.Account, c.BankCode, c.Country = strings.TrimSpace(c.Account), strings.TrimSpace(c.BankCode), strings.TrimSpace(c.Country)
			d.Creditor = &c
			cur := sp.Asset
			if !ok {
				cur = "EUR" // the creditor is checked all the same
			}
			o := rail.Order{ID: "check", Currency: cur, Amount: chengdui.Amount{Lo: 1}, Decimals: 2, Creditor: Party(c)}
			if err := o.Validate(); err != nil {
				fail(path+".destination.creditor", "%s", strings.TrimPrefix(chengdui.ErrorMessage(err), "order check: creditor "))
			}
		case chengdui.DestinationChain:
			if d.Creditor != nil {
				fail(path+".destination.creditor", "a CHAIN destination is an address, not a creditor")
			}
			if known && a.Network == "fiat" {
				fail(path+".asset", "%s is fiat: it is paid to a BANK, not to an address", sp.Asset)
			}
			addr := strings.TrimSpace(d.Address)
			switch {
			case addr == "":
				fail(path+".destination.address", "a CHAIN destination needs an address")
			case len(addr) > maxAddressLen || strings.ContainsFunc(addr, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) || !utf8.ValidString(addr):
				fail(path+".destination.address", "address %q is not valid", clipText(addr))
			case checkAddress != nil && known:
				canon, err := checkAddress(sp.Asset, addr)
				if err != nil {
					fail(path+".destination.address", "%s", chengdui.ErrorMessage(err))
				}
				addr = canon
			}
			d.Address = addr
		case chengdui.DestinationBalance:
			if d.Creditor != nil || d.Address != "" {
				fail(path+".destination", "a BALANCE destination has neither creditor nor address")
			}
		default:
			fail(path+".destination.type", "%q: use BANK, CHAIN or BALANCE", clipText(sp.Destination.Type))
		}
		out.Splits = append(out.Splits, chengdui.SettlementSplit{Bps: sp.Bps, Asset: sp.Asset, Destination: d})
	}
	if len(req.Splits) > 0 && total != TotalBps {
		fail("splits", "the shares sum to %s %%; they must sum to exactly 100 %%", bpsPercent(total))
	}

	out.Schedule.Kind = strings.ToLower(strings.TrimSpace(out.Schedule.Kind))
	switch out.Schedule.Kind {
	case "", chengdui.ScheduleManual, chengdui.ScheduleInstant:
		if out.Schedule.Kind == "" {
			out.Schedule.Kind = chengdui.ScheduleManual
		}
		if out.Schedule.At != "" || out.Schedule.TimeZone != "" {
			fail("schedule.at", "only a daily schedule has a time")
		}
	case chengdui.ScheduleDaily:
		if _, _, err := parseHHMM(out.Schedule.At); err != nil {
			fail("schedule.at", "%s", err)
		}
		if tz := out.Schedule.TimeZone; tz != "" {
			if _, err := loadZone(tz); err != nil {
				fail("schedule.time_zone", "%q is not a known IANA time zone", clipText(tz))
			}
		}
	default:
		fail("schedule.kind", "%q: use manual, instant or daily", clipText(req.Schedule.Kind))
	}

	if len(req.MinPayout) > 0 {
		out.MinPayout = make(map[string]string, len(req.MinPayout))
	}
	for _, asset := range sortedKeys(req.MinPayout) {
		v := req.MinPayout[asset]
		path := "min_payout." + clipText(asset)
		a, ok := assets[asset]
		if !ok {
			fail(path, "unknown asset %q", clipText(asset))
			continue
		}
		amt, err := chengdui.ParseDecimal(strings.TrimSpace(v), a.Decimals)
		if err != nil {
			fail(path, "%s", chengdui.ErrorMessage(err))
			continue
		}
		out.MinPayout[asset] = chengdui.FormatDecimal(amt, a.Decimals)
	}
	if len(bad) > 0 {
		return UpdateRequest{}, &invoice.ValidationError{Fields: bad}
	}
	return out, nil
}

// Party is the rail's creditor of a settlement creditor.
func Party(c chengdui.SettlementCreditor) rail.Party {
	return rail.Party{Name: c.Name, IBAN: c.IBAN, BIC: c.BIC, Account: c.Account, BankCode: c.BankCode, Country: c.Country}
}

// parseHHMM reads "HH:MM", 00:00 to 23:59.
func parseHHMM(s string) (h, m int, err error) {
	if len(s) != 5 || s[2] != ':' {
		return 0, 0, fmt.Errorf("%q: a daily schedule has a time HH:MM (00:00 to 23:59)", clipText(s))
	}
	h, err1 := strconv.Atoi(s[:2])
	m, err2 := strconv.Atoi(s[3:])
	if err1 != nil || err2 != nil || h < 0 || h > 23 || m < 0 || m > 59 || s[0] == '+' || s[3] == '+' || s[0] == '-' || s[3] == '-' {
		return 0, 0, fmt.Errorf("%q: a daily schedule has a time HH:MM (00:00 to 23:59)", clipText(s))
	}
	return h, m, nil
}

// loadZone loads an IANA zone; "" and "UTC" are UTC. Local is refused: a
// schedule means the same instant on every server.
func loadZone(name string) (*time.Location, error) {
	if name == "" || name == "UTC" {
		return time.UTC, nil
	}
	if name == "Local" || strings.ContainsAny(name, "\\") || strings.HasPrefix(name, "/") || strings.Contains(name, "..") {
		return nil, errors.New("not an IANA zone")
	}
	return time.LoadLocation(name)
}

// bpsPercent writes basis points as a percentage: 9950 → "99.5".
func bpsPercent(bps uint64) string {
	s := strconv.FormatUint(bps/100, 10)
	if f := bps % 100; f != 0 {
		s += strings.TrimRight(fmt.Sprintf(".%02d", f), "0")
	}
	return s
}

// newDestinations lists the splits of next that pay an asset to a BANK
// or CHAIN destination that cur does not already pay that asset to:
// those need the owner's second factor and the change delay. Percentages
// of destinations already approved, and BALANCE, do not.
func newDestinations(cur, next []chengdui.SettlementSplit) []chengdui.SettlementSplit {
	var out []chengdui.SettlementSplit
	for _, n := range next {
		if n.Destination.Type == chengdui.DestinationBalance {
			continue
		}
		if !slices.ContainsFunc(cur, func(c chengdui.SettlementSplit) bool {
			return c.Asset == n.Asset && sameDestination(c.Destination, n.Destination)
		}) {
			out = append(out, n)
		}
	}
	return out
}

func sameDestination(a, b chengdui.SettlementDestination) bool {
	if a.Type != b.Type || a.Address != b.Address || (a.Creditor == nil) != (b.Creditor == nil) {
		return false
	}
	return a.Creditor == nil || *a.Creditor == *b.Creditor
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// clipText keeps hostile input from flooding messages and logs.
func clipText(s string) string {
	if len(s) > 40 {
		for i := 40; i > 0; i-- {
			if utf8.RuneStart(s[i]) {
				return s[:i] + "…"
			}
		}
	}
	return s
}
