/* bench: the measuring tool behind tests/bench/run-bench (silo vs crun vs runc).
 *
 * The driver compiles this with `cc -O2` into a temp dir; it is not part of
 * silo nor of `make check`.  Every time is CLOCK_MONOTONIC around
 * fork/exec/wait, every CPU time and peak RSS comes from the rusage that
 * wait4() returns for the measured process (its own usage plus that of the
 * descendants it reaped).
 *
 *   bench time [OPTS] [--tree] -- ARGV...
 *       Run ARGV once.  Prints "wall_ns cpu_ns maxrss_kb status".  With --tree
 *       the tool is a child subreaper: processes that ARGV leaves behind as
 *       orphans (Podman's conmon and its cleanup command) become our children,
 *       are waited for after ARGV exits (wall time stops at ARGV's exit), and
 *       their CPU time and peak RSS are counted too; a fifth field says how
 *       many were reaped.
 *
 *   bench cycle [OPTS] -- ARGV1... --- ARGV2... --- @wait PIDFILE --- ARGV3...
 *       Run the steps one after the other, as one measurement.  "@wait FILE"
 *       waits (pidfd + poll) until the pid written in FILE has exited.  The
 *       tool is a child subreaper: a container process that its runtime left
 *       behind (create forks it and exits) becomes our child and is reaped
 *       here, so its CPU time and peak RSS (which includes the runtime's setup
 *       code that ran in it before exec) are counted too.  Prints
 *       "wall_ns cpu_ns maxrss_kb status adopted": wall from the first fork
 *       to the last exit, CPU summed, RSS the maximum, status the first
 *       non-zero, adopted the number of orphans reaped here (normally 1, the
 *       container process; 0: someone else reaped it, its CPU is not counted).
 *
 *   bench repeat -n N [OPTS] -- ARGV...
 *       Run ARGV N times in sequence; "{}" in an argument becomes the
 *       iteration number.  Prints "wall_ns cpu_ns maxrss_kb failures first_bad_status".
 *
 *   bench parallel -n N [OPTS] -- ARGV...
 *       Fork N copies ("{}" = index), hold them at a barrier until all exist,
 *       release them at once and wait for all.  Prints
 *       "wall_ns cpu_ns maxrss_kb failures first_bad_status"; the indices
 *       that failed go to stderr.
 *
 *   bench phases [OPTS] -- ARGV...
 *       Run ARGV once with SILO_PHASE_FD naming a pipe (silo's phase marks,
 *       lib/runtime/phase.c).  Prints one line per mark, "NAME PID NS" with NS
 *       the time since just before fork, sorted by time, framed by "fork 0 0"
 *       and "reaped 0 NS" (after wait4), then "status 0 STATUS".
 *
 *   bench reaper -- ARGV...
 *       Run ARGV as a child subreaper that reaps every orphan until ARGV
 *       exits; exits with ARGV's status.  SIGINT/SIGTERM/SIGHUP do not kill
 *       the reaper (ARGV gets them and cleans up).
 *
 *   bench stats COLUMN [SCALE]
 *       Read whitespace-separated rows on stdin and print
 *       "median p90 min max mean n" of column COLUMN (1-based), divided by SCALE.
 *
 * OPTS: --log FILE  append the commands' stdout and stderr to FILE (default /dev/null)
 *       --timeout S kill a command still running after S seconds (default 120)
 *
 * status is the exit code, 128+N for a signal, 255 when exec failed or the
 * command timed out.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

static const char *log_path = "/dev/null";
static int timeout_s = 120;
static int tree; /* time --tree */

__attribute__((format(printf, 1, 2), noreturn)) static void
die(const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "bench: ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
  exit(2);
}

static int64_t
now_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t
tv_ns(struct timeval tv)
{
  return (int64_t)tv.tv_sec * 1000000000 + (int64_t)tv.tv_usec * 1000;
}

static int64_t
cpu_ns(const struct rusage *ru)
{
  return tv_ns(ru->ru_utime) + tv_ns(ru->ru_stime);
}

static int
decode_status(int st)
{
  if (WIFEXITED(st)) return WEXITSTATUS(st);
  if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
  return 255;
}

static int
pidfd_open(pid_t pid)
{
  return (int)syscall(SYS_pidfd_open, pid, 0);
}

/* Wait until PIDFD's process exits or the timeout passes; 0 when it exited. */
static int
pidfd_wait(int pidfd, int seconds)
{
  struct pollfd p = {.fd = pidfd, .events = POLLIN};
  int64_t end = now_ns() + (int64_t)seconds * 1000000000;
  for (;;) {
    int64_t left_ms = (end - now_ns()) / 1000000;
    if (left_ms < 0) left_ms = 0;
    int r = poll(&p, 1, (int)left_ms);
    if (r > 0) return 0;
    if (r == 0) return -1;
    if (errno != EINTR) return -1;
  }
}

/* Replace "{}" in every argument with N (the arguments are copied). */
static char **
subst_argv(char **argv, int argc, long n)
{
  char **out = calloc((size_t)argc + 1, sizeof *out);
  char num[32];
  snprintf(num, sizeof num, "%ld", n);
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i], *p;
    size_t cap = strlen(a) * 2 + 64, len = 0;
    char *s = malloc(cap);
    while ((p = strstr(a, "{}"))) {
      size_t k = (size_t)(p - a), nl = strlen(num);
      if (len + k + nl + 1 > cap) s = realloc(s, cap = (len + k + nl + 1) * 2);
      memcpy(s + len, a, k);
      memcpy(s + len + k, num, nl);
      len += k + nl;
      a = p + 2;
    }
    size_t k = strlen(a);
    if (len + k + 1 > cap) s = realloc(s, len + k + 1);
    memcpy(s + len, a, k + 1);
    out[i] = s;
  }
  return out;
}

/* In the child: stdin from /dev/null, stdout+stderr appended to the log. */
static void
child_stdio(void)
{
  int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
  int out = open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (in < 0 || out < 0) _exit(255);
  if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0) _exit(255);
}

static void
child_exec(char **argv)
{
  signal(SIGPIPE, SIG_DFL);
  execvp(argv[0], argv);
  dprintf(2, "bench: exec %s: %s\n", argv[0], strerror(errno));
  _exit(255);
}

/* Fork and exec ARGV with child_stdio; phase_fd >= 0 is also given to it as
 * fd 9, named by SILO_PHASE_FD. */
static pid_t
spawn(char **argv, int phase_fd)
{
  pid_t pid = fork();
  if (pid < 0) die("fork: %s", strerror(errno));
  if (pid == 0) {
    child_stdio();
    if (phase_fd >= 0) {
      if (dup2(phase_fd, 9) < 0) _exit(255);
      setenv("SILO_PHASE_FD", "9", 1);
    }
    child_exec(argv);
  }
  return pid;
}

struct result {
  int64_t wall, cpu;
  long maxrss;
  int status;
};

/* Fork+exec ARGV and wait for it (with the timeout).  Wall time from just
 * before fork to just after wait4. */
static struct result
run_once(char **argv)
{
  struct result r = {0};
  struct rusage ru;
  int st = 0;
  int64_t t0 = now_ns();
  pid_t pid = spawn(argv, -1);
  int pfd = pidfd_open(pid);
  int timed_out = 0;
  if (pfd >= 0) {
    if (pidfd_wait(pfd, timeout_s) < 0) {
      fprintf(stderr, "bench: %s timed out after %ds, killing it\n", argv[0], timeout_s);
      kill(pid, SIGKILL);
      timed_out = 1;
    }
    close(pfd);
  }
  while (wait4(pid, &st, 0, &ru) < 0)
    if (errno != EINTR) die("wait4: %s", strerror(errno));
  r.wall = now_ns() - t0;
  r.cpu = cpu_ns(&ru);
  r.maxrss = ru.ru_maxrss;
  r.status = timed_out ? 255 : decode_status(st);
  return r;
}

/* Parse OPTS up to "--"; returns the index of the first argument after it. */
static int
parse_opts(int argc, char **argv, int i, long *n)
{
  for (; i < argc; i++) {
    if (strcmp(argv[i], "--") == 0) return i + 1;
    if (strcmp(argv[i], "--tree") == 0) {
      tree = 1;
      continue;
    }
    if (i + 1 >= argc) die("option %s needs a value", argv[i]);
    if (strcmp(argv[i], "--log") == 0)
      log_path = argv[++i];
    else if (strcmp(argv[i], "--timeout") == 0)
      timeout_s = atoi(argv[++i]);
    else if (strcmp(argv[i], "-n") == 0 && n)
      *n = atol(argv[++i]);
    else
      die("unknown option %s", argv[i]);
  }
  die("missing %s", "--");
  return -1;
}

/* Reap every zombie child (orphans we adopted as subreaper), adding their
 * rusage to R. */
static int
reap_orphans(struct result *r)
{
  struct rusage ru;
  int st, n = 0;
  while (wait4(-1, &st, WNOHANG, &ru) > 0) {
    r->cpu += cpu_ns(&ru);
    if (ru.ru_maxrss > r->maxrss) r->maxrss = ru.ru_maxrss;
    n++;
  }
  return n;
}

/* time --tree: wait (up to the timeout) until every adopted orphan has exited,
 * reaping and counting them. */
static int
reap_all_orphans(struct result *r)
{
  int n = 0;
  int64_t end = now_ns() + (int64_t)timeout_s * 1000000000;
  for (;;) {
    n += reap_orphans(r);
    if (waitid(P_ALL, 0, NULL, WEXITED | WNOHANG | WNOWAIT) < 0 && errno == ECHILD) return n;
    if (now_ns() > end) {
      fprintf(stderr, "bench: time --tree: orphans still running after %ds\n", timeout_s);
      return n;
    }
    usleep(1000);
  }
}

struct mark {
  char name[32];
  long pid;
  int64_t ns;
};

static int
cmp_mark(const void *a, const void *b)
{
  const struct mark *x = a, *y = b;
  return (x->ns > y->ns) - (x->ns < y->ns);
}

static int
cmd_phases(int argc, char **argv)
{
  int i = parse_opts(argc, argv, 2, NULL);
  if (i >= argc) die("%s", "phases: no command");
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0) die("pipe: %s", strerror(errno));
  struct rusage ru;
  int st = 0;
  int64_t t0 = now_ns();
  /* The write end at a fixed, inheritable fd in the child only. */
  pid_t pid = spawn(argv + i, p[1]);
  close(p[1]);
  while (wait4(pid, &st, 0, &ru) < 0)
    if (errno != EINTR) die("wait4: %s", strerror(errno));
  int64_t t1 = now_ns();
  static char buf[1 << 16];
  size_t len = 0;
  ssize_t n;
  /* The container process may still hold the pipe (a detached run): read what is there. */
  fcntl(p[0], F_SETFL, O_NONBLOCK);
  while (len < sizeof buf - 1 && (n = read(p[0], buf + len, sizeof buf - 1 - len)) > 0)
    len += (size_t)n;
  buf[len] = '\0';
  struct mark m[256];
  size_t k = 0;
  for (char *line = strtok(buf, "\n"); line && k < 256; line = strtok(NULL, "\n")) {
    long long ns;
    if (sscanf(line, "%31s %ld %lld", m[k].name, &m[k].pid, &ns) != 3) continue;
    m[k].ns = ns - t0;
    k++;
  }
  qsort(m, k, sizeof *m, cmp_mark);
  printf("fork 0 0\n");
  for (size_t j = 0; j < k; j++) printf("%s %ld %lld\n", m[j].name, m[j].pid, (long long)m[j].ns);
  printf("reaped 0 %lld\nstatus 0 %d\n", (long long)(t1 - t0), decode_status(st));
  return 0;
}

static int
cmd_time(int argc, char **argv)
{
  int i = parse_opts(argc, argv, 2, NULL);
  if (i >= argc) die("%s", "time: no command");
  if (tree && prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
    die("PR_SET_CHILD_SUBREAPER: %s", strerror(errno));
  struct result r = run_once(argv + i);
  if (!tree) {
    printf("%lld %lld %ld %d\n", (long long)r.wall, (long long)r.cpu, r.maxrss, r.status);
    return 0;
  }
  int adopted = reap_all_orphans(&r);
  printf("%lld %lld %ld %d %d\n", (long long)r.wall, (long long)r.cpu, r.maxrss, r.status, adopted);
  return 0;
}

static int
cmd_cycle(int argc, char **argv)
{
  int i = parse_opts(argc, argv, 2, NULL);
  if (i >= argc) die("%s", "cycle: no command");
  if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
    die("PR_SET_CHILD_SUBREAPER: %s", strerror(errno));

  struct result tot = {0};
  int adopted = 0;
  int64_t t0 = now_ns();
  while (i < argc) {
    int j = i;
    while (j < argc && strcmp(argv[j], "---") != 0) j++;
    argv[j < argc ? j : argc] = NULL; /* argv[argc] is already NULL */
    if (j == i) die("%s", "cycle: empty step");
    if (strcmp(argv[i], "@wait") == 0) {
      if (tot.status == 0) {
        if (!argv[i + 1]) die("%s", "@wait needs a pid file");
        FILE *f = fopen(argv[i + 1], "r");
        long pid = 0;
        if (!f || fscanf(f, "%ld", &pid) != 1 || pid <= 0) {
          fprintf(stderr, "bench: @wait: no pid in %s\n", argv[i + 1]);
          tot.status = 255;
        } else {
          int pfd = pidfd_open((pid_t)pid);
          /* ESRCH: it is gone already. */
          if (pfd >= 0) {
            if (pidfd_wait(pfd, timeout_s) < 0) {
              fprintf(stderr, "bench: @wait: pid %ld still running after %ds\n", pid, timeout_s);
              tot.status = 255;
            }
            close(pfd);
          }
          /* The container process is our child now (subreaper) and has
           * exited: reap it so the runtime sees it stopped, and count its
           * CPU and RSS.  WNOHANG first: it may belong to someone else (ECHILD). */
          struct rusage ru;
          int st;
          pid_t w = tot.status ? -1 : wait4((pid_t)pid, &st, WNOHANG, &ru);
          /* 0: our child, exited (pidfd said so) but not yet waitable. */
          if (w == 0) w = wait4((pid_t)pid, &st, 0, &ru);
          if (w == (pid_t)pid) {
            adopted++;
            tot.cpu += cpu_ns(&ru);
            if (ru.ru_maxrss > tot.maxrss) tot.maxrss = ru.ru_maxrss;
          }
        }
        if (f) fclose(f);
      }
    } else {
      /* Later steps (e.g. delete) still run after a failure, so nothing is left behind. */
      struct result r = run_once(argv + i);
      tot.cpu += r.cpu;
      if (r.maxrss > tot.maxrss) tot.maxrss = r.maxrss;
      if (r.status && !tot.status) tot.status = r.status;
    }
    adopted += reap_orphans(&tot);
    i = j + 1;
  }
  tot.wall = now_ns() - t0;
  printf("%lld %lld %ld %d %d\n", (long long)tot.wall, (long long)tot.cpu, tot.maxrss, tot.status,
         adopted);
  return 0;
}

static int
cmd_repeat(int argc, char **argv)
{
  long n = 1;
  int i = parse_opts(argc, argv, 2, &n);
  if (i >= argc || n < 1) die("%s", "repeat: no command or bad -n");
  struct result tot = {0};
  long failures = 0;
  int first_bad = 0;
  int64_t t0 = now_ns();
  for (long k = 1; k <= n; k++) {
    char **av = subst_argv(argv + i, argc - i, k);
    struct result r = run_once(av);
    tot.cpu += r.cpu;
    if (r.maxrss > tot.maxrss) tot.maxrss = r.maxrss;
    if (r.status) {
      failures++;
      if (!first_bad) first_bad = r.status;
      fprintf(stderr, "bench: repeat: run %ld exited %d\n", k, r.status);
    }
    for (int a = 0; av[a]; a++) free(av[a]);
    free(av);
  }
  tot.wall = now_ns() - t0;
  printf("%lld %lld %ld %ld %d\n", (long long)tot.wall, (long long)tot.cpu, tot.maxrss, failures,
         first_bad);
  return 0;
}

static int
cmd_parallel(int argc, char **argv)
{
  long n = 1;
  int i = parse_opts(argc, argv, 2, &n);
  if (i >= argc || n < 1) die("%s", "parallel: no command or bad -n");
  int barrier[2];
  if (pipe2(barrier, O_CLOEXEC) < 0) die("pipe: %s", strerror(errno));
  pid_t *pids = calloc((size_t)n, sizeof *pids);
  for (long k = 0; k < n; k++) {
    char **av = subst_argv(argv + i, argc - i, k + 1);
    pid_t p = fork();
    if (p < 0) {
      fprintf(stderr, "bench: parallel: fork %ld: %s\n", k + 1, strerror(errno));
      break;
    }
    if (p == 0) {
      char c;
      close(barrier[1]);
      child_stdio();
      while (read(barrier[0], &c, 1) < 0 && errno == EINTR) {
      }
      child_exec(av);
    }
    pids[k] = p;
    for (int a = 0; av[a]; a++) free(av[a]);
    free(av);
  }
  struct result tot = {0};
  long failures = 0;
  int first_bad = 0;
  int64_t t0 = now_ns();
  close(barrier[1]); /* release them all: read() returns 0 (EOF) */
  int64_t end = t0 + (int64_t)timeout_s * 1000000000;
  for (long k = 0; k < n; k++) {
    struct rusage ru;
    int st = 0, status;
    if (!pids[k]) {
      failures++;
      if (!first_bad) first_bad = 255;
      continue;
    }
    int pfd = pidfd_open(pids[k]);
    int left = (int)((end - now_ns()) / 1000000000);
    if (pfd >= 0 && pidfd_wait(pfd, left > 0 ? left : 0) < 0) {
      fprintf(stderr, "bench: parallel: %ld timed out, killing it\n", k + 1);
      kill(pids[k], SIGKILL);
    }
    if (pfd >= 0) close(pfd);
    while (wait4(pids[k], &st, 0, &ru) < 0)
      if (errno != EINTR) die("wait4: %s", strerror(errno));
    status = decode_status(st);
    tot.cpu += cpu_ns(&ru);
    if (ru.ru_maxrss > tot.maxrss) tot.maxrss = ru.ru_maxrss;
    if (status) {
      failures++;
      if (!first_bad) first_bad = status;
      fprintf(stderr, "bench: parallel: %ld exited %d\n", k + 1, status);
    }
  }
  tot.wall = now_ns() - t0;
  printf("%lld %lld %ld %ld %d\n", (long long)tot.wall, (long long)tot.cpu, tot.maxrss, failures,
         first_bad);
  return 0;
}

static void
on_signal(int sig)
{
  (void)sig;
}

static int
cmd_reaper(int argc, char **argv)
{
  int i = parse_opts(argc, argv, 2, NULL);
  if (i >= argc) die("%s", "reaper: no command");
  if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
    die("PR_SET_CHILD_SUBREAPER: %s", strerror(errno));
  /* A handler, not SIG_IGN: the child gets the default disposition back at
   * exec, so its shell can trap INT and clean up. */
  struct sigaction sa = {.sa_handler = on_signal};
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGHUP, &sa, NULL);
  pid_t main_pid = fork();
  if (main_pid < 0) die("fork: %s", strerror(errno));
  if (main_pid == 0) child_exec(argv + i);
  int st, status = 255;
  for (;;) {
    pid_t p = waitpid(-1, &st, 0);
    if (p < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (p == main_pid) {
      status = decode_status(st);
      break;
    }
  }
  while (waitpid(-1, &st, WNOHANG) > 0) {
  }
  return status;
}

static int
cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static int
cmd_stats(int argc, char **argv)
{
  if (argc < 3) die("%s", "stats COLUMN [SCALE]");
  int col = atoi(argv[2]);
  double scale = argc > 3 ? atof(argv[3]) : 1.0;
  size_t n = 0, cap = 64;
  double *v = malloc(cap * sizeof *v), sum = 0;
  char line[4096];
  if (col < 1 || scale == 0) die("%s", "stats: bad column or scale");
  while (fgets(line, sizeof line, stdin)) {
    char *save = NULL, *tok = strtok_r(line, " \t\n", &save);
    for (int c = 1; tok && c < col; c++) tok = strtok_r(NULL, " \t\n", &save);
    if (!tok) continue;
    if (n == cap) v = realloc(v, (cap *= 2) * sizeof *v);
    v[n] = atof(tok) / scale;
    sum += v[n++];
  }
  if (!n) {
    printf("nan nan nan nan nan 0\n");
    return 0;
  }
  qsort(v, n, sizeof *v, cmp_double);
  double median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  size_t r90 = (size_t)ceil(0.9 * (double)n); /* nearest rank */
  double p90 = v[(r90 ? r90 : 1) - 1];
  printf("%.3f %.3f %.3f %.3f %.3f %zu\n", median, p90, v[0], v[n - 1], sum / (double)n, n);
  return 0;
}

int
main(int argc, char **argv)
{
  signal(SIGPIPE, SIG_IGN);
  if (argc < 2) die("%s", "usage: bench time|cycle|repeat|parallel|reaper|stats ...");
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (strcmp(argv[1], "time") == 0) return cmd_time(argc, argv);
  if (strcmp(argv[1], "cycle") == 0) return cmd_cycle(argc, argv);
  if (strcmp(argv[1], "repeat") == 0) return cmd_repeat(argc, argv);
  if (strcmp(argv[1], "parallel") == 0) return cmd_parallel(argc, argv);
  if (strcmp(argv[1], "reaper") == 0) return cmd_reaper(argc, argv);
  if (strcmp(argv[1], "phases") == 0) return cmd_phases(argc, argv);
  if (strcmp(argv[1], "stats") == 0) return cmd_stats(argc, argv);
  die("unknown command %s", argv[1]);
  return 2;
}
