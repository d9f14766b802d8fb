# Sluice infrastructure targets, included by the root Makefile
# (`include infra/infra.mk`); recipes run from the repo root.
#
#   make synth        cdk synth, offline, no AWS credentials: writes infra/cdk.out/
#   make test-infra   go test ./... in infra/ (template assertions and cdk-nag)
#   make deploy       make build, then cdk deploy (uses your AWS credentials)
#
# CDK_ARGS passes extra arguments to cdk, e.g. CDK_ARGS='-c natGateways=2'.
# The CDK CLI is the npm package aws-cdk under .tools/ (the root Makefile's
# `tools` target runs npm ci there).

CDK ?= $(CURDIR)/.tools/node_modules/.bin/cdk
CDK_ARGS ?=

# Never ask the network: no version check, notices or telemetry. The jsii
# runtime (the CDK library's Node.js half) warns in a large banner that Node
# 20 is past its end of life; the banner is silenced, the CDK still runs.
CDK_QUIET_ENV := CDK_DISABLE_VERSION_CHECK=1 CDK_DISABLE_CLI_TELEMETRY=1 \
	JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20
CDK_QUIET_FLAGS := --no-version-reporting --no-notices

# synth must not find or use credentials: without any, the CLI asks no AWS
# endpoint (not STS, not the EC2 instance metadata service). The stack is
# environment-agnostic, so the template is the same either way.
CDK_OFFLINE_ENV := -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN \
	-u AWS_PROFILE -u AWS_DEFAULT_PROFILE -u AWS_CONTAINER_CREDENTIALS_RELATIVE_URI \
	-u AWS_CONTAINER_CREDENTIALS_FULL_URI -u AWS_WEB_IDENTITY_TOKEN_FILE \
	AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
	AWS_EC2_METADATA_DISABLED=true AWS_REGION=us-east-1

CDK_CHECK = test -x $(CDK) || { echo "missing $(CDK): run make tools" >&2; exit 1; }

.PHONY: synth test-infra deploy

synth: tools
	@$(CDK_CHECK)
	cd infra && env $(CDK_OFFLINE_ENV) $(CDK_QUIET_ENV) \
		$(CDK) synth --quiet $(CDK_QUIET_FLAGS) --no-lookups $(CDK_ARGS)
	@ls infra/cdk.out/*.template.json

test-infra:
	cd infra && env $(CDK_QUIET_ENV) go test -count=1 ./...

deploy: build tools
	@$(CDK_CHECK)
	cd infra && env $(CDK_QUIET_ENV) $(CDK) deploy $(CDK_QUIET_FLAGS) $(CDK_ARGS)
