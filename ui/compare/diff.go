package compare

import (
	"github.com/shadowview/shadow/api"
)

// RowKind is what one row of a Diff says.
type RowKind int

// The kinds of a Diff's rows.
const (
	// Differs is a cell both users' matrices list, decided otherwise for each.
	Differs RowKind = iota
	// OnlyFirst is a resource only the first user's matrix lists (the second user does
	// not see it at all: not "denied", absent).
	OnlyFirst
	// OnlySecond is a resource only the second user's matrix lists.
	OnlySecond
)

// Row is one row of a Diff: a cell that differs (Action set, A and B the two
// effects, api.EffectAllow/Deny/None), or a resource one user's matrix lists and the
// other's does not (Action "", Effects the one user's effects in Diff.Actions order).
type Row struct {
	Kind     RowKind
	Resource api.Resource
	Action   string
	A, B     byte
	Effects  string
}

// Diff is two users' permission matrices set side by side: only what differs.
type Diff struct {
	First, Second api.UserRef
	// Actions are the actions compared: the first matrix's, in its order, that the
	// second matrix has too.
	Actions []string
	Rows    []Row
	// Both is how many resources both matrices list; Cells how many cells of them were
	// compared; Allowed how many of those both users may do alike.
	Both, Cells, Allowed int
	// Differing counts the rows of kind Differs; OnlyFirst and OnlySecond the others.
	Differing, OnlyFirst, OnlySecond int
	// Of the Differing: MayDiffer where one may do it and the other may not; WhyNotOnly
	// where neither may, for different reasons (a deny against nothing granting it).
	MayDiffer, WhyNotOnly int
}

// MayDiffer reports whether a row of kind Differs is one user allowed and the other
// not (else neither is: only why not differs).
func (r Row) MayDiffer() bool { return (r.A == api.EffectAllow) != (r.B == api.EffectAllow) }

// MayFirst is the order of the rows with the cells one may do and the other may not
// first (then the rest, each in the list's order): a stable partition, as indexes.
func (d *Diff) MayFirst() []int {
	out := make([]int, 0, len(d.Rows))
	for pass := range 2 {
		for i, r := range d.Rows {
			if (r.Kind == Differs && r.MayDiffer()) == (pass == 0) {
				out = append(out, i)
			}
		}
	}
	return out
}

// Same reports whether nothing differs: every cell alike and every resource in both.
func (d *Diff) Same() bool { return len(d.Rows) == 0 }

// Compute sets b against a: one pass over each matrix with b's rows indexed by
// resource id, so 50,000 resources cost 50,000 look-ups, never 50,000². Rows come in
// a's order (each resource's differing actions in Actions order), then the resources
// only b lists, in b's order. A resource id listed twice in a matrix counts once
// (its first row).
func Compute(a, b *api.PermissionMatrix) *Diff {
	d := &Diff{First: a.Subject, Second: b.Subject}
	bAction := make(map[string]int, len(b.Actions))
	for i, x := range b.Actions {
		if _, dup := bAction[x]; !dup {
			bAction[x] = i
		}
	}
	var at []int // for each compared action: its index in a, then in b
	for i, x := range a.Actions {
		if j, ok := bAction[x]; ok {
			d.Actions = append(d.Actions, x)
			at = append(at, i, j)
		}
	}
	bRow := make(map[string]int, len(b.Rows))
	for i, r := range b.Rows {
		if _, dup := bRow[r.Resource.ID]; !dup {
			bRow[r.Resource.ID] = i
		}
	}
	seen := make(map[string]bool, len(a.Rows))
	for _, r := range a.Rows {
		if seen[r.Resource.ID] {
			continue
		}
		seen[r.Resource.ID] = true
		j, ok := bRow[r.Resource.ID]
		if !ok {
			d.Rows = append(d.Rows, Row{Kind: OnlyFirst, Resource: r.Resource, Effects: effects(r.Effects, at, 0)})
			d.OnlyFirst++
			continue
		}
		d.Both++
		other := b.Rows[j].Effects
		for k := 0; k < len(at); k += 2 {
			x, y := effectAt(r.Effects, at[k]), effectAt(other, at[k+1])
			d.Cells++
			if x == y {
				if x == api.EffectAllow {
					d.Allowed++
				}
				continue
			}
			row := Row{Kind: Differs, Resource: r.Resource, Action: d.Actions[k/2], A: x, B: y}
			d.Rows = append(d.Rows, row)
			d.Differing++
			if row.MayDiffer() {
				d.MayDiffer++
			} else {
				d.WhyNotOnly++
			}
		}
	}
	for _, r := range b.Rows {
		if seen[r.Resource.ID] {
			continue
		}
		seen[r.Resource.ID] = true
		d.Rows = append(d.Rows, Row{Kind: OnlySecond, Resource: r.Resource, Effects: effects(r.Effects, at, 1)})
		d.OnlySecond++
	}
	return d
}

// effectAt is a row's effect for action i; a short row's missing cells are none, as
// the matrix page draws them.
func effectAt(effects string, i int) byte {
	if i < len(effects) {
		return effects[i]
	}
	return api.EffectNone
}

// effects is a row's effects in the compared actions' order (side 0: a's indexes, 1: b's).
func effects(row string, at []int, side int) string {
	out := make([]byte, 0, len(at)/2)
	for k := side; k < len(at); k += 2 {
		out = append(out, effectAt(row, at[k]))
	}
	return string(out)
}

// Index is the row of the cell (resource id, action), or of the resource when only
// one matrix lists it; -1 when neither.
func (d *Diff) Index(resource, action string) int {
	for i, r := range d.Rows {
		if r.Resource.ID == resource && (r.Action == action || r.Kind != Differs) {
			return i
		}
	}
	return -1
}
