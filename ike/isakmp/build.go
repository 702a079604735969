package isakmp

import "encoding/binary"

// Constructors for the informational payloads every IKEv1 peer exchanges.

// NewDeleteISAKMP deletes the ISAKMP SA named by its cookies (RFC 2408
// §3.15: the SPI of an ISAKMP SA is the cookie pair).
func NewDeleteISAKMP(h *Header) *Delete {
	return &Delete{DOI: DOIIPsec, Protocol: ProtoISAKMP, SPISize: 16, SPIs: [][]byte{h.Cookies()}}
}

// NewDeleteESP deletes ESP SAs by their 4-byte SPIs.
func NewDeleteESP(spis ...uint32) *Delete {
	d := &Delete{DOI: DOIIPsec, Protocol: ProtoESP, SPISize: 4}
	for _, s := range spis {
		d.SPIs = append(d.SPIs, binary.BigEndian.AppendUint32(nil, s))
	}
	return d
}

// ESPSPIs returns the SPIs of an ESP or AH delete as numbers, or false for
// other protocols or SPI sizes.
func (p *Delete) ESPSPIs() ([]uint32, bool) {
	if (p.Protocol != ProtoESP && p.Protocol != ProtoAH) || p.SPISize != 4 {
		return nil, false
	}
	out := make([]uint32, len(p.SPIs))
	for i, s := range p.SPIs {
		if len(s) != 4 {
			return nil, false
		}
		out[i] = binary.BigEndian.Uint32(s)
	}
	return out, true
}

// NewNotify builds an ISAKMP-SA notification of type t carrying the cookie
// pair as its SPI, as INITIAL-CONTACT and the DPD messages do.
func NewNotify(h *Header, t NotifyType, data []byte) *Notify {
	return &Notify{DOI: DOIIPsec, Protocol: ProtoISAKMP, NotifyType: t, SPI: h.Cookies(), Data: data}
}

// NewDPD builds an R-U-THERE (or, with ack, R-U-THERE-ACK) notification
// with its 32-bit sequence number (RFC 3706 §5).
func NewDPD(h *Header, seq uint32, ack bool) *Notify {
	t := NotifyRUThere
	if ack {
		t = NotifyRUThereAck
	}
	return NewNotify(h, t, binary.BigEndian.AppendUint32(nil, seq))
}

// DPDSequence returns the sequence number of an R-U-THERE or R-U-THERE-ACK.
func (p *Notify) DPDSequence() (uint32, bool) {
	if (p.NotifyType != NotifyRUThere && p.NotifyType != NotifyRUThereAck) || len(p.Data) != 4 {
		return 0, false
	}
	return binary.BigEndian.Uint32(p.Data), true
}

// ResponderLifetime returns the lifetimes of a RESPONDER-LIFETIME
// notification (RFC 2407 §4.6.3.1): its data is SA attributes.
func (p *Notify) ResponderLifetime() (seconds, kilobytes uint64, err error) {
	if p.NotifyType != NotifyResponderLifetime {
		return 0, 0, perr(ErrAttrMissing, "not a RESPONDER-LIFETIME notification")
	}
	attrs, err := parseAttributes(p.Data, "RESPONDER-LIFETIME")
	if err != nil {
		return 0, 0, err
	}
	if p.Protocol == ProtoISAKMP {
		v, err := Phase1Attributes(&Transform{Attributes: attrs})
		return v.LifeSeconds, v.LifeKilobytes, err
	}
	v, err := Phase2Attributes(&Transform{Attributes: attrs})
	return v.LifeSeconds, v.LifeKilobytes, err
}
