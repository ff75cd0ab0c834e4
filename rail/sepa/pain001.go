package sepa

import (
	"bytes"
	"encoding/xml"
	"strconv"
	"strings"
	"time"

	"lukechampine.com/uint128"

	"chengdui"
	"chengdui/rail"
)

// Namespace is the XML namespace of pain.001.001.09 documents.
const Namespace = "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"

// Limits of the EPC SEPA Credit Transfer customer-to-PSP guidelines.
const (
	// MaxNameLen is the longest party name in a SEPA file; longer
	// names are cut (after transliteration).
	MaxNameLen = 70
	// MaxReferenceLen is the longest unstructured remittance
	// information; transliteration can lengthen a reference (ß → ss),
	// which is then cut.
	MaxReferenceLen = 140
)

// MaxAmount is the largest SEPA credit transfer, 999,999,999.99 EUR in
// cents.
var MaxAmount = uint128.From64(99_999_999_999)

// maxCtrlSum is the largest control sum: 18 digits, 2 of them decimals.
var maxCtrlSum = uint128.From64(999_999_999_999_999_999)

// Debtor is the account payouts are paid from: ours.
type Debtor struct {
	Name string // transliterated and cut to 70 characters
	IBAN string
	BIC  string // optional; without it the debtor agent is NOTPROVIDED
}

// Batch is one pain.001 file: one payment information block debiting
// Debtor once per order (or once for all with BatchBooking).
type Batch struct {
	// MsgID identifies the file to the bank, which refuses a MsgID it has
	// seen: 1-35 letters, digits, '-', '.' or ':' (rail.ValidID).
	MsgID string
	// Created is the file's creation time (CreDtTm), written in UTC.
	Created time.Time
	// Execution is the requested execution date (ReqdExctnDt): its
	// calendar date in its own location.
	Execution time.Time
	// Initiator names the initiating party; Debtor.Name when empty.
	Initiator    string
	Debtor       Debtor
	BatchBooking bool // one debit for the whole batch on our statement
	Orders       []rail.Order
}

// The XML of a pain.001.001.09 document, in the schema's element order.
// Decoding uses the same types.
type (
	document struct {
		XMLName xml.Name   `xml:"urn:iso:std:iso:20022:tech:xsd:pain.001.001.09 Document"`
		Init    initiation `xml:"CstmrCdtTrfInitn"`
	}
	initiation struct {
		GrpHdr groupHeader   `xml:"GrpHdr"`
		PmtInf []paymentInfo `xml:"PmtInf"`
	}
	groupHeader struct {
		MsgID    string   `xml:"MsgId"`
		CreDtTm  string   `xml:"CreDtTm"`
		NbOfTxs  string   `xml:"NbOfTxs"`
		CtrlSum  string   `xml:"CtrlSum"`
		InitgPty partyXML `xml:"InitgPty"`
	}
	partyXML struct {
		Nm string `xml:"Nm"`
	}
	paymentInfo struct {
		PmtInfID    string        `xml:"PmtInfId"`
		PmtMtd      string        `xml:"PmtMtd"`
		BtchBookg   bool          `xml:"BtchBookg"`
		NbOfTxs     string        `xml:"NbOfTxs"`
		CtrlSum     string        `xml:"CtrlSum"`
		SvcLvl      string        `xml:"PmtTpInf>SvcLvl>Cd"`
		ReqdExctnDt string        `xml:"ReqdExctnDt>Dt"`
		Dbtr        partyXML      `xml:"Dbtr"`
		DbtrAcct    accountXML    `xml:"DbtrAcct"`
		DbtrAgt     agentXML      `xml:"DbtrAgt"`
		ChrgBr      string        `xml:"ChrgBr"`
		CdtTrfTxInf []transaction `xml:"CdtTrfTxInf"`
	}
	accountXML struct {
		IBAN string `xml:"Id>IBAN"`
	}
	agentXML struct {
		BICFI string   `xml:"FinInstnId>BICFI,omitempty"`
		Othr  *otherID `xml:"FinInstnId>Othr,omitempty"`
	}
	otherID struct {
		ID string `xml:"Id"`
	}
	transaction struct {
		InstrID    string      `xml:"PmtId>InstrId"`
		EndToEndID string      `xml:"PmtId>EndToEndId"`
		Amt        amountXML   `xml:"Amt>InstdAmt"`
		CdtrAgt    *agentXML   `xml:"CdtrAgt,omitempty"`
		Cdtr       partyXML    `xml:"Cdtr"`
		CdtrAcct   accountXML  `xml:"CdtrAcct"`
		RmtInf     *remittance `xml:"RmtInf,omitempty"`
	}
	amountXML struct {
		Ccy   string `xml:"Ccy,attr"`
		Value string `xml:",chardata"`
	}
	remittance struct {
		Ustrd string `xml:"Ustrd"`
	}
)

// ValidateOrder checks that o can travel in a SEPA credit transfer file:
// rail.Order.Validate, EUR, at most 999,999,999.99, a creditor IBAN of a
// SEPA country and a name that keeps a letter or digit after
// transliteration. Codes: EInvalid, EInvalidAmount, EZeroAmount.
func ValidateOrder(o rail.Order) error {
	_, err := renderTx(o)
	return err
}

// renderTx validates o and renders its CdtTrfTxInf.
func renderTx(o rail.Order) (transaction, error) {
	if err := o.Validate(); err != nil {
		return transaction{}, err
	}
	if o.Currency != "EUR" {
		return transaction{}, chengdui.Errorf(chengdui.EInvalid, "order %s: SEPA credit transfers pay EUR only, not %s", o.ID, o.Currency)
	}
	if o.Amount.Cmp(MaxAmount) > 0 {
		return transaction{}, chengdui.Errorf(chengdui.EInvalidAmount, "order %s: %s EUR is above the SEPA maximum 999999999.99", o.ID, chengdui.FormatDecimal(o.Amount, 2))
	}
	iban := rail.NormalizeIBAN(o.Creditor.IBAN)
	if !rail.IsSEPACountry(iban[:2]) {
		return transaction{}, chengdui.Errorf(chengdui.EInvalid, "order %s: creditor IBAN country %s is outside SEPA", o.ID, iban[:2])
	}
	name := truncate(Transliterate(o.Creditor.Name), MaxNameLen)
	if strings.Trim(name, "/-?:().,'+ ") == "" {
		return transaction{}, chengdui.Errorf(chengdui.EInvalid, "order %s: creditor name %q has no Latin letters or digits", o.ID, o.Creditor.Name)
	}
	tx := transaction{
		InstrID:    o.ID,
		EndToEndID: o.ID,
		Amt:        amountXML{Ccy: "EUR", Value: chengdui.FormatDecimal(o.Amount, 2)},
		Cdtr:       partyXML{Nm: name},
		CdtrAcct:   accountXML{IBAN: iban},
	}
	if o.Creditor.BIC != "" {
		tx.CdtrAgt = &agentXML{BICFI: rail.NormalizeBIC(o.Creditor.BIC)}
	}
	if ref := truncate(Transliterate(o.Reference), MaxReferenceLen); ref != "" {
		tx.RmtInf = &remittance{Ustrd: ref}
	}
	return tx, nil
}

// Build validates a batch and returns its pain.001.001.09 XML, which
// validates against the EPC SCT customer-to-PSP 2023 schema. Nothing is
// written on a refusal. Amounts are the orders' cents printed with two
// decimals; names and the reference are transliterated to the SEPA
// character set (see Transliterate). Codes: EInvalid, EInvalidAmount,
// EZeroAmount, EOverflow (control sum above 18 digits).
func Build(b Batch) ([]byte, error) {
	doc, err := render(b)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	enc := xml.NewEncoder(&buf)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return nil, chengdui.Errorf(chengdui.EInternal, "sepa: encoding batch %s: %v", b.MsgID, err)
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}

func render(b Batch) (document, error) {
	if !rail.ValidID(b.MsgID) {
		return document{}, chengdui.Errorf(chengdui.EInvalid, "batch message id %q must be 1-35 letters, digits, '-', '.' or ':'", b.MsgID)
	}
	if b.Created.IsZero() || b.Execution.IsZero() {
		return document{}, chengdui.Errorf(chengdui.EInvalid, "batch %s needs a creation time and an execution date", b.MsgID)
	}
	if len(b.Orders) == 0 {
		return document{}, chengdui.Errorf(chengdui.EInvalid, "batch %s has no orders", b.MsgID)
	}
	dbtr, dbtrAcct, dbtrAgt, err := renderDebtor(b.Debtor)
	if err != nil {
		return document{}, err
	}
	initiator := truncate(Transliterate(b.Initiator), MaxNameLen)
	if initiator == "" {
		initiator = dbtr.Nm
	}
	txs := make([]transaction, 0, len(b.Orders))
	seen := make(map[string]bool, len(b.Orders))
	var sum chengdui.Amount
	for _, o := range b.Orders {
		tx, err := renderTx(o)
		if err != nil {
			return document{}, err
		}
		if seen[o.ID] {
			return document{}, chengdui.Errorf(chengdui.EInvalid, "batch %s holds order %s twice", b.MsgID, o.ID)
		}
		seen[o.ID] = true
		var ok bool
		if sum, ok = chengdui.AddAmounts(sum, o.Amount); !ok || sum.Cmp(maxCtrlSum) > 0 {
			return document{}, chengdui.Errorf(chengdui.EOverflow, "batch %s: the control sum exceeds 18 digits; split the batch", b.MsgID)
		}
		txs = append(txs, tx)
	}
	n := strconv.Itoa(len(txs))
	ctrl := chengdui.FormatDecimal(sum, 2)
	return document{Init: initiation{
		GrpHdr: groupHeader{
			MsgID:    b.MsgID,
			CreDtTm:  b.Created.UTC().Format("2006-01-02T15:04:05Z"),
			NbOfTxs:  n,
			CtrlSum:  ctrl,
			InitgPty: partyXML{Nm: initiator},
		},
		PmtInf: []paymentInfo{{
			PmtInfID:    b.MsgID,
			PmtMtd:      "TRF",
			BtchBookg:   b.BatchBooking,
			NbOfTxs:     n,
			CtrlSum:     ctrl,
			SvcLvl:      "SEPA",
			ReqdExctnDt: b.Execution.Format(time.DateOnly),
			Dbtr:        dbtr,
			DbtrAcct:    dbtrAcct,
			DbtrAgt:     dbtrAgt,
			ChrgBr:      "SLEV",
			CdtTrfTxInf: txs,
		}},
	}}, nil
}

func renderDebtor(d Debtor) (partyXML, accountXML, agentXML, error) {
	name := truncate(Transliterate(d.Name), MaxNameLen)
	if strings.Trim(name, "/-?:().,'+ ") == "" {
		return partyXML{}, accountXML{}, agentXML{}, chengdui.Errorf(chengdui.EInvalid, "debtor name %q has no Latin letters or digits", d.Name)
	}
	if err := rail.ValidateIBAN(d.IBAN); err != nil {
		return partyXML{}, accountXML{}, agentXML{}, chengdui.Errorf(chengdui.EInvalid, "debtor %s", chengdui.ErrorMessage(err))
	}
	iban := rail.NormalizeIBAN(d.IBAN)
	if !rail.IsSEPACountry(iban[:2]) {
		return partyXML{}, accountXML{}, agentXML{}, chengdui.Errorf(chengdui.EInvalid, "debtor IBAN country %s is outside SEPA", iban[:2])
	}
	agent := agentXML{Othr: &otherID{ID: "NOTPROVIDED"}}
	if d.BIC != "" {
		if err := rail.ValidateBIC(d.BIC); err != nil {
			return partyXML{}, accountXML{}, agentXML{}, chengdui.Errorf(chengdui.EInvalid, "debtor %s", chengdui.ErrorMessage(err))
		}
		agent = agentXML{BICFI: rail.NormalizeBIC(d.BIC)}
	}
	return partyXML{Nm: name}, accountXML{IBAN: iban}, agent, nil
}

// parse decodes a pain.001.001.09 document written by Build.
func parse(data []byte) (document, error) {
	var doc document
	if err := xml.Unmarshal(data, &doc); err != nil {
		return document{}, err
	}
	return doc, nil
}
