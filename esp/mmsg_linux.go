//go:build linux

package esp

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// mmsgReader is recvmmsg(2) with every header, address and iovec
// allocated once. golang.org/x/net/ipv4's ReadBatch does the same system
// call but builds a net.Addr for every datagram (two allocations per
// packet), which the datapath's no-allocation rule forbids; its WriteBatch
// reuses its buffers and is used for sends.
type mmsgReader struct {
	rc     syscall.RawConn
	hdrs   []unix.Mmsghdr
	iovs   []unix.Iovec
	names  []unix.RawSockaddrInet4
	oob    []byte
	oobLen int
	n      int
	errno  syscall.Errno
	fn     func(fd uintptr) bool // bound once: a method value allocates
}

func newMmsgReader(c syscall.Conn, n, oobLen int) (*mmsgReader, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return nil, err
	}
	r := &mmsgReader{rc: rc, hdrs: make([]unix.Mmsghdr, n), iovs: make([]unix.Iovec, n),
		names: make([]unix.RawSockaddrInet4, n), oob: make([]byte, n*oobLen), oobLen: oobLen}
	for i := range r.hdrs {
		h := &r.hdrs[i].Hdr
		h.Name = (*byte)(unsafe.Pointer(&r.names[i]))
		h.Iov = &r.iovs[i]
		h.SetIovlen(1)
		if oobLen > 0 {
			h.Control = &r.oob[i*oobLen]
		}
	}
	r.fn = r.recv
	return r, nil
}

// setBuf points datagram slot i at b.
func (r *mmsgReader) setBuf(i int, b []byte) {
	r.iovs[i].Base = &b[0]
	r.iovs[i].SetLen(len(b))
}

// read receives up to len(hdrs) datagrams, waiting for the first.
func (r *mmsgReader) read() (int, error) {
	for i := range r.hdrs {
		h := &r.hdrs[i]
		h.Len = 0
		h.Hdr.Namelen = unix.SizeofSockaddrInet4
		h.Hdr.Flags = 0
		h.Hdr.SetControllen(r.oobLen)
	}
	if err := r.rc.Read(r.fn); err != nil {
		return 0, err
	}
	if r.errno != 0 {
		return 0, fmt.Errorf("recvmmsg: %w", r.errno)
	}
	return r.n, nil
}

func (r *mmsgReader) recv(fd uintptr) bool {
	n, _, e := unix.Syscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&r.hdrs[0])), uintptr(len(r.hdrs)), 0, 0, 0)
	if e == unix.EAGAIN || e == unix.EINTR {
		return false // the poller waits for readability and calls again
	}
	r.n, r.errno = int(n), e
	return true
}

// len returns the size of datagram i, and whether it was truncated.
func (r *mmsgReader) len(i int) (int, bool) {
	return int(r.hdrs[i].Len), r.hdrs[i].Hdr.Flags&unix.MSG_TRUNC != 0
}

// from returns the sender of datagram i.
func (r *mmsgReader) from(i int) netip.AddrPort {
	sa := &r.names[i]
	port := binary.BigEndian.Uint16((*[2]byte)(unsafe.Pointer(&sa.Port))[:])
	return netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), port)
}

// control returns the control messages of datagram i.
func (r *mmsgReader) control(i int) []byte {
	if r.oobLen == 0 {
		return nil
	}
	n := int(r.hdrs[i].Hdr.Controllen)
	return r.oob[i*r.oobLen : i*r.oobLen+min(n, r.oobLen)]
}
