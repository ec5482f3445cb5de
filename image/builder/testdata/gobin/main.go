// Command gobin is a small Go binary the SBOM tests build to read its build
// info: it links a module from the proxy and one swapped by a replace
// directive (go-cty -> nywilken/go-cty), like the project's binaries.
package main

import (
	"fmt"

	"github.com/pion/stun/v3"
	"github.com/zclconf/go-cty/cty"
)

func main() {
	fmt.Println(stun.BindingRequest, cty.String.FriendlyName())
}
