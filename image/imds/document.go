package imds

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
)

// The user data document is the shape systemd-imds(8) --import reads
// (systemd 261, src/imds/imds-tool.c), so this one-shot can be replaced by
// it without changing the document or the units that read the credentials:
//
//	{"systemd.credentials": [
//	  {"name": "supernode.conf", "text": "max_peers = 100000\n"},
//	  {"name": "supernode.fleet-key", "data": "<base64>"}
//	]}
//
// Like systemd-imds, a first line "#systemd-userdata" may precede the JSON.
// Unlike it, "encrypted" is refused (the appliance has no host key to
// decrypt with), and so is anything that is not such a document: user
// data on this appliance is for the appliance.
const userDataMarker = "#systemd-userdata\n"

type document struct {
	Credentials *[]entry `json:"systemd.credentials"`
}

type entry struct {
	Name      *string `json:"name"`
	Text      *string `json:"text"`
	Data      *string `json:"data"`
	Encrypted *string `json:"encrypted"`
}

// Policy is what a document may contain.
type Policy struct {
	Allow    []string // credential name globs (path.Match), from the profile
	MaxValue int      // bytes per credential value
	MaxCount int      // credentials per document
}

// ParseDocument checks the whole document and returns its credentials, or
// the first problem as one sentence. One bad item rejects the document:
// applying the good half of a configuration can leave the appliance in a
// state nobody wrote, while rejecting it leaves the built-in (or
// firmware-supplied) configuration serving.
func ParseDocument(b []byte, p Policy) ([]Credential, error) {
	b = bytes.TrimPrefix(b, []byte(userDataMarker))
	if !bytes.HasPrefix(bytes.TrimLeft(b, " \t\r\n"), []byte("{")) {
		return nil, fmt.Errorf("user data is not a JSON object; expected {\"systemd.credentials\":[{\"name\":...,\"text\":...}]}")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var d document
	if err := dec.Decode(&d); err != nil {
		return nil, fmt.Errorf("user data is not a valid credentials document: %v", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("user data has trailing content after the JSON object")
	}
	if d.Credentials == nil {
		return nil, fmt.Errorf("user data has no \"systemd.credentials\" list")
	}
	if len(*d.Credentials) > p.MaxCount {
		return nil, fmt.Errorf("user data has %d credentials, more than the limit of %d", len(*d.Credentials), p.MaxCount)
	}
	seen := map[string]bool{}
	var out []Credential
	for i, e := range *d.Credentials {
		if e.Name == nil {
			return nil, fmt.Errorf("credential %d has no \"name\"", i+1)
		}
		name := *e.Name
		if err := CheckName(name, p.Allow); err != nil {
			return nil, fmt.Errorf("credential %d: %v", i+1, err)
		}
		if seen[name] {
			return nil, fmt.Errorf("credential %q appears twice", name)
		}
		seen[name] = true
		n := 0
		for _, v := range []*string{e.Text, e.Data, e.Encrypted} {
			if v != nil {
				n++
			}
		}
		if n != 1 {
			return nil, fmt.Errorf("credential %q must have exactly one of \"text\" or \"data\"", name)
		}
		var val []byte
		switch {
		case e.Encrypted != nil:
			return nil, fmt.Errorf("credential %q is \"encrypted\", which this appliance cannot decrypt; send it as \"text\" or \"data\"", name)
		case e.Text != nil:
			val = []byte(*e.Text)
		default:
			v, err := base64.StdEncoding.DecodeString(*e.Data)
			if err != nil {
				return nil, fmt.Errorf("credential %q: \"data\" is not base64: %v", name, err)
			}
			val = v
		}
		if len(val) > p.MaxValue {
			return nil, fmt.Errorf("credential %q is %d bytes, more than the limit of %d", name, len(val), p.MaxValue)
		}
		out = append(out, Credential{Name: name, Value: val})
	}
	return out, nil
}
