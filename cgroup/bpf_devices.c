/* silo cgroup/: the device filter of a cgroup v2 directory.
 *
 * cgroup v2 has no devices controller: access to device nodes is decided by
 * BPF_PROG_TYPE_CGROUP_DEVICE programs attached to the cgroup (and to its
 * ancestors: every one of them must allow).  linux.resources.devices is a list
 * of v1-style rules; this file translates it into such a program, assembled by
 * hand (no compiler, no libbpf), loads it and attaches it to the container's
 * cgroup with BPF_F_ALLOW_MULTI, replacing the one silo attached before (on
 * `update`).  Programs silo loads are named "silo_devices", so the ones other
 * software attached to the same cgroup are left alone.
 *
 * Semantics, as runc's and crun's filters: the rules are tried from the last to
 * the first and the first one matching the request decides (last match wins);
 * no match denies.  A rule matches when its type ('a' = any), major and minor
 * (absent or -1 = any) match and:
 *   allow: every access bit requested (r, w, m) is in the rule's access;
 *   deny:  any access bit requested is in the rule's access (so "deny w" refuses
 *          an "rw" open, as the v1 controller would; runc and crun ask for a
 *          subset there too, which lets an "rw" open through such a rule).
 * A rule matching everything ("a *:* rwm") ends the program: the rules before
 * it can never decide, so they are not emitted.
 */
#include "cgroup/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/bpf.h>

#define PROG_NAME "silo_devices"

/* ---- assembling ---- */

/* The few instructions the filter needs (linux/filter.h's macros are not uapi). */
static struct bpf_insn
insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
  return (struct bpf_insn){.code = code, .dst_reg = dst, .src_reg = src, .off = off, .imm = imm};
}
#define LDX_W(dst, src, off) insn(BPF_LDX | BPF_W | BPF_MEM, dst, src, off, 0)
#define ALU32_K(op, dst, k)  insn(BPF_ALU | (op) | BPF_K, dst, 0, 0, k)
#define MOV32_X(dst, src)    insn(BPF_ALU | BPF_MOV | BPF_X, dst, src, 0, 0)
#define MOV64_K(dst, k)      insn(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, k)
#define JMP_K(op, dst, k, o) insn(BPF_JMP | (op) | BPF_K, dst, 0, o, k)
#define EXIT()               insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

/* Registers after the prologue (r1, the context, is then free as a scratch). */
enum { R_TYPE = 2, R_ACCESS = 3, R_MAJOR = 4, R_MINOR = 5 };

static int
access_bits(const char *a, unsigned *bits)
{
  *bits = 0;
  if (!a || !*a) a = "rwm";
  for (; *a; a++) {
    switch (*a) {
    case 'r':
      *bits |= BPF_DEVCG_ACC_READ;
      break;
    case 'w':
      *bits |= BPF_DEVCG_ACC_WRITE;
      break;
    case 'm':
      *bits |= BPF_DEVCG_ACC_MKNOD;
      break;
    default:
      return -1;
    }
  }
  return 0;
}

static const unsigned ALL_ACCESS = BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD;

int
cgroup_bpf_devices_build(const struct oci_device_cgroup *rules, size_t n, struct bpf_insn **out,
                         size_t *n_out, struct silo_error *err)
{
  /* prologue 6, at most 8 per rule, the final deny 2 */
  struct bpf_insn *p = xcalloc(6 + 8 * n + 2, sizeof *p);
  size_t k = 0;
  bool open_end = true; /* the last block emitted can fall through */

  *out = NULL;
  *n_out = 0;
  p[k++] = LDX_W(R_TYPE, 1, offsetof(struct bpf_cgroup_dev_ctx, access_type));
  p[k++] = ALU32_K(BPF_AND, R_TYPE, 0xffff); /* low 16 bits: the type */
  p[k++] = LDX_W(R_ACCESS, 1, offsetof(struct bpf_cgroup_dev_ctx, access_type));
  p[k++] = ALU32_K(BPF_RSH, R_ACCESS, 16); /* high 16 bits: the access */
  p[k++] = LDX_W(R_MAJOR, 1, offsetof(struct bpf_cgroup_dev_ctx, major));
  p[k++] = LDX_W(R_MINOR, 1, offsetof(struct bpf_cgroup_dev_ctx, minor));

  for (size_t i = n; i-- > 0;) {
    const struct oci_device_cgroup *r = &rules[i];
    unsigned acc;
    int type;
    switch (r->type) {
    case 0:
    case 'a':
      type = 0;
      break;
    case 'c':
      type = BPF_DEVCG_DEV_CHAR;
      break;
    case 'b':
      type = BPF_DEVCG_DEV_BLOCK;
      break;
    default:
      free(p);
      return silo_err(err, EINVAL, "linux.resources.devices[%zu]: type \"%c\" is not a, b or c", i,
                      r->type);
    }
    if (access_bits(r->access, &acc) < 0) {
      free(p);
      return silo_err(err, EINVAL, "linux.resources.devices[%zu]: access \"%s\" is not rwm", i,
                      r->access);
    }
    bool has_major = r->has_major && r->major >= 0, has_minor = r->has_minor && r->minor >= 0;
    if ((has_major && r->major > INT32_MAX) || (has_minor && r->minor > INT32_MAX)) {
      free(p);
      return silo_err(err, EINVAL, "linux.resources.devices[%zu]: device number out of range", i);
    }
    /* The access test: allow needs requested & ~acc == 0, deny requested & acc != 0.
     * An allow of rwm or a deny of rwm has nothing to test (requests are never empty). */
    bool test_access = (acc & ALL_ACCESS) != ALL_ACCESS;
    int len = (type ? 1 : 0) + (test_access ? 3 : 0) + has_major + has_minor + 2;
    int at = 0; /* index inside the block, for the jump offsets to its end */
#define SKIP_REST(op, reg, imm) (p[k++] = JMP_K(op, reg, imm, (int16_t)(len - ++at)))
    if (type) SKIP_REST(BPF_JNE, R_TYPE, type);
    if (test_access) {
      p[k++] = MOV32_X(1, R_ACCESS);
      p[k++] = ALU32_K(BPF_AND, 1, (int32_t)(r->allow ? ~acc & ALL_ACCESS : acc));
      at += 2;
      SKIP_REST(r->allow ? BPF_JNE : BPF_JEQ, 1, 0);
    }
    if (has_major) SKIP_REST(BPF_JNE, R_MAJOR, (int32_t)r->major);
    if (has_minor) SKIP_REST(BPF_JNE, R_MINOR, (int32_t)r->minor);
#undef SKIP_REST
    p[k++] = MOV64_K(0, r->allow ? 1 : 0);
    p[k++] = EXIT();
    if (len == 2) { /* matches everything: what comes before is unreachable */
      open_end = false;
      break;
    }
  }
  if (open_end) { /* no rule matched: deny */
    p[k++] = MOV64_K(0, 0);
    p[k++] = EXIT();
  }
  *out = p;
  *n_out = k;
  return 0;
}

/* ---- the bpf(2) calls ---- */

static int
sys_bpf(int cmd, union bpf_attr *attr)
{
  return (int)syscall(SYS_bpf, cmd, attr, sizeof *attr);
}

static uint64_t
ptr(const void *p)
{
  return (uint64_t)(uintptr_t)p;
}

/* The program's fd; the verifier's log in the error when it refuses. */
static int
load(const struct bpf_insn *p, size_t n, struct silo_error *err)
{
  union bpf_attr a;
  memset(&a, 0, sizeof a);
  a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  a.insns = ptr(p);
  a.insn_cnt = (uint32_t)n;
  a.license = ptr("Apache-2.0"); /* no GPL-only helper is called */
  memcpy(a.prog_name, PROG_NAME, sizeof PROG_NAME);
  int fd = sys_bpf(BPF_PROG_LOAD, &a);
  if (fd >= 0) return fd;
  int e = errno;
  if (e == EINVAL || e == EACCES) { /* again with the verifier's log, to say why */
    char log[1024] = "";
    a.log_buf = ptr(log);
    a.log_size = sizeof log;
    a.log_level = 1;
    fd = sys_bpf(BPF_PROG_LOAD, &a);
    if (fd >= 0) return fd;
    if (*log) {
      log[strcspn(log, "\n")] = '\0';
      return silo_err(err, e, "load the eBPF device filter (%zu instructions): %s", n, log);
    }
  }
  return silo_err(err, e, "load the eBPF device filter (%zu instructions)", n);
}

/* Ids of the BPF_CGROUP_DEVICE programs attached to the cgroup itself (not
 * inherited ones); *ids malloc'ed. */
static int
query(int cgfd, uint32_t **ids, uint32_t *n, struct silo_error *err)
{
  uint32_t cap = 8;
  *ids = NULL;
  for (;;) {
    union bpf_attr a;
    uint32_t *v = xcalloc(cap, sizeof *v);
    memset(&a, 0, sizeof a);
    a.query.target_fd = (uint32_t)cgfd;
    a.query.attach_type = BPF_CGROUP_DEVICE;
    a.query.prog_ids = ptr(v);
    a.query.prog_cnt = cap;
    if (sys_bpf(BPF_PROG_QUERY, &a) == 0) {
      *ids = v;
      *n = a.query.prog_cnt;
      return 0;
    }
    int e = errno;
    free(v);
    if (e != ENOSPC || a.query.prog_cnt <= cap)
      return silo_err(err, e, "query the cgroup's eBPF device programs");
    cap = a.query.prog_cnt;
  }
}

/* An fd of program `id` when it is one of silo's filters, -1 otherwise. */
static int
silo_prog_fd(uint32_t id)
{
  union bpf_attr a;
  struct bpf_prog_info info;
  memset(&a, 0, sizeof a);
  a.prog_id = id;
  int fd = sys_bpf(BPF_PROG_GET_FD_BY_ID, &a);
  if (fd < 0) return -1; /* detached meanwhile */
  memset(&a, 0, sizeof a);
  memset(&info, 0, sizeof info);
  a.info.bpf_fd = (uint32_t)fd;
  a.info.info_len = sizeof info;
  a.info.info = ptr(&info);
  if (sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &a) == 0 && strcmp(info.name, PROG_NAME) == 0) return fd;
  close(fd);
  return -1;
}

static int
attach(int cgfd, int progfd, int replace_fd)
{
  union bpf_attr a;
  memset(&a, 0, sizeof a);
  a.target_fd = (uint32_t)cgfd;
  a.attach_bpf_fd = (uint32_t)progfd;
  a.attach_type = BPF_CGROUP_DEVICE;
  a.attach_flags = BPF_F_ALLOW_MULTI;
  if (replace_fd >= 0) {
    a.attach_flags |= BPF_F_REPLACE;
    a.replace_bpf_fd = (uint32_t)replace_fd;
  }
  return sys_bpf(BPF_PROG_ATTACH, &a);
}

static int
detach(int cgfd, int progfd)
{
  union bpf_attr a;
  memset(&a, 0, sizeof a);
  a.target_fd = (uint32_t)cgfd;
  a.attach_bpf_fd = (uint32_t)progfd;
  a.attach_type = BPF_CGROUP_DEVICE;
  return sys_bpf(BPF_PROG_DETACH, &a);
}

int
cgroup_bpf_devices_count(const char *dir, struct silo_error *err)
{
  _cleanup_close_ int cgfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  _cleanup_free_ uint32_t *ids = NULL;
  uint32_t n;
  int count = 0;
  if (cgfd < 0) return silo_err(err, errno, "open %s", dir);
  if (query(cgfd, &ids, &n, err) < 0) return -1;
  for (uint32_t i = 0; i < n; i++) {
    int fd = silo_prog_fd(ids[i]);
    if (fd >= 0) count++, close(fd);
  }
  return count;
}

/* Root of the initial user namespace?  A rootless sandbox runs silo as root of a
 * user namespace of its own: uid 0 there, without the privilege to load programs. */
static bool
host_root(void)
{
  if (geteuid() != 0) return false;
  char buf[128] = "";
  int fd = open("/proc/self/uid_map", O_RDONLY | O_CLOEXEC);
  ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
  if (fd >= 0) close(fd);
  unsigned long inside, outside, count;
  return n > 0 && sscanf(buf, "%lu %lu %lu", &inside, &outside, &count) == 3 && inside == 0 &&
         outside == 0 && count == 4294967295UL;
}

int
cgroup_v2_devices(const char *dir, const struct oci_device_cgroup *rules, size_t n,
                  struct silo_error *err)
{
  _cleanup_free_ struct bpf_insn *prog = NULL;
  _cleanup_free_ uint32_t *ids = NULL;
  _cleanup_close_ int cgfd = -1, progfd = -1;
  size_t n_insns;
  uint32_t n_ids;
  int old[16], n_old = 0, ret = 0;

  if (cgroup_bpf_devices_build(rules, n, &prog, &n_insns, err) < 0) return -1;
  cgfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (cgfd < 0) return silo_err(err, errno, "open %s", dir);
  progfd = load(prog, n_insns, err);
  if (progfd < 0) {
    /* Without the privilege to load programs (rootless in a delegated cgroup)
     * device rules cannot be enforced; neither can such a user make nodes. */
    if (!host_root() && (err->errnum == EPERM || err->errnum == EACCES)) {
      silo_err_clear(err);
      return 0;
    }
    return -1;
  }
  if (query(cgfd, &ids, &n_ids, err) < 0) return -1;
  for (uint32_t i = 0; i < n_ids && n_old < (int)ARRAY_SIZE(old); i++) {
    int fd = silo_prog_fd(ids[i]);
    if (fd >= 0) old[n_old++] = fd;
  }
  /* The new filter goes in before the old one goes out, so the cgroup is never
   * without one: atomically where the kernel can (BPF_F_REPLACE, 5.6). */
  int first = 0;
  if (n_old > 0 && attach(cgfd, progfd, old[0]) == 0) {
    first = 1;
  } else if (attach(cgfd, progfd, -1) < 0) {
    ret = silo_err(err, errno, "attach the eBPF device filter to %s", dir);
    first = n_old; /* keep the old ones */
  }
  for (int i = first; i < n_old; i++) {
    if (detach(cgfd, old[i]) < 0 && errno != ENOENT && ret == 0)
      ret = silo_err(err, errno, "detach the previous eBPF device filter from %s", dir);
  }
  for (int i = 0; i < n_old; i++) close(old[i]);
  return ret;
}
