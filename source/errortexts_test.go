package source_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The rule for error texts: an error's text starts with the name of the
// package that made it, as the standard library's do ("rxrealtime: " for
// package source and its internal socket, "transport: ", "phoenix: ",
// "postgres: "...), so that a text says where it came from; an error that
// wraps another starts with its own prefix and keeps the other's text,
// prefix included, inside. Package source hands no lower package's error on
// bare (TestErrorsOfLowerPackagesAreWrapped): every error its user sees
// starts with "rxrealtime: ". Errors that only ever stand inside another
// error's text, as its reason (such as "bytea value is not hex", or
// postgres.ErrUnknownColumn, in a postgres.DecodeError), need no prefix, as
// strconv.ErrSyntax has none.
//
// This test reads the errors.New and fmt.Errorf calls: all of them in the
// transport packages, the exported sentinels in package source and its
// socket.
func TestErrorTextsNameTheirPackage(t *testing.T) {
	if testing.Short() {
		t.Skip("parses the module's packages")
	}
	for _, pkg := range []struct {
		dir, prefix string
		all         bool // every errors.New and fmt.Errorf, not only the exported sentinels
	}{
		{"../transport", "transport: ", true}, {"../transport/phoenix", "phoenix: ", true},
		{".", "rxrealtime: ", false}, {"internal/socket", "rxrealtime: ", false},
	} {
		t.Run(pkg.dir, func(t *testing.T) {
			var bad []string
			fset := token.NewFileSet()
			entries, err := os.ReadDir(pkg.dir)
			require.NoError(t, err)
			check := func(call *ast.CallExpr) {
				if text, ok := errorText(t, call); ok && !strings.HasPrefix(text, pkg.prefix) && !strings.HasPrefix(text, "%w") {
					// "%w: ..." starts with the wrapped error's text, checked where that is made.
					bad = append(bad, fset.Position(call.Pos()).String()+": "+text)
				}
			}
			for _, e := range entries {
				name := e.Name()
				if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
					continue
				}
				f, err := parser.ParseFile(fset, filepath.Join(pkg.dir, name), nil, 0)
				require.NoError(t, err)
				if pkg.all {
					ast.Inspect(f, func(n ast.Node) bool {
						if call, ok := n.(*ast.CallExpr); ok {
							check(call)
						}
						return true
					})
					continue
				}
				for _, d := range f.Decls {
					gd, ok := d.(*ast.GenDecl)
					if !ok || gd.Tok != token.VAR {
						continue
					}
					for _, spec := range gd.Specs {
						vs := spec.(*ast.ValueSpec)
						for i, v := range vs.Values {
							if call, ok := v.(*ast.CallExpr); ok && i < len(vs.Names) && vs.Names[i].IsExported() {
								check(call)
							}
						}
					}
				}
			}
			assert.Empty(t, bad, "error texts that do not start with %q", pkg.prefix)
		})
	}
}

// errorText returns the text given to an errors.New or fmt.Errorf call, if call is one with a literal.
func errorText(t *testing.T, call *ast.CallExpr) (string, bool) {
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok || len(call.Args) == 0 {
		return "", false
	}
	pkg, ok := sel.X.(*ast.Ident)
	if !ok || !(pkg.Name == "errors" && sel.Sel.Name == "New" || pkg.Name == "fmt" && sel.Sel.Name == "Errorf") {
		return "", false
	}
	lit, ok := call.Args[0].(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		return "", false
	}
	text, err := strconv.Unquote(lit.Value)
	require.NoError(t, err)
	return text, true
}
