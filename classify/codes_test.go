package classify_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triagekit/triage"
	"github.com/triagekit/triage/classify"
)

// exportedCodes reads the finding codes the check packages export: every
// exported constant of type triage.Code. Reading the source keeps classify
// free of imports of the check packages.
func exportedCodes(t *testing.T) map[triage.Code]string {
	t.Helper()
	codes := map[triage.Code]string{}
	fset := token.NewFileSet()
	for _, dir := range []string{"probe", "host", "process", "sockstat", "dnscheck", "diskcheck", "logscan"} {
		files, err := filepath.Glob(filepath.Join("..", dir, "*.go"))
		require.NoError(t, err)
		for _, name := range files {
			if strings.HasSuffix(name, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(fset, name, nil, 0)
			require.NoError(t, err)
			for _, decl := range f.Decls {
				gd, ok := decl.(*ast.GenDecl)
				if !ok || gd.Tok != token.CONST {
					continue
				}
				for _, spec := range gd.Specs {
					vs := spec.(*ast.ValueSpec)
					sel, ok := vs.Type.(*ast.SelectorExpr)
					if !ok || sel.Sel.Name != "Code" {
						continue
					}
					for i, n := range vs.Names {
						if !n.IsExported() || i >= len(vs.Values) {
							continue
						}
						lit, ok := vs.Values[i].(*ast.BasicLit)
						if !ok {
							continue
						}
						v, err := strconv.Unquote(lit.Value)
						require.NoError(t, err)
						codes[triage.Code(v)] = dir + "." + n.Name
					}
				}
			}
		}
	}
	return codes
}

// Every code a default rule reads is one a check package emits, so a
// renamed code cannot silently switch a rule off.
func TestDefaultRulesReadExportedCodes(t *testing.T) {
	codes := exportedCodes(t)
	require.Greater(t, len(codes), 80, "the check packages' codes were found")
	for _, r := range classify.DefaultRules() {
		for _, s := range append(append([]classify.Sign{}, r.Support...), r.Against...) {
			_, ok := codes[s.Code]
			assert.True(t, ok, "rule %s reads %s, which no check package exports", r.ID, s.Code)
		}
	}
}
