/* silo: signal names <-> numbers, as kill(1) and runc accept them. */
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <strings.h>

#include "lib/base/base.h"
#include "lib/silo.h"

static const struct {
  const char *name;
  int sig;
} signals[] = {
    {"HUP", SIGHUP},       {"INT", SIGINT},     {"QUIT", SIGQUIT}, {"ILL", SIGILL},
    {"TRAP", SIGTRAP},     {"ABRT", SIGABRT},   {"IOT", SIGIOT},   {"BUS", SIGBUS},
    {"FPE", SIGFPE},       {"KILL", SIGKILL},   {"USR1", SIGUSR1}, {"SEGV", SIGSEGV},
    {"USR2", SIGUSR2},     {"PIPE", SIGPIPE},   {"ALRM", SIGALRM}, {"TERM", SIGTERM},
    {"STKFLT", SIGSTKFLT}, {"CHLD", SIGCHLD},   {"CLD", SIGCHLD},  {"CONT", SIGCONT},
    {"STOP", SIGSTOP},     {"TSTP", SIGTSTP},   {"TTIN", SIGTTIN}, {"TTOU", SIGTTOU},
    {"URG", SIGURG},       {"XCPU", SIGXCPU},   {"XFSZ", SIGXFSZ}, {"VTALRM", SIGVTALRM},
    {"PROF", SIGPROF},     {"WINCH", SIGWINCH}, {"IO", SIGIO},     {"POLL", SIGPOLL},
    {"PWR", SIGPWR},       {"SYS", SIGSYS},
};

static int
parse_number(const char *s, int *out)
{
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || *end || end == s || v < 0 || v > 1000) return -1;
  *out = (int)v;
  return 0;
}

int
silo_parse_signal(const char *s, int *sig, struct silo_error *err)
{
  int n;
  if (s == NULL || *s == '\0') return silo_err(err, EINVAL, "empty signal");
  if (isdigit((unsigned char)s[0])) {
    if (parse_number(s, &n) < 0 || n < 1 || n > SIGRTMAX)
      return silo_err(err, EINVAL, "invalid signal `%s`", s);
    *sig = n;
    return 0;
  }
  const char *name = strncasecmp(s, "SIG", 3) == 0 ? s + 3 : s;
  for (size_t i = 0; i < ARRAY_SIZE(signals); i++) {
    if (strcasecmp(name, signals[i].name) == 0) {
      *sig = signals[i].sig;
      return 0;
    }
  }
  /* RTMIN, RTMIN+N, RTMAX, RTMAX-N */
  int base = 0, sign = 0;
  if (strncasecmp(name, "RTMIN", 5) == 0) {
    base = SIGRTMIN;
    sign = 1;
  } else if (strncasecmp(name, "RTMAX", 5) == 0) {
    base = SIGRTMAX;
    sign = -1;
  }
  if (base) {
    const char *rest = name + 5;
    n = 0;
    if (*rest) {
      if ((*rest != '+' && *rest != '-') || parse_number(rest + 1, &n) < 0)
        return silo_err(err, EINVAL, "invalid signal `%s`", s);
      if ((*rest == '+') != (sign > 0)) return silo_err(err, EINVAL, "invalid signal `%s`", s);
    }
    int v = base + sign * n;
    if (v < SIGRTMIN || v > SIGRTMAX) return silo_err(err, EINVAL, "invalid signal `%s`", s);
    *sig = v;
    return 0;
  }
  return silo_err(err, EINVAL, "unknown signal `%s`", s);
}

const char *
signal_name(int sig)
{
  for (size_t i = 0; i < ARRAY_SIZE(signals); i++)
    if (signals[i].sig == sig) return signals[i].name;
  return "?";
}
