package msg

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// probeReason is one reason format a platform package can produce: the
// English text with %s for every value that is not a literal.
type probeReason struct {
	format string
	pos    string
}

// isReasonName reports whether a field, variable or parameter carries a
// probe's reason (policy's Reason fields and the probes' own reason
// fields and variables).
func isReasonName(name string) bool { return strings.EqualFold(name, "reason") }

// anyVerb is every printf verb; each becomes a %s placeholder.
var anyVerb = regexp.MustCompile(`%[-+# 0]*[0-9]*(?:\.[0-9]+)?[a-zA-Z]`)

// probeReasons collects, from the non-test Go source under root, every
// text written into a reason: assigned to a field or variable named
// reason, given as a Reason: field, passed as a parameter named reason or
// to a function whose name contains "reason" (joinReason), appended to a
// slice that is later joined into a reason, and the literals returned by
// a package function called in a reason. Values that are not literals
// (errors, names, paths) become %s.
func probeReasons(t *testing.T, root string) []probeReason {
	t.Helper()
	reasons, _ := platformTexts(t, root)
	return reasons
}

// platformTexts collects, from the non-test Go source under root, the
// probe reasons (see probeReasons) and the problem messages (see
// packageTexts), each sorted by format.
func platformTexts(t *testing.T, root string) (reasons, problems []probeReason) {
	t.Helper()
	fset := token.NewFileSet()
	pkgs := map[string][]*ast.File{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "testdata" {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		pkgs[filepath.Dir(path)] = append(pkgs[filepath.Dir(path)], f)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, files := range pkgs {
		r, p := packageTexts(fset, files)
		reasons, problems = append(reasons, r...), append(problems, p...)
	}
	sort.Slice(reasons, func(i, j int) bool { return reasons[i].format < reasons[j].format })
	sort.Slice(problems, func(i, j int) bool { return problems[i].format < problems[j].format })
	return reasons, problems
}

// isProblemCall reports whether a call records a problem (policy.Problem's
// message): the probes' problem helpers and platform.Problems' Add and
// AddCore, whose last argument is the message (a text or an error), and
// the Windows probe's addf, whose third argument is the message's format.
// Other calls named Add (atomic counters, times) take one argument.
func isProblemCall(name string, args int) bool {
	switch name {
	case "problem", "Problem", "add", "Add", "AddCore":
		return args >= 2
	case "addf":
		return args >= 3
	}
	return false
}

// packageTexts returns the reasons and the problem messages a package
// writes. A problem message is the last argument of a problem call (see
// isProblemCall), the format of addf, the Message of a policy.Problem
// literal, or the text of an error created in such an argument.
func packageTexts(fset *token.FileSet, files []*ast.File) (reasons, problems []probeReason) {
	// The package's functions and function literals bound to a name: which
	// arguments are reasons, and the body (for helpers whose result is
	// part of a reason).
	type fn struct {
		reasonArgs []int
		joins      bool // joinReason: every argument is a reason when the first is
		body       *ast.BlockStmt
	}
	fns := map[string]*fn{}
	addFn := func(name string, ft *ast.FuncType, body *ast.BlockStmt) {
		l := strings.ToLower(name)
		f := &fn{joins: strings.HasPrefix(l, "join") && strings.HasSuffix(l, "reason"), body: body}
		i := 0
		for _, p := range ft.Params.List {
			if len(p.Names) == 0 {
				i++
			}
			for _, n := range p.Names {
				if isReasonName(n.Name) {
					f.reasonArgs = append(f.reasonArgs, i)
				}
				i++
			}
		}
		fns[name] = f
	}
	for _, file := range files {
		ast.Inspect(file, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.FuncDecl:
				if n.Recv == nil && n.Body != nil {
					addFn(n.Name.Name, n.Type, n.Body)
				}
			case *ast.AssignStmt:
				for i, r := range n.Rhs {
					if lit, ok := r.(*ast.FuncLit); ok && i < len(n.Lhs) {
						if id, ok := n.Lhs[i].(*ast.Ident); ok {
							addFn(id.Name, lit.Type, lit.Body)
						}
					}
				}
			}
			return true
		})
	}

	lists := map[string]bool{} // slices joined into a reason
	// formats returns the texts e can produce: a literal, a concatenation,
	// a fmt.Sprintf format, or what a helper of the package returns
	// (orNotSet, userName); anything else is a value, %s.
	var formats func(e ast.Expr, depth int) []string
	formats = func(e ast.Expr, depth int) []string {
		switch e := e.(type) {
		case *ast.BasicLit:
			if e.Kind == token.STRING {
				if s, err := strconv.Unquote(e.Value); err == nil {
					return []string{s}
				}
			}
		case *ast.ParenExpr:
			return formats(e.X, depth)
		case *ast.BinaryExpr:
			if e.Op == token.ADD {
				var out []string
				for _, x := range formats(e.X, depth) {
					for _, y := range formats(e.Y, depth) {
						out = append(out, x+y)
					}
				}
				return out
			}
		case *ast.CallExpr:
			name := calleeName(e)
			switch {
			case (name == "Sprintf" || name == "Errorf") && len(e.Args) > 0:
				if lit, ok := e.Args[0].(*ast.BasicLit); ok && lit.Kind == token.STRING {
					s, _ := strconv.Unquote(lit.Value)
					return []string{anyVerb.ReplaceAllString(s, "%s")}
				}
			case name == "New" && len(e.Args) == 1:
				if sel, ok := e.Fun.(*ast.SelectorExpr); ok {
					if x, ok := sel.X.(*ast.Ident); ok && x.Name == "errors" {
						return formats(e.Args[0], depth)
					}
				}
			case name == "Join" && len(e.Args) == 2 && depth == 0:
				if id, ok := e.Args[0].(*ast.Ident); ok {
					lists[id.Name] = true
				}
			case depth < 2:
				id, ok := e.Fun.(*ast.Ident)
				if !ok || fns[id.Name] == nil {
					break
				}
				var out []string
				ast.Inspect(fns[id.Name].body, func(n ast.Node) bool {
					if _, ok := n.(*ast.FuncLit); ok {
						return false
					}
					if r, ok := n.(*ast.ReturnStmt); ok && len(r.Results) == 1 {
						out = append(out, formats(r.Results[0], depth+1)...)
					}
					return true
				})
				if len(out) > 0 {
					return out
				}
			}
		}
		return []string{"%s"}
	}
	var out []probeReason
	seen := map[string]bool{}
	add := func(e ast.Expr, appended bool) {
		for _, f := range formats(e, 0) {
			if appended {
				// "x += y": y is a part of its own after "; ", else a
				// suffix to what came before.
				if rest, ok := strings.CutPrefix(f, "; "); ok {
					f = rest
				} else {
					f = "%s" + f
				}
			}
			// Only values and separators: nothing to translate.
			if onlyValues(f) || seen[f] {
				continue
			}
			seen[f] = true
			out = append(out, probeReason{format: f, pos: fset.Position(e.Pos()).String()})
		}
	}
	isReasonExpr := func(e ast.Expr) bool {
		switch e := e.(type) {
		case *ast.Ident:
			return isReasonName(e.Name)
		case *ast.SelectorExpr:
			return isReasonName(e.Sel.Name)
		}
		return false
	}
	for _, file := range files {
		ast.Inspect(file, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.AssignStmt:
				if len(n.Lhs) != len(n.Rhs) {
					return true
				}
				for i, l := range n.Lhs {
					if isReasonExpr(l) {
						add(n.Rhs[i], n.Tok == token.ADD_ASSIGN)
					}
				}
			case *ast.ValueSpec:
				for i, name := range n.Names {
					if isReasonName(name.Name) && i < len(n.Values) {
						add(n.Values[i], false)
					}
				}
			case *ast.KeyValueExpr:
				if id, ok := n.Key.(*ast.Ident); ok && isReasonName(id.Name) {
					add(n.Value, false)
				}
			case *ast.CallExpr:
				id, ok := n.Fun.(*ast.Ident)
				if !ok || fns[id.Name] == nil {
					return true
				}
				f := fns[id.Name]
				for i, a := range n.Args {
					if slices.Contains(f.reasonArgs, i) || f.joins && i > 0 && isReasonExpr(n.Args[0]) {
						add(a, false)
					}
				}
			}
			return true
		})
	}
	// Items appended to a slice that is joined into a reason.
	for _, file := range files {
		ast.Inspect(file, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || calleeName(call) != "append" || len(call.Args) < 2 {
				return true
			}
			if id, ok := call.Args[0].(*ast.Ident); ok && lists[id.Name] {
				for _, a := range call.Args[1:] {
					add(a, false)
				}
			}
			return true
		})
	}
	// Problem messages.
	seenProblem := map[string]bool{}
	addProblem := func(e ast.Expr, fs []string) {
		for _, f := range fs {
			if onlyValues(f) || seenProblem[f] {
				continue
			}
			seenProblem[f] = true
			problems = append(problems, probeReason{format: f, pos: fset.Position(e.Pos()).String()})
		}
	}
	for _, file := range files {
		ast.Inspect(file, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CallExpr:
				name := calleeName(n)
				if !isProblemCall(name, len(n.Args)) {
					return true
				}
				if name == "addf" {
					if lit, ok := n.Args[2].(*ast.BasicLit); ok && lit.Kind == token.STRING {
						f, _ := strconv.Unquote(lit.Value)
						addProblem(lit, []string{anyVerb.ReplaceAllString(f, "%s")})
					}
					return true
				}
				last := n.Args[len(n.Args)-1]
				addProblem(last, formats(last, 0))
			case *ast.CompositeLit:
				if !isProblemType(n.Type) {
					return true
				}
				for _, el := range n.Elts {
					if kv, ok := el.(*ast.KeyValueExpr); ok {
						if id, ok := kv.Key.(*ast.Ident); ok && id.Name == "Message" {
							addProblem(kv.Value, formats(kv.Value, 0))
						}
					}
				}
			}
			return true
		})
	}
	return out, problems
}

// onlyValues reports whether a format has only values and separators:
// nothing to translate.
func onlyValues(f string) bool {
	return strings.Trim(strings.ReplaceAll(f, "%s", ""), " ;:,.()=+-/") == ""
}

// isProblemType reports whether a composite literal's type is
// policy.Problem.
func isProblemType(e ast.Expr) bool {
	sel, ok := e.(*ast.SelectorExpr)
	return ok && sel.Sel.Name == "Problem"
}

func calleeName(c *ast.CallExpr) string {
	switch f := c.Fun.(type) {
	case *ast.Ident:
		return f.Name
	case *ast.SelectorExpr:
		return f.Sel.Name
	}
	return ""
}

// reasonsWithoutGerman are reasons that are German as they are: a command
// and its error.
var reasonsWithoutGerman = map[string]bool{
	"profiles -L: %s": true,
}

// TestProbeReasons: every reason a platform package can write has a
// German pattern. Each reason format is filled with sample values and
// translated as Dynamic translates the reason of a German finding; the
// result must keep none of the format's English text.
func TestProbeReasons(t *testing.T) {
	reasons := probeReasons(t, "../../platform")
	found := map[string]bool{}
	for _, r := range reasons {
		found[r.format] = true
	}
	// The collector must keep seeing reasons of every kind: a field, a
	// struct literal, a parameter, a joined list and a helper's result.
	for _, want := range []string{
		"no mount contains the swap file",                    // v.Reason = "..."
		"the catalog lists no management agents to look for", // Reason: "..."
		"cannot read %s settings: %s",                        // unknownVerdict(desktop, reason)
		"%s not set",                                         // append(unknown, ...), joined
		"only the work profile can be wiped (user %s); the personal profile is out of the company's reach", // userName(...)
		"GetProtectionStatus failed (exception 0x%s)",                                                      // joinReason(vol.Reason, ...+methodCode(...))
		"logind IdleAction=lock after %s s (%s) locks only sessions that report idle",                      // reason += "; ..."
	} {
		if !found[want] {
			t.Errorf("the collector no longer finds the reason %q", want)
		}
	}
	if len(reasons) < 80 {
		t.Fatalf("found only %d probe reasons under ../../platform; is the collector looking at the right code?", len(reasons))
	}
	kept := keptWords(slices.Concat(patterns, genericPatterns))
	for _, r := range reasons {
		if reasonsWithoutGerman[r.format] {
			continue
		}
		sample := fillSample(r.format)
		got := Dynamic(DE, "Nicht feststellbar. Prüfdetail: "+sample+".")
		got = strings.TrimSuffix(strings.TrimPrefix(got, "Nicht feststellbar. Prüfdetail: "), ".")
		if w := englishLeft(r.format, got, kept); w != "" {
			t.Errorf("%s: reason %q has no German pattern in dynamic.go (translated: %q, still English: %q)", r.pos, r.format, got, w)
		}
	}
}

// fillSample fills every %s of format with a sample value: V1, V2, ...
func fillSample(format string) string {
	n := 0
	return regexp.MustCompile(`%s`).ReplaceAllStringFunc(format, func(string) string {
		n++
		return "V" + strconv.Itoa(n)
	})
}

var (
	word    = regexp.MustCompile(`[A-Za-z'_]+`)
	english = regexp.MustCompile(`^[a-z']{3,}$`) // not an identifier such as ScreenSaverIsSecure
	path    = regexp.MustCompile(`\S*/\S*`)      // paths stay as they are
)

// keptWords are the words of the German texts of table and of values: a
// word of an English text may stay in its translation only where a German
// text has it too (a command name such as fdesetup or dumpsys).
func keptWords(table []struct{ en, de string }) map[string]bool {
	kept := map[string]bool{}
	for _, p := range table {
		for _, w := range word.FindAllString(p.de, -1) {
			kept[w] = true
		}
	}
	for _, g := range values() {
		for _, w := range word.FindAllString(g, -1) {
			kept[w] = true
		}
	}
	return kept
}

// englishLeft returns an English word of format (lower-case letters only,
// outside paths) that is still in its translation got, or "".
func englishLeft(format, got string, kept map[string]bool) string {
	inFormat := map[string]bool{}
	for _, w := range word.FindAllString(path.ReplaceAllString(format, ""), -1) {
		inFormat[w] = english.MatchString(w)
	}
	for _, w := range word.FindAllString(got, -1) {
		if inFormat[w] && !kept[w] {
			return w
		}
	}
	return ""
}
