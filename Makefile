# Supernode Appliance. `make help` lists the targets.
GO        ?= go
GOFLAGS   ?= -mod=mod
BIN       := bin
# The one version of every binary, the plugin, the image's os-release, the
# manifest and the SBOM (internal/version; version.sh explains the form).
VERSION   ?= $(shell internal/version/version.sh)
LDFLAGS   := -s -w -X github.com/supernode-appliance/appliance/internal/version.Version=$(VERSION)
TEMPLATE  ?= image/appliance.pkr.hcl
FUZZTIME  ?= 10s
BENCHTIME ?= 1s
# The operator key that signs update bundles (`appliance keygen keys/operator`).
SIGNING_KEY ?= keys/operator.asc
OUT       ?= out

export GOFLAGS

# Every main package under <part>/cmd/<name> becomes bin/<name>, built static.
CMDS := $(sort $(patsubst %/,%,$(dir $(wildcard $(addsuffix /cmd/*/*.go,supernode ebpf image hardening)))))

.PHONY: help build test unit fuzz bench generate clean image boot audit deps vet soak update-bundle

help:
	@echo "make image     build the appliance image (installs missing build tools)"
	@echo "make test      run every test (root-only tests skip without root; fuzz seeds included)"
	@echo "make fuzz      fuzz every target for FUZZTIME each (new crashers land in testdata/fuzz)"
	@echo "make build     static binaries into $(BIN)/"
	@echo "make bench     benchmarks (numbers go to BENCHMARKS.md)"
	@echo "make soak      long fleet run with churn, a kill/restart and a zero-gap restart (not in make test)"
	@echo "make natlab    NAT lab matrix, NATLAB_TRIES tries per pair (root; tests/README.md)"
	@echo "make generate  rebuild generated files (bpf2go, packer-sdc)"
	@echo "make boot      boot the built image under QEMU"
	@echo "make update-bundle  signed update bundle of the built image into $(OUT)/update (SIGNING_KEY=$(SIGNING_KEY))"
	@echo "make audit     audit the built image against the hardening profile"
	@echo "make clean     remove $(BIN)/ and out/"

build:
	@mkdir -p $(BIN)
	@echo "version $(VERSION)"
	@for d in $(CMDS); do \
		echo "go build $$d"; \
		CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/$$(basename $$d) ./$$d || exit 1; \
	done

vet:
	$(GO) vet ./...

# The README's test command. Tests build what they need themselves.
# `go test` replays every fuzz target's seeds and saved crashers (testdata/fuzz)
# as ordinary tests. Random fuzzing is `make fuzz`: it finds new inputs, so
# it is not part of the deterministic `make test`.
test: build vet unit

unit:
	$(GO) test -count=1 -timeout 80m ./...

# Long runs, not part of `make test`: the fleet soak (SOAK_DURATION, 2m by
# default) and the restart-under-load comparison.
soak: build
	SUPERNODE_SOAK=1 $(GO) test -count=1 -timeout 30m -v -run 'TestFleetSoak|TestRestartLosesNoReplies' ./tests/fleet/

# A run of every fuzz target, FUZZTIME each. A crasher is written to the
# package's testdata/fuzz/ and from then on replays in `make test`.
fuzz:
	@for pkg in $$($(GO) list ./...); do \
		dir=$$($(GO) list -f '{{.Dir}}' $$pkg); \
		for f in $$(grep -ho '^func Fuzz[A-Za-z0-9_]*' $$dir/*_test.go 2>/dev/null | cut -c6-); do \
			echo "fuzz $$pkg $$f ($(FUZZTIME))"; \
			$(GO) test -run '^$$' -fuzz "^$$f\$$" -fuzztime $(FUZZTIME) $$pkg >/tmp/fuzz.$$$$.log 2>&1 || { cat /tmp/fuzz.$$$$.log; exit 1; }; \
		done; \
	done

bench: build
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) ./...
	@for s in $$(ls tests/bench/*.sh 2>/dev/null); do echo "== $$s"; sh $$s || exit 1; done

# The whole NAT matrix, N tries per pair (make test runs each pair once).
NATLAB_TRIES ?= 10
natlab: build
	NATLAB_TRIES=$(NATLAB_TRIES) $(GO) test -count=1 -timeout 60m -run '^TestNATLab$$' -v ./tests/natlab

generate:
	$(GO) generate ./...

deps:
	.ci/install-deps build

image: deps build
	$(BIN)/appliance build $(TEMPLATE)

boot: build
	$(BIN)/appliance boot $(TEMPLATE)

# The build writes $(OUT)/update/ itself (signed when the template sets
# signing_key); this target (re)writes it for a built image with SIGNING_KEY.
update-bundle: build
	$(BIN)/appliance update-bundle -key $(SIGNING_KEY) $(OUT)

audit: build
	$(BIN)/appliance-audit --image out/supernode-appliance.raw --manifest out/manifest.json

clean:
	rm -rf $(BIN) out
