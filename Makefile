# The two commands a newcomer needs: `make run` and `make test`. Both install what is missing first.
SHELL := /bin/bash
.DEFAULT_GOAL := help
NODE_OK := $(shell node -e 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : 1)' 2>/dev/null && echo yes)
SOURCES := $(shell find firmware drivers images test -name "*.ts" 2>/dev/null) $(wildcard firmware/sim/smart/*) firmware/sim/smartctl-stand-in.sh tsconfig.json

.PHONY: help deps build run test lint typecheck unit bench clean panel-pictures rig test-hil test-box box image image-deps test-image skywire go-deps test-skywire release-check

help:
	@echo "make run    install what is missing, then start the simulated Skyminer"
	@echo "make test   install what is missing, then typecheck, lint and run every test"
	@echo "make bench  print the benchmark figures"
	@echo "make box    boot the whole box under QEMU (four boards from the emulator image) and watch its consoles"
	@echo "make image BOARD=<profile>  build a card image and its update bundle into out/ (profiles: images/boards/*.toml)"
	@echo "make release-check  before a release, with an Alpine mirror: boot an Alpine image with Alpine's kernel in QEMU"

# apt's lists, refreshed before an install; one list failing (a mirror caught mid-sync) does not stop the install
# from the lists that did update.
APT_UPDATE = { $$SUDO apt-get update -qq || echo "apt-get update failed for some lists; installing from the others"; }

# System packages the native addons and tests need (python3, make, g++ build the addons with node-gyp; the
# attach-key tests check the key with OpenSSH's ssh-keygen).
.cache/apt.stamp:
	@mkdir -p .cache
	@missing=""; for p in python3 make g++ ssh-keygen; do command -v $$p >/dev/null || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $(APT_UPDATE) && $$SUDO apt-get install -y -qq python3 make g++ openssh-client; \
	fi
	@touch $@

node_modules/.installed: package.json package-lock.json .cache/apt.stamp
	@[ "$(NODE_OK)" = yes ] || { echo "Node.js 20 or newer is needed (found: $$(node --version 2>/dev/null || echo none))"; exit 1; }
	npm ci --no-audit --no-fund
	@touch $@

# The firmware's own addon (GPIO character-device and watchdog ioctls), built with npm's node-gyp.
NODE_GYP := $(shell dirname "$$(realpath "$$(command -v npm)")" 2>/dev/null)/../node_modules/node-gyp/bin/node-gyp.js
NODEDIR := $(shell npm config get nodedir 2>/dev/null)
NATIVE := drivers/native/build/Release/skyminer_native.node
$(NATIVE): drivers/native/ioctl.c drivers/native/binding.gyp node_modules/.installed
	cd drivers/native && node $(NODE_GYP) rebuild --loglevel=warn $(if $(filter-out undefined,$(NODEDIR)),--nodedir=$(NODEDIR)) >/dev/null

deps: node_modules/.installed $(NATIVE)

# What the image builder and its boot test need from Debian: filesystem and partition tools, QEMU, xz, the
# cross compilers for the native addons (their binutils also strip the musl ones zig builds; readelf checks
# them), and the arm64/armhf package lists for the pinned Debian inputs. zig itself is a pinned npm input.
IMAGE_APT := e2fsprogs mtools fdisk dosfstools qemu-system-arm xz-utils openssl binutils g++-aarch64-linux-gnu g++-arm-linux-gnueabihf
.cache/image-deps.stamp:
	@mkdir -p .cache
	@SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); update=""; missing=""; \
	for a in arm64 armhf; do dpkg --print-foreign-architectures | grep -qx $$a || { $$SUDO dpkg --add-architecture $$a; update=1; }; done; \
	for p in $(IMAGE_APT); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	[ -z "$$update$$missing" ] || { echo "image builder needs:$$missing (and the arm64/armhf package lists)"; \
	  $(APT_UPDATE) && { [ -z "$$missing" ] || DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; }; }
	@touch $@

image-deps: .cache/image-deps.stamp .cache/go.stamp

# Go for Skywire: Debian's golang-1.22-go from bookworm-backports (Skywire 1.3.28 needs Go 1.21 or newer); the suite
# is added to apt's sources when it is not there yet.
.cache/go.stamp:
	@mkdir -p .cache
	@if ! command -v go >/dev/null && [ ! -x /usr/lib/go-1.22/bin/go ]; then \
	  echo "installing golang-1.22-go (bookworm-backports) for the Skywire build"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  grep -rqs bookworm-backports /etc/apt/sources.list /etc/apt/sources.list.d/ || \
	    echo 'deb http://deb.debian.org/debian bookworm-backports main' | $$SUDO tee /etc/apt/sources.list.d/bookworm-backports.list >/dev/null; \
	  $(APT_UPDATE) && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends -t bookworm-backports golang-1.22-go; \
	fi
	@touch $@

go-deps: .cache/go.stamp

# Skywire for the host (the real-Skywire tests) and both board architectures (the images), built once from the
# pinned source into .cache/images/skywire/ and shared by every test and image after (cold: minutes per
# architecture on two cores; cached: a second). SKYWIRE_SOURCE=FILE|URL takes the archive from elsewhere.
skywire: build .cache/go.stamp
	nice node dist/images/cli/skyminer-image.js skywire --arch amd64,arm64,arm

dist/.built: node_modules/.installed $(NATIVE) $(SOURCES)
	npx tsc -p tsconfig.json
	@cp -r firmware/sim/smartctl-stand-in.sh firmware/sim/smart dist/firmware/sim/
	@chmod +x dist/firmware/cli/main.js dist/images/cli/skyminer-image.js
	@touch $@

build: dist/.built

run: build
	node dist/firmware/cli/main.js sim

typecheck: build

lint: deps
	npx eslint .
	npx prettier --check .

unit: build image-deps skywire
	npx vitest run --reporter=default --reporter=json --outputFile.json=.cache/vitest.json

# The QEMU tier (test/hil): Debian's ARM kernels drive the real drivers (test/rig), and the emulator image boots.
# QEMU, the cross compilers and the tools that assemble the root, in Debian's names; installed once.
.cache/hil-apt.stamp:
	@mkdir -p .cache
	@missing=""; for c in qemu-system-aarch64 qemu-system-arm aarch64-linux-gnu-g++ arm-linux-gnueabihf-g++ file cpio depmod; do \
	  command -v $$c >/dev/null || PATH=$$PATH:/sbin:/usr/sbin command -v $$c >/dev/null || missing="$$missing $$c"; done; \
	archs=$$(dpkg --print-foreign-architectures); \
	if [ -n "$$missing" ] || ! grep -q arm64 <<<"$$archs" || ! grep -q armhf <<<"$$archs"; then \
	  echo "installing QEMU and cross tools for the HIL tests"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO dpkg --add-architecture arm64 && $$SUDO dpkg --add-architecture armhf && \
	  $(APT_UPDATE) && $$SUDO apt-get install -y -qq qemu-system-arm g++-aarch64-linux-gnu \
	    g++-arm-linux-gnueabihf file cpio kmod >/dev/null; \
	fi
	@touch $@

# The U-Boot update tests (test/hil/update-uboot.test.ts): Debian's u-boot-qemu is the virt machine's firmware, and
# its saveenv needs a QEMU of 9.1 or later (bookworm's 7.2 keeps only the first buffer of each flash write, QEMU
# issue 2343). When the system QEMU is older, bookworm-backports' qemu-system-arm is unpacked into
# .cache/qemu-uboot for these tests alone; the rest of the tier keeps the system's QEMU.
.cache/uboot-qemu.stamp: .cache/hil-apt.stamp
	@SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	dpkg -s u-boot-qemu >/dev/null 2>&1 || { echo "installing u-boot-qemu"; $(APT_UPDATE) && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends u-boot-qemu >/dev/null; }; \
	v=$$(qemu-system-aarch64 --version | sed -n 's/.*version \([0-9]*\)\.\([0-9]*\).*/\1 \2/p' | head -n1); \
	set -- $$v; if [ "$${1:-0}" -gt 9 ] || { [ "$${1:-0}" = 9 ] && [ "$${2:-0}" -ge 1 ]; }; then exit 0; fi; \
	[ -x .cache/qemu-uboot/usr/bin/qemu-system-aarch64 ] && exit 0; \
	echo "unpacking qemu-system-arm from bookworm-backports into .cache/qemu-uboot (U-Boot's flash writes)"; \
	grep -rqs bookworm-backports /etc/apt/sources.list /etc/apt/sources.list.d/ || \
	  { echo 'deb http://deb.debian.org/debian bookworm-backports main' | $$SUDO tee /etc/apt/sources.list.d/bookworm-backports.list >/dev/null; $(APT_UPDATE); }; \
	d=$$(mktemp -d) && chmod 755 $$d && (cd $$d && apt-get download -qq qemu-system-arm/bookworm-backports) && \
	rm -rf .cache/qemu-uboot && dpkg -x $$d/qemu-system-arm_*.deb .cache/qemu-uboot && rm -rf $$d && \
	.cache/qemu-uboot/usr/bin/qemu-system-aarch64 --version | head -n1
	@touch $@

rig: .cache/hil-apt.stamp .cache/uboot-qemu.stamp node_modules/.installed
	@PATH=$$PATH:/sbin:/usr/sbin bash test/rig/build-root.sh arm64
	@PATH=$$PATH:/sbin:/usr/sbin bash test/rig/build-root.sh armhf

test-hil: build rig image-deps skywire
	npx vitest run --config vitest.hil.config.ts --reporter=default --reporter=json --outputFile.json=.cache/vitest-hil.json

# The real-Skywire tier (test/skywire): the host's Skywire build runs a hypervisor, visors and the deployment services
# offline in network namespaces the tests make (root, iproute2); dmsg discovery needs redis (Debian's redis-server,
# run by the tests themselves, not as a system service).
.cache/skywire-apt.stamp:
	@mkdir -p .cache
	@missing=""; for c in redis-server ip; do PATH=$$PATH:/sbin:/usr/sbin command -v $$c >/dev/null || missing="$$missing $$c"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing redis-server and iproute2 for the real-Skywire tests"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $(APT_UPDATE) && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends redis-server iproute2 >/dev/null; \
	fi
	@touch $@

test-skywire: build skywire .cache/skywire-apt.stamp
	PATH=$$PATH:/sbin:/usr/sbin npx vitest run --config vitest.skywire.config.ts --reporter=default --reporter=json --outputFile.json=.cache/vitest-skywire.json

# The whole box alone (make test-hil runs it with the rest of the QEMU tier): four boards booted from the emulator
# image on one LAN, the manager's GPIO lines wired to the workers' power and reset (test/box); then a second box
# booted through U-Boot takes a box-wide update, one board at a time (test/box/rolling-update.test.ts).
test-box: build image-deps skywire
	npx vitest run --config vitest.hil.config.ts test/box

# Boots the QEMU box by hand (README): the emulator image with this box's secret (BOX_SECRET, made on first use) so
# the workers enrol, then four boards; the manager's console on this terminal, every board's console in out/box/.
BOX_SECRET ?= .cache/box.secret
box: build image-deps skywire
	@[ -s "$(BOX_SECRET)" ] || { umask 077; head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$(BOX_SECRET)"; }
	@img=$$(node dist/images/cli/skyminer-image.js build qemu-virt-arm64 --out out/box-image --no-compress \
	  --box-secret "$(BOX_SECRET)" $(IMAGE_FLAGS)) && node dist/test/box/run.js "$$img" out/box

test: typecheck lint unit test-skywire test-hil

bench: build rig image-deps skywire
	node dist/test/bench/run.js

# The README's pictures of every panel page, drawn by the page renderers from the sample box.
panel-pictures: build
	node dist/firmware/panel/pictures.js docs/panel

# The Ed25519 key that signs the update bundle written beside the image (made on first use; keep it, and keep
# it private: the boards flashed from these images take updates signed with it only).
SIGNING_KEY ?= .cache/update-signing.pem

image: build image-deps
	@[ -n "$(BOARD)" ] || { echo "usage: make image BOARD=<profile>; profiles: $$(ls images/boards | sed -n 's/\.toml$$//p' | tr '\n' ' ')"; exit 2; }
	@[ -f "$(SIGNING_KEY)" ] || node dist/images/cli/skyminer-image.js bundle key $(SIGNING_KEY)
	node dist/images/cli/skyminer-image.js build $(BOARD) --signing-key $(SIGNING_KEY) $(IMAGE_FLAGS)

# Before a release, on a machine that reaches an Alpine mirror (not part of make test): an Alpine image for QEMU virt
# with Alpine's own aarch64 kernel, booted to the console (images/README.md, "Release check").
release-check: build image-deps
	node dist/images/cli/skyminer-image.js release-check $(IMAGE_FLAGS)

# The image builder's tests alone (make test runs them with the rest; the boot test is in the QEMU tier).
test-image: build image-deps skywire
	npx vitest run test/unit/image test/integration/image
	npx vitest run --config vitest.hil.config.ts test/hil/image-boot.test.ts

clean:
	rm -rf dist .cache node_modules/.installed
