// The few Linux ioctls Node cannot make: GPIO character-device line requests (uAPI v2), the watchdog's
// integer ioctls, a unix socket peer's credentials (SO_PEERCRED), and a CFI NOR flash reached through /dev/mem. Plain N-API (C), so one build loads in every Node of the same ABI. Errors are thrown as
// Error objects whose `code` is the errno name (EBUSY, ENOENT, ...), like Node's own fs errors.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/gpio.h>
#include <node_api.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

static const char *errno_code(int err) {
  switch (err) {
    case EBUSY: return "EBUSY";
    case ENOENT: return "ENOENT";
    case EINVAL: return "EINVAL";
    case EACCES: return "EACCES";
    case EPERM: return "EPERM";
    case ENODEV: return "ENODEV";
    case ENXIO: return "ENXIO";
    case ENOTTY: return "ENOTTY";
    case EBADF: return "EBADF";
    case EIO: return "EIO";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    default: return "EIO";
  }
}

static napi_value throw_errno(napi_env env, const char *what) {
  int err = errno;
  char msg[256];
  snprintf(msg, sizeof msg, "%s: %s: %s", errno_code(err), what, strerror(err));
  napi_throw_error(env, errno_code(err), msg);
  return NULL;
}

static int arg_int(napi_env env, napi_value v, int32_t *out) {
  return napi_get_value_int32(env, v, out) == napi_ok;
}

static int arg_string(napi_env env, napi_value v, char *buf, size_t size) {
  size_t len;
  return napi_get_value_string_utf8(env, v, buf, size, &len) == napi_ok;
}

static napi_value make_int(napi_env env, int32_t n) {
  napi_value v;
  napi_create_int32(env, n, &v);
  return v;
}

static void set_string(napi_env env, napi_value obj, const char *key, const char *value) {
  napi_value v;
  napi_create_string_utf8(env, value, NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, obj, key, v);
}

#define ARGS(n)                                                                                   \
  size_t argc = n;                                                                                \
  napi_value argv[n];                                                                             \
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < n) {            \
    napi_throw_type_error(env, NULL, "expected " #n " arguments");                               \
    return NULL;                                                                                  \
  }

// gpioChipInfo(path) -> { name, label, lines }
static napi_value gpio_chip_info(napi_env env, napi_callback_info info) {
  ARGS(1);
  char path[256];
  if (!arg_string(env, argv[0], path, sizeof path)) return NULL;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return throw_errno(env, path);
  struct gpiochip_info ci;
  memset(&ci, 0, sizeof ci);
  int rc = ioctl(fd, GPIO_GET_CHIPINFO_IOCTL, &ci);
  int saved = errno;
  close(fd);
  errno = saved;
  if (rc < 0) return throw_errno(env, path);
  napi_value obj;
  napi_create_object(env, &obj);
  set_string(env, obj, "name", ci.name);
  set_string(env, obj, "label", ci.label);
  napi_set_named_property(env, obj, "lines", make_int(env, (int32_t)ci.lines));
  return obj;
}

// gpioLineInfo(path, offset) -> { name, consumer, used, output, activeLow }
static napi_value gpio_line_info(napi_env env, napi_callback_info info) {
  ARGS(2);
  char path[256];
  int32_t offset;
  if (!arg_string(env, argv[0], path, sizeof path) || !arg_int(env, argv[1], &offset)) return NULL;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return throw_errno(env, path);
  struct gpio_v2_line_info li;
  memset(&li, 0, sizeof li);
  li.offset = (uint32_t)offset;
  int rc = ioctl(fd, GPIO_V2_GET_LINEINFO_IOCTL, &li);
  int saved = errno;
  close(fd);
  errno = saved;
  if (rc < 0) return throw_errno(env, path);
  napi_value obj, b;
  napi_create_object(env, &obj);
  set_string(env, obj, "name", li.name);
  set_string(env, obj, "consumer", li.consumer);
  napi_get_boolean(env, (li.flags & GPIO_V2_LINE_FLAG_USED) != 0, &b);
  napi_set_named_property(env, obj, "used", b);
  napi_get_boolean(env, (li.flags & GPIO_V2_LINE_FLAG_OUTPUT) != 0, &b);
  napi_set_named_property(env, obj, "output", b);
  napi_get_boolean(env, (li.flags & GPIO_V2_LINE_FLAG_ACTIVE_LOW) != 0, &b);
  napi_set_named_property(env, obj, "activeLow", b);
  return obj;
}

// gpioRequestAsIs(path, offset, consumer) -> line fd. Neither input nor output is asked for, so the kernel
// leaves the line's direction and level exactly as they are: the caller reads before it drives.
static napi_value gpio_request_as_is(napi_env env, napi_callback_info info) {
  ARGS(3);
  char path[256], consumer[GPIO_MAX_NAME_SIZE];
  int32_t offset;
  if (!arg_string(env, argv[0], path, sizeof path) || !arg_int(env, argv[1], &offset) ||
      !arg_string(env, argv[2], consumer, sizeof consumer))
    return NULL;
  int fd = open(path, O_RDWR | O_CLOEXEC);
  if (fd < 0) return throw_errno(env, path);
  struct gpio_v2_line_request req;
  memset(&req, 0, sizeof req);
  req.offsets[0] = (uint32_t)offset;
  req.num_lines = 1;
  snprintf(req.consumer, sizeof req.consumer, "%s", consumer);
  int rc = ioctl(fd, GPIO_V2_GET_LINE_IOCTL, &req);
  int saved = errno;
  close(fd);
  errno = saved;
  if (rc < 0) return throw_errno(env, path);
  return make_int(env, req.fd);
}

// gpioGetValue(lineFd) -> 0 | 1 (physical level as the controller reports it)
static napi_value gpio_get_value(napi_env env, napi_callback_info info) {
  ARGS(1);
  int32_t fd;
  if (!arg_int(env, argv[0], &fd)) return NULL;
  struct gpio_v2_line_values v = {.bits = 0, .mask = 1};
  if (ioctl(fd, GPIO_V2_LINE_GET_VALUES_IOCTL, &v) < 0) return throw_errno(env, "get line value");
  return make_int(env, (int32_t)(v.bits & 1));
}

// gpioSetOutput(lineFd, value): makes the line an output driving `value` in one step (no intermediate level).
static napi_value gpio_set_output(napi_env env, napi_callback_info info) {
  ARGS(2);
  int32_t fd, value;
  if (!arg_int(env, argv[0], &fd) || !arg_int(env, argv[1], &value)) return NULL;
  struct gpio_v2_line_config cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.flags = GPIO_V2_LINE_FLAG_OUTPUT;
  cfg.num_attrs = 1;
  cfg.attrs[0].attr.id = GPIO_V2_LINE_ATTR_ID_OUTPUT_VALUES;
  cfg.attrs[0].attr.values = value ? 1 : 0;
  cfg.attrs[0].mask = 1;
  if (ioctl(fd, GPIO_V2_LINE_SET_CONFIG_IOCTL, &cfg) < 0) return throw_errno(env, "set line output");
  return NULL;
}

// gpioSetValue(lineFd, value)
static napi_value gpio_set_value(napi_env env, napi_callback_info info) {
  ARGS(2);
  int32_t fd, value;
  if (!arg_int(env, argv[0], &fd) || !arg_int(env, argv[1], &value)) return NULL;
  struct gpio_v2_line_values v = {.bits = value ? 1 : 0, .mask = 1};
  if (ioctl(fd, GPIO_V2_LINE_SET_VALUES_IOCTL, &v) < 0) return throw_errno(env, "set line value");
  return NULL;
}

// ioctlInt(fd, request, value) -> the int the driver wrote back (the watchdog's WDIOC_* calls).
static napi_value ioctl_int(napi_env env, napi_callback_info info) {
  ARGS(3);
  int32_t fd, value;
  uint32_t request;
  if (!arg_int(env, argv[0], &fd) || napi_get_value_uint32(env, argv[1], &request) != napi_ok ||
      !arg_int(env, argv[2], &value))
    return NULL;
  int v = value;
  if (ioctl(fd, (unsigned long)request, &v) < 0) {
    char what[32];
    snprintf(what, sizeof what, "ioctl 0x%08x", request);
    return throw_errno(env, what);
  }
  return make_int(env, v);
}

// peerCredentials(fd) -> { pid, uid, gid } of the process at the other end of a unix socket, as the kernel
// recorded it at connect(): what a client says of itself is never needed.
static napi_value peer_credentials(napi_env env, napi_callback_info info) {
  ARGS(1);
  int32_t fd;
  if (!arg_int(env, argv[0], &fd)) return NULL;
  struct ucred cred;
  socklen_t len = sizeof cred;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) return throw_errno(env, "SO_PEERCRED");
  napi_value obj;
  napi_create_object(env, &obj);
  napi_set_named_property(env, obj, "pid", make_int(env, (int32_t)cred.pid));
  napi_set_named_property(env, obj, "uid", make_int(env, (int32_t)cred.uid));
  napi_set_named_property(env, obj, "gid", make_int(env, (int32_t)cred.gid));
  return obj;
}

// A CFI NOR flash (Intel command set) mapped from /dev/mem: QEMU virt's flash, where U-Boot keeps its environment.
// Debian's arm64 kernel has no CFI or physmap driver, so no /dev/mtd exists for it; read() of /dev/mem refuses
// device memory on arm64, mmap() does not. The bus is 32 bits wide with two x16 chips side by side, so every
// command goes to both halves (0x00XX00XX) and both halves' status must say ready.
#define CFI_BOTH(c) ((uint32_t)(c) | ((uint32_t)(c) << 16))
#define CFI_READY CFI_BOTH(0x80)
#define CFI_ERRORS CFI_BOTH(0x3a) /* erase, program, voltage, lock */

struct phys_map {
  int fd;
  void *base;
  size_t len;
  volatile uint32_t *at;
};

static int map_phys(napi_env env, napi_value a, napi_value l, struct phys_map *m) {
  int64_t addr, len;
  if (napi_get_value_int64(env, a, &addr) != napi_ok || napi_get_value_int64(env, l, &len) != napi_ok ||
      addr < 0 || len <= 0 || (addr & 3) || (len & 3)) {
    napi_throw_range_error(env, NULL, "expected a word-aligned address and length");
    return 0;
  }
  long page = sysconf(_SC_PAGESIZE);
  int64_t start = addr & ~((int64_t)page - 1);
  m->len = (size_t)(addr - start + len);
  m->fd = open("/dev/mem", O_RDWR | O_SYNC | O_CLOEXEC);
  if (m->fd < 0) {
    throw_errno(env, "/dev/mem");
    return 0;
  }
  // One flash user at a time, across processes: a read's read-array command (0xff) landing between another
  // process's program command and its data turns the data into a command, and the environment is left erased.
  // The agent reads the environment every few seconds while `skyminer update` writes it. The lock is on /dev/mem's
  // inode, so every process mapping the flash shares it; closing the descriptor releases it.
  if (flock(m->fd, LOCK_EX) != 0) {
    throw_errno(env, "/dev/mem lock");
    close(m->fd);
    return 0;
  }
  m->base = mmap(NULL, m->len, PROT_READ | PROT_WRITE, MAP_SHARED, m->fd, (off_t)start);
  if (m->base == MAP_FAILED) {
    throw_errno(env, "/dev/mem mmap");
    close(m->fd);
    return 0;
  }
  m->at = (volatile uint32_t *)((char *)m->base + (addr - start));
  return 1;
}

static void unmap_phys(struct phys_map *m) {
  munmap(m->base, m->len);
  close(m->fd);
}

// Waits for both chips' ready bit at word w; returns the status, or 0 when it never came.
static uint32_t cfi_wait(volatile uint32_t *w) {
  *w = CFI_BOTH(0x70);
  for (long i = 0; i < 50000000; i++) {
    uint32_t s = *w;
    if ((s & CFI_READY) == CFI_READY) return s;
  }
  return 0;
}

// physRead(address, length) -> Buffer: the bytes of a flash in read-array mode, read a word at a time.
static napi_value phys_read(napi_env env, napi_callback_info info) {
  ARGS(2);
  struct phys_map m;
  if (!map_phys(env, argv[0], argv[1], &m)) return NULL;
  size_t len = m.len - (size_t)((char *)m.at - (char *)m.base);
  void *data;
  napi_value buf;
  napi_create_buffer(env, len, &data, &buf);
  m.at[0] = CFI_BOTH(0xff);
  for (size_t i = 0; i < len / 4; i++) {
    uint32_t w = m.at[i];
    memcpy((char *)data + i * 4, &w, 4);
  }
  unmap_phys(&m);
  return buf;
}

// cfiWrite(address, blockBytes, data): erases the flash blocks from address (block-aligned, data a whole number
// of blocks), programs every word of data that is not all ones, and reads it all back.
static napi_value cfi_write(napi_env env, napi_callback_info info) {
  ARGS(3);
  int32_t block;
  void *data;
  size_t len;
  if (!arg_int(env, argv[1], &block) || block <= 0 ||
      napi_get_buffer_info(env, argv[2], &data, &len) != napi_ok || len == 0 || len % (size_t)block) {
    napi_throw_range_error(env, NULL, "expected the block size and data of whole blocks");
    return NULL;
  }
  napi_value lenv;
  napi_create_int64(env, (int64_t)len, &lenv);
  struct phys_map m;
  if (!map_phys(env, argv[0], lenv, &m)) return NULL;
  const char *fail = NULL;
  m.at[0] = CFI_BOTH(0x50); /* clear status */
  for (size_t b = 0; b < len / 4 && !fail; b += (size_t)block / 4) {
    m.at[b] = CFI_BOTH(0x60); /* unlock the block (confirm 0xd0) */
    m.at[b] = CFI_BOTH(0xd0);
    m.at[b] = CFI_BOTH(0x20); /* erase (confirm 0xd0) */
    m.at[b] = CFI_BOTH(0xd0);
    uint32_t s = cfi_wait(&m.at[b]);
    if (!s || (s & CFI_ERRORS)) fail = "flash erase failed";
    m.at[b] = CFI_BOTH(0x50);
  }
  for (size_t i = 0; i < len / 4 && !fail; i++) {
    uint32_t w;
    memcpy(&w, (char *)data + i * 4, 4);
    if (w == 0xffffffffu) continue;
    m.at[i] = CFI_BOTH(0x40); /* program one word */
    m.at[i] = w;
    uint32_t s = cfi_wait(&m.at[i]);
    if (!s || (s & CFI_ERRORS)) fail = "flash program failed";
    m.at[i] = CFI_BOTH(0x50);
  }
  m.at[0] = CFI_BOTH(0xff); /* back to reading */
  for (size_t i = 0; i < len / 4 && !fail; i++) {
    uint32_t w;
    memcpy(&w, (char *)data + i * 4, 4);
    if (m.at[i] != w) fail = "flash reads back different from what was written";
  }
  unmap_phys(&m);
  if (fail) {
    napi_throw_error(env, "EIO", fail);
    return NULL;
  }
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"gpioChipInfo", NULL, gpio_chip_info, NULL, NULL, NULL, napi_default, NULL},
      {"gpioLineInfo", NULL, gpio_line_info, NULL, NULL, NULL, napi_default, NULL},
      {"gpioRequestAsIs", NULL, gpio_request_as_is, NULL, NULL, NULL, napi_default, NULL},
      {"gpioGetValue", NULL, gpio_get_value, NULL, NULL, NULL, napi_default, NULL},
      {"gpioSetOutput", NULL, gpio_set_output, NULL, NULL, NULL, napi_default, NULL},
      {"gpioSetValue", NULL, gpio_set_value, NULL, NULL, NULL, napi_default, NULL},
      {"ioctlInt", NULL, ioctl_int, NULL, NULL, NULL, napi_default, NULL},
      {"peerCredentials", NULL, peer_credentials, NULL, NULL, NULL, napi_default, NULL},
      {"physRead", NULL, phys_read, NULL, NULL, NULL, napi_default, NULL},
      {"cfiWrite", NULL, cfi_write, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
