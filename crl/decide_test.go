package crl

import (
	"testing"
	"time"
)

// The strong_crl_check table of issue 5, one row per CRL situation, one
// column per mode.
func TestDecideTable(t *testing.T) {
	type want struct {
		o Outcome
		r Reason
	}
	acc := func(r Reason) want { return want{Accept, r} }
	rej := func(r Reason) want { return want{Reject, r} }
	ok := acc(ReasonOK)
	rows := []struct {
		name string
		obs  Observation
		m    [3]want
	}{
		{"not revoked, CRL current", Observation{SituationIssuerCRL, false, Current, 0},
			[3]want{ok, ok, ok}},
		{"delta CRL unreachable", Observation{SituationIssuerCRL, false, Current, SituationUnreachable},
			[3]want{ok, acc(ReasonCRLUnreachable), rej(ReasonCRLUnreachable)}},
		{"delta CRL needs a newer base", Observation{SituationIssuerCRL, false, Current, SituationBaseTooOld},
			[3]want{ok, acc(ReasonCRLBaseTooOld), rej(ReasonCRLBaseTooOld)}},
		{"delta CRL not applicable, listed in the base", Observation{SituationIssuerCRL, true, Current, SituationIssuerMismatch},
			[3]want{ok, rej(ReasonRevoked), rej(ReasonRevoked)}},
		{"revoked, CRL current", Observation{SituationIssuerCRL, true, Current, 0},
			[3]want{ok, rej(ReasonRevoked), rej(ReasonRevoked)}},
		{"revoked, CRL expired", Observation{SituationIssuerCRL, true, Expired, 0},
			[3]want{ok, rej(ReasonRevoked), rej(ReasonRevoked)}},
		{"revoked, CRL not yet valid", Observation{SituationIssuerCRL, true, NotYetValid, 0},
			[3]want{ok, rej(ReasonRevoked), rej(ReasonRevoked)}},
		{"CRL expired", Observation{SituationIssuerCRL, false, Expired, 0},
			[3]want{ok, acc(ReasonCRLExpired), rej(ReasonCRLExpired)}},
		{"CRL not yet valid", Observation{SituationIssuerCRL, false, NotYetValid, 0},
			[3]want{ok, acc(ReasonCRLNotYetValid), rej(ReasonCRLNotYetValid)}},
		{"DP unreachable", Observation{Situation: SituationUnreachable},
			[3]want{ok, acc(ReasonCRLUnreachable), rej(ReasonCRLUnreachable)}},
		{"CRL from wrong issuer", Observation{Situation: SituationIssuerMismatch},
			[3]want{ok, acc(ReasonCRLIssuerMismatch), rej(ReasonCRLIssuerMismatch)}},
		{"CRL with bad signature", Observation{Situation: SituationBadSignature},
			[3]want{ok, acc(ReasonCRLBadSignature), rej(ReasonCRLBadSignature)}},
		{"CRL malformed", Observation{Situation: SituationMalformed},
			[3]want{ok, acc(ReasonCRLMalformed), rej(ReasonCRLMalformed)}},
		{"no DP", Observation{Situation: SituationNoSource},
			[3]want{ok, acc(ReasonCRLNoSource), rej(ReasonCRLNoSource)}},
		{"ldap DP only", Observation{Situation: SituationUnsupportedScheme},
			[3]want{ok, acc(ReasonCRLUnsupportedScheme), rej(ReasonCRLUnsupportedScheme)}},
		{"delta CRL only, not listed", Observation{Situation: SituationDeltaOnly},
			[3]want{ok, acc(ReasonCRLDeltaWithoutBase), rej(ReasonCRLDeltaWithoutBase)}},
		{"delta CRL only, listed", Observation{Situation: SituationDeltaOnly, Listed: true},
			[3]want{ok, rej(ReasonRevoked), rej(ReasonRevoked)}},
	}
	for _, row := range rows {
		for mode := ModeOff; mode <= ModeStrict; mode++ {
			o, r := Decide(mode, row.obs)
			w := row.m[mode]
			if o != w.o || r != w.r {
				t.Errorf("%s, mode %s: got %s/%s, want %s/%s", row.name, mode, o, r, w.o, w.r)
			}
		}
	}
}

// Properties over every combination, including ones the table leaves out:
// mode 0 always accepts; mode 1 rejects exactly the listings; mode 2
// accepts exactly an unlisted, current issuer CRL; the reason of a mode-1
// acceptance equals the reason of the mode-2 refusal.
func TestDecideEveryCombination(t *testing.T) {
	for s := Situation(0); s <= SituationBaseTooOld+1; s++ {
		for _, listed := range []bool{false, true} {
			for f := Freshness(0); f <= NotYetValid+1; f++ {
				for dp := Situation(0); dp <= SituationBaseTooOld+1; dp++ {
					obs := Observation{s, listed, f, dp}
					issuer := s == SituationIssuerCRL || s == SituationDeltaOnly
					if o, r := Decide(ModeOff, obs); o != Accept || r != ReasonOK {
						t.Errorf("mode 0 %+v: %s/%s", obs, o, r)
					}
					o1, r1 := Decide(ModeRevokedOnly, obs)
					if (o1 == Reject) != (issuer && listed) {
						t.Errorf("mode 1 %+v: %s/%s", obs, o1, r1)
					}
					o2, r2 := Decide(ModeStrict, obs)
					wantAccept := s == SituationIssuerCRL && !listed && f == Current && dp == 0
					if (o2 == Accept) != wantAccept {
						t.Errorf("mode 2 %+v: %s/%s", obs, o2, r2)
					}
					if o1 == Accept && o2 == Reject && r1 != r2 {
						t.Errorf("%+v: mode 1 tolerated %s but mode 2 refused for %s", obs, r1, r2)
					}
					if o, _ := Decide(Mode(7), obs); o == Accept && !wantAccept {
						t.Errorf("unknown mode accepted %+v", obs)
					}
				}
			}
		}
	}
}

func TestFreshnessAt(t *testing.T) {
	tu := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	nu := tu.Add(time.Hour)
	cases := []struct {
		now  time.Time
		next time.Time
		want Freshness
	}{
		{tu.Add(-time.Second), nu, NotYetValid},
		{tu, nu, Current},
		{nu.Add(-time.Nanosecond), nu, Current},
		{nu, nu, Expired},
		{nu.Add(time.Hour), time.Time{}, Current},
	}
	for _, c := range cases {
		if got := FreshnessAt(c.now, tu, c.next); got != c.want {
			t.Errorf("FreshnessAt(%s, %s, %s) = %s, want %s", c.now, tu, c.next, got, c.want)
		}
	}
}

func TestStrings(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range Reasons {
		if r.String() == "" || seen[r.String()] {
			t.Errorf("reason %q empty or duplicated", r)
		}
		seen[r.String()] = true
		if (r.Err() == nil) != (r == ReasonOK) {
			t.Errorf("reason %s: Err() = %v", r, r.Err())
		}
	}
	if ModeRevokedOnly.String() != "1" || Mode(9).String() != "mode(9)" {
		t.Errorf("Mode.String: %s %s", ModeRevokedOnly, Mode(9))
	}
	if ReasonCodeKeyCompromise.String() != "keyCompromise" || RevocationReason(7).String() != "reasonCode(7)" {
		t.Errorf("RevocationReason.String: %s %s", ReasonCodeKeyCompromise, RevocationReason(7))
	}
	for s := SituationIssuerCRL; s <= SituationBaseTooOld; s++ {
		if s.String() == "" || s.String()[0] == 's' && s.String()[:9] == "situation" {
			t.Errorf("situation %d has no name", s)
		}
	}
	if Accept.String() != "accept" || Reject.String() != "reject" || Expired.String() != "expired" {
		t.Error("Outcome/Freshness strings")
	}
}
