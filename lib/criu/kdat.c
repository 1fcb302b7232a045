/* silo: CRIU's kernel-probe cache (/run/criu.kdat), warm before any freeze.
 *
 * Every CRIU run starts by probing the kernel (kerndat_init: test mappings,
 * sockets, userfaultfd, ptrace quirks...): about 30 ms here, spent by a dump
 * after silo has frozen the container (CRIU's "pre-dump" comes before it), by
 * the lazy-pages daemon and by the restore.  CRIU keeps what it found in
 * KDAT_RUNDIR/criu.kdat (/run for root) and loads it instead, but only writes
 * that file when /run is a tmpfs (so that a reboot, maybe into another kernel,
 * drops it).  Where /run is not a tmpfs the cache is never made, and every run
 * probes again.
 *
 * criu_kdat_warm makes the cache, outside any frozen window: when it is missing
 * or older than the boot (another kernel may have written it) or than the CRIU
 * binary (another CRIU may lay it out differently; CRIU itself refuses a file of
 * another size or magic), `criu check` runs once -- in a mount namespace of its
 * own with a tmpfs on /run when the host's /run is not one, after which the
 * file is copied to the host's /run and renamed into place.  Failures only cost
 * the probes, as before: they are logged at debug level.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/base/base.h"
#include "lib/criu/criu.h"
#include "lib/silo.h"

#define KDAT_DIR  "/run"
#define KDAT_NAME "criu.kdat"
#ifndef TMPFS_MAGIC
#define TMPFS_MAGIC 0x01021994
#endif

/* The binary `criu` names (PATH searched for a bare name), or NULL. */
static char *
criu_path(const char *criu)
{
  if (strchr(criu, '/')) return xstrdup(criu);
  const char *path = getenv("PATH");
  _cleanup_free_ char *dirs = xstrdup(path && *path ? path : "/usr/sbin:/usr/bin:/sbin:/bin");
  char *save = NULL;
  for (char *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
    char *p = xasprintf("%s/%s", d, criu);
    if (access(p, X_OK) == 0) return p;
    free(p);
  }
  return NULL;
}

/* The cache is there, made since the boot and since the CRIU binary. */
static bool
kdat_fresh(const char *criu)
{
  struct stat st, bin;
  if (stat(KDAT_DIR "/" KDAT_NAME, &st) < 0 || st.st_size == 0) return false;
  struct timespec now, up;
  clock_gettime(CLOCK_REALTIME, &now);
  clock_gettime(CLOCK_BOOTTIME, &up);
  time_t boot = now.tv_sec - up.tv_sec;
  if (st.st_mtime < boot - 1) return false;
  _cleanup_free_ char *p = criu_path(criu);
  if (p && stat(p, &bin) == 0 && bin.st_mtime > st.st_mtime) return false;
  return true;
}

/* `criu check` with stdio on /dev/null; its exit status, -1 when killed after 20 s. */
static int
run_check(const char *criu)
{
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null >= 0) dup2(null, 0), dup2(null, 1), dup2(null, 2);
    execlp(criu, criu, "check", (char *)NULL);
    _exit(127);
  }
  int status = -1;
  if (child_wait_ms(pid, 20000, &status) == 0) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return -1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* In a child: a private mount namespace with a tmpfs on /run, where `criu check`
 * may write its cache; the file is then copied into the host's /run (hostfd,
 * opened before the unshare) under a temporary name and renamed into place, so
 * that a CRIU starting meanwhile reads the old file or the new one, whole. */
static int
kdat_make_private(const char *criu)
{
  int hostfd = open(KDAT_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (hostfd < 0) return -1;
  /* The namespace is this child's alone (MS_PRIVATE: nothing propagates back to
   * the host's mounts) and goes with it: the host's /run is never mounted over. */
  if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
      mount("silo-kdat", KDAT_DIR, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=1m,mode=0755") <
          0)
    return -1;
  if (run_check(criu) != 0) return -1;
  _cleanup_free_ char *data = NULL;
  size_t len = 0;
  struct silo_error e = {0};
  if (fs_read_file(KDAT_DIR "/" KDAT_NAME, &data, &len, &e) < 0 || len == 0) return -1;
  return fs_write_file_atomic(hostfd, KDAT_NAME, data, len, &e);
}

void
criu_kdat_warm(const char *criu)
{
  if (!criu) criu = "criu";
  if (kdat_fresh(criu)) return;
  double t = time_mono_s();
  /* a stale file: CRIU would load it (it checks only its size and magic) */
  if (unlink(KDAT_DIR "/" KDAT_NAME) < 0 && errno != ENOENT) {
    silo_log_debug("criu: cannot remove the stale %s/%s: %s", KDAT_DIR, KDAT_NAME, strerror(errno));
    return;
  }
  struct statfs sf;
  bool tmpfs = statfs(KDAT_DIR, &sf) == 0 && sf.f_type == TMPFS_MAGIC;
  int ok;
  if (tmpfs) {
    ok = run_check(criu) == 0; /* CRIU writes the cache itself */
  } else {
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) return;
    if (pid == 0) _exit(kdat_make_private(criu) < 0 ? 1 : 0);
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    ok = WIFEXITED(st) && WEXITSTATUS(st) == 0;
  }
  silo_log_debug("criu: kernel-probe cache %s/%s %s in %.3f s%s", KDAT_DIR, KDAT_NAME,
                 ok && access(KDAT_DIR "/" KDAT_NAME, R_OK) == 0 ? "made" : "NOT made",
                 time_mono_s() - t, tmpfs ? "" : " (in a mount namespace with a tmpfs /run)");
}
