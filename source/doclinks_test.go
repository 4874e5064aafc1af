package source_test

import (
	"go/ast"
	"go/doc"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every doc link ([Name], [Type.Method], [pkg.Name]) in the doc comments of
// the module's packages names something that exists: a link to a name that
// is not there is printed as plain brackets by go doc and pkg.go.dev, and
// sends the reader looking for an API that does not exist.
func TestDocLinksResolve(t *testing.T) {
	if testing.Short() {
		t.Skip("parses the module's packages")
	}
	dirs := []string{".", "postgres", "presence", "realtimetest", "rest",
		"../stream", "../stream/rxinterop", "../operators", "../transport", "../transport/phoenix"}
	for _, dir := range dirs {
		t.Run(dir, func(t *testing.T) {
			pkg, files := parseDocs(t, dir)
			p := pkg.Parser()
			var broken []string
			lookup := p.LookupSym
			where := ""
			p.LookupSym = func(recv, name string) bool {
				if lookup(recv, name) {
					return true
				}
				sym := name
				if recv != "" {
					sym = recv + "." + name
				}
				broken = append(broken, where+": ["+sym+"]")
				return false
			}
			lookupPkg := p.LookupPackage
			p.LookupPackage = func(name string) (string, bool) {
				if path, ok := lookupPkg(name); ok {
					return path, true
				}
				// A link to another package's name ([pkg.Name]) is checked by that package's own docs;
				// here it must only name an imported package.
				return "", false
			}
			check := func(at, text string) {
				where = at
				p.Parse(text)
			}
			check("package doc", pkg.Doc)
			for _, v := range append(pkg.Consts, pkg.Vars...) {
				check(strings.Join(v.Names, ","), v.Doc)
			}
			for _, f := range pkg.Funcs {
				check(f.Name, f.Doc)
			}
			for _, typ := range pkg.Types {
				check(typ.Name, typ.Doc)
				for _, v := range append(typ.Consts, typ.Vars...) {
					check(strings.Join(v.Names, ","), v.Doc)
				}
				for _, f := range append(typ.Funcs, typ.Methods...) {
					check(typ.Name+"."+f.Name, f.Doc)
				}
			}
			// Field and interface method comments are not in doc.Package: read them off the syntax.
			for _, f := range files {
				ast.Inspect(f, func(n ast.Node) bool {
					ts, ok := n.(*ast.TypeSpec)
					if !ok || !ts.Name.IsExported() {
						return true
					}
					var fields *ast.FieldList
					switch tt := ts.Type.(type) {
					case *ast.StructType:
						fields = tt.Fields
					case *ast.InterfaceType:
						fields = tt.Methods
					}
					if fields == nil {
						return true
					}
					for _, fd := range fields.List {
						for _, cg := range []*ast.CommentGroup{fd.Doc, fd.Comment} {
							if cg != nil {
								check(ts.Name.Name+" field", cg.Text())
							}
						}
					}
					return true
				})
			}
			assert.Empty(t, broken, "doc links to names that do not exist")
		})
	}
}

// parseDocs reads the documentation of the non-test files of the package in dir.
func parseDocs(t *testing.T, dir string) (*doc.Package, []*ast.File) {
	t.Helper()
	fset := token.NewFileSet()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var files []*ast.File
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, parser.ParseComments)
		require.NoError(t, err)
		files = append(files, f)
	}
	require.NotEmpty(t, files, dir)
	pkg, err := doc.NewFromFiles(fset, files, "example.com/"+filepath.Base(dir), doc.PreserveAST)
	require.NoError(t, err)
	return pkg, files
}
