package isakmp

import (
	"testing"
)

func TestInformationalConstructors(t *testing.T) {
	h := &Header{InitiatorCookie: Cookie{1, 2, 3, 4, 5, 6, 7, 8}, ResponderCookie: Cookie{9, 10, 11, 12, 13, 14, 15, 16}, Exchange: ExchangeInformational}
	if hexs(h.Cookies()) != "0102030405060708090a0b0c0d0e0f10" {
		t.Errorf("cookies %x", h.Cookies())
	}
	var attrs []byte
	for _, a := range (Phase2{LifeSeconds: 3600, LifeKilobytes: 4608000}).Attributes() {
		attrs, _ = a.appendTo(attrs)
	}
	ps := []Payload{
		&Hash{Data: make([]byte, 20)}, NewDeleteISAKMP(h), NewDeleteESP(0xdee4d1d8, 0x7e996750),
		NewDPD(h, 0x01020304, false), NewDPD(h, 7, true), NewNotify(h, NotifyInitialContact, nil),
		&Notify{DOI: DOIIPsec, Protocol: ProtoESP, NotifyType: NotifyResponderLifetime, SPI: []byte{1, 2, 3, 4}, Data: attrs},
	}
	body, first, err := MarshalBody(ps)
	if err != nil {
		t.Fatal(err)
	}
	b, err := ParseBody(first, body)
	if err != nil {
		t.Fatal(err)
	}
	if got := Summary(&Header{Exchange: ExchangeInformational, Flags: FlagEncryption}, b.Payloads); got !=
		"INFO *(HASH, DEL, DEL, NOTIFY:R-U-THERE, NOTIFY:R-U-THERE-ACK, NOTIFY:INITIAL-CONTACT, NOTIFY:RESPONDER-LIFETIME)" {
		t.Errorf("summary %q", got)
	}
	dels := FindAll[*Delete](b.Payloads)
	if _, ok := dels[0].ESPSPIs(); ok || dels[0].Protocol != ProtoISAKMP || hexs(dels[0].SPIs[0]) != hexs(h.Cookies()) {
		t.Errorf("ISAKMP delete %+v", dels[0])
	}
	if spis, ok := dels[1].ESPSPIs(); !ok || len(spis) != 2 || spis[0] != 0xdee4d1d8 || spis[1] != 0x7e996750 {
		t.Errorf("ESP delete SPIs %x %v", spis, ok)
	}
	ns := FindAll[*Notify](b.Payloads)
	if seq, ok := ns[0].DPDSequence(); !ok || seq != 0x01020304 || ns[0].Protocol != ProtoISAKMP || len(ns[0].SPI) != 16 {
		t.Errorf("R-U-THERE %+v", ns[0])
	}
	if seq, ok := ns[1].DPDSequence(); !ok || seq != 7 || ns[1].NotifyType != NotifyRUThereAck {
		t.Errorf("R-U-THERE-ACK %+v", ns[1])
	}
	if _, ok := ns[2].DPDSequence(); ok {
		t.Error("INITIAL-CONTACT has a DPD sequence")
	}
	if s, kb, err := ns[3].ResponderLifetime(); err != nil || s != 3600 || kb != 4608000 {
		t.Errorf("RESPONDER-LIFETIME %d s %d KB %v", s, kb, err)
	}
	if _, _, err := ns[2].ResponderLifetime(); err == nil {
		t.Error("INITIAL-CONTACT read as a lifetime")
	}
	if _, _, err := (&Notify{NotifyType: NotifyResponderLifetime, Data: []byte{0, 1}}).ResponderLifetime(); err == nil {
		t.Error("truncated lifetime attributes accepted")
	}
}
