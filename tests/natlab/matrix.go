package natlab

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/supernode-appliance/appliance/supernode/client"
)

// Row is one case's results over all tries.
type Row struct {
	Case    Case
	Results []Result
}

// Connected counts the tries that found a direct path.
func (r Row) Connected() int {
	n := 0
	for _, x := range r.Results {
		if x.Connected {
			n++
		}
	}
	return n
}

// times returns the sorted times to the first direct datagram.
func (r Row) times() []time.Duration {
	var ts []time.Duration
	for _, x := range r.Results {
		if x.Connected {
			ts = append(ts, x.Elapsed)
		}
	}
	slices.Sort(ts)
	return ts
}

// quantile is the nearest-rank quantile of sorted values.
func quantile[T any](sorted []T, q float64) T {
	i := int(q*float64(len(sorted))+0.999999) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// WriteMatrix prints the rows as a Markdown table and a summary line.
// natTypes and natTypes6 are what `supernode-client nat-type` reported
// behind each type over IPv4 and IPv6, shown per side of a pair; nil or
// missing types print "-".
func WriteMatrix(w io.Writer, rows []Row, natTypes, natTypes6 map[Type]client.NATBehaviour) {
	fmt.Fprintln(w, "| pair (puncher-listener) | possible | direct | median | p95 | datagrams sent (median) | nat-type (puncher; listener) |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|")
	possible, possibleOK, predicted, predictedOK := 0, 0, 0, 0
	for _, r := range rows {
		ok, _ := r.Case.Possible()
		n := r.Connected()
		med, p95 := "-", "-"
		if ts := r.times(); len(ts) > 0 {
			med, p95 = ms(quantile(ts, 0.5)), ms(quantile(ts, 0.95))
		}
		var sent []int
		for _, x := range r.Results {
			sent = append(sent, x.Sent)
		}
		slices.Sort(sent)
		theory := yes(ok)
		if r.Case.Predictable() {
			theory = "with prediction"
		}
		nt := natTypes
		if r.Case.V6 {
			nt = natTypes6
		}
		reported := ShortNATType(nt, r.Case.Puncher)
		if !r.Case.SameNAT {
			reported += "; " + ShortNATType(nt, r.Case.Listener)
		}
		fmt.Fprintf(w, "| %s | %s | %d/%d | %s | %s | %d | %s |\n", r.Case, theory, n, len(r.Results), med, p95, quantile(sent, 0.5), reported)
		if ok {
			possible++
			if n == len(r.Results) {
				possibleOK++
			}
		}
		if r.Case.Predictable() {
			predicted += len(r.Results)
			predictedOK += n
		}
	}
	fmt.Fprintf(w, "\n%d of %d pairs possible without prediction connected on every try", possibleOK, possible)
	if predicted > 0 {
		fmt.Fprintf(w, "; pairs that need prediction connected in %d of %d tries", predictedOK, predicted)
	}
	fmt.Fprintln(w, ".")
}

// ShortNATType is nat-type's report behind t in RFC 4787 abbreviations:
// mapping EIM, ADM, APDM or "no NAT", then filtering EIF, ADF or APDF.
func ShortNATType(natTypes map[Type]client.NATBehaviour, t Type) string {
	b, ok := natTypes[t]
	if !ok {
		return "-"
	}
	short := map[string]string{
		client.BehaviourEndpointIndependent:     "EI",
		client.BehaviourAddressDependent:        "AD",
		client.BehaviourAddressAndPortDependent: "APD",
	}
	m := "no NAT"
	if b.Mapping != client.BehaviourNone {
		m = short[b.Mapping] + "M"
	}
	return m + "/" + short[b.Filtering] + "F"
}

// Legend explains the letters.
func Legend() string {
	var b strings.Builder
	for _, t := range Types {
		fmt.Fprintf(&b, "- %s: %s; IPv6: %s\n", t, t.Describe(), t.Describe6())
	}
	return b.String()
}

func ms(d time.Duration) string {
	return fmt.Sprintf("%d ms", d.Round(time.Millisecond).Milliseconds())
}

func yes(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
