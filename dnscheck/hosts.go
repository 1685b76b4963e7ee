package dnscheck

import (
	"bufio"
	"io"
	"net/netip"
	"strings"
)

// hostsTable maps a lower-case name without trailing dot to its addresses
// in file order.
type hostsTable map[string][]netip.Addr

// parseHosts reads an /etc/hosts-style file. Malformed lines are skipped.
func parseHosts(r io.Reader) (hostsTable, error) {
	t := hostsTable{}
	br := bufio.NewReader(r)
	for {
		line, err := br.ReadString('\n')
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		if f := strings.Fields(line); len(f) >= 2 {
			if a, perr := netip.ParseAddr(f[0]); perr == nil {
				for _, n := range f[1:] {
					k := hostsKey(n)
					if k == "" || containsAddr(t[k], a) {
						continue
					}
					t[k] = append(t[k], a)
				}
			}
		}
		if err == io.EOF {
			return t, nil
		}
		if err != nil {
			return t, err
		}
	}
}

func hostsKey(name string) string {
	return strings.ToLower(strings.TrimSuffix(name, "."))
}

func containsAddr(as []netip.Addr, a netip.Addr) bool {
	for _, b := range as {
		if a == b {
			return true
		}
	}
	return false
}
