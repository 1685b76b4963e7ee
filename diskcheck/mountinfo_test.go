package diskcheck

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseMountinfo(t *testing.T) {
	f, err := os.Open("testdata/mountinfo-escapes.txt")
	require.NoError(t, err)
	defer f.Close()
	ms, err := parseMountinfo(f)
	require.NoError(t, err)
	require.Len(t, ms, 9)

	byPoint := map[string]mount{}
	for _, m := range ms {
		byPoint[m.point] = m
	}
	tests := []struct {
		name, point, fstype, source, root string
		major, minor                      uint32
		ro                                bool
		optional                          []string
	}{
		{"root", "/", "ext4", "/dev/sda1", "/", 8, 1, false, []string{"shared:1"}},
		{"escaped space and optional fields", "/mnt/with space", "tmpfs", "my tmp", "/", 0, 50, false, []string{"shared:30", "master:2", "propagate_from:1"}},
		{"tab and backslash, bind of a subdirectory", "/mnt/tab\tand\\backslash", "ext4", "/dev/sda1", "/srv/data", 8, 1, true, nil},
		{"overlay", "/var/lib/docker/overlay2/abc/merged", "overlay", "overlay", "/", 0, 51, false, nil},
		{"squashfs read-only", "/snap/core/1", "squashfs", "/dev/loop0", "/", 0, 52, true, []string{"shared:40"}},
		{"no super options", "/mnt/nosuper", "tmpfs", "none", "/", 0, 55, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, ok := byPoint[tt.point]
			require.True(t, ok, "mount point %q missing", tt.point)
			assert.Equal(t, tt.fstype, m.fstype)
			assert.Equal(t, tt.source, m.source)
			assert.Equal(t, tt.root, m.root)
			assert.Equal(t, tt.major, m.major)
			assert.Equal(t, tt.minor, m.minor)
			assert.Equal(t, tt.ro, m.readOnly())
			assert.Equal(t, tt.optional, m.optional)
		})
	}
}

func TestParseMountinfoMalformed(t *testing.T) {
	tests := map[string]string{
		"too few fields":     "22 1 8:1 / /\n",
		"no separator":       "22 1 8:1 / / rw shared:1 ext4 /dev/sda1 rw\n",
		"bad id":             "x 1 8:1 / / rw - ext4 /dev/sda1 rw\n",
		"bad device":         "22 1 8-1 / / rw - ext4 /dev/sda1 rw\n",
		"nothing after dash": "22 1 8:1 / / rw a b c -\n",
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := parseMountinfo(strings.NewReader(in))
			assert.Error(t, err)
		})
	}
}

func TestUnescapeOctal(t *testing.T) {
	tests := map[string]string{
		`plain`:          "plain",
		`a\040b`:         "a b",
		`\134\011\012`:   "\\\t\n",
		`trailing\04`:    `trailing\04`,
		`not\999octal`:   `not\999octal`,
		`\400too-big`:    `\400too-big`,
		`end\`:           `end\`,
		`\040\040double`: "  double",
	}
	for in, want := range tests {
		t.Run(in, func(t *testing.T) { assert.Equal(t, want, unescapeOctal(in)) })
	}
}

func TestRealFilesystems(t *testing.T) {
	f, err := os.Open("testdata/mountinfo-vm.txt")
	require.NoError(t, err)
	defer f.Close()
	ms, err := parseMountinfo(f)
	require.NoError(t, err)
	var points []string
	for _, m := range realFilesystems(ms) {
		points = append(points, m.point)
	}
	// proc, sysfs, devpts and cgroup are left out; /dev/shm, mounted twice,
	// appears once; the bind mount of /run/netns shares /'s device.
	assert.Equal(t, []string{"/dev", "/", "/mnt/sandboxing/model_tools_env/v1/python", "/dev/shm", "/sys/fs/cgroup"}, points)
}

func TestHolder(t *testing.T) {
	f, err := os.Open("testdata/mountinfo-escapes.txt")
	require.NoError(t, err)
	defer f.Close()
	ms, err := parseMountinfo(f)
	require.NoError(t, err)
	tests := map[string]string{
		"/":                          "/",
		"/etc/passwd":                "/",
		"/mnt/with space/x":          "/mnt/with space",
		"/mnt/with spaceship":        "/",
		"/mnt/nfs":                   "/mnt/nfs",
		"/proc/self":                 "/proc",
		"/snap/core/1/usr/bin/true":  "/snap/core/1",
		"/mnt/tab\tand\\backslash/y": "/mnt/tab\tand\\backslash",
	}
	for p, want := range tests {
		t.Run(p, func(t *testing.T) {
			m, ok := holder(visible(ms), p)
			require.True(t, ok)
			assert.Equal(t, want, m.point)
		})
	}
}

func FuzzParseMountinfo(f *testing.F) {
	for _, name := range []string{"testdata/mountinfo-escapes.txt", "testdata/mountinfo-vm.txt"} {
		b, err := os.ReadFile(name)
		require.NoError(f, err)
		f.Add(b)
	}
	f.Add([]byte("1 2 3:4 / / rw - - - -\n"))
	f.Add([]byte(`1 2 3:4 \ \\ rw - a\0 b\1`))
	f.Fuzz(func(t *testing.T, b []byte) {
		ms, err := parseMountinfo(strings.NewReader(string(b)))
		if err != nil {
			return
		}
		for _, m := range ms {
			if m.fstype == "" && m.source == "" {
				t.Fatalf("accepted a line without type and source: %+v", m)
			}
			_ = m.readOnly()
		}
		_ = realFilesystems(ms)
	})
}
