package diskcheck

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// mount is one line of /proc/<pid>/mountinfo.
type mount struct {
	id, parent   int
	major, minor uint32
	root         string // the directory of the filesystem mounted here
	point        string // where it is mounted
	options      []string
	optional     []string // shared:N, master:N ...
	fstype       string
	source       string
	superOptions []string
}

// dev is the filesystem's device number as "major:minor".
func (m mount) dev() string { return devString(m.major, m.minor) }

func devString(major, minor uint32) string {
	return strconv.FormatUint(uint64(major), 10) + ":" + strconv.FormatUint(uint64(minor), 10)
}

func (m mount) readOnly() bool {
	return hasOption(m.options, "ro") || hasOption(m.superOptions, "ro")
}

func hasOption(opts []string, o string) bool {
	for _, x := range opts {
		if x == o {
			return true
		}
	}
	return false
}

// parseMountinfo parses the format of proc(5) mountinfo:
//
//	36 35 98:0 /mnt1 /mnt/parent rw,noatime master:1 - ext3 /dev/root rw,errors=continue
//
// Paths have space, tab, newline and backslash escaped as octal (\040).
func parseMountinfo(r io.Reader) ([]mount, error) {
	var out []mount
	sc := bufio.NewScanner(r)
	// Overlay mounts can write lines of several KiB.
	sc.Buffer(nil, 1<<20)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Bytes()
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		m, err := parseMountinfoLine(string(line))
		if err != nil {
			return nil, fmt.Errorf("mountinfo line %d: %w", n, err)
		}
		out = append(out, m)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("mountinfo: %w", err)
	}
	return out, nil
}

func parseMountinfoLine(line string) (mount, error) {
	var m mount
	f := strings.Fields(line)
	sep := -1
	for i := 6; i < len(f); i++ {
		if f[i] == "-" {
			sep = i
			break
		}
	}
	if sep < 0 || len(f) < sep+3 {
		return m, fmt.Errorf("malformed: %q", line)
	}
	var err error
	if m.id, err = strconv.Atoi(f[0]); err != nil {
		return m, fmt.Errorf("mount id %q: %w", f[0], err)
	}
	if m.parent, err = strconv.Atoi(f[1]); err != nil {
		return m, fmt.Errorf("parent id %q: %w", f[1], err)
	}
	maj, min, ok := strings.Cut(f[2], ":")
	if !ok {
		return m, fmt.Errorf("device %q is not major:minor", f[2])
	}
	ma, err1 := strconv.ParseUint(maj, 10, 32)
	mi, err2 := strconv.ParseUint(min, 10, 32)
	if err1 != nil || err2 != nil {
		return m, fmt.Errorf("device %q is not major:minor", f[2])
	}
	m.major, m.minor = uint32(ma), uint32(mi)
	m.root = unescapeOctal(f[3])
	m.point = unescapeOctal(f[4])
	m.options = strings.Split(f[5], ",")
	if sep > 6 {
		m.optional = f[6:sep]
	}
	m.fstype = unescapeOctal(f[sep+1])
	m.source = unescapeOctal(f[sep+2])
	if len(f) > sep+3 {
		m.superOptions = strings.Split(f[sep+3], ",")
	}
	return m, nil
}

// unescapeOctal undoes the kernel's mangling of \, space, tab and newline
// as \ooo. Anything that is not a valid three-digit escape is kept as is.
func unescapeOctal(s string) string {
	if strings.IndexByte(s, '\\') < 0 {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && isOctal(s[i+1]) && isOctal(s[i+2]) && isOctal(s[i+3]) {
			v := (s[i+1]-'0')<<6 | (s[i+2]-'0')<<3 | (s[i+3] - '0')
			if s[i+1] <= '3' {
				b = append(b, v)
				i += 3
				continue
			}
		}
		b = append(b, s[i])
	}
	return string(b)
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }

// pseudoTypes are filesystems that hold no user data; df leaves them out.
var pseudoTypes = map[string]bool{
	"proc": true, "sysfs": true, "cgroup": true, "cgroup2": true, "devpts": true,
	"mqueue": true, "debugfs": true, "tracefs": true, "securityfs": true,
	"pstore": true, "bpf": true, "configfs": true, "fusectl": true,
	"hugetlbfs": true, "autofs": true, "binfmt_misc": true, "rpc_pipefs": true,
	"nsfs": true, "selinuxfs": true, "efivarfs": true, "ramfs": true,
	"nfsd": true, "devfs": true, "fuse.lxcfs": true, "fuse.gvfsd-fuse": true,
	"fuse.portal": true, "overlayfs-internal": true,
}

// readOnlyTypes are filesystems that cannot be written by design; being
// mounted read-only is no finding for them.
var readOnlyTypes = map[string]bool{
	"squashfs": true, "iso9660": true, "erofs": true, "cramfs": true,
	"romfs": true, "udf": true,
}

func isPseudo(fstype string) bool { return pseudoTypes[fstype] }

// visible returns the mounts not hidden by a later mount on the same point.
func visible(mounts []mount) []mount {
	last := make(map[string]int, len(mounts))
	for i, m := range mounts {
		last[m.point] = i
	}
	out := make([]mount, 0, len(last))
	for i, m := range mounts {
		if last[m.point] == i {
			out = append(out, m)
		}
	}
	return out
}

// realFilesystems is what df lists: no pseudo filesystems, each device once
// (a bind mount shows the same numbers as the mount it copies), preferring
// the mount of the filesystem's root at the shortest mount point.
func realFilesystems(mounts []mount) []mount {
	var out []mount
	byDev := map[[2]uint32]int{}
	for _, m := range visible(mounts) {
		if isPseudo(m.fstype) {
			continue
		}
		key := [2]uint32{m.major, m.minor}
		if i, ok := byDev[key]; ok {
			old := out[i]
			better := (m.root == "/" && old.root != "/") ||
				((m.root == "/") == (old.root == "/") && len(m.point) < len(old.point))
			if better {
				out[i] = m
			}
			continue
		}
		byDev[key] = len(out)
		out = append(out, m)
	}
	return out
}

// holder returns the visible mount whose mount point is the longest prefix
// of the absolute, clean path p.
func holder(mounts []mount, p string) (mount, bool) {
	best, found := mount{}, false
	for _, m := range mounts {
		if !under(p, m.point) {
			continue
		}
		if !found || len(m.point) >= len(best.point) {
			best, found = m, true
		}
	}
	return best, found
}

// under reports whether p is dir or inside it.
func under(p, dir string) bool {
	if dir == "/" {
		return strings.HasPrefix(p, "/")
	}
	return p == dir || strings.HasPrefix(p, dir+"/")
}
