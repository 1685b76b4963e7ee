package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestJSONMatchesSchema validates what the command prints, for real runs
// that fill every kind of result, against the schema file that documents
// it.
func TestJSONMatchesSchema(t *testing.T) {
	c := jsonschema.NewCompiler()
	sch, err := c.Compile(filepath.Join("..", "..", "schema", "report.schema.json"))
	require.NoError(t, err)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "boom", http.StatusInternalServerError)
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	deadAddr := dead.Addr().String()
	require.NoError(t, dead.Close())
	log := filepath.Join(t.TempDir(), "app.log")
	require.NoError(t, os.WriteFile(log, []byte("ERROR connect to db: connection refused\n"), 0o644))

	runs := [][]string{
		{"-timeout", "5s"},
		{"-timeout", "1ms"},
		{"-url", fmt.Sprintf("http://%s/orders", ln.Addr()), "-dep", deadAddr, "-log", log, "-path", t.TempDir(),
			"-dns", "localhost", "-pid", fmt.Sprint(os.Getpid()), "-timeout", "8s"},
		{"-addr", deadAddr, "-symptom", "timeout", "-timeout", "5s"},
	}
	for _, args := range runs {
		t.Run(fmt.Sprint(args), func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(context.Background(), append([]string{"-json"}, args...), &out, &errb)
			require.NotEqual(t, exitUsage, code, errb.String())
			doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(out.Bytes()))
			require.NoError(t, err)
			assert.NoError(t, sch.Validate(doc), out.String())

			var v struct {
				Verdict string `json:"verdict"`
			}
			require.NoError(t, json.Unmarshal(out.Bytes(), &v))
			assert.Equal(t, verdicts[code], v.Verdict, "the document says what the exit status says")
		})
	}
}
