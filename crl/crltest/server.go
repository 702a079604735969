package crltest

import (
	"net/http"
	"sync"
)

// Behaviour is what a DistributionPoint does for one path.
type Behaviour uint8

// The behaviours.
const (
	// Serve answers 200 with the CRL bytes set for the path.
	Serve Behaviour = iota
	// Status answers with the status set for the path (e.g. 404).
	Status
	// Hang holds the request until Release is called (then it answers
	// with the path's behaviour at that time, 503 if still Hang) or the
	// client gives up.
	Hang
)

func (b Behaviour) String() string {
	switch b {
	case Serve:
		return "serve"
	case Status:
		return "status"
	case Hang:
		return "hang"
	}
	return "behaviour(?)"
}

type route struct {
	b      Behaviour
	body   []byte
	status int
}

// DistributionPoint is an http.Handler serving CRLs per path, whose
// behaviour a test changes at will and whose requests it counts. Run it
// with httptest.NewServer (loopback) or any http.Server. Unknown paths
// answer 404.
type DistributionPoint struct {
	mu      sync.Mutex
	routes  map[string]route
	hits    map[string]int
	release chan struct{}
	arrived chan string
}

// NewDistributionPoint returns an empty DistributionPoint.
func NewDistributionPoint() *DistributionPoint {
	return &DistributionPoint{
		routes:  make(map[string]route),
		hits:    make(map[string]int),
		release: make(chan struct{}),
		arrived: make(chan string, 256),
	}
}

// Set serves body (a CRL, DER or PEM) at path.
func (d *DistributionPoint) Set(path string, body []byte) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.routes[path] = route{b: Serve, body: body}
}

// SetStatus answers path with an HTTP status and no CRL.
func (d *DistributionPoint) SetStatus(path string, status int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.routes[path] = route{b: Status, status: status}
}

// SetHang makes requests for path wait until Release or until the client
// goes away.
func (d *DistributionPoint) SetHang(path string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.routes[path] = route{b: Hang}
}

// Release ends every hanging request (each then answers as its path is set
// at that time) and makes later requests for hanging paths answer 503.
func (d *DistributionPoint) Release() {
	d.mu.Lock()
	defer d.mu.Unlock()
	select {
	case <-d.release:
	default:
		close(d.release)
	}
}

// Hits reports how many requests path has received.
func (d *DistributionPoint) Hits(path string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.hits[path]
}

// Arrived receives the path of every request as it arrives (buffered; later
// arrivals are dropped when nobody reads).
func (d *DistributionPoint) Arrived() <-chan string { return d.arrived }

// ServeHTTP implements http.Handler.
func (d *DistributionPoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	d.mu.Lock()
	d.hits[r.URL.Path]++
	rt, ok := d.routes[r.URL.Path]
	release := d.release
	d.mu.Unlock()
	select {
	case d.arrived <- r.URL.Path:
	default:
	}
	if !ok {
		http.NotFound(w, r)
		return
	}
	if rt.b == Hang {
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		d.mu.Lock()
		rt = d.routes[r.URL.Path]
		d.mu.Unlock()
	}
	switch rt.b {
	case Serve:
		w.Header().Set("Content-Type", "application/pkix-crl")
		w.Write(rt.body)
	case Status:
		w.WriteHeader(rt.status)
	default:
		w.WriteHeader(http.StatusServiceUnavailable)
	}
}
