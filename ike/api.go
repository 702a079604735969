package ike

// IKESAs lists the IKE SAs (half-open ones included) for the control API.
func (e *Engine) IKESAs() []Phase1Info {
	e.lock()
	defer e.unlock()
	out := make([]Phase1Info, 0, len(e.sas))
	for _, sa := range e.sas {
		out = append(out, sa.info())
	}
	return out
}

// ChildSAs lists the established child SAs. The values are shared, not
// copies: treat them as read-only.
func (e *Engine) ChildSAs() []*ChildSA {
	e.lock()
	defer e.unlock()
	out := make([]*ChildSA, 0, len(e.spis))
	for _, cs := range e.spis {
		if cs != nil {
			out = append(out, cs.child)
		}
	}
	return out
}

// Touch tells the engine that authenticated ESP traffic arrived on the
// child SA with the given inbound SPI, so DPD does not probe a busy peer
// (RFC 3706 section 5.4: probe only when idle). The datapath should call
// it at most about once a second per SA.
func (e *Engine) Touch(inSPI uint32) {
	e.lock()
	defer e.unlock()
	if cs := e.spis[inSPI]; cs != nil && cs.parent.state == p1Established {
		cs.parent.lastSeen = e.clock.Now()
		cs.parent.dpdOutstanding = 0
	}
}
