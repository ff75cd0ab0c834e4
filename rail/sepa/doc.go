// Package sepa pays EUR orders by SEPA credit transfer files: ISO 20022
// pain.001.001.09 customer credit transfer initiations as restricted by
// the European Payments Council's SCT customer-to-PSP implementation
// guidelines (EPC132-08, 2023 rulebook). Build renders and validates one
// batch; Rail implements rail.Rail by queueing orders and writing one file
// per Flush.
//
// A file has one group header (MsgId, CreDtTm, NbOfTxs, CtrlSum,
// InitgPty) and one payment information block (PmtMtd TRF, SvcLvl SEPA,
// the requested execution date, our account as debtor, ChrgBr SLEV) with
// one CdtTrfTxInf per order: InstrId and EndToEndId are the order id, the
// amount is the order's cents printed with exactly two decimals (never a
// float), CdtrAgt carries the creditor's BIC when it has one, then the
// creditor's name and IBAN and the reference as unstructured remittance
// information.
//
// Text. SEPA banks must carry only the basic Latin set a-z A-Z 0-9
// / - ? : ( ) . , ' + and space. Names and references are transliterated
// into it (Transliterate): compatibility forms and accents are decomposed
// and the accents dropped (é → e, ﬁ → fi, full-width Ａ → A), ß æ œ ø ł þ
// and a few signs are spelled (ss, ae, oe, o, l, th; & → +, _ → -, curly
// quotes → '), everything else becomes a space. Names are then cut to 70
// characters and references to 140. Order ids need nothing: rail.ValidID
// allows only characters of the set, and never '/'.
//
// Refusals happen before anything is written: a currency other than EUR,
// an amount outside 0.01–999,999,999.99, an IBAN that fails ISO 13616 or
// is outside SEPA, a BIC that fails ISO 9362, a name with no Latin letter
// or digit, an order twice in one batch, a control sum beyond 18 digits.
// Tests check the output against the EPC schema with xmllint.
package sepa
