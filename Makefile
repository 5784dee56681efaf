# Portcullis. Two commands matter on a fresh machine:
#   make run    start the gateway in embedded mode (SMTP 127.0.0.1:2525, HTTP 127.0.0.1:8025, admin 127.0.0.1:8026)
#   make install  put `portcullis` (bin/portcullis, on Node 24) on PATH: PREFIX/bin, default ~/.local/bin
#   make test   install and start what the tests need (Node 24, Kafka, Redis, BIND, clamd, rspamd,
#               helm, etcd, kube-apiserver), run every test, stop it all
SHELL := /bin/bash
NODE_DIR := $(shell bash scripts/node.sh)
export PATH := $(NODE_DIR):$(PATH)
CONFIG ?= config/portcullis.yaml

.PHONY: all deps build install run lint format test test-unit test-e2e bench clean manifests image

all: build

node_modules/.installed: package.json package-lock.json $(wildcard */*/package.json) test/package.json
	npm ci --no-audit --no-fund
	@touch $@

deps: node_modules/.installed

build: deps
	npx tsc --build

# `portcullis` on PATH: links bin/portcullis (which runs the CLI on Node 24) into $(PREFIX)/bin.
# PREFIX=/usr/local (as root) for every user; the link points into this checkout, so keep it.
PREFIX ?= $(HOME)/.local
install: build
	@mkdir -p $(PREFIX)/bin
	ln -sfn $(CURDIR)/bin/portcullis $(PREFIX)/bin/portcullis
	@echo "installed $(PREFIX)/bin/portcullis -> $(CURDIR)/bin/portcullis"; \
	case ":$$PATH:" in *":$(PREFIX)/bin:"*) ;; *) echo "note: $(PREFIX)/bin is not on your PATH: add it, or run ./bin/portcullis";; esac

# The admin API's token (config/portcullis.yaml, http.admin.tokenFile): made once, readable by you only.
run: build
	@mkdir -p var && [ -s var/admin-token ] || (umask 077 && node -e 'process.stdout.write(require("node:crypto").randomBytes(32).toString("base64url") + "\n")' > var/admin-token)
	node apps/portcullis/dist/src/portcullis.js run all --config $(CONFIG)

# ESLint (eslint.config.js: regular expressions that could run in super-linear time on message or client
# data; with type information, promises nobody awaits and `any` flowing on unchecked), then the layout
# (prettier, .prettierrc.json). `make format` rewrites the layout in place.
lint: deps
	npx --no-install eslint .
	npx --no-install prettier --check --log-level warn .

format: deps
	npx --no-install prettier --write --log-level warn .

test: build
	bash scripts/test.sh

# Unit tests only: no broker, no Redis.
test-unit: build
	bash test/infra/kube/tools.sh helm
	node --test --test-concurrency=2 'libs/*/dist/test/**/*.test.js' 'services/*/dist/test/**/*.test.js' 'apps/*/dist/test/**/*.test.js'

# Plain Kubernetes YAML from the Helm chart (manifests/portcullis.yaml); a test fails when it is stale.
manifests:
	bash scripts/render-manifests.sh

# The container image, built with buildah from scratch (no Docker engine needed); see Dockerfile.
image: build
	bash scripts/image.sh

bench: build
	bash scripts/bench.sh

clean:
	npx tsc --build --clean
	rm -rf var
