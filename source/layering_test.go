package source

import (
	"fmt"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

// The files of a package, ordered so that each file uses names only from the files below it: references
// flow one way, and a reader who starts at the bottom meets every name before its use. A reference that
// runs back up (a file using a name of a file above it, so that the two use each other, directly or
// through others) is counted here; the test fails when there are more than maxBackReferences.
//
// How they are counted: every identifier of a file that refers to a package-level name, a method or a
// field declared in another file of the package is an arrow between the two files (type-checked with
// go/types, so methods and fields count as their declaring file's). The files are then put in levels:
// a file stands one level above the highest file it uses, cycles aside; inside a cycle (a strongly
// connected set of files) the file that uses the most of the others is put on top, and so on, which
// leaves the fewest arrows pointing up that this greedy order finds. The arrows that point up are the
// back-references. Run with -v to see the levels and every back-reference:
//
//	go test -run TestFilesReferenceOneWay -v ./source

// backReferenceBudget is how many back-references each package may have: none in package source (35
// before the socket had a package of its own); in the socket's, the 13 it has, where the Socket type and
// its methods are one object spread over a file per step of the frame path (the steps call each other in
// the order a frame travels, and the type's file names them all). The budget keeps either from growing.
var backReferenceBudget = map[string]int{".": 0, "internal/socket": 13}

func TestFilesReferenceOneWay(t *testing.T) {
	if testing.Short() {
		t.Skip("type-checks the package from source")
	}
	for dir, budget := range backReferenceBudget {
		t.Run(dir, func(t *testing.T) {
			back, report := fileLayers(t, dir)
			t.Log("\n" + report)
			if len(back) > budget {
				t.Errorf("%d references run back up (budget %d):\n%s", len(back), budget, strings.Join(back, "\n"))
			}
		})
	}
}

// fileLayers type-checks the non-test files of the package in dir and returns its back-references
// ("a.go -> b.go: name, name") and a report of the levels.
func fileLayers(t *testing.T, dir string) (back []string, report string) {
	t.Helper()
	fset := token.NewFileSet()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var files []*ast.File
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	info := &types.Info{Uses: map[*ast.Ident]types.Object{}, Selections: map[*ast.SelectorExpr]*types.Selection{}}
	conf := types.Config{Importer: importer.ForCompiler(fset, "source", nil)}
	pkg, err := conf.Check(files[0].Name.Name, fset, files, info)
	if err != nil {
		t.Fatal(err)
	}
	fileOf := func(pos token.Pos) string { return filepath.Base(fset.Position(pos).Filename) }
	uses := map[string]map[string][]string{} // file -> file it uses -> names
	add := func(from string, obj types.Object) {
		if obj == nil || obj.Pkg() != pkg || !obj.Pos().IsValid() {
			return
		}
		if v, ok := obj.(*types.Var); ok && !v.IsField() && v.Parent() != pkg.Scope() {
			return // a local variable
		}
		if _, ok := obj.(*types.Label); ok {
			return
		}
		to := fileOf(obj.Pos())
		if to == from || (obj.Parent() != nil && obj.Parent() != pkg.Scope() && obj.Parent() != types.Universe && !isMember(obj)) {
			return
		}
		if uses[from] == nil {
			uses[from] = map[string][]string{}
		}
		if !slices.Contains(uses[from][to], obj.Name()) {
			uses[from][to] = append(uses[from][to], obj.Name())
		}
	}
	for id, obj := range info.Uses {
		add(fileOf(id.Pos()), obj)
	}
	var names []string
	for _, f := range files {
		names = append(names, fileOf(f.Pos()))
	}
	sort.Strings(names)
	order := layerOrder(names, uses)
	level := map[string]int{}
	for i, n := range order {
		level[n] = i
	}
	for _, from := range names {
		for to, objs := range uses[from] {
			if level[to] > level[from] {
				sort.Strings(objs)
				back = append(back, fmt.Sprintf("%s -> %s: %s", from, to, strings.Join(objs, ", ")))
			}
		}
	}
	sort.Strings(back)
	var b strings.Builder
	for i := len(order) - 1; i >= 0; i-- {
		fmt.Fprintf(&b, "%3d  %s\n", i, order[i])
	}
	fmt.Fprintf(&b, "%d files, %d back-references", len(order), len(back))
	return back, b.String()
}

// isMember reports a method or a field: declared inside a type, but reachable from any file.
func isMember(obj types.Object) bool {
	switch o := obj.(type) {
	case *types.Func:
		return o.Signature().Recv() != nil
	case *types.Var:
		return o.IsField()
	}
	return false
}

// layerOrder orders the files bottom-up: each file after every file it uses, but for cycles, where the
// file that uses the most of the files left goes last (greedy, after Eades, Lin and Smyth).
func layerOrder(names []string, uses map[string]map[string][]string) []string {
	left := map[string]bool{}
	for _, n := range names {
		left[n] = true
	}
	outs := func(n string) (k int) {
		for to := range uses[n] {
			if left[to] {
				k++
			}
		}
		return k
	}
	ins := func(n string) (k int) {
		for _, from := range names {
			if left[from] && uses[from][n] != nil {
				k++
			}
		}
		return k
	}
	var bottom, top []string
	for len(left) > 0 {
		progress := false
		for _, n := range names { // a file that uses nothing left goes to the bottom
			if left[n] && outs(n) == 0 {
				bottom = append(bottom, n)
				delete(left, n)
				progress = true
			}
		}
		for _, n := range names { // a file nothing left uses goes to the top
			if left[n] && ins(n) == 0 {
				top = append(top, n)
				delete(left, n)
				progress = true
			}
		}
		if progress {
			continue
		}
		best, score := "", 0
		for _, n := range names {
			if left[n] {
				if s := outs(n) - ins(n); best == "" || s > score {
					best, score = n, s
				}
			}
		}
		top = append(top, best)
		delete(left, best)
	}
	slices.Reverse(top)
	return append(bottom, top...)
}
