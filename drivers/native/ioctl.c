// The few Linux ioctls Node cannot make: GPIO character-device line requests (uAPI v2), the watchdog's
// integer ioctls, and a unix socket peer's credentials (SO_PEERCRED). Plain N-API (C), so one build loads in every Node of the same ABI. Errors are thrown as
// Error objects whose `code` is the errno name (EBUSY, ENOENT, ...), like Node's own fs errors.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/gpio.h>
#include <node_api.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
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
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
