/* libsilo-run: create, start, wait for and delete one container through libsilo
 * (docs/libsilo.md).  What `silo run` does, in the calls a host program makes:
 *
 *   cc -o libsilo-run libsilo-run.c $(pkg-config --cflags --libs silo)
 *   ./libsilo-run [-r STATE_ROOT] ID BUNDLE        (as root, like silo itself)
 *
 * The container's stdio is this program's.  Exits with the container's exit code
 * (128+N when a signal N killed it), or 125 when libsilo failed.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <silo/silo.h>

/* The value of "key" in the state JSON (silo_state's format is the OCI state):
 * just enough of a parser for this example; a real program would use a JSON library. */
static void
json_field(const char *json, const char *key, char *out, size_t len)
{
  char pat[64];
  snprintf(pat, sizeof pat, "\"%s\"", key);
  const char *p = strstr(json, pat);
  out[0] = '\0';
  if (!p) return;
  p += strlen(pat);
  while (*p == ' ' || *p == ':' || *p == '"') p++;
  size_t n = strcspn(p, "\",}\n");
  if (n >= len) n = len - 1;
  memcpy(out, p, n);
  out[n] = '\0';
}

/* Polls silo_state until the container is "stopped". */
static int
wait_stopped(struct silo_context *ctx, const char *id, struct silo_error *err)
{
  for (;;) {
    char *json = NULL, status[32];
    if (silo_state(ctx, id, &json, err) < 0) return -1;
    json_field(json, "status", status, sizeof status);
    free(json);
    if (strcmp(status, "stopped") == 0) return 0;
    poll(NULL, 0, 20); /* 20 ms */
  }
}

static int
fail(const char *what, const struct silo_error *err)
{
  char buf[SILO_ERROR_MSG_MAX + 128];
  fprintf(stderr, "libsilo-run: %s: %s\n", what, silo_err_str(err, buf, sizeof buf));
  return 125;
}

int
main(int argc, char **argv)
{
  /* The context is what silo's global options set (cmd/main.c): every call takes it. */
  struct silo_context ctx = {
      .root = "/run/silo",
      .log_format = SILO_LOG_TEXT,
      .cgroup_manager = SILO_CGROUP_CGROUPFS,
      .criu = getenv("CRIU"),
  };
  int c;
  while ((c = getopt(argc, argv, "r:")) != -1) {
    if (c != 'r') return 2;
    ctx.root = optarg;
  }
  if (argc - optind != 2) {
    fprintf(stderr, "usage: libsilo-run [-r STATE_ROOT] ID BUNDLE\n");
    return 2;
  }
  const char *id = argv[optind], *bundle = argv[optind + 1];

  struct silo_error err = {0};
  /* Warnings and debug messages go to stderr (and ctx.log_path when set). */
  if (silo_log_open(&ctx, &err) < 0) return fail("log", &err);

  /* create: the container's init is set up and waits for start.  It is a child of
   * this process, so this process reaps it when it exits. */
  struct silo_create_opts o = {.id = id, .bundle = bundle};
  if (silo_create(&ctx, &o, &err) < 0) return fail("create", &err);
  char *json = NULL, pid_s[32] = "";
  if (silo_state(&ctx, id, &json, &err) == 0) json_field(json, "pid", pid_s, sizeof pid_s);
  free(json);
  pid_t pid = (pid_t)atoi(pid_s);

  int code = 125;
  if (silo_start(&ctx, id, &err) < 0) {
    fail("start", &err);
  } else if (wait_stopped(&ctx, id, &err) < 0) {
    fail("state", &err);
  } else {
    /* Stopped: the init is a zombie child of ours (or was reparented elsewhere). */
    int status;
    if (pid > 0 && waitpid(pid, &status, 0) == pid)
      code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    else
      code = 0; /* not our child: its exit code is its parent's to read */
  }

  /* delete: hooks, cgroup and state are gone afterwards; force when it failed half-way. */
  silo_err_clear(&err);
  if (silo_delete(&ctx, id, code == 125, &err) < 0) return fail("delete", &err);
  if (code == 125 && pid > 0) waitpid(pid, NULL, 0); /* reap what --force killed */
  return code;
}
