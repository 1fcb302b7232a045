/* silo lib/: OCI seccomp profiles (see seccomp.h).
 *
 * Why silo loads the program itself instead of calling seccomp_load():
 *  - the BPF is generated once, in the runtime, before anything is created: a profile
 *    that libseccomp cannot compile, or that exceeds the kernel's 4096 instructions,
 *    fails `silo create` with nothing to undo;
 *  - the container process then makes one seccomp(2) call: no libseccomp, no allocation,
 *    no context to keep alive across clone;
 *  - the kernel flags are ours to pass, so SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV works
 *    even with a libseccomp (2.5) that has no attribute for it.
 * libseccomp still does everything hard: syscall names, multi-architecture translation
 * (seccomp_rule_add_array, not _exact), argument comparisons and the BPF itself.
 */
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>

#include "lib/base/error.h"
#include "lib/runtime/process/process.h"
#include "lib/silo.h"
#include "oci/oci.h"

#ifndef SECCOMP_FILTER_FLAG_NEW_LISTENER
#define SECCOMP_FILTER_FLAG_NEW_LISTENER (1UL << 3)
#endif
#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif

#define SYSCALL_MAX_ARGS 6
#define BPF_MAX_INSNS    4096 /* the kernel's BPF_MAXINSNS for classic BPF */
#define OPTIMIZE_RULES   32   /* binary tree above this many rules, like runc */

struct silo_seccomp {
  unsigned int flags; /* SECCOMP_FILTER_FLAG_* for seccomp(2) */
  bool notify;        /* has SCMP_ACT_NOTIFY rules: ask for a listener */
  unsigned short len;
  struct sock_filter insns[];
};

/* ---- names ---- */

enum act_kind { ACT_PLAIN, ACT_ERRNO, ACT_TRACE };

struct action {
  const char *name;
  uint32_t value;
  enum act_kind kind;
};

/* Sorted by name (the features list is built from this order). */
static const struct action actions[] = {
    {"SCMP_ACT_ALLOW", SCMP_ACT_ALLOW, ACT_PLAIN},
    {"SCMP_ACT_ERRNO", 0, ACT_ERRNO},
    {"SCMP_ACT_KILL", SCMP_ACT_KILL_THREAD, ACT_PLAIN}, /* runc: KILL is KILL_THREAD */
    {"SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS, ACT_PLAIN},
    {"SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD, ACT_PLAIN},
    {"SCMP_ACT_LOG", SCMP_ACT_LOG, ACT_PLAIN},
    {"SCMP_ACT_NOTIFY", SCMP_ACT_NOTIFY, ACT_PLAIN},
    {"SCMP_ACT_TRACE", 0, ACT_TRACE},
    {"SCMP_ACT_TRAP", SCMP_ACT_TRAP, ACT_PLAIN},
};

struct arch {
  const char *name;
  uint32_t token;
};

static const struct arch archs[] = {
    {"SCMP_ARCH_AARCH64", SCMP_ARCH_AARCH64},
    {"SCMP_ARCH_ARM", SCMP_ARCH_ARM},
#ifdef SCMP_ARCH_LOONGARCH64
    {"SCMP_ARCH_LOONGARCH64", SCMP_ARCH_LOONGARCH64},
#endif
#ifdef SCMP_ARCH_M68K
    {"SCMP_ARCH_M68K", SCMP_ARCH_M68K},
#endif
    {"SCMP_ARCH_MIPS", SCMP_ARCH_MIPS},
    {"SCMP_ARCH_MIPS64", SCMP_ARCH_MIPS64},
    {"SCMP_ARCH_MIPS64N32", SCMP_ARCH_MIPS64N32},
    {"SCMP_ARCH_MIPSEL", SCMP_ARCH_MIPSEL},
    {"SCMP_ARCH_MIPSEL64", SCMP_ARCH_MIPSEL64},
    {"SCMP_ARCH_MIPSEL64N32", SCMP_ARCH_MIPSEL64N32},
    {"SCMP_ARCH_PARISC", SCMP_ARCH_PARISC},
    {"SCMP_ARCH_PARISC64", SCMP_ARCH_PARISC64},
    {"SCMP_ARCH_PPC", SCMP_ARCH_PPC},
    {"SCMP_ARCH_PPC64", SCMP_ARCH_PPC64},
    {"SCMP_ARCH_PPC64LE", SCMP_ARCH_PPC64LE},
    {"SCMP_ARCH_RISCV64", SCMP_ARCH_RISCV64},
    {"SCMP_ARCH_S390", SCMP_ARCH_S390},
    {"SCMP_ARCH_S390X", SCMP_ARCH_S390X},
#ifdef SCMP_ARCH_SH
    {"SCMP_ARCH_SH", SCMP_ARCH_SH},
    {"SCMP_ARCH_SHEB", SCMP_ARCH_SHEB},
#endif
    {"SCMP_ARCH_X32", SCMP_ARCH_X32},
    {"SCMP_ARCH_X86", SCMP_ARCH_X86},
    {"SCMP_ARCH_X86_64", SCMP_ARCH_X86_64},
};

/* Indexed by enum oci_seccomp_op. */
static const struct {
  const char *name;
  enum scmp_compare op;
} ops[] = {
    [OCI_SCMP_NE] = {"SCMP_CMP_NE", SCMP_CMP_NE},
    [OCI_SCMP_LT] = {"SCMP_CMP_LT", SCMP_CMP_LT},
    [OCI_SCMP_LE] = {"SCMP_CMP_LE", SCMP_CMP_LE},
    [OCI_SCMP_EQ] = {"SCMP_CMP_EQ", SCMP_CMP_EQ},
    [OCI_SCMP_GE] = {"SCMP_CMP_GE", SCMP_CMP_GE},
    [OCI_SCMP_GT] = {"SCMP_CMP_GT", SCMP_CMP_GT},
    [OCI_SCMP_MASKED_EQ] = {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
};

enum flag_kind { FLAG_IGNORED, FLAG_REQUIRED, FLAG_OPTIONAL };

static const struct flag {
  const char *name;
  unsigned int bit;
  enum flag_kind kind;
} flags[] = {
    /* runc: nothing to do, the container process is single-threaded and execs next. */
    {"SECCOMP_FILTER_FLAG_TSYNC", 0, FLAG_IGNORED},
    {"SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG, FLAG_REQUIRED},
    {"SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW, FLAG_REQUIRED},
    /* Linux >= 5.19; meaningful only with a listener, dropped (debug log) otherwise. */
    {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV,
     FLAG_OPTIONAL},
};

static const struct action *
find_action(const char *name)
{
  for (size_t i = 0; i < ARRAY_SIZE(actions); i++)
    if (strcmp(actions[i].name, name) == 0) return &actions[i];
  return NULL;
}

static const struct arch *
find_arch(const char *name)
{
  for (size_t i = 0; i < ARRAY_SIZE(archs); i++)
    if (strcmp(archs[i].name, name) == 0) return &archs[i];
  return NULL;
}

static const struct flag *
find_flag(const char *name)
{
  for (size_t i = 0; i < ARRAY_SIZE(flags); i++)
    if (strcmp(flags[i].name, name) == 0) return &flags[i];
  return NULL;
}

/* seccomp(2) with a NULL program fails with EFAULT once the flags have been accepted and
 * EINVAL when they are not: a probe that installs nothing (runc does the same). */
static bool
kernel_has_flags(unsigned int bits)
{
  return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, bits, NULL) < 0 && errno == EFAULT;
}

static bool
flag_supported(const struct flag *f)
{
  switch (f->kind) {
  case FLAG_IGNORED:
    return true;
  case FLAG_OPTIONAL: /* WAIT_KILLABLE_RECV is refused without NEW_LISTENER */
    return kernel_has_flags(f->bit | SECCOMP_FILTER_FLAG_NEW_LISTENER);
  default:
    return kernel_has_flags(f->bit);
  }
}

/* ---- building ---- */

struct builder {
  scmp_filter_ctx ctx;
  uint32_t default_action;
  size_t rules;  /* rules added */
  bool notify;   /* a SCMP_ACT_NOTIFY rule was added */
  bool want_wkr; /* WAIT_KILLABLE_RECV asked for and available */
  unsigned int flags;
  unsigned opts; /* SILO_SECCOMP_* */
};

/* "<prefix><act_field>" names the action, "<prefix><errno_field>" its errnoRet. */
static int
parse_action(const char *prefix, const char *act_field, const char *errno_field, const char *name,
             bool has_errno, uint32_t errno_ret, uint32_t *out, struct silo_error *err)
{
  if (name == NULL) return silo_err(err, 0, "%s%s: missing", prefix, act_field);
  const struct action *a = find_action(name);
  if (a == NULL) return silo_err(err, 0, "%s%s: unknown action `%s`", prefix, act_field, name);
  if (has_errno && a->kind == ACT_PLAIN)
    return silo_err(err, 0, "%s%s: not valid with `%s` (only SCMP_ACT_ERRNO and SCMP_ACT_TRACE)",
                    prefix, errno_field, name);
  if (has_errno && errno_ret > 0xffff)
    return silo_err(err, 0, "%s%s: %u is out of range (0-65535)", prefix, errno_field, errno_ret);
  uint32_t data = has_errno ? errno_ret : EPERM;
  switch (a->kind) {
  case ACT_ERRNO:
    *out = SCMP_ACT_ERRNO(data);
    break;
  case ACT_TRACE:
    *out = SCMP_ACT_TRACE(data);
    break;
  default:
    *out = a->value;
  }
  return 0;
}

static int
add_arches(struct builder *b, const struct oci_seccomp *s, struct silo_error *err)
{
  for (size_t i = 0; i < s->n_architectures; i++) {
    const char *name = s->architectures[i] ? s->architectures[i] : "";
    const struct arch *a = find_arch(name);
    if (a == NULL)
      return silo_err(err, 0, "linux.seccomp.architectures[%zu]: unknown architecture `%s`", i,
                      name);
    int r = seccomp_arch_add(b->ctx, a->token);
    if (r < 0 && r != -EEXIST) /* the native one is already there */
      return silo_err(err, -r, "linux.seccomp.architectures[%zu]: add `%s`", i, name);
  }
  return 0;
}

static int
set_flags(struct builder *b, const struct oci_seccomp *s, struct silo_error *err)
{
  if (s->flags == NULL) {
    /* Absent (not merely empty): runc's default, SPEC_ALLOW when the kernel has it.  Since
     * Linux 5.16 seccomp no longer forces the SSB mitigation, so this changes nothing there. */
    const struct flag *f = find_flag("SECCOMP_FILTER_FLAG_SPEC_ALLOW");
    if (flag_supported(f)) b->flags |= f->bit;
    return 0;
  }
  for (size_t i = 0; i < s->n_flags; i++) {
    const char *name = s->flags[i] ? s->flags[i] : "";
    const struct flag *f = find_flag(name);
    if (f == NULL) return silo_err(err, 0, "linux.seccomp.flags[%zu]: unknown flag `%s`", i, name);
    if (f->kind == FLAG_IGNORED) continue;
    if (!flag_supported(f)) {
      if (f->kind == FLAG_OPTIONAL) {
        silo_log_debug("seccomp: %s is not supported by the kernel, ignored", name);
        continue;
      }
      return silo_err(err, EINVAL, "linux.seccomp.flags[%zu]: `%s` is not supported by the kernel",
                      i, name);
    }
    if (f->kind == FLAG_OPTIONAL)
      b->want_wkr = true; /* added only if there is a listener */
    else
      b->flags |= f->bit;
  }
  return 0;
}

/* Checks one syscalls[] entry completely, whether or not its rules will be added. */
static int
check_syscall(const struct oci_seccomp_syscall *sc, size_t i, uint32_t action,
              struct silo_error *err)
{
  if (sc->n_names == 0 || sc->names == NULL)
    return silo_err(err, 0, "linux.seccomp.syscalls[%zu].names: must not be empty", i);
  for (size_t j = 0; j < sc->n_names; j++) {
    const char *name = sc->names[j];
    if (name == NULL || name[0] == '\0')
      return silo_err(err, 0, "linux.seccomp.syscalls[%zu].names[%zu]: empty syscall name", i, j);
    /* The listener is handed over after the filter is in place, with write (runc writes
     * the fd number) or sendmsg (SCM_RIGHTS); notified, either would wait for an agent
     * that cannot have the listener yet: the container would hang. */
    if (action == SCMP_ACT_NOTIFY && (strcmp(name, "write") == 0 || strcmp(name, "sendmsg") == 0))
      return silo_err(err, 0,
                      "linux.seccomp.syscalls[%zu].names[%zu]: SCMP_ACT_NOTIFY cannot be used "
                      "for `%s`",
                      i, j, name);
  }
  for (size_t k = 0; k < sc->n_args; k++) {
    const struct oci_seccomp_arg *a = &sc->args[k];
    if (a->index >= SYSCALL_MAX_ARGS)
      return silo_err(err, 0, "linux.seccomp.syscalls[%zu].args[%zu].index: must be < %d", i, k,
                      SYSCALL_MAX_ARGS);
    if ((unsigned)a->op >= ARRAY_SIZE(ops) || ops[a->op].name == NULL)
      return silo_err(err, 0, "linux.seccomp.syscalls[%zu].args[%zu].op: unknown operator %d", i, k,
                      (int)a->op);
  }
  return 0;
}

static int
add_rule(struct builder *b, size_t i, const char *name, int nr, uint32_t action,
         const struct scmp_arg_cmp *conds, unsigned n, struct silo_error *err)
{
  int r = seccomp_rule_add_array(b->ctx, action, nr, n, n ? conds : NULL);
  if (r < 0) return silo_err(err, -r, "linux.seccomp.syscalls[%zu]: add a rule for `%s`", i, name);
  b->rules++;
  if (action == SCMP_ACT_NOTIFY) b->notify = true;
  return 0;
}

static int
add_syscall(struct builder *b, const struct oci_seccomp_syscall *sc, size_t i,
            struct silo_error *err)
{
  char prefix[64];
  uint32_t action;

  snprintf(prefix, sizeof prefix, "linux.seccomp.syscalls[%zu].", i);
  if (parse_action(prefix, "action", "errnoRet", sc->action, sc->has_errno_ret, sc->errno_ret,
                   &action, err) < 0)
    return -1;
  if (check_syscall(sc, i, action, err) < 0) return -1;
  /* Checked first, so that a rule skipped below is checked too. */
  for (size_t j = 0; (b->opts & SILO_SECCOMP_FAIL_UNKNOWN) && j < sc->n_names; j++)
    if (seccomp_syscall_resolve_name(sc->names[j]) == __NR_SCMP_ERROR)
      return silo_err(err, EINVAL, "%snames[%zu]: unknown syscall `%s`", prefix, j, sc->names[j]);
  if (action == SCMP_ACT_NOTIFY && seccomp_api_get() < 5)
    return silo_err(err, ENOTSUP, "%saction: SCMP_ACT_NOTIFY needs libseccomp >= 2.5", prefix);
  /* libseccomp refuses a rule that repeats the default action; it would change nothing. */
  if (action == b->default_action) return 0;

  _cleanup_free_ struct scmp_arg_cmp *conds = xcalloc(sc->n_args ? sc->n_args : 1, sizeof *conds);
  unsigned count[SYSCALL_MAX_ARGS] = {0};
  bool split = false;
  for (size_t k = 0; k < sc->n_args; k++) {
    const struct oci_seccomp_arg *a = &sc->args[k];
    conds[k].arg = a->index;
    conds[k].op = ops[a->op].op;
    conds[k].datum_a = a->value; /* MASKED_EQ: (arg & value) == valueTwo */
    conds[k].datum_b = a->op == OCI_SCMP_MASKED_EQ ? a->value_two : 0;
    if (++count[a->index] > 1) split = true;
  }

  for (size_t j = 0; j < sc->n_names; j++) {
    const char *name = sc->names[j];
    int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR) { /* runc: probably newer than this libseccomp; not an error */
      silo_log_debug("seccomp: unknown syscall `%s` ignored", name);
      continue;
    }
    if (!split) {
      if (add_rule(b, i, name, nr, action, conds, (unsigned)sc->n_args, err) < 0) return -1;
      continue;
    }
    /* libseccomp takes one comparison per argument in a rule: like runc, a rule with two
     * on the same argument becomes one rule per comparison (they match as OR). */
    for (size_t k = 0; k < sc->n_args; k++)
      if (add_rule(b, i, name, nr, action, &conds[k], 1, err) < 0) return -1;
  }
  return 0;
}

static int
check_listener(const struct builder *b, const struct oci_seccomp *s, struct silo_error *err)
{
  if (s->listener_path && s->listener_path[0]) {
    struct sockaddr_un sun;
    if (strlen(s->listener_path) >= sizeof sun.sun_path)
      return silo_err(err, ENAMETOOLONG, "linux.seccomp.listenerPath: longer than %zu bytes",
                      sizeof sun.sun_path - 1);
  } else if (b->notify) {
    return silo_err(err, 0, "linux.seccomp.listenerPath: required when SCMP_ACT_NOTIFY is used");
  }
  return 0;
}

/* libseccomp 2.5 writes the program only to an fd: a memfd, read back. */
static int
export_bpf(scmp_filter_ctx ctx, struct silo_seccomp **out, struct silo_error *err)
{
  _cleanup_close_ int fd = memfd_create("silo-seccomp", MFD_CLOEXEC);
  struct stat st;

  if (fd < 0) return silo_err(err, errno, "linux.seccomp: memfd_create");
  int r = seccomp_export_bpf(ctx, fd);
  if (r < 0) return silo_err(err, -r, "linux.seccomp: generate the BPF program");
  if (fstat(fd, &st) < 0) return silo_err(err, errno, "linux.seccomp: fstat");
  size_t size = (size_t)st.st_size, n = size / sizeof(struct sock_filter);
  if (n == 0 || size % sizeof(struct sock_filter))
    return silo_err(err, EINVAL, "linux.seccomp: libseccomp made a program of %zu bytes", size);
  if (n > BPF_MAX_INSNS)
    return silo_err(err, E2BIG,
                    "linux.seccomp: the filter has %zu instructions, more than the kernel's "
                    "limit of %d",
                    n, BPF_MAX_INSNS);

  struct silo_seccomp *f = xcalloc(1, sizeof *f + size);
  f->len = (unsigned short)n;
  for (size_t off = 0; off < size;) {
    ssize_t got = pread(fd, (char *)f->insns + off, size - off, (off_t)off);
    if (got <= 0) {
      int e = got < 0 ? errno : EIO;
      if (e == EINTR) continue;
      free(f);
      return silo_err(err, e, "linux.seccomp: read the BPF program back");
    }
    off += (size_t)got;
  }
  *out = f;
  return 0;
}

/* ---- ENOSYS for syscalls newer than the profile (runc's patchbpf) ----
 *
 * A profile written before a syscall existed denies it with its default action
 * (EPERM, or a kill), and libc then takes "not allowed" for an answer instead of
 * falling back to the older call it would use on an older kernel (clone3 -> clone,
 * openat2 -> openat, faccessat2 -> faccessat).  Like runc, silo puts a check in
 * front of libseccomp's program: for each architecture of the profile, a syscall
 * number above the highest one the profile names fails with ENOSYS, as on a
 * kernel without it.  Numbers up to that one go to libseccomp's program, so the
 * rules' own actions are untouched. */

#define X32_SYSCALL_BIT 0x40000000u

struct arch_max {
  uint32_t token; /* SCMP_ARCH_*: the AUDIT_ARCH_* the kernel puts in seccomp_data.arch */
  uint32_t max;   /* the highest syscall number the profile names there */
};

/* Only when the default refuses: allow and log let a new syscall through already,
 * a tracer answers ENOSYS itself (runc counts trace as allowing), and a default of
 * ENOSYS needs nothing. */
static bool
stub_wanted(uint32_t default_action)
{
  uint32_t kind = default_action & SECCOMP_RET_ACTION_FULL;
  return default_action != SCMP_ACT_ALLOW && default_action != SCMP_ACT_LOG &&
         kind != SCMP_ACT_TRACE(0) && default_action != SCMP_ACT_ERRNO(ENOSYS);
}

/* The profile's architectures (the native one and those listed, validated by
 * add_arches) with the highest syscall number of each; an architecture where the
 * profile names nothing gets no check.  x32 shares x86_64's AUDIT_ARCH and is told
 * apart by X32_SYSCALL_BIT: it is left to libseccomp's program. */
static size_t
stub_arches(const struct oci_seccomp *s, struct arch_max *out)
{
  uint32_t tokens[ARRAY_SIZE(archs) + 1];
  size_t nt = 0, n = 0;
  tokens[nt++] = seccomp_arch_native();
  for (size_t i = 0; i < s->n_architectures; i++) {
    const struct arch *a = s->architectures[i] ? find_arch(s->architectures[i]) : NULL;
    bool dup = false;
    for (size_t j = 0; a && j < nt; j++) dup |= tokens[j] == a->token;
    if (a && !dup && nt < ARRAY_SIZE(tokens)) tokens[nt++] = a->token;
  }
  for (size_t t = 0; t < nt; t++) {
    if (tokens[t] == SCMP_ARCH_X32) continue;
    int max = -1;
    for (size_t i = 0; i < s->n_syscalls; i++)
      for (size_t j = 0; j < s->syscalls[i].n_names; j++) {
        const char *name = s->syscalls[i].names[j];
        /* Negative: unknown, or a pseudo-number (not on this architecture). */
        int nr = name ? seccomp_syscall_resolve_name_arch(tokens[t], name) : -1;
        if (nr > max) max = nr;
      }
    if (max >= 0) out[n++] = (struct arch_max){tokens[t], (uint32_t)max};
  }
  return n;
}

/* Prepends the check to *fp (replaced).  For each architecture:
 *   jeq arch, next section | ld nr | [x86_64: jge X32 bit, program] |
 *   jgt max, enosys | ja program
 * then `ja program` (an architecture the profile does not name: libseccomp's
 * program decides) and `ret ERRNO(ENOSYS)`.  Jumps are forward, within the stub. */
static int
add_enosys_stub(struct silo_seccomp **fp, const struct oci_seccomp *s, struct silo_error *err)
{
  struct arch_max am[ARRAY_SIZE(archs) + 1];
  size_t n = stub_arches(s, am);
  if (n == 0) return 0;
  size_t len = 1 + 2;
  for (size_t i = 0; i < n; i++) len += am[i].token == SCMP_ARCH_X86_64 ? 5 : 4;
  const size_t enosys = len - 1, prog = len;
  struct silo_seccomp *old = *fp;
  if (len + old->len > BPF_MAX_INSNS)
    return silo_err(err, E2BIG,
                    "linux.seccomp: the filter has %zu instructions, more than the kernel's "
                    "limit of %d",
                    len + old->len, BPF_MAX_INSNS);

  struct silo_seccomp *f = xcalloc(1, sizeof *f + (len + old->len) * sizeof(struct sock_filter));
  struct sock_filter *b = f->insns;
  size_t k = 0;
  b[k++] =
      (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
  for (size_t i = 0; i < n; i++) {
    bool x86_64 = am[i].token == SCMP_ARCH_X86_64;
    uint8_t rest = x86_64 ? 4 : 3; /* instructions of this section after the jeq */
    b[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, am[i].token, 0, rest);
    b[k++] =
        (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
    if (x86_64) {
      b[k] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, X32_SYSCALL_BIT,
                                          (uint8_t)(prog - k - 1), 0);
      k++;
    }
    b[k] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, am[i].max,
                                        (uint8_t)(enosys - k - 1), 0);
    k++;
    b[k] = (struct sock_filter)BPF_STMT(BPF_JMP | BPF_JA, (uint32_t)(prog - k - 1));
    k++;
  }
  b[k++] = (struct sock_filter)BPF_STMT(BPF_JMP | BPF_JA, 1);
  b[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS);
  memcpy(b + k, old->insns, old->len * sizeof(struct sock_filter));
  f->len = (unsigned short)(k + old->len);
  f->flags = old->flags;
  f->notify = old->notify;
  free(old);
  *fp = f;
  return 0;
}

static void
ctx_releasep(scmp_filter_ctx *ctx)
{
  if (*ctx) seccomp_release(*ctx);
}

int
silo_seccomp_build(const struct oci_seccomp *s, struct silo_seccomp **out, struct silo_error *err)
{
  return silo_seccomp_build_opts(s, 0, out, err);
}

int
silo_seccomp_build_opts(const struct oci_seccomp *s, unsigned opts, struct silo_seccomp **out,
                        struct silo_error *err)
{
  struct builder b = {.opts = opts};
  __attribute__((cleanup(ctx_releasep))) scmp_filter_ctx ctx = NULL;

  *out = NULL;
  if (s == NULL || (s->default_action == NULL && s->n_syscalls == 0)) return 0;

  if (parse_action("linux.seccomp.", "defaultAction", "defaultErrnoRet", s->default_action,
                   s->has_default_errno_ret, s->default_errno_ret, &b.default_action, err) < 0)
    return -1;
  /* Everything, the hand-over of the listener included, would wait for the agent. */
  if (b.default_action == SCMP_ACT_NOTIFY)
    return silo_err(err, 0, "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default");

  ctx = seccomp_init(b.default_action);
  if (ctx == NULL) return silo_err(err, EINVAL, "linux.seccomp.defaultAction: seccomp_init");
  b.ctx = ctx;

  if (add_arches(&b, s, err) < 0 || set_flags(&b, s, err) < 0) return -1;
  for (size_t i = 0; i < s->n_syscalls; i++)
    if (add_syscall(&b, &s->syscalls[i], i, err) < 0) return -1;
  if (check_listener(&b, s, err) < 0) return -1;

  /* Binary search over syscall numbers for long profiles.  Not with few rules: libseccomp
   * <= 2.5.4 misbehaves with the tree and no rules (runc's reasoning). */
  if (b.rules > OPTIMIZE_RULES) {
    int r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
    if (r < 0) silo_log_debug("seccomp: binary tree optimization unavailable: %s", strerror(-r));
  }

  struct silo_seccomp *f = NULL;
  if (export_bpf(ctx, &f, err) < 0) return -1;
  if (stub_wanted(b.default_action) && add_enosys_stub(&f, s, err) < 0) {
    free(f);
    return -1;
  }
  f->notify = b.notify;
  f->flags = b.flags;
  if (b.notify) f->flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
  if (b.want_wkr) {
    if (b.notify)
      f->flags |= SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
    else
      silo_log_debug("seccomp: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV ignored: no SCMP_ACT_NOTIFY");
  }
  *out = f;
  return 0;
}

bool
silo_seccomp_uses_notify(const struct silo_seccomp *f)
{
  return f && f->notify;
}

void
silo_seccomp_free(struct silo_seccomp *f)
{
  free(f);
}

/* ---- loading (in the container process) ---- */

int
silo_seccomp_load(const struct silo_seccomp *f, int *notify_fd, struct silo_error *err)
{
  if (notify_fd) *notify_fd = -1;
  if (f == NULL) return 0;

  struct sock_fprog prog = {.len = f->len, .filter = (struct sock_filter *)f->insns};
  long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, f->flags, &prog);
  if (r < 0) {
    int e = errno;
    return silo_err(err, e, "load the seccomp filter%s",
                    e == EACCES ? " (needs no_new_privileges or CAP_SYS_ADMIN)" : "");
  }
  if (f->notify) {
    if (notify_fd)
      *notify_fd = (int)r;
    else
      close((int)r); /* nobody to answer: notified syscalls fail with ENOSYS */
  }
  return 0;
}

/* ---- for `silo features` ---- */

const char *const *
silo_seccomp_actions(void)
{
  static const char *names[ARRAY_SIZE(actions) + 1];
  if (names[0] == NULL)
    for (size_t i = 0; i < ARRAY_SIZE(actions); i++) names[i] = actions[i].name;
  return names;
}

const char *const *
silo_seccomp_ops(void)
{
  /* Sorted by name, unlike ops[] (indexed by the enum). */
  static const char *const names[] = {"SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT",
                                      "SCMP_CMP_LE", "SCMP_CMP_LT", "SCMP_CMP_MASKED_EQ",
                                      "SCMP_CMP_NE", NULL};
  return names;
}

const char *const *
silo_seccomp_archs(void)
{
  static const char *names[ARRAY_SIZE(archs) + 1];
  if (names[0] == NULL)
    for (size_t i = 0; i < ARRAY_SIZE(archs); i++) names[i] = archs[i].name;
  return names;
}

const char *const *
silo_seccomp_flags(void)
{
  static const char *names[ARRAY_SIZE(flags) + 1];
  if (names[0] == NULL)
    for (size_t i = 0; i < ARRAY_SIZE(flags); i++) names[i] = flags[i].name;
  return names;
}

bool
silo_seccomp_flag_supported(const char *flag)
{
  const struct flag *f = flag ? find_flag(flag) : NULL;
  return f && flag_supported(f);
}

const char *
silo_seccomp_lib_version(void)
{
  static char buf[32];
  const struct scmp_version *v = seccomp_version();
  if (buf[0] == '\0' && v) snprintf(buf, sizeof buf, "%u.%u.%u", v->major, v->minor, v->micro);
  return buf;
}

struct silo_seccomp *
silo_seccomp_from_bpf(const void *insns, unsigned len, unsigned filter_flags, bool notify)
{
  struct silo_seccomp *f = xcalloc(1, sizeof *f + (size_t)len * sizeof(struct sock_filter));
  f->len = (unsigned short)len;
  f->flags = filter_flags;
  f->notify = notify;
  memcpy(f->insns, insns, (size_t)len * sizeof(struct sock_filter));
  return f;
}

void
silo_seccomp_bpf(const struct silo_seccomp *f, const void **insns, unsigned *len,
                 unsigned *filter_flags, bool *notify)
{
  *insns = f->insns;
  *len = f->len;
  *filter_flags = f->flags;
  *notify = f->notify;
}
