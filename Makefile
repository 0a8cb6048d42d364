# wsgate: build the nginx module, the operator CLI and the unit tests, and
# run every suite.  `make test` on a fresh Debian 12 machine (as root)
# installs what it needs first.

SHELL := /bin/bash

TOP       := $(CURDIR)
BUILD     := $(TOP)/build
NGX_DEV   := /usr/share/nginx/src
MODULE_SO := $(BUILD)/ngx_http_wsgate_module.so

MODULE_SRCS := $(wildcard module/*.c) $(wildcard module/*.h) config
PURE_SRCS   := module/ngx_http_wsgate_token.c module/ngx_http_wsgate_uuid.c \
               module/ngx_http_wsgate_slot.c \
               module/ngx_http_wsgate_check.c module/ngx_http_wsgate_schema.c \
               module/ngx_http_wsgate_reply.c

CC       ?= cc
CFLAGS_T := -std=gnu99 -O1 -g -Wall -Wextra -Werror -Wno-unused-parameter \
            -Imodule
SAN      := -fsanitize=address,undefined -fno-omit-frame-pointer

# Debian packages for building, running and testing.  Node.js (for the A2A
# SDK test) comes from Debian's nodejs + npm unless a node with npm is
# already installed (NodeSource's nodejs bundles npm and conflicts with
# Debian's npm package).
DEB_BUILD := gcc make libc6-dev nginx-core nginx-dev libhiredis-dev \
             libcjson-dev libssl-dev libpcre2-dev zlib1g-dev openssl
DEB_TEST  := redis-server redis-tools perl libtest-base-perl \
             libtest-longstring-perl libwww-perl libhttp-message-perl \
             libtext-diff-perl libnet-dns-perl liburi-perl libio-socket-ssl-perl dpkg-dev \
             python3-prometheus-client \
             curl procps wrk clang libclang-rt-14-dev llvm
DEB_ALL   := $(DEB_BUILD) $(DEB_TEST)

export TEST_NGINX_LOAD_MODULES ?= $(MODULE_SO)
export TEST_NGINX_BINARY ?= /usr/sbin/nginx

.PHONY: all deps module cli unit test test-unit test-t test-cache test-cluster test-asan asan a2a-deps clean \
        demo demo-stop nginx-version test-nginx fuzz fuzz-build

all: module cli

# Idempotent: apt-get runs only when something is missing.
deps:
	@missing=""; for p in $(DEB_ALL); do \
	    dpkg-query -W -f='$${Status}' $$p 2>/dev/null \
	        | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	command -v npm >/dev/null 2>&1 || missing="$$missing nodejs npm"; \
	if [ -n "$$missing" ]; then \
	    echo "installing:$$missing"; \
	    export DEBIAN_FRONTEND=noninteractive; \
	    apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing; \
	fi

module: $(MODULE_SO)

# A dynamic module against Debian's nginx: configure a copy of the
# nginx-dev tree with Debian's own flags (so the module signature matches),
# then build only the modules.
$(BUILD)/nginx/Makefile: config $(NGX_DEV)/conf_flags
	rm -rf $(BUILD)/nginx && mkdir -p $(BUILD) && cp -r $(NGX_DEV) $(BUILD)/nginx
	cd $(BUILD)/nginx && . ./conf_flags && \
	    ./configure "$${NGX_CONF_FLAGS[@]}" \
	        --with-cc-opt="-g -O2 -fPIC -Wformat -Werror=format-security $(EXTRA_CC_OPT)" \
	        --with-ld-opt="-Wl,-z,relro -Wl,-z,now -fPIC $(EXTRA_LD_OPT)" \
	        --add-dynamic-module=$(TOP) > $(BUILD)/configure.log 2>&1 \
	    || { tail -20 $(BUILD)/configure.log; exit 1; }

$(MODULE_SO): $(BUILD)/nginx/Makefile $(MODULE_SRCS)
	$(MAKE) -C $(BUILD)/nginx -f objs/Makefile modules
	@# a new file, renamed over the old: an nginx running the old one
	@# keeps its mapping (overwriting it in place crashes its workers)
	cp $(BUILD)/nginx/objs/ngx_http_wsgate_module.so $@.tmp
	mv -f $@.tmp $@

cli: $(BUILD)/wsgate-token

$(BUILD)/wsgate-token: redis/wsgate-token.c $(PURE_SRCS) $(wildcard module/*.h)
	@mkdir -p $(BUILD)
	$(CC) $(CFLAGS_T) -O2 -o $@ redis/wsgate-token.c \
	    module/ngx_http_wsgate_token.c module/ngx_http_wsgate_uuid.c \
	    module/ngx_http_wsgate_schema.c module/ngx_http_wsgate_slot.c \
	    -lhiredis -lcrypto

unit: $(BUILD)/unit-tests

$(BUILD)/unit-tests: $(wildcard t/unit/*.c t/unit/*.h) $(PURE_SRCS)
	@mkdir -p $(BUILD)
	$(CC) $(CFLAGS_T) $(SAN) -fno-sanitize-recover=undefined -o $@ \
	    $(PURE_SRCS) $(wildcard t/unit/*.c) \
	    -lcjson -lhiredis -lcrypto

test-unit: unit
	$(BUILD)/unit-tests

# libFuzzer harnesses, one per target (t/unit/fuzz/fuzz_<name>.c), built
# with Debian's clang and AddressSanitizer + UBSan (any finding aborts).
# Each runs FUZZ_TIME seconds from its committed seeds,
# t/unit/fuzz/corpus/<name>/, two at a time; what it learns goes to
# build/fuzz/corpus/<name>/ (kept between runs, never committed).  A crash,
# a sanitizer report, a leak, a timeout or running out of memory fails the
# target: its reproducer is build/fuzz/crash/<name>/, replayed with
# build/fuzz/fuzz_<name> <file>.
FUZZ_TIME    ?= 60
FUZZ_TARGETS := bearer register url a2a reply
FUZZ_CC      ?= clang
FUZZ_DIR     := $(BUILD)/fuzz
FUZZ_CFLAGS  := -std=gnu99 -g -O1 -Wall -Wextra -Werror \
                -Wno-unused-parameter -Imodule -fno-omit-frame-pointer \
                -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZ_OPTS     = -max_total_time=$(FUZZ_TIME) -timeout=10 -rss_limit_mb=2048 \
                -print_final_stats=1

$(FUZZ_DIR)/fuzz_%: t/unit/fuzz/fuzz_%.c t/unit/fuzz/fuzz.h $(PURE_SRCS) \
                    $(wildcard module/*.h)
	@mkdir -p $(FUZZ_DIR)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< $(PURE_SRCS) \
	    -lcjson -lhiredis -lcrypto

fuzz-build: $(FUZZ_TARGETS:%=$(FUZZ_DIR)/fuzz_%)

fuzz: fuzz-build
	$(MAKE) -k -j2 $(FUZZ_TARGETS:%=fuzz-run-%)

fuzz-run-%: $(FUZZ_DIR)/fuzz_%
	@rm -rf $(FUZZ_DIR)/crash/$*
	@mkdir -p $(FUZZ_DIR)/corpus/$* $(FUZZ_DIR)/crash/$*
	@dict=t/unit/fuzz/$*.dict; test -f $$dict || dict=t/unit/fuzz/fuzz.dict; \
	if ASAN_OPTIONS=quarantine_size_mb=64 $< $(FUZZ_OPTS) -dict=$$dict \
	        -artifact_prefix=$(FUZZ_DIR)/crash/$*/ \
	        $(FUZZ_DIR)/corpus/$* t/unit/fuzz/corpus/$* \
	        > $(FUZZ_DIR)/$*.log 2>&1; then \
	    echo "fuzz $*: ok," \
	        "$$(grep -o 'stat::number_of_executed_units: [0-9]*' \
	            $(FUZZ_DIR)/$*.log | grep -o '[0-9]*$$') runs," \
	        "$$(grep -o 'cov: [0-9]* ft: [0-9]* corp: [0-9]*' \
	            $(FUZZ_DIR)/$*.log | tail -1)"; \
	else \
	    grep -B2 -A30 -m1 "ERROR\|runtime error\|==ERROR\|deadly signal" \
	        $(FUZZ_DIR)/$*.log | head -60; \
	    echo "fuzz $*: FAILED (log $(FUZZ_DIR)/$*.log), reproducer:" \
	        $(FUZZ_DIR)/crash/$*/*; \
	    exit 1; \
	fi

# The JavaScript A2A SDK for t/055-a2a-sdk.t, from the lock file.
a2a-deps: t/a2a/node_modules/.package-lock.json

t/a2a/node_modules/.package-lock.json: t/a2a/package.json t/a2a/package-lock.json
	cd t/a2a && npm ci --no-audit --no-fund --loglevel=error

# Suites run two at a time: TEST_NGINX_RANDOMIZE gives each file its own
# port and server root (every suite starts its own Redis on a free port).
PROVE := TEST_NGINX_RANDOMIZE=1 prove -j2 -I t/lib

# Every suite, against Debian's nginx with the module loaded.
test-t: module cli a2a-deps
	$(PROVE) t/*.t

# The auth, register and A2A suites again with a token cache configured
# (WsgateTest's cache_conf() adds wsgate_cache to their http block): the
# same answers, whether or not an entry came from the cache.
CACHE_SUITES := t/010-auth.t t/040-register-payload.t \
                t/045-register-state.t t/050-a2a.t

test-cache: module cli a2a-deps
	WSGATE_TEST_CACHE=1 $(PROVE) $(CACHE_SUITES)

# The same suites against a Redis Cluster of 3 masters (WsgateTest's
# cluster mode: redis_conf() gives them wsgate_redis_cluster), and
# t/120-cluster.t, which starts clusters of its own whatever
# WSGATE_TEST_CLUSTER says (so `make test`, which has run it in test-t
# already, leaves it out: CLUSTER_T=).  WSGATE_TEST_CACHE=1 in the
# environment adds the token cache.
CLUSTER_T ?= t/120-cluster.t

test-cluster: module cli a2a-deps
	WSGATE_TEST_CLUSTER=1 $(PROVE) $(CACHE_SUITES) $(CLUSTER_T)

# deps first, in its own make, so that a fresh machine has the compilers
# and libraries before anything is built.
test: deps
	$(MAKE) all unit
	$(MAKE) test-unit
	$(MAKE) fuzz
	$(MAKE) test-t
	$(MAKE) test-cache
	$(MAKE) test-cluster CLUSTER_T=
	$(MAKE) test-asan
	$(MAKE) test-nginx V=1.26

# nginx built from Debian's source with the module linked in statically
# (--add-module) and AddressSanitizer + UBSan on everything; the suites
# then run against that binary.
ASAN_DIR   := $(BUILD)/asan
ASAN_NGINX := $(ASAN_DIR)/nginx-1.22.1/objs/nginx
DEB_SRC_LIST := /etc/apt/sources.list.d/debian-src.sources

$(DEB_SRC_LIST):
	printf 'Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: bookworm bookworm-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' > $@
	apt-get update -qq

$(ASAN_DIR)/nginx-1.22.1/configure: | $(DEB_SRC_LIST)
	mkdir -p $(ASAN_DIR)
	cd $(ASAN_DIR) && apt-get source --download-only --tar-only -qq nginx/bookworm \
	    && tar xzf nginx_1.22.1.orig.tar.gz
	touch $@

$(ASAN_DIR)/nginx-1.22.1/Makefile: $(ASAN_DIR)/nginx-1.22.1/configure config Makefile
	cd $(ASAN_DIR)/nginx-1.22.1 && ./configure --with-debug \
	    --with-http_ssl_module --with-http_v2_module \
	    --with-http_realip_module \
	    --without-http_gzip_module \
	    --with-cc-opt="-O1 -g $(SAN) -DNGX_DEBUG_PALLOC=1" \
	    --with-ld-opt="$(SAN)" --add-module=$(TOP) \
	    > $(ASAN_DIR)/configure.log 2>&1 \
	    || { tail -20 $(ASAN_DIR)/configure.log; exit 1; }

$(ASAN_NGINX): $(ASAN_DIR)/nginx-1.22.1/Makefile $(MODULE_SRCS)
	$(MAKE) -C $(ASAN_DIR)/nginx-1.22.1 -j2 > $(ASAN_DIR)/build.log 2>&1 \
	    || { grep -E "error|Error" $(ASAN_DIR)/build.log | head -20; exit 1; }

asan: $(ASAN_NGINX)

# The module is linked in: no load_module line.  ASan aborts nginx on the
# first memory error; UBSan reports and goes on (its suppressions, for
# findings in nginx's own core, do not work with halt_on_error).  A report
# lands in build/sanitizer.<pid>, or on nginx's stderr, which is the error
# log: every block's log is gathered in build/asan-error.log.  Any report
# fails the target.
SAN_LOG := $(BUILD)/sanitizer
SAN_ERR := $(BUILD)/asan-error.log

test-asan: asan cli a2a-deps
	rm -f $(SAN_LOG).* $(SAN_ERR)
	TEST_NGINX_BINARY=$(ASAN_NGINX) TEST_NGINX_LOAD_MODULES= \
	    TEST_NGINX_ERROR_LOG=$(SAN_ERR) \
	    ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:log_path=$(SAN_LOG) \
	    UBSAN_OPTIONS=print_stacktrace=1:suppressions=$(TOP)/t/ubsan.supp:log_path=$(SAN_LOG) \
	    $(PROVE) t/*.t
	@if ls $(SAN_LOG).* >/dev/null 2>&1; then \
	    echo "sanitizer reports:"; cat $(SAN_LOG).*; exit 1; fi
	@if grep -n "runtime error:\|AddressSanitizer\|LeakSanitizer" $(SAN_ERR); then \
	    echo "sanitizer reports in the error logs (above)"; exit 1; fi
	@echo "test-asan: no sanitizer reports"

# Other nginx versions, built from Debian's source packages (source only:
# deb-src lines, never another suite's binaries) as operators build a
# dynamic module: --with-compat, the module with --add-dynamic-module.
# V=1.26 is Debian 13's (trixie), V=1.30 Debian unstable's (sid).  Each
# version is fetched and built once, under build/nginx-$(V)/.
V            ?= 1.26
NGX_SUITE_1.26 := trixie
NGX_SUITE_1.30 := sid
VER_DIR      := $(BUILD)/nginx-$(V)
VER_SRC      := $(VER_DIR)/src
VER_NGINX    := $(VER_SRC)/objs/nginx
VER_SO       := $(VER_SRC)/objs/ngx_http_wsgate_module.so
VER_SRC_LIST := /etc/apt/sources.list.d/wsgate-nginx-src.sources

$(VER_SRC_LIST):
	printf 'Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: trixie sid\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' > $@
	apt-get update -qq

# NGX_SRC=/path/to/nginx takes that source tree (a release tarball's, or a
# checkout with auto/configure) instead of Debian's package.
ifeq ($(NGX_SRC),)
$(VER_SRC)/configure: | $(VER_SRC_LIST)
	@test -n "$(NGX_SUITE_$(V))" || { echo "V=$(V): not a version this Makefile knows (1.26, 1.30)"; exit 1; }
	rm -rf $(VER_DIR) && mkdir -p $(VER_DIR)
	cd $(VER_DIR) && apt-get source --download-only --tar-only -qq nginx/$(NGX_SUITE_$(V)) \
	    || { echo "nginx $(V): Debian's source package (nginx/$(NGX_SUITE_$(V))) could not be downloaded"; exit 1; }
	cd $(VER_DIR) && tar xzf nginx_$(V).*.orig.tar.gz && mv nginx-$(V).* src
	touch $@
else
$(VER_SRC)/configure:
	rm -rf $(VER_DIR) && mkdir -p $(VER_DIR) && cp -r $(NGX_SRC) $(VER_SRC)
	test -f $@ || ln -s auto/configure $@
endif

$(VER_SRC)/Makefile: $(VER_SRC)/configure config Makefile
	cd $(VER_SRC) && ./configure --with-compat --with-http_ssl_module \
	    --with-http_v2_module --with-http_realip_module --with-debug \
	    --with-cc-opt="-g -O2" \
	    --add-dynamic-module=$(TOP) > $(VER_DIR)/configure.log 2>&1 \
	    || { tail -20 $(VER_DIR)/configure.log; exit 1; }

$(VER_NGINX): $(VER_SRC)/Makefile $(MODULE_SRCS)
	$(MAKE) -C $(VER_SRC) -j2 > $(VER_DIR)/build.log 2>&1 \
	    || { grep -E "error|Error" $(VER_DIR)/build.log | head -20; exit 1; }

nginx-version: $(VER_NGINX)

# Every suite against that nginx, the module loaded as a dynamic module.
test-nginx: nginx-version cli a2a-deps
	@$(VER_NGINX) -v
	TEST_NGINX_BINARY=$(VER_NGINX) TEST_NGINX_LOAD_MODULES=$(VER_SO) \
	    $(PROVE) t/*.t

# The gateway as an operator would run it, with a private Redis and a
# stand-in platform, all on 127.0.0.1; prints curl lines to paste.
demo: deps
	$(MAKE) all
	lua-free-config/demo.sh

demo-stop:
	lua-free-config/demo-stop.sh

# wrk against a plain proxy_pass, wsgate without cache and wsgate with
# cache, interleaved, one nginx worker each,
# its own Redis and backend on loopback; about three and a half minutes.  See
# t/bench/run.sh and README.md's "Performance".
.PHONY: bench
bench: deps
	$(MAKE) module
	t/bench/run.sh

clean:
	rm -rf $(BUILD) t/servroot*
